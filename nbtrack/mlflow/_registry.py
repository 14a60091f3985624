"""nbtrack's registry records as MLflow's ModelVersion and RegisteredModel entities."""

from __future__ import annotations

from typing import Any

from .entities import ModelVersion, RegisteredModel, to_ms


def version_view(version: Any) -> ModelVersion:
    """An ``nbtrack.registry.ModelVersion`` as MLflow's (times in epoch ms)."""
    return ModelVersion(
        name=version.name,
        version=int(version.version),
        creation_timestamp=to_ms(version.created_at),
        last_updated_timestamp=to_ms(getattr(version, "updated_at", None) or version.created_at),
        description=version.description,
        user_id=None,
        current_stage=version.stage or "None",
        source=version.source,
        run_id=version.run_id,
        status=getattr(version, "status", "READY") or "READY",
        tags=dict(version.tags or {}),
        aliases=list(version.aliases or []),
    )


def model_view(model: Any) -> RegisteredModel:
    """An ``nbtrack.registry.RegisteredModel`` as MLflow's."""
    return RegisteredModel(
        name=model.name,
        creation_timestamp=to_ms(model.created_at),
        last_updated_timestamp=to_ms(getattr(model, "updated_at", None) or model.created_at),
        description=model.description,
        latest_versions=[version_view(v) for v in model.latest_versions or []],
        tags=dict(model.tags or {}),
        aliases={k: int(v) for k, v in (model.aliases or {}).items()},
    )


def registry() -> Any:
    """The ``nbtrack.registry`` module."""
    from .. import registry as module

    return module
