"""What registry queries return: :class:`ModelVersion` and :class:`RegisteredModel`.

Field names follow MLflow's where MLflow has the field (``current_stage``,
``creation_timestamp`` and ``last_updated_timestamp`` in epoch milliseconds are there too, as
properties), so code written against MLflow's registry reads them unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

# The columns of the ``model_versions`` view that a ModelVersion is read from, in this order.
VERSION_COLUMNS = (
    "name", "version", "stage", "aliases", "tags", "description", "status", "run_id", "source",
    "path", "flavors", "signature", "created_at", "updated_at",
)  # fmt: skip
# The columns of the ``registered_models`` view that a RegisteredModel is read from.
MODEL_COLUMNS = ("name", "description", "tags", "aliases", "created_at", "updated_at")


def _millis(moment: datetime | None) -> int | None:
    return None if moment is None else round(moment.timestamp() * 1000)


class _Timestamps:
    """MLflow's ``creation_timestamp`` and ``last_updated_timestamp`` of a record."""

    created_at: datetime | None
    updated_at: datetime | None

    @property
    def creation_timestamp(self) -> int | None:
        """:attr:`created_at` in epoch milliseconds, as MLflow gives it."""
        return _millis(self.created_at)

    @property
    def last_updated_timestamp(self) -> int | None:
        """:attr:`updated_at` in epoch milliseconds, as MLflow gives it."""
        return _millis(self.updated_at)


@dataclass
class ModelVersion(_Timestamps):
    """One version of a registered model.

    ``path`` is the model folder (load it with ``nbtrack.load_model(f"models:/{name}/{version}")``),
    ``flavors`` the flavors it can be loaded as, ``signature`` its signature in MLflow's dict
    form (``{"inputs": "<json>", "outputs": "<json>"}``) or None, ``stage`` one of ``None``,
    ``Staging``, ``Production``, ``Archived``, ``aliases`` the model's aliases pointing here.
    """

    name: str
    version: int
    run_id: str | None
    source: str
    path: Path
    status: str = "READY"
    stage: str = "None"
    aliases: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    signature: dict[str, Any] | None = field(default=None, repr=False)  # (long)
    flavors: list[str] = field(default_factory=list)

    @property
    def current_stage(self) -> str:
        """MLflow's name for :attr:`stage`."""
        return self.stage

    @property
    def uri(self) -> str:
        """The ``models:/`` URI of this version.

        >>> ModelVersion("wine", 3, None, "/tmp/m", Path("/tmp/m")).uri
        'models:/wine/3'
        """
        return f"models:/{self.name}/{self.version}"

    @classmethod
    def from_row(cls, row: tuple[Any, ...], root: Path) -> ModelVersion:
        """A version from a row of :data:`VERSION_COLUMNS`; relative paths are under ``root``."""
        values = dict(zip(VERSION_COLUMNS, row, strict=True))
        flavors = json.loads(values["flavors"]) if values["flavors"] else {}
        signature = json.loads(values["signature"]) if values["signature"] else None
        return cls(
            name=values["name"],
            version=int(values["version"]),
            run_id=values["run_id"],
            source=values["source"],
            path=root / values["path"],  # an absolute path stays as it is
            status=values["status"],
            stage=values["stage"],
            aliases=list(values["aliases"] or []),
            tags=dict(values["tags"] or {}),
            description=values["description"],
            created_at=values["created_at"],
            updated_at=values["updated_at"],
            signature=signature,
            flavors=list(flavors),
        )


@dataclass
class RegisteredModel(_Timestamps):
    """A registered model: its ``aliases`` (alias -> version), ``tags``, ``description`` and
    ``latest_versions`` (the latest version in each stage, as MLflow lists them)."""

    name: str
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_versions: list[ModelVersion] = field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_row(cls, row: tuple[Any, ...], latest: list[ModelVersion]) -> RegisteredModel:
        """A model from a row of :data:`MODEL_COLUMNS` and its latest versions."""
        values = dict(zip(MODEL_COLUMNS, row, strict=True))
        return cls(
            name=values["name"],
            description=values["description"],
            tags=dict(values["tags"] or {}),
            aliases={alias: int(v) for alias, v in (values["aliases"] or {}).items()},
            latest_versions=latest,
            created_at=values["created_at"],
            updated_at=values["updated_at"],
        )
