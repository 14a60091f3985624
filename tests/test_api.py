"""The public surface: exactly the documented names, and a light import."""

from __future__ import annotations

import subprocess
import sys

import nbtrack

DOCUMENTED = {
    # DESIGN section 3: tracking
    "set_store", "set_experiment", "run", "Run", "start_run", "end_run", "active_run", "log",
    "log_metric", "log_metrics", "log_param", "log_params", "set_tag", "set_tags",
    "log_artifact", "log_input", "flush", "TOP_LEVEL",
    # DESIGN section 4: query
    "search", "get_run", "RunRecord", "history", "sql", "delete_run", "restore_run",
    # cell lineage (the magics issue)
    "cell_runs", "diff", "RunDiff",
    # DESIGN section 6: widgets
    "table", "plot", "compare",
    # %load_ext nbtrack
    "load_ipython_extension", "unload_ipython_extension",
    # store maintenance and exchange
    "compact", "export", "import_runs", "import_mlflow", "sync",
    # moving in from other trackers
    "import_tensorboard", "import_wandb", "import_trackio", "import_csv", "export_mlflow",
    # autologging
    "autolog",
    # notebooks and scripts as runs, sweeps
    "run_notebook", "params", "sweep", "ProjectError", "RunFailedError", "SweepError",
    "TrialPruned",
    # models, the registry and serving
    "save_model", "log_model", "load_model", "ModelInfo", "pyfunc", "models", "serve",
    "register_model", "create_registered_model", "get_registered_model", "get_model_version",
    "get_model_version_by_alias", "get_latest_versions", "set_alias", "delete_alias",
    "transition_stage", "set_model_tag", "delete_model_tag", "update_description",
    "delete_model_version", "delete_registered_model", "search_registered_models",
    "search_model_versions", "ModelVersion", "RegisteredModel",
    # errors and warnings
    "ModelNotFoundError", "ModelSignatureError", "RegistryError",
    "NbtrackError", "StoreError", "RunNotFoundError", "InactiveRunError", "FilterError",
    "NbtrackWarning", "StoreWarning",
    "__version__",
}  # fmt: skip


def test_exports_are_exactly_the_documented_names() -> None:
    assert set(nbtrack.__all__) == DOCUMENTED
    # (its order is ruff's RUF022: constants, classes, then functions, each sorted)
    for name in nbtrack.__all__:
        assert getattr(nbtrack, name) is not None


def test_import_is_light() -> None:
    code = (
        "import sys, nbtrack\n"
        "heavy = {'duckdb', 'pandas', 'pyarrow', 'numpy', 'IPython'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
