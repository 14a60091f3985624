"""MLflow's API on nbtrack: run MLflow notebook code by changing only its import.

::

    import nbtrack.mlflow as mlflow      # instead of: import mlflow

    mlflow.set_experiment("wine")
    with mlflow.start_run(run_name="rf") as run:
        mlflow.log_params({"n_estimators": 100})
        mlflow.log_metric("f1", 0.93, step=1)
        mlflow.sklearn.log_model(model, name="model", registered_model_name="wine")
    mlflow.search_runs(filter_string="metrics.f1 > 0.9", order_by=["metrics.f1 DESC"])

Every call maps onto nbtrack's public API (runs, the store, models, the registry); what MLflow
has and nbtrack does not raises :class:`~nbtrack.mlflow.exceptions.NotSupportedError` naming
the nbtrack way. Where the two differ:

* the tracking URI is an nbtrack store folder (a path or ``file:`` URI); servers and databases
  are refused (``nbtrack.import_mlflow`` brings their runs in);
* an experiment's id is its name (``"0"`` is ``"default"``);
* params read back as text, as in MLflow (nbtrack stores them typed, and its filters compare
  them typed: ``params.lr < 0.01`` works);
* a run is logged to only by the process running it; metrics without ``step`` count 0, 1, 2;
* see :mod:`nbtrack.mlflow.fluent`, :mod:`nbtrack.mlflow.client` and
  :mod:`nbtrack.mlflow.entities` for the rest.

>>> import nbtrack.mlflow as mlflow, tempfile
>>> mlflow.set_tracking_uri(tempfile.mkdtemp())
>>> experiment = mlflow.set_experiment("wine")
>>> experiment.experiment_id
'wine'
>>> with mlflow.start_run() as run:
...     mlflow.log_metric("f1", 0.9)
>>> mlflow.get_run(run.info.run_id).data.metrics
{'f1': 0.9}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..lazy import load
from ._unsupported import TOP_LEVEL, module_getattr
from .client import MlflowClient
from .exceptions import MlflowException
from .fluent import (
    ActiveRun,
    active_run,
    autolog,
    create_experiment,
    delete_experiment,
    delete_run,
    delete_tag,
    disable_system_metrics_logging,
    enable_system_metrics_logging,
    end_run,
    flush_artifact_async_logging,
    flush_async_logging,
    get_artifact_uri,
    get_experiment,
    get_experiment_by_name,
    get_parent_run,
    get_registry_uri,
    get_run,
    get_tracking_uri,
    is_tracking_uri_set,
    last_active_run,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_input,
    log_inputs,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_text,
    restore_experiment,
    restore_run,
    search_experiments,
    search_runs,
    set_experiment,
    set_registry_uri,
    set_system_metrics_sampling_interval,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)
from .fluent import _warn_ignored_environment as _warn

if TYPE_CHECKING:
    from . import (  # noqa: F401
        artifacts,
        client,
        data,
        entities,
        exceptions,
        lightgbm,
        models,
        onnx,
        pyfunc,
        sklearn,
        tracking,
        xgboost,
    )
    from ._model_registry import (
        register_model,
        search_model_versions,
        search_registered_models,
        set_model_version_tag,
    )

# Submodules load on first use (``mlflow.sklearn.log_model``), as MLflow's do.
_SUBMODULES = {
    "artifacts", "client", "data", "entities", "exceptions", "lightgbm", "models", "onnx",
    "pyfunc", "sklearn", "tracking", "xgboost",
}  # fmt: skip
_LAZY = {
    "register_model": "_model_registry",
    "search_model_versions": "_model_registry",
    "search_registered_models": "_model_registry",
    "set_model_version_tag": "_model_registry",
}

__all__ = [
    "ActiveRun",
    "MlflowClient",
    "MlflowException",
    "active_run",
    "autolog",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "disable_system_metrics_logging",
    "enable_system_metrics_logging",
    "end_run",
    "flush_artifact_async_logging",
    "flush_async_logging",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_parent_run",
    "get_registry_uri",
    "get_run",
    "get_tracking_uri",
    "is_tracking_uri_set",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "restore_experiment",
    "restore_run",
    "search_experiments",
    "search_model_versions",
    "search_registered_models",
    "search_runs",
    "set_experiment",
    "set_model_version_tag",
    "set_registry_uri",
    "set_system_metrics_sampling_interval",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]

_missing = module_getattr(__name__, TOP_LEVEL)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES or name in _LAZY:
        return load(__name__, name, _LAZY, _SUBMODULES)
    return _missing(name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)


_warn()
