"""MLflow's fluent tracking API (``mlflow.start_run``, ``mlflow.log_metric``, ...) on nbtrack.

Every call maps onto nbtrack's public API: runs are nbtrack runs, logging goes to the active
nbtrack run. Where MLflow's rules and nbtrack's differ:

* Starting a run while one this thread started through this module is active needs
  ``nested=True``, as in MLflow. A run nbtrack started (a ``%%track`` cell, ``nbtrack.run``),
  or another thread's, is no obstacle: the new run nests under it (nbtrack's nesting), and
  ``end_run`` leaves nbtrack's runs to nbtrack.
* Logging without an active run starts one (as MLflow does); it stays active until
  ``end_run``.
* A run is written only while it runs, by the process that started it: ``run_id=`` must name a
  run active in this process.
* Metrics logged without ``step`` count 0, 1, 2, ... per key (MLflow puts them all at step 0);
  ``timestamp=`` and ``synchronous=`` are accepted, and the point is timed when logged.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .. import tracking
from ..config import set_store
from ..errors import NbtrackWarning
from . import _artifacts, _experiments, _runs, _uris
from .entities import (
    Experiment,
    Run,
    RunData,
    RunInfo,
    ViewType,
    from_mlflow_status,
    to_mlflow_status,
)
from .exceptions import (
    INVALID_PARAMETER_VALUE,
    MlflowException,
    NotSupportedError,
    mlflow_errors,
)

# Runs started through this module, by id: MLflow's "a run is already active" rule applies to
# them (in the thread that started them: MLflow's active runs are per thread), and end_run ends
# only them. Ended runs are dropped as new ones start.
_started: dict[str, tracking.Run] = {}
_owners: dict[str, int] = {}
_started_lock = threading.Lock()
_last_run_id: str | None = None
_tracking_uri_set = False


class ActiveRun(Run):
    """The run ``start_run`` returns: a :class:`Run` that ends when its ``with`` block does
    (``FINISHED``, ``FAILED`` on an exception, ``KILLED`` on Ctrl-C or SIGTERM)."""

    def __init__(self, run: tracking.Run, start_ms: int | None = None) -> None:
        self._run = run
        self._start_ms = start_ms

    @property
    def info(self) -> RunInfo:
        if self._start_ms is None or self._run.status != "running":  # the store's full record
            return _runs.fetch_one(self._run.id).info
        return RunInfo(
            run_id=self._run.id,
            experiment_id=self._run.experiment,
            run_name=self._run.name,
            user_id=None,
            status=to_mlflow_status(self._run.status),
            start_time=self._start_ms,
            end_time=None,
            artifact_uri=str(_uris.run_artifacts(self._run.id)),
        )

    @property
    def data(self) -> RunData:
        return _runs.fetch_one(self._run.id).data

    @property
    def inputs(self) -> Any:
        return _runs.fetch_one(self._run.id).inputs

    @property
    def nbtrack_run(self) -> tracking.Run:
        """The nbtrack :class:`~nbtrack.Run` behind this run."""
        return self._run

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._run.__exit__(*exc_info)  # ends the run as nbtrack's own ``with`` block does

    def __repr__(self) -> str:
        return f"<ActiveRun: run_id={self._run.id!r}, run_name={self._run.name!r}>"


# ---- tracking store and experiments ----------------------------------------------------------
def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """Use the nbtrack store at ``uri`` (a folder path or ``file:`` URI) from now on.

    >>> import nbtrack.mlflow as mlflow, tempfile
    >>> mlflow.set_tracking_uri(tempfile.mkdtemp())
    """
    global _tracking_uri_set
    path = _uris.store_path(uri)
    _uris.check_store_folder(path)
    set_store(path)
    _tracking_uri_set = True


def get_tracking_uri() -> str:
    """The store folder, as a ``file:`` URI."""
    return _uris.store_root().as_uri()


def is_tracking_uri_set() -> bool:
    return _tracking_uri_set or bool(os.environ.get("NBTRACK_STORE"))


def set_registry_uri(uri: str | os.PathLike[str]) -> None:
    """The registry lives in the tracking store: ``uri`` must name that same store."""
    if _uris.store_path(uri) != _uris.store_root():
        raise NotSupportedError(
            "nbtrack keeps the model registry in the tracking store: call "
            "mlflow.set_tracking_uri(path) to move both"
        )


def get_registry_uri() -> str:
    return get_tracking_uri()


@mlflow_errors
def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None, **kwargs: Any
) -> Experiment:
    """Make an experiment the one new runs go to (created if new); returns it. An
    experiment's id is its name."""
    _no_extra_arguments("set_experiment", kwargs)
    return _experiments.set_current(experiment_name, experiment_id)


