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


def _notebook_runs(name: str, tmp_store: Path, tmp_path: Path) -> list:
    import nbformat
    from kernels import errors, run_notebook

    nb = nbformat.read(ROOT / "example_notebooks" / name, as_version=4)
    executed = run_notebook(nb, tmp_store, tmp_path, timeout=300)
    return [errors(c) for c in executed.cells if c.cell_type == "code"]


def test_quickstart_notebook_runs_clean(tmp_store: Path, tmp_path: Path) -> None:
    assert not any(_notebook_runs("quickstart.ipynb", tmp_store, tmp_path))
    frame = nbtrack.search(experiment="wine-quickstart")
    assert len(frame) == 20 and set(frame["status"]) == {"finished"}
    sweep = frame[frame["name"] == "sweep"]["run_id"].iloc[0]
    assert (frame["parent_run_id"] == sweep).sum() == 18
    assert frame["metrics.f1"].max() > 0.95
    best = frame.dropna(subset=["metrics.f1"]).sort_values("metrics.f1").iloc[-1]
    trees = nbtrack.history(best["run_id"], "acc_by_trees")
    assert len(trees) == best["params.n_estimators"]  # one point per tree
    live = nbtrack.search(experiment="digits")
    assert live["status"].tolist() == ["finished"] and live["metrics.val_acc"][0] > 0.9


def test_training_curves_notebook_runs_clean(tmp_store: Path, tmp_path: Path) -> None:
    assert not any(_notebook_runs("training_curves.ipynb", tmp_store, tmp_path))
    frame = nbtrack.search(experiment="digits-mlp")
    assert sorted(frame["name"]) == ["fast", "slow"]
    points = nbtrack.history(frame["run_id"].tolist(), keys="val_acc")
    assert (points.groupby("run_id").size() == 25).all()


def test_models_notebook_registers_promotes_and_serves(tmp_store: Path, tmp_path: Path) -> None:
    import nbformat
    from kernels import errors, run_notebook

    nb = nbformat.read(ROOT / "example_notebooks" / "models.ipynb", as_version=4)
    executed = run_notebook(nb, tmp_store, tmp_path, timeout=300)
    assert not any(errors(c) for c in executed.cells if c.cell_type == "code")
    frame = nbtrack.search(experiment="wine-models")
    assert sorted(frame["name"]) == ["forest", "forest-small", "logistic"]
    assert all(len(nbtrack.get_run(r).models) == 1 for r in frame["run_id"])
    champion = nbtrack.get_model_version_by_alias("wine", "champion")
    best = frame.sort_values("metrics.f1").iloc[-1]
    assert (champion.version, champion.run_id, champion.stage) == (1, best["run_id"], "Production")
    outputs = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "predictions" in outputs and "missing column 'alcohol'" in outputs


def test_sweeps_notebook_sweeps_the_trial_notebook_from_the_command_line(
    tmp_store: Path, tmp_path: Path
) -> None:
    import shutil

    shutil.copy(ROOT / "example_notebooks" / "wine_trial.ipynb", tmp_path)
    assert not any(_notebook_runs("sweeps.ipynb", tmp_store, tmp_path))
    [sweep_id] = nbtrack.search("tags.`nbtrack.kind` = 'sweep'", experiment="wine-sweeps")["run_id"]
    trials = nbtrack.search(f"parent_run_id = '{sweep_id}'")
    assert len(trials) == 4 and set(trials["status"]) == {"finished"}
    assert set(trials["tags.nbtrack.kind"]) == {"notebook"}
    assert (trials["metrics.f1"] > 0.9).all()  # lifted from each trial's %%track cell
    assert nbtrack.get_run(sweep_id).metrics["f1"] == trials["metrics.f1"].max()
    digits = nbtrack.search("tags.`nbtrack.kind` = 'sweep'", experiment="digits-sweeps")
    assert len(nbtrack.search(f"parent_run_id = '{digits['run_id'][0]}'")) == 20
    single = nbtrack.search("params.n_estimators = 200", experiment="wine-sweeps")
    assert single["status"].tolist() == ["finished"]
