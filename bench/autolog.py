"""Autolog's cost on a small fit, side by side with MLflow: the time ``LogisticRegression().fit``
on the wine data takes with autolog on, minus the time it takes with it off.

- ``autolog_sklearn_overhead_ms``: with ``nbtrack.autolog()`` (a run per fit, params, training
  metrics, the model logged);
- ``mlflow_autolog_sklearn_overhead_ms``: with ``mlflow.sklearn.autolog()`` (sqlite store,
  cloudpickle models, as bench/models.py);
- ``ratio_autolog``: MLflow's added time over nbtrack's.

Each side runs in its own fresh process and store, BLAS on one thread; plain and autologged
fits alternate, and the fastest of ``--repeats`` of each are compared (the fit's own time
varies more than the overhead), after one untimed warm-up fit of each kind.

    python bench/autolog.py [--quick] [--json PATH]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Any

from figures import side_by_side_main

TARGETS = {"ratio_autolog": (">=", 10.0)}


def _fit_ms(X: Any, y: Any) -> float:
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    LogisticRegression().fit(X, y)
    return (time.perf_counter() - start) * 1000


def _overhead(on: Any, off: Any, repeats: int) -> float:
    """Fastest autologged fit minus fastest plain fit, fits of both kinds alternating."""
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    plain, logged = [], []
    for i in range(repeats + 1):
        off()
        t_plain = _fit_ms(X, y)
        on()
        t_logged = _fit_ms(X, y)
        if i:  # the first of each is the warm-up
            plain.append(t_plain)
            logged.append(t_logged)
    off()
    return min(logged) - min(plain)


def child_nbtrack(folder: str, repeats: int) -> float:
    warnings.filterwarnings("ignore")  # LogisticRegression's ConvergenceWarning
    import nbtrack
    from nbtrack.autologging import autolog

    nbtrack.set_store(folder)
    result = _overhead(autolog, lambda: autolog(disable=True), repeats)
    nbtrack.flush()
    return result


def child_mlflow(folder: str, repeats: int) -> float:
    warnings.filterwarnings("ignore")  # LogisticRegression's ConvergenceWarning, MLflow's
    import mlflow
    import mlflow.sklearn

    mlflow.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
    mlflow.set_experiment("bench")

    def on() -> None:
        mlflow.sklearn.autolog(serialization_format="cloudpickle", silent=True)

    return _overhead(on, lambda: mlflow.sklearn.autolog(disable=True), repeats)


def _run_child(side: str, repeats: int) -> float:
    with tempfile.TemporaryDirectory(prefix=f"nbtrack-bench-{side}-") as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "MLFLOW_"))}
        env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        out = subprocess.run(
            [sys.executable, __file__, "--child", side, "--folder", folder,
             "--repeats", str(repeats)],
            check=True, capture_output=True, text=True, env=env, cwd=folder, timeout=1800,
        )  # fmt: skip
        return float(json.loads(out.stdout.strip().splitlines()[-1]))


def figures(quick: bool = False) -> dict[str, float]:
    """nbtrack's and MLflow's added time per fit (ms), and their ratio."""
    repeats = 10 if quick else 40
    ours, theirs = _run_child("nbtrack", repeats), _run_child("mlflow", repeats)
    return {
        "autolog_sklearn_overhead_ms": ours,
        "mlflow_autolog_sklearn_overhead_ms": theirs,
        "ratio_autolog": theirs / ours,
    }


def main() -> None:
    children = {"nbtrack": child_nbtrack, "mlflow": child_mlflow}
    side_by_side_main(__doc__, figures, TARGETS, children, repeats=40)


if __name__ == "__main__":
    main()
