"""ModelInfo: what saving or logging a model produced (MLflow's field names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .metadata import ModelMetadata
from .signature import ModelSignature


@dataclass
class ModelInfo:
    """A saved or logged model: ``model_uri`` loads it (``runs:/<run_id>/<name>`` when logged,
    the folder's absolute path when saved)."""

    model_uri: str
    path: Path
    run_id: str | None = None
    artifact_path: str | None = None
    # (the flavors' settings and the signature are long: left out of the repr)
    flavors: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    signature: ModelSignature | None = field(default=None, repr=False)
    model_uuid: str | None = None
    utc_time_created: str | None = None
    registered_model_version: int | None = None
    metadata: dict[str, Any] | None = None

    @classmethod
    def of(cls, meta: ModelMetadata, model_uri: str, path: Path) -> ModelInfo:
        return cls(
            model_uri=model_uri,
            path=path,
            run_id=meta.run_id,
            artifact_path=meta.artifact_path,
            flavors=meta.flavors,
            signature=meta.signature,
            model_uuid=meta.model_uuid,
            utc_time_created=meta.utc_time_created,
            metadata=meta.metadata,
        )

    @property
    def flavor(self) -> str:
        """The model's own flavor (``python_function`` for a generic Python model)."""
        return next((f for f in self.flavors if f != "python_function"), "python_function")


def logged_models(run_dir: Path, run_id: str, paths: list[str]) -> list[ModelInfo]:
    """The models among a run's artifact ``paths`` (one per folder holding an MLmodel file),
    read from ``run_dir``, the run's artifact folder."""
    found = []
    for path in paths:
        if path != "MLmodel" and not path.endswith("/MLmodel"):
            continue
        artifact_path = path[: -len("/MLmodel")] if "/" in path else ""
        folder = run_dir / artifact_path
        try:
            meta = ModelMetadata.load(folder)
        except (OSError, LookupError, ValueError):  # removed by hand, or unreadable
            continue
        found.append(ModelInfo.of(meta, f"runs:/{run_id}/{artifact_path}", folder))
    return found
