"""Bad stores and bad files: clear errors, nothing logged is lost, queries keep working."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from s3 import read_stored, stored, write_stored

import nbtrack


def test_a_store_that_cannot_be_created_is_a_clear_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store should go")
    nbtrack.set_store(blocker / "store")
    with pytest.raises(nbtrack.StoreError) as caught:
        nbtrack.start_run()
    message = str(caught.value)
    assert str(blocker / "store") in message and "set_store" in message
    assert nbtrack.active_run() is None


@pytest.mark.folder_only  # (a bucket's: test_s3.py stops the server)
def test_a_failing_store_keeps_buffered_rows_until_it_recovers(tmp_store: Path) -> None:
    with nbtrack.run() as run:
        run.log(x=0.0)
        nbtrack.flush()
        metrics = tmp_store / "segments" / "metrics"
        shutil.move(metrics, tmp_store / "moved-away")
        metrics.write_text("the folder is gone")  # every write into it now fails
        for i in range(1, 100):
            run.log(x=float(i))
        with pytest.raises(nbtrack.StoreError, match="cannot write"):
            nbtrack.flush()
        with pytest.warns(nbtrack.StoreWarning, match="should be a folder"):
            kept = nbtrack.history(run.id, "x")["value"].tolist()
        assert kept == [float(i) for i in range(1, 100)]  # still buffered, still visible here
        metrics.unlink()
        shutil.move(tmp_store / "moved-away", metrics)
    nbtrack.flush()
    points = nbtrack.history(run.id, "x")
    assert points["value"].tolist() == [float(i) for i in range(100)]
    assert nbtrack.get_run(run.id).status == "finished"


def _first_segment(store: Path, table: str) -> str:
    return next(n for n in stored(store, f"segments/{table}") if n.endswith(".parquet"))


def test_corrupt_and_foreign_files_are_skipped_with_a_warning(tmp_store: Path) -> None:
    with nbtrack.run(params={"a": 1}) as run:
        run.log(loss=0.5)
    nbtrack.flush()
    good = read_stored(tmp_store, _first_segment(tmp_store, "metrics"))
    write_stored(tmp_store, "segments/metrics/truncated.parquet", good[: len(good) // 2])
    foreign = io.BytesIO()
    pq.write_table(pa.table({"city": ["Paris"], "population": [2.1]}), foreign)
    write_stored(tmp_store, "segments/runs/foreign.parquet", foreign.getvalue())
    write_stored(tmp_store, "segments/params/junk.parquet", b"not parquet at all")

    with pytest.warns(nbtrack.StoreWarning) as caught:
        frame = nbtrack.search()
    names = " ".join(str(w.message) for w in caught)
    assert "truncated.parquet" in names and "foreign.parquet" in names
    assert "junk.parquet" in names
    assert frame["run_id"].tolist() == [run.id] and frame["metrics.loss"].tolist() == [0.5]
    assert frame["params.a"].tolist() == [1]
    assert nbtrack.history(run.id, "loss")["value"].tolist() == [0.5]


def test_a_store_from_a_newer_nbtrack_is_refused(tmp_store: Path) -> None:
    if isinstance(tmp_store, Path):
        tmp_store.mkdir()
    write_stored(tmp_store, "store.json", json.dumps({"format": 99}).encode())
    with pytest.raises(nbtrack.StoreError, match=r"format 99.*upgrade"):
        nbtrack.search()
    with pytest.raises(nbtrack.StoreError, match="newer nbtrack"):
        nbtrack.start_run()
