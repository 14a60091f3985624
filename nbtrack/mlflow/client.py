"""``MlflowClient``: MLflow's lower-level API, on nbtrack's store.

Runs are written only while they run, by the process that started them: methods that log to a
``run_id`` need a run active in this process (``create_run`` starts one). Everything else reads
or changes the store as ``nbtrack`` does.

>>> import nbtrack.mlflow as mlflow, tempfile
>>> mlflow.set_tracking_uri(tempfile.mkdtemp())
>>> client = mlflow.MlflowClient()
>>> with mlflow.start_run() as run:
...     for step, loss in enumerate((0.5, 0.3)):
...         mlflow.log_metric("loss", loss, step=step)
>>> [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "loss")]
[(0, 0.5), (1, 0.3)]
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from .. import tracking
from . import _artifacts, _experiments, _runs, _uris, fluent
from ._registry import model_view, registry, version_view
from ._unsupported import message
from .entities import (
    Experiment,
    FileInfo,
    Metric,
    ModelVersion,
    Param,
    RegisteredModel,
    Run,
    RunTag,
    ViewType,
    from_mlflow_status,
    to_ms,
)
from .exceptions import MissingAttributeError, MlflowException, NotSupportedError, mlflow_errors

# MLflow's default page size for the client's searches.
SEARCH_MAX_RESULTS = 1000


class PagedList(list):  # type: ignore[type-arg]
    """A page of results; ``token`` is the next page's ``page_token`` (None: the last page)."""

    def __init__(self, items: Iterable[Any], token: str | None) -> None:
        super().__init__(items)
        self.token = token


def _offset(page_token: str | None) -> int:
    if not page_token:
        return 0
    if not str(page_token).isdigit():
        raise MlflowException.invalid_parameter_value(
            f"invalid page_token {page_token!r}: pass the .token of the previous page"
        )
    return int(page_token)


def _page(items: list[Any], offset: int, size: int | None) -> PagedList:
    full = size is not None and len(items) >= size
    return PagedList(items, str(offset + len(items)) if full else None)


# MlflowClient's methods that nbtrack does not offer, and the way to do it instead.
_CLIENT_HINTS = {
    "rename_experiment": "experiment names are part of each run's record and cannot change",
    "set_experiment_tag": "nbtrack experiments carry no tags: tag the runs instead",
    "delete_experiment_tag": "nbtrack experiments carry no tags: tag the runs instead",
    "delete_tag": "nbtrack cannot remove a tag (the store is append-only): set another value",
    "rename_registered_model": "a registered model's name cannot change: register the model "
    "under the new name (mlflow.register_model(uri, new_name))",
    "log_table": "write the table to a file and log it with client.log_artifact",
    "log_inputs": "log datasets with mlflow.log_input inside the run",
    "log_outputs": "MLflow 3's logged-model entities are not part of nbtrack",
}


