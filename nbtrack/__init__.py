"""nbtrack: experiment tracking that lives in the notebook.

>>> import nbtrack, tempfile
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> with nbtrack.run("baseline", params={"lr": 0.01}) as run:
...     run.log(loss=0.25)
>>> nbtrack.search()[["name", "status", "params.lr", "metrics.loss"]]
       name    status  params.lr  metrics.loss
0  baseline  finished       0.01          0.25
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import kernel as _kernel
from ._version import __version__
from .config import set_experiment, set_store
from .errors import (
    FilterError,
    InactiveRunError,
    ModelNotFoundError,
    ModelSignatureError,
    NbtrackError,
    NbtrackWarning,
    ProjectError,
    RegistryError,
    RunFailedError,
    RunNotFoundError,
    StoreError,
    StoreWarning,
    SweepError,
    TrialPruned,
)
from .handoff import params
from .tracking import (
    TOP_LEVEL,
    Run,
    active_run,
    end_run,
    flush,
    log,
    log_artifact,
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    run,
    set_tag,
    set_tags,
    start_run,
)

if TYPE_CHECKING:
    from . import pyfunc
    from .autologging import autolog
    from .exchange import (
        export,
        export_mlflow,
        import_csv,
        import_mlflow,
        import_runs,
        import_tensorboard,
        import_trackio,
        import_wandb,
        sync,
    )
    from .mlmodel import ModelInfo, load_model, log_model, save_model
    from .projects import run_notebook
    from .query import (
        RunDiff,
        RunRecord,
        cell_runs,
        delete_run,
        diff,
        get_run,
        history,
        restore_run,
        search,
        sql,
    )
    from .registry import (
        ModelVersion,
        RegisteredModel,
        create_registered_model,
        delete_alias,
        delete_model_tag,
        delete_model_version,
        delete_registered_model,
        get_latest_versions,
        get_model_version,
        get_model_version_by_alias,
        get_registered_model,
        register_model,
        search_model_versions,
        search_registered_models,
        set_alias,
        set_model_tag,
        transition_stage,
        update_description,
    )
    from .serving import serve
    from .store.compaction import compact
    from .sweeps import sweep
    from .widgets import compare, models, plot, table

# The read side needs DuckDB and pandas; they load on first use so `import nbtrack` stays fast.
_LAZY = {
    "RunDiff": "query",
    "RunRecord": "query",
    "cell_runs": "query",
    "diff": "query",
    "delete_run": "query",
    "get_run": "query",
    "history": "query",
    "restore_run": "query",
    "search": "query",
    "sql": "query",
    "compact": "store.compaction",
    "compare": "widgets",
    "plot": "widgets",
    "table": "widgets",
    "export": "exchange",
    "import_mlflow": "exchange",
    "import_runs": "exchange",
    "import_csv": "exchange",
    "export_mlflow": "exchange",
    "sync": "exchange",
    "autolog": "autologging",
    "import_tensorboard": "exchange",
    "import_trackio": "exchange",
    "import_wandb": "exchange",
    "ModelInfo": "mlmodel",
    "load_model": "mlmodel",
    "log_model": "mlmodel",
    "save_model": "mlmodel",
    "models": "widgets",
    "serve": "serving",
    "run_notebook": "projects",
    "sweep": "sweeps",
    **dict.fromkeys(
        (
            "ModelVersion", "RegisteredModel", "create_registered_model", "delete_alias",
            "delete_model_tag", "delete_model_version", "delete_registered_model",
            "get_latest_versions", "get_model_version", "get_model_version_by_alias",
            "get_registered_model", "register_model", "search_model_versions",
            "search_registered_models", "set_alias", "set_model_tag", "transition_stage",
            "update_description",
        ),
        "registry",
    ),
}  # fmt: skip
# Public submodules, imported on first attribute access (``nbtrack.pyfunc.load_model(uri)``).
_SUBMODULES = {"pyfunc"}

__all__ = [
    "TOP_LEVEL",
    "FilterError",
    "InactiveRunError",
    "ModelInfo",
    "ModelNotFoundError",
    "ModelSignatureError",
    "ModelVersion",
    "NbtrackError",
    "NbtrackWarning",
    "ProjectError",
    "RegisteredModel",
    "RegistryError",
    "Run",
    "RunDiff",
    "RunFailedError",
    "RunNotFoundError",
    "RunRecord",
    "StoreError",
    "StoreWarning",
    "SweepError",
    "TrialPruned",
    "__version__",
    "active_run",
    "autolog",
    "cell_runs",
    "compact",
    "compare",
    "create_registered_model",
    "delete_alias",
    "delete_model_tag",
    "delete_model_version",
    "delete_registered_model",
    "delete_run",
    "diff",
    "end_run",
    "export",
    "export_mlflow",
    "flush",
    "get_latest_versions",
    "get_model_version",
    "get_model_version_by_alias",
    "get_registered_model",
    "get_run",
    "history",
    "import_csv",
    "import_mlflow",
    "import_runs",
    "import_tensorboard",
    "import_trackio",
    "import_wandb",
    "load_ipython_extension",
    "load_model",
    "log",
    "log_artifact",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "models",
    "params",
    "plot",
    "pyfunc",
    "register_model",
    "restore_run",
    "run",
    "run_notebook",
    "save_model",
    "search",
    "search_model_versions",
    "search_registered_models",
    "serve",
    "set_alias",
    "set_experiment",
    "set_model_tag",
    "set_store",
    "set_tag",
    "set_tags",
    "sql",
    "start_run",
    "sweep",
    "sync",
    "table",
    "transition_stage",
    "unload_ipython_extension",
    "update_description",
]


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext nbtrack``: register the ``%%track`` and ``%track`` magics."""
    from .magics import load_ipython_extension as load

    load(shell)


def unload_ipython_extension(shell: Any) -> None:
    from .magics import unload_ipython_extension as unload

    unload(shell)


def __getattr__(name: str) -> Any:
    from .lazy import load

    return load(__name__, name, _LAZY, _SUBMODULES)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


_kernel.warm_up()
