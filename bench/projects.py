"""Projects and sweeps: what nbtrack adds to running a notebook and to each trial of a sweep.

- ``run_notebook_overhead_s``: ``nbtrack run`` of a trivial 3-cell notebook, from the command
  line (Python's start included), minus ``papermill`` alone on the same notebook (its command
  line too); medians of alternating runs. ``run_notebook_s`` and ``papermill_s`` are the two.
- ``sweep_trial_overhead_ms``: per trial of a 200-trial ``nbtrack.sweep(method="optuna")`` of a
  function with a trivial objective (n_jobs=1), minus a bare Optuna loop (``study.optimize``)
  of the same objective; each in a fresh process. ``sweep_grid_trial_ms``: a trial of a grid
  sweep (no Optuna), all of it.

    python bench/projects.py [--quick] [--json PATH]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import side_by_side_main

TARGETS = {"run_notebook_overhead_s": ("<=", 0.5), "sweep_trial_overhead_ms": ("<=", 5.0)}
TRIALS = 200
CELLS = ("x = 1", "y = x + 1", "print(y)")


def _notebook(folder: Path) -> Path:
    import nbformat

    cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    path = folder / "trivial.ipynb"
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernelspec}),
                   path)  # fmt: skip
    return path


def _timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - start


def notebook_figures(repeats: int) -> dict[str, float]:
    bin_dir = Path(sys.executable).parent
    ours, theirs = [], []
    with tempfile.TemporaryDirectory(prefix="nbtrack-bench-projects-") as tmp:
        folder = Path(tmp)
        path = _notebook(folder)
        store = folder / "store"
        for _ in range(repeats):
            theirs.append(_timed([str(bin_dir / "papermill"), str(path), str(folder / "out.ipynb"),
                                  "--no-progress-bar"], folder))  # fmt: skip
            ours.append(_timed([str(bin_dir / "nbtrack"), "--store", str(store), "run",
                                str(path)], folder))  # fmt: skip
    return {
        "run_notebook_overhead_s": statistics.median(ours) - statistics.median(theirs),
        "run_notebook_s": statistics.median(ours),
        "papermill_s": statistics.median(theirs),
    }


def child_sweep(folder: str, trials: int) -> dict[str, float]:
    import nbtrack

    nbtrack.set_store(folder)

    def objective(x: float) -> float:
        return (x - 2) ** 2

    nbtrack.sweep(objective, {"x": [0.0]}, name="warm-up")  # imports and the first write
    start = time.perf_counter()
    nbtrack.sweep(objective, {"x": "uniform(-10,10)"}, method="optuna", n_trials=trials,
                  metric="loss", seed=0)  # fmt: skip
    optuna_s = time.perf_counter() - start
    start = time.perf_counter()
    nbtrack.sweep(objective, {"x": [float(i) for i in range(trials)]}, metric="loss")
    grid_s = time.perf_counter() - start
    nbtrack.flush()
    return {"optuna_s": optuna_s, "grid_s": grid_s}


def child_optuna(folder: str, trials: int) -> dict[str, float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: optuna.Trial) -> float:
        return (trial.suggest_float("x", -10, 10) - 2) ** 2

    optuna.create_study().optimize(objective, n_trials=5)  # the same warm-up
    start = time.perf_counter()
    optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0)).optimize(
        objective, n_trials=trials
    )
    return {"optuna_s": time.perf_counter() - start}


def _child(name: str, trials: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="nbtrack-bench-sweep-") as folder:
        out = subprocess.run(
            [sys.executable, __file__, "--child", name, "--folder", folder,
             "--repeats", str(trials)],
            check=True, capture_output=True, text=True, timeout=900, cwd=folder,
        )  # fmt: skip
        return json.loads(out.stdout.strip().splitlines()[-1])


def figures(quick: bool = False) -> dict[str, float]:
    """Both overheads, and what they are the difference of."""
    result = notebook_figures(3 if quick else 5)
    ours, bare = _child("sweep", TRIALS), _child("optuna", TRIALS)
    result["sweep_trial_overhead_ms"] = (ours["optuna_s"] - bare["optuna_s"]) * 1000 / TRIALS
    result["optuna_trial_ms"] = bare["optuna_s"] * 1000 / TRIALS
    result["sweep_grid_trial_ms"] = ours["grid_s"] * 1000 / TRIALS
    return result


if __name__ == "__main__":
    side_by_side_main(
        __doc__, figures, TARGETS, {"sweep": child_sweep, "optuna": child_optuna}, TRIALS
    )