class MlflowClient:
    """MLflow's client over the current nbtrack store (``tracking_uri`` must name it, or be
    left out)."""

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        for uri in (tracking_uri, registry_uri):
            if uri is not None and _uris.store_path(uri) != _uris.store_root():
                raise NotSupportedError(
                    f"nbtrack works on one store per process, {_uris.store_root()}: call "
                    f"mlflow.set_tracking_uri({str(uri)!r}) first, then MlflowClient()"
                )
        self.tracking_uri = fluent.get_tracking_uri()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise MissingAttributeError(message(f"MlflowClient.{name}", _CLIENT_HINTS.get(name)))

    # ---- experiments -----------------------------------------------------------------------
    @mlflow_errors
    def create_experiment(
        self, name: str, artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None, **kwargs: Any,
    ) -> str:  # fmt: skip
        """Create an experiment; its id is its name."""
        return fluent.create_experiment(name, artifact_location, tags, **kwargs)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return fluent.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return fluent.get_experiment_by_name(name)

    @mlflow_errors
    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int | None = SEARCH_MAX_RESULTS,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        offset = _offset(page_token)
        found = _experiments.search(view_type, None, filter_string, order_by)
        end = None if max_results is None else offset + max_results
        return _page(found[offset:end], offset, max_results)

    def delete_experiment(self, experiment_id: str) -> None:
        fluent.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        fluent.restore_experiment(experiment_id)

    # ---- runs ------------------------------------------------------------------------------
    @mlflow_errors
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Start a run in this process without making it the active one; log to it by id and
        end it with ``set_terminated``."""
        if start_time is not None:
            raise NotSupportedError("nbtrack times runs itself: leave start_time out")
        # Started in a copy of the context: the run is not made active here (as in MLflow),
        # so fluent calls keep going to the run that was active, if any.
        run = contextvars.copy_context().run(
            tracking.start_run, run_name, _experiments.name_of(experiment_id),
            tags=dict(tags or {}) or None, parent=cast(Any, tracking.TOP_LEVEL),
        )  # fmt: skip
        fluent.remember(run)
        return fluent.ActiveRun(run, to_ms_now())

    @mlflow_errors
    def set_terminated(
        self, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> None:
        """End a run this process is running (FINISHED unless ``status`` says otherwise)."""
        if end_time is not None:
            raise NotSupportedError("nbtrack times runs itself: leave end_time out")
        fluent.target_run(run_id).end(from_mlflow_status(status or "FINISHED"))

    @mlflow_errors
    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        if name is not None:
            raise NotSupportedError("a run's name cannot change in nbtrack: set a tag instead")
        if status is not None:
            self.set_terminated(run_id, status)

    def get_run(self, run_id: str) -> Run:
        return fluent.get_run(run_id)

    def get_parent_run(self, run_id: str) -> Run | None:
        return fluent.get_parent_run(run_id)

    def delete_run(self, run_id: str) -> None:
        fluent.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        fluent.restore_run(run_id)

    @mlflow_errors
    def search_runs(
        self,
        experiment_ids: Sequence[str] | str,
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Runs as a list of :class:`Run` (a page: ``.token`` fetches the next)."""
        names = _runs.experiment_names(experiment_ids, None) if experiment_ids else []
        offset = _offset(page_token)
        found = _runs.search(names, filter_string, run_view_type, max_results, order_by, offset)
        return _page(found, offset, max_results)

    @mlflow_errors
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of a metric, in step order (timestamps in epoch ms)."""
        from ..query import get_run, history

        frame = history(get_run(run_id).id, key)
        points = zip(frame["step"], frame["timestamp"], frame["value"], strict=True)
        return [
            Metric(key, float(value), to_ms(stamp.to_pydatetime()) or 0, int(step))
            for step, stamp, value in points
        ]

    # ---- logging to a run ------------------------------------------------------------------
    @mlflow_errors
    def log_metric(
        self, run_id: str, key: str, value: float, timestamp: int | None = None,
        step: int | None = None, synchronous: bool | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        fluent._no_extra_arguments("log_metric", kwargs)
        fluent.target_run(run_id).log_metrics({key: value}, step)

    @mlflow_errors
    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        fluent.target_run(run_id).log_params({key: value})
        return value

    @mlflow_errors
    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> None:
        fluent.target_run(run_id).set_tags({key: value})

    @mlflow_errors
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> None:
        """Log metrics (each at its step), params and tags to a run this process is running."""
        run = fluent.target_run(run_id)
        if params:
            run.log_params({p.key: p.value for p in params})
        if tags:
            run.set_tags({t.key: t.value for t in tags})
        for metric in metrics:
            run.log_metrics({metric.key: metric.value}, metric.step)

    @mlflow_errors
    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        fluent.log_artifact(local_path, artifact_path, run_id=run_id)

    @mlflow_errors
    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        fluent.log_artifacts(local_dir, artifact_path, run_id=run_id)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        fluent.log_dict(dictionary, artifact_file, run_id=run_id)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        fluent.log_text(text, artifact_file, run_id=run_id)

    def log_figure(
        self, run_id: str, figure: Any, artifact_file: str, *,
        save_kwargs: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        fluent.log_figure(figure, artifact_file, save_kwargs=save_kwargs, run_id=run_id)

    def log_image(
        self, run_id: str, image: Any, artifact_file: str | None = None,
        key: str | None = None, step: int | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        fluent.log_image(image, artifact_file, key, step, run_id=run_id)

    @mlflow_errors
    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        return _artifacts.list_artifacts(run_id, path)

    @mlflow_errors
    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
        return _artifacts.download_artifacts(run_id, path, dst_path)

    # ---- registry --------------------------------------------------------------------------
    @mlflow_errors
    def create_registered_model(
        self, name: str, tags: Mapping[str, Any] | None = None,
        description: str | None = None, **kwargs: Any,
    ) -> RegisteredModel:  # fmt: skip
        fluent._no_extra_arguments("create_registered_model", kwargs)
        return model_view(registry().create_registered_model(name, _tags(tags), description))

    @mlflow_errors
    def create_model_version(
        self, name: str, source: str, run_id: str | None = None,
        tags: Mapping[str, Any] | None = None, run_link: str | None = None,
        description: str | None = None, await_creation_for: int = 300, **kwargs: Any,
    ) -> ModelVersion:  # fmt: skip
        """A new version of ``name`` from the model at ``source`` (a ``runs:/`` URI, a model
        folder, or a path inside ``run_id``'s artifacts)."""
        fluent._no_extra_arguments("create_model_version", {"run_link": run_link, **kwargs})
        if run_id is not None and "://" not in source and ":/" not in source:
            inside = _uris.run_artifacts(run_id) / source
            source = f"runs:/{run_id}/{source}" if inside.exists() else source
        return version_view(registry().register_model(source, name, _tags(tags), description))

    @mlflow_errors
    def get_registered_model(self, name: str) -> RegisteredModel:
        return model_view(registry().get_registered_model(name))

    @mlflow_errors
    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return version_view(registry().get_model_version(name, int(version)))

    @mlflow_errors
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return version_view(registry().get_model_version_by_alias(name, alias))

    @mlflow_errors
    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        return [version_view(v) for v in registry().get_latest_versions(name, stages)]

    @mlflow_errors
    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        return str(registry().get_model_version(name, int(version)).path)

    @mlflow_errors
    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to None, Staging, Production or Archived (aliases are the modern
        way; both work)."""
        return version_view(
            registry().transition_stage(name, int(version), stage, archive_existing_versions)
        )

    @mlflow_errors
    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        registry().set_alias(name, alias, int(version))

    @mlflow_errors
    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        registry().delete_alias(name, alias)

    @mlflow_errors
    def update_model_version(
        self, name: str, version: int | str, description: str | None = None
    ) -> ModelVersion:
        if description is not None:
            registry().update_description(name, description, version=int(version))
        return self.get_model_version(name, version)

    @mlflow_errors
    def update_registered_model(
        self, name: str, description: str | None = None, **kwargs: Any
    ) -> RegisteredModel:
        fluent._no_extra_arguments("update_registered_model", kwargs)
        if description is not None:
            registry().update_description(name, description)
        return self.get_registered_model(name)

    @mlflow_errors
    def delete_model_version(self, name: str, version: int | str) -> None:
        registry().delete_model_version(name, int(version))

    @mlflow_errors
    def delete_registered_model(self, name: str) -> None:
        registry().delete_registered_model(name)

    @mlflow_errors
    def set_model_version_tag(
        self, name: str, version: int | str | None = None, key: str | None = None,
        value: Any = None, stage: str | None = None,
    ) -> None:  # fmt: skip
        if key is None:
            raise MlflowException.invalid_parameter_value("set_model_version_tag needs key=")
        if stage is not None:
            if version is not None:
                raise MlflowException.invalid_parameter_value("give version or stage, not both")
            version = registry().get_latest_versions(name, [stage])[0].version
        registry().set_model_tag(name, key, str(value), version=int(str(version)))

    @mlflow_errors
    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        registry().delete_model_tag(name, key, version=int(version))

    @mlflow_errors
    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        registry().set_model_tag(name, key, str(value))

    @mlflow_errors
    def delete_registered_model_tag(self, name: str, key: str) -> None:
        registry().delete_model_tag(name, key)

    @mlflow_errors
    def search_registered_models(
        self, filter_string: str | None = None, max_results: int = SEARCH_MAX_RESULTS,
        order_by: list[str] | None = None, page_token: str | None = None,
    ) -> PagedList:  # fmt: skip
        offset = _offset(page_token)
        found = registry().search_registered_models(filter_string or None, order_by)
        return _page([model_view(m) for m in found[offset : offset + max_results]], offset,
                     max_results)  # fmt: skip

    @mlflow_errors
    def search_model_versions(
        self, filter_string: str | None = None, max_results: int = SEARCH_MAX_RESULTS,
        order_by: list[str] | None = None, page_token: str | None = None,
    ) -> PagedList:  # fmt: skip
        offset = _offset(page_token)
        found = registry().search_model_versions(filter_string or None, order_by)
        return _page([version_view(v) for v in found[offset : offset + max_results]], offset,
                     max_results)  # fmt: skip


def _tags(tags: Mapping[str, Any] | None) -> dict[str, str] | None:
    return {k: str(v) for k, v in tags.items()} if tags else None


def to_ms_now() -> int:
    import time

    return int(time.time() * 1000)
