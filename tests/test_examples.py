"""The examples in example_notebooks/ run as written."""

from __future__ import annotations

from pathlib import Path

from helpers import ROOT, run_python

import nbtrack


def test_sweep_script_logs_a_sweep(tmp_store: Path, tmp_path: Path) -> None:
    out = run_python((ROOT / "example_notebooks" / "sweep.py").read_text(), tmp_store, tmp_path)
    assert "final_acc" in out
    frame = nbtrack.search(experiment="logistic-sweep")
    assert len(frame) == 6 and set(frame["status"]) == {"finished"}
    assert (frame["metrics.final_acc"] > 0.8).all()
    assert len(nbtrack.history(frame["run_id"][0], "loss")) in (20, 50)
