"""MLflow's fluent registry functions: ``mlflow.register_model`` and the searches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._registry import model_view, registry, version_view
from .entities import ModelVersion, RegisteredModel
from .exceptions import mlflow_errors


@mlflow_errors
def register_model(
    model_uri: Any,
    name: str,
    await_registration_for: int = 300,
    *,
    tags: Mapping[str, Any] | None = None,
    env_pack: Any = None,
) -> ModelVersion:
    """Register the model at ``model_uri`` (``runs:/<run_id>/model``, a folder, a ModelInfo)
    as a new version of ``name``.

    >>> import nbtrack.mlflow as mlflow, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> mlflow.set_tracking_uri(tempfile.mkdtemp())
    >>> with mlflow.start_run():
    ...     info = mlflow.sklearn.log_model(LinearRegression().fit([[0], [1]], [0, 1]), name="m")
    >>> mlflow.register_model(info.model_uri, "lr").version
    1
    """
    from ._flavor import refuse_unsupported

    refuse_unsupported("mlflow.register_model", {"env_pack": env_pack})
    uri = getattr(model_uri, "model_uri", model_uri)
    tag_text = {k: str(v) for k, v in tags.items()} if tags else None
    return version_view(registry().register_model(uri, name, tag_text))


@mlflow_errors
def search_registered_models(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
    output_format: str = "list",
) -> list[RegisteredModel]:
    """Registered models matching a filter (``name LIKE 'wine%'``, ``tags.team = 'a'``)."""
    found = registry().search_registered_models(filter_string or None, order_by, max_results)
    return [model_view(m) for m in found]


@mlflow_errors
def search_model_versions(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
    output_format: str = "list",
) -> list[ModelVersion]:
    """Model versions matching a filter (``name = 'wine'``, ``run_id = '…'``)."""
    found = registry().search_model_versions(filter_string or None, order_by, max_results)
    return [version_view(v) for v in found]


@mlflow_errors
def set_model_version_tag(
    name: str, version: int | str | None = None, key: str | None = None, value: Any = None,
    stage: str | None = None,
) -> None:  # fmt: skip
    from .client import MlflowClient

    MlflowClient().set_model_version_tag(name, version, key, value, stage)