@mlflow_errors
def create_experiment(
    name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> str:  # fmt: skip
    """Create an experiment; returns its id, which is its name."""
    _no_extra_arguments("create_experiment", kwargs)
    return _experiments.create(name, artifact_location, tags)


@mlflow_errors
def get_experiment(experiment_id: str) -> Experiment:
    return _experiments.get(experiment_id)


@mlflow_errors
def get_experiment_by_name(name: str) -> Experiment | None:
    return _experiments.get_by_name(name)


@mlflow_errors
def search_experiments(
    view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[Experiment]:
    """Experiments, filtered on their name (``name LIKE 'wine%'``)."""
    return _experiments.search(view_type, max_results, filter_string, order_by)


@mlflow_errors
def delete_experiment(experiment_id: str) -> None:
    """Delete every run of the experiment (``nbtrack.delete_run``; nothing is erased)."""
    from ..query import delete_run as nbtrack_delete_run

    name = _experiments.get(experiment_id).name
    for run in _runs.search([name], run_view_type=ViewType.ACTIVE_ONLY):
        nbtrack_delete_run(run.info.run_id)


@mlflow_errors
def restore_experiment(experiment_id: str) -> None:
    """Restore every deleted run of the experiment."""
    from ..query import restore_run as nbtrack_restore_run

    name = _experiments.get(experiment_id).name
    for run in _runs.search([name], run_view_type=ViewType.DELETED_ONLY):
        nbtrack_restore_run(run.info.run_id)


# ---- runs ------------------------------------------------------------------------------------
@mlflow_errors
def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a run and make it the active one; use it as ``with mlflow.start_run() as run:``.

    >>> import nbtrack.mlflow as mlflow, tempfile
    >>> mlflow.set_tracking_uri(tempfile.mkdtemp())
    >>> with mlflow.start_run(run_name="rf") as run:
    ...     mlflow.log_params({"n_estimators": 100})
    ...     mlflow.log_metric("acc", 0.9)
    >>> mlflow.get_run(run.info.run_id).data.params
    {'n_estimators': '100'}
    """
    active = tracking.active_run()
    if run_id is not None:
        return _resume(run_id, active)
    if (
        active is not None
        and not nested
        and parent_run_id is None
        and _owners.get(active.id) == threading.get_ident()
    ):
        raise MlflowException(
            f"Run with UUID {active.id} is already active. To start a new run, first end the "
            "current run with mlflow.end_run(). To start a nested run, call start_run with "
            "nested=True",
            INVALID_PARAMETER_VALUE,
        )
    all_tags = dict(tags or {})
    if description is not None:
        all_tags["mlflow.note.content"] = description
    experiment = _experiments.name_of(experiment_id) if experiment_id is not None else None
    start_ms = int(time.time() * 1000)
    run = tracking.start_run(
        run_name, experiment, tags=all_tags or None, parent=parent_run_id or None,
        system_metrics=_system_metrics(log_system_metrics),
    )  # fmt: skip
    remember(run)
    return ActiveRun(run, start_ms)


def remember(run: tracking.Run) -> None:
    """Note a run started through this module (ended ones are forgotten)."""
    global _last_run_id
    with _started_lock:
        for ended in [i for i, r in _started.items() if r.status != "running"]:
            del _started[ended]
            _owners.pop(ended, None)
        _started[run.id] = run
        _owners[run.id] = threading.get_ident()
    _last_run_id = run.id


def _resume(run_id: str, active: tracking.Run | None) -> ActiveRun:
    """The run ``run_id``: still running here, or reopened (it ended, or another process
    started it)."""
    run = _started.get(run_id)
    if run is None and active is not None and active.id == run_id:
        run = active
    if run is None or run.status != "running":
        run = tracking.resume_run(run_id)
        remember(run)
    return ActiveRun(run, None)


_system_metrics_default: bool | None = None  # enable_/disable_system_metrics_logging()
_system_metrics_interval: float | None = None  # set_system_metrics_sampling_interval()


def _system_metrics(requested: bool | None) -> bool | float | None:
    """What ``log_system_metrics`` asks of nbtrack's sampler (None: $NBTRACK_SYSTEM_METRICS)."""
    wanted = _system_metrics_default if requested is None else requested
    if wanted and _system_metrics_interval is not None:
        return _system_metrics_interval
    return wanted


def enable_system_metrics_logging() -> None:
    """Sample system metrics (CPU, memory, disk, network, GPUs) in every run started from now
    on, as ``system/…`` metrics; nbtrack needs its ``system`` extra (psutil) for this."""
    global _system_metrics_default
    _system_metrics_default = True


def disable_system_metrics_logging() -> None:
    """Stop sampling system metrics in runs started from now on."""
    global _system_metrics_default
    _system_metrics_default = False


def set_system_metrics_sampling_interval(interval: float | None) -> None:
    """Seconds between system-metric samples (None: nbtrack's default, 5)."""
    global _system_metrics_interval
    _system_metrics_interval = interval


def end_run(status: str = "FINISHED") -> None:
    """End the active run started through this module (FINISHED, FAILED or KILLED); without
    one, nothing happens (as in MLflow). Runs nbtrack started (``%%track`` cells) end there."""
    state = from_mlflow_status(status)
    run = tracking.active_run()
    if run is not None and run.id in _started:
        run.end(state)


def active_run() -> ActiveRun | None:
    """The active run (also one nbtrack started, e.g. a ``%%track`` cell's), or None."""
    run = tracking.active_run()
    if run is None:
        return None
    return ActiveRun(run)  # its info is read from the store


@mlflow_errors
def last_active_run() -> Run | None:
    """The active run, else the last run started through this module, else None."""
    run = tracking.active_run()
    run_id = run.id if run is not None else _last_run_id
    return None if run_id is None else _runs.fetch_one(run_id)


@mlflow_errors
def get_run(run_id: str) -> Run:
    """Everything recorded about a run, as MLflow's :class:`Run` (``run_id`` may be a unique
    prefix)."""
    return _runs.fetch_one(run_id)


@mlflow_errors
def get_parent_run(run_id: str) -> Run | None:
    parent = _runs.fetch_one(run_id).data.tags.get("mlflow.parentRunId")
    return None if parent is None else _runs.fetch_one(parent)


@mlflow_errors
def delete_run(run_id: str) -> None:
    """Hide a run from searches (nothing is erased; ``restore_run`` brings it back)."""
    from ..query import delete_run as nbtrack_delete_run

    nbtrack_delete_run(run_id)


@mlflow_errors
def restore_run(run_id: str) -> None:
    from ..query import restore_run as nbtrack_restore_run

    nbtrack_restore_run(run_id)


def _get_or_start_run() -> tracking.Run:
    run = tracking.active_run()
    if run is None:
        run = start_run().nbtrack_run
    return run


def target_run(run_id: str | None) -> tracking.Run:
    """The live run that ``run_id`` names (None: the active run, started if there is none)."""
    if run_id is None:
        return _get_or_start_run()
    run = _started.get(run_id)
    active = tracking.active_run()
    if run is None and active is not None and active.id == run_id:
        run = active
    if run is None or run.status != "running":
        raise NotSupportedError(
            f"run {run_id!r} is not running in this process: nbtrack writes a run only while "
            "it runs, from the process that started it. Log inside the run (with "
            "mlflow.start_run() as run: ...), or start a new run"
        )
    return run


def _no_extra_arguments(function: str, kwargs: Mapping[str, Any]) -> None:
    used = [k for k, v in kwargs.items() if v is not None]
    if used:
        raise NotSupportedError(
            f"{function}() argument(s) {', '.join(used)} are not supported by nbtrack.mlflow"
        )


# ---- logging ---------------------------------------------------------------------------------
@mlflow_errors
def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Record a param on the active run (nbtrack keeps its type; it reads back as text)."""
    _get_or_start_run().log_params({key: value})
    return value


@mlflow_errors
def log_params(
    params: Mapping[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> None:
    target_run(run_id).log_params(params)


@mlflow_errors
def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    """Log a metric value to the active run (``step``: per-key count when left out)."""
    _no_model_links(model_id, dataset)
    target_run(run_id).log_metrics({key: value}, step)


@mlflow_errors
def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    _no_model_links(model_id, dataset)
    target_run(run_id).log_metrics(metrics, step)


def _no_model_links(model_id: Any, dataset: Any) -> None:
    if model_id is not None or dataset is not None:
        raise NotSupportedError(
            "metrics linked to a logged model or dataset (model_id=, dataset=) are not "
            "supported: log the metric on the run, and the dataset with mlflow.log_input"
        )


@mlflow_errors
def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    _get_or_start_run().set_tags({key: value})


@mlflow_errors
def set_tags(tags: Mapping[str, Any], synchronous: bool | None = None) -> None:
    _get_or_start_run().set_tags(tags)


def delete_tag(key: str) -> None:
    raise NotSupportedError(
        "nbtrack cannot remove a tag (the store is append-only): set it to another value "
        "with mlflow.set_tag"
    )


@mlflow_errors
def log_artifact(
    local_path: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Copy a file (or folder) into the run's artifacts, under ``artifact_path``."""
    name = _artifacts.artifact_name(local_path, artifact_path)
    target_run(run_id).log_artifact(Path(local_path), name)


@mlflow_errors
def log_artifacts(
    local_dir: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Copy the contents of a folder into the run's artifacts, under ``artifact_path``."""
    folder = Path(local_dir)
    if not folder.is_dir():
        raise MlflowException.invalid_parameter_value(
            f"log_artifacts takes a folder; {str(folder)!r} is not one (log a file with "
            "mlflow.log_artifact)"
        )
    run = target_run(run_id)
    if artifact_path:
        run.log_artifact(folder, _artifacts.check_artifact_file(artifact_path))
    else:
        for child in sorted(folder.iterdir()):
            run.log_artifact(child, child.name)


@mlflow_errors
def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a dict as JSON (YAML for ``.yaml``/``.yml``) in the run's artifacts."""
    run = target_run(run_id)
    with _artifacts.written(artifact_file, _artifacts.dict_writer(dictionary, artifact_file)) as (
        path,
        name,
    ):
        run.log_artifact(path, name)


@mlflow_errors
def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    run = target_run(run_id)
    with _artifacts.written(artifact_file, _artifacts.text_writer(text)) as (path, name):
        run.log_artifact(path, name)


@mlflow_errors
def log_figure(
    figure: Any,
    artifact_file: str,
    *,
    save_kwargs: dict[str, Any] | None = None,
    run_id: str | None = None,
) -> None:
    """Save a matplotlib (or plotly) figure in the run's artifacts, e.g. as PNG."""
    run = target_run(run_id)
    with _artifacts.written(artifact_file, _artifacts.figure_writer(figure, save_kwargs)) as (
        path,
        name,
    ):
        run.log_artifact(path, name)


@mlflow_errors
def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = False,
    run_id: str | None = None,
) -> None:
    """Save a numpy array or PIL image as an image file in the run's artifacts."""
    _artifacts.no_image_series(key, step)
    if artifact_file is None:
        raise MlflowException.invalid_parameter_value("log_image needs artifact_file='x.png'")
    run = target_run(run_id)
    with _artifacts.written(artifact_file, _artifacts.image_writer(image)) as (path, name):
        run.log_artifact(path, name)


@mlflow_errors
def log_input(
    dataset: Any = None,
    context: str | None = None,
    tags: Mapping[str, str] | None = None,
    model: Any = None,
) -> None:
    """Record a dataset the run used (``mlflow.data.from_pandas(df, name=...)``, or a
    DataFrame, array or path): its name, digest, schema, row count and source."""
    from .data import unwrap

    if model is not None:
        raise NotSupportedError("log_input(model=...) is not supported: log datasets only")
    tags = dict(tags or {})
    context = context or tags.pop("mlflow.data.context", None)
    if tags:
        raise NotSupportedError(
            f"dataset input tags {sorted(tags)} are not supported: nbtrack records a dataset's "
            "name, digest, schema, rows, source and context"
        )
    if dataset is None:
        raise MlflowException.invalid_parameter_value("log_input needs a dataset")
    data, name, source = unwrap(dataset)
    _get_or_start_run().log_input(data, name=name, context=context, source=source)


@mlflow_errors
def log_inputs(
    datasets: list[Any] | None = None,
    contexts: list[str | None] | None = None,
    tags_list: list[dict[str, str] | None] | None = None,
    models: list[Any] | None = None,
) -> None:
    if models:
        raise NotSupportedError("log_inputs(models=...) is not supported: log datasets only")
    datasets = datasets or []
    contexts = contexts or [None] * len(datasets)
    tags_list = tags_list or [None] * len(datasets)
    for dataset, context, tags in zip(datasets, contexts, tags_list, strict=True):
        log_input(dataset, context, tags)


@mlflow_errors
def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The active run's artifact folder (or a path inside it)."""
    root = _uris.run_artifacts(_get_or_start_run().id)
    if artifact_path:
        root = root / _artifacts.check_artifact_file(artifact_path)
    return str(root)


def flush_async_logging() -> None:
    """Write everything logged so far to the store now (``nbtrack.flush``)."""
    tracking.flush()


flush_artifact_async_logging = flush_async_logging


# ---- search ----------------------------------------------------------------------------------
@mlflow_errors
def search_runs(
    experiment_ids: list[str] | None = None,
    filter_string: str = "",
    run_view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int = 100000,
    order_by: list[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: list[str] | None = None,
) -> Any:
    """Runs of the current experiment (or ``experiment_ids`` / ``experiment_names``; ids are
    names) matching MLflow's filter, as MLflow's DataFrame (``run_id, experiment_id, status,
    artifact_uri, start_time, end_time, metrics.*, params.*, tags.*``) or, with
    ``output_format="list"``, a list of :class:`Run`.

    >>> import nbtrack.mlflow as mlflow, tempfile
    >>> mlflow.set_tracking_uri(tempfile.mkdtemp())
    >>> for n in (10, 100):
    ...     with mlflow.start_run():
    ...         mlflow.log_params({"n_estimators": n})
    ...         mlflow.log_metric("acc", n / 200)
    >>> runs = mlflow.search_runs(filter_string="metrics.acc > 0.1", order_by=["metrics.acc DESC"])
    >>> runs[["params.n_estimators", "metrics.acc", "status"]]
      params.n_estimators  metrics.acc    status
    0                 100          0.5  FINISHED
    """
    if output_format not in ("pandas", "list"):
        raise MlflowException.invalid_parameter_value(
            f"output_format must be 'pandas' or 'list', not {output_format!r}"
        )
    names = _runs.experiment_names(experiment_ids, experiment_names, search_all_experiments)
    runs = _runs.search(names, filter_string, run_view_type, max_results, order_by)
    return runs if output_format == "list" else _runs.to_frame(runs)


# ---- not available ---------------------------------------------------------------------------
# MLflow's autolog keywords: passed on to nbtrack.autolog, or accepted as changing nothing here
# (nbtrack always records signatures and datasets it can; it patches every supported version).
_AUTOLOG_PASSED = ("disable", "log_models", "silent", "max_tuning_runs",
                   "log_post_training_metrics", "log_every_n_steps")  # fmt: skip
_AUTOLOG_ACCEPTED = ("log_input_examples", "log_model_signatures", "log_datasets", "log_traces",
                     "exclusive", "disable_for_unsupported_versions", "serialization_format",
                     "pos_label", "log_every_epoch", "save_graph")  # fmt: skip


def autolog_for(library: str | None) -> Callable[..., None]:
    """``mlflow.autolog`` (``library=None``: every library nbtrack autologs, less
    ``exclude_flavors``) or ``mlflow.<library>.autolog``, as nbtrack.autolog."""

    def autolog(**kwargs: Any) -> None:
        from ..autologging import INTEGRATIONS
        from ..autologging import autolog as nbtrack_autolog

        excluded = set(kwargs.pop("exclude_flavors", None) or ())
        unknown = set(kwargs) - set(_AUTOLOG_PASSED) - set(_AUTOLOG_ACCEPTED)
        if unknown:
            raise NotSupportedError(
                f"nbtrack's autolog has no {', '.join(sorted(unknown))}: leave "
                f"{'it' if len(unknown) == 1 else 'them'} out (register a model with "
                "mlflow.register_model, tag runs with mlflow.set_tags)"
            )
        passed = {k: v for k, v in kwargs.items() if k in _AUTOLOG_PASSED}
        libraries = [library] if library else [n for n in INTEGRATIONS if n not in excluded]
        nbtrack_autolog(libraries=libraries, **passed)

    autolog.__doc__ = (
        f"Autolog {library or 'every library nbtrack supports'} with nbtrack.autolog: MLflow's "
        "keywords disable, log_models, silent, max_tuning_runs, log_post_training_metrics and "
        "log_every_n_steps are followed; the other usual ones are accepted."
    )
    return autolog


autolog = autolog_for(None)


def _warn_ignored_environment() -> None:
    if os.environ.get("MLFLOW_TRACKING_URI") and not os.environ.get("NBTRACK_STORE"):
        warnings.warn(
            f"nbtrack.mlflow does not read MLFLOW_TRACKING_URI; runs go to the nbtrack store at "
            f"{_uris.store_root()} (set NBTRACK_STORE or call mlflow.set_tracking_uri(path))",
            NbtrackWarning,
            stacklevel=3,
        )
