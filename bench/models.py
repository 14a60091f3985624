"""Models and the registry, side by side with MLflow: logging a 100-tree random forest with an
input example, loading it back by alias in a warm process, registering a version and setting
an alias.

- ``log_model_ms``: ``nbtrack.log_model`` inside a run, against ``mlflow.sklearn.log_model``
  (MLflow on a sqlite store, the setup its docs recommend, writing cloudpickle as nbtrack
  does); ``ratio_log_model`` is MLflow's time over nbtrack's.
- ``load_model_ms``: ``load_model("models:/forest@champion")`` to the native model, warm
  (after a first load), against ``mlflow.sklearn.load_model`` of the same URI.
- ``register_ms``: ``register_model`` of a logged model plus ``set_alias``.

Each side runs in its own fresh process and store; medians of ``--repeats`` calls, after one
untimed warm-up call of each kind.

    python bench/models.py [--quick] [--json PATH]     (bench/run.py reports these too)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from figures import side_by_side_main

BENCH_DIR = Path(__file__).resolve().parent
TARGETS = {"ratio_log_model": (">=", 5.0), "ratio_load_model": (">=", 3.0),
           "register_ms": ("<=", 20.0)}  # fmt: skip
NAME, ALIAS = "forest", "champion"


def _forest() -> tuple[Any, Any]:
    """A 100-tree random forest on the wine data, and a 5-row input example."""
    from sklearn.datasets import load_wine
    from sklearn.ensemble import RandomForestClassifier

    x, y = load_wine(return_X_y=True, as_frame=True)
    return RandomForestClassifier(n_estimators=100, random_state=0).fit(x, y), x.head(5)


def _median_ms(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def child_nbtrack(folder: str, repeats: int) -> dict[str, float]:
    import nbtrack

    nbtrack.set_store(folder)
    model, example = _forest()
    infos: list[Any] = []

    def log() -> None:
        with nbtrack.run("forest") as run:
            infos.append(run.log_model(model, "model", input_example=example))

    log()  # warm-up
    log_ms = _median_ms(log, repeats)
    uris = iter(info.model_uri for info in infos)

    def register() -> None:
        version = nbtrack.register_model(next(uris), NAME)
        nbtrack.set_alias(NAME, ALIAS, version.version)

    register()
    register_ms = _median_ms(register, min(repeats, len(infos) - 1))
    uri = f"models:/{NAME}@{ALIAS}"
    loaded = nbtrack.load_model(uri)
    assert (loaded.predict(example) == model.predict(example)).all()
    load_ms = _median_ms(lambda: nbtrack.load_model(uri), repeats)
    return {"log_model_ms": log_ms, "register_ms": register_ms, "load_model_ms": load_ms}


def child_mlflow(folder: str, repeats: int) -> dict[str, float]:
    import warnings

    warnings.filterwarnings("ignore")
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
    mlflow.set_experiment("bench")
    model, example = _forest()
    infos: list[Any] = []

    def log() -> None:
        with mlflow.start_run(run_name="forest"):
            # nbtrack's format (MLflow's default, skops, is not installed here)
            info = mlflow.sklearn.log_model(
                model, name="model", input_example=example, serialization_format="cloudpickle"
            )
            infos.append(info)

    log()
    log_ms = _median_ms(log, repeats)
    client = MlflowClient()
    uris = iter(info.model_uri for info in infos)

    def register() -> None:
        version = mlflow.register_model(next(uris), NAME)
        client.set_registered_model_alias(NAME, ALIAS, version.version)

    register()
    register_ms = _median_ms(register, min(repeats, len(infos) - 1))
    uri = f"models:/{NAME}@{ALIAS}"
    mlflow.sklearn.load_model(uri)
    load_ms = _median_ms(lambda: mlflow.sklearn.load_model(uri), repeats)
    return {"log_model_ms": log_ms, "register_ms": register_ms, "load_model_ms": load_ms}


def _run_child(side: str, repeats: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"nbtrack-bench-{side}-") as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "MLFLOW_"))}
        out = subprocess.run(
            [sys.executable, __file__, "--child", side, "--folder", folder,
             "--repeats", str(repeats)],
            check=True, capture_output=True, text=True, env=env, cwd=folder, timeout=900,
        )  # fmt: skip
        return json.loads(out.stdout.strip().splitlines()[-1])


def figures(quick: bool = False) -> dict[str, float]:
    """Every figure of this benchmark (nbtrack's, MLflow's and their ratios)."""
    repeats = 5 if quick else 15
    ours, theirs = _run_child("nbtrack", repeats), _run_child("mlflow", repeats)
    return {
        **ours,
        **{f"mlflow_{key}": value for key, value in theirs.items()},
        "ratio_log_model": theirs["log_model_ms"] / ours["log_model_ms"],
        "ratio_load_model": theirs["load_model_ms"] / ours["load_model_ms"],
        "ratio_register": theirs["register_ms"] / ours["register_ms"],
    }


def main() -> None:
    children = {"nbtrack": child_nbtrack, "mlflow": child_mlflow}
    side_by_side_main(__doc__, figures, TARGETS, children, repeats=15)


if __name__ == "__main__":
    main()
