"""MLflow's entities (Run, RunInfo, RunData, Experiment, Metric, Param, RunTag, FileInfo,
ModelVersion, RegisteredModel, ViewType, RunStatus) with MLflow's attribute names, as views of
what nbtrack records.

How nbtrack's records read as MLflow's:

* ``experiment_id`` is the experiment's name (nbtrack names experiments, it does not number
  them); ``"0"``, MLflow's default experiment, is nbtrack's ``"default"``.
* params are text, as MLflow keeps them: ``str(value)`` of the typed value nbtrack stored
  (``100`` -> ``"100"``, ``[64, 64]`` -> ``"[64, 64]"``).
* times are epoch milliseconds; status is MLflow's upper-case name (see :data:`STATUS`).
* ``tags`` include MLflow's system tags made from the run's record: ``mlflow.runName``,
  ``mlflow.user``, ``mlflow.source.name``, ``mlflow.source.type``, ``mlflow.source.git.commit``
  and ``mlflow.parentRunId`` (a tag the run set itself wins).

>>> Metric("acc", 0.9, 1700000000000, 3)
<Metric: key='acc', step=3, timestamp=1700000000000, value=0.9>
>>> to_mlflow_status("interrupted"), from_mlflow_status("KILLED")
('KILLED', 'killed')
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from .exceptions import MlflowException

# nbtrack's run states as MLflow's. A run whose process died is ``crashed`` in nbtrack and stays
# RUNNING in MLflow (as in the filter grammar: ``status = 'RUNNING'`` matches crashed runs).
STATUS = {
    "running": "RUNNING", "crashed": "RUNNING", "finished": "FINISHED", "failed": "FAILED",
    "killed": "KILLED", "interrupted": "KILLED",
}  # fmt: skip
_END = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "killed"}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_mlflow_status(status: str | None) -> str:
    """An nbtrack run state as MLflow's status name."""
    return STATUS.get(status or "", (status or "").upper())


def from_mlflow_status(status: str) -> str:
    """MLflow's end status (FINISHED, FAILED, KILLED; any case) as nbtrack's end state."""
    found = _END.get(str(status).upper())
    if found is None:
        raise MlflowException.invalid_parameter_value(
            f"a run ends FINISHED, FAILED or KILLED, not {status!r}"
        )
    return found


def to_ms(moment: datetime | None) -> int | None:
    """A datetime as epoch milliseconds (MLflow's time unit)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def param_text(value: Any) -> str:
    """A typed param value as the text MLflow would have stored: ``str(value)``."""
    return str(value)


class _Entity:
    """Shared repr and equality: MLflow's ``<Name: field=value, ...>``."""

    def _fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in sorted(self._fields().items()))
        return f"<{type(self).__name__}: {shown}>"

    def to_dictionary(self) -> dict[str, Any]:
        return dict(self._fields())


@dataclass(repr=False)
class Metric(_Entity):
    key: str
    value: float
    timestamp: int
    step: int


@dataclass(repr=False)
class Param(_Entity):
    key: str
    value: str


@dataclass(repr=False)
class RunTag(_Entity):
    key: str
    value: str


@dataclass(repr=False)
class FileInfo(_Entity):
    path: str
    is_dir: bool
    file_size: int | None


@dataclass(repr=False)
class RunInfo(_Entity):
    run_id: str
    experiment_id: str
    run_name: str
    user_id: str | None
    status: str
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str = "active"

    @property
    def run_uuid(self) -> str:
        return self.run_id


@dataclass(repr=False)
class RunData(_Entity):
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(repr=False)
class Dataset(_Entity):
    name: str
    digest: str
    source_type: str | None = None
    source: str | None = None
    schema: str | None = None
    profile: str | None = None


@dataclass(repr=False)
class InputTag(_Entity):
    key: str
    value: str


@dataclass(repr=False)
class DatasetInput(_Entity):
    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)


@dataclass(repr=False)
class RunInputs(_Entity):
    dataset_inputs: list[DatasetInput] = field(default_factory=list)


class Run:
    """MLflow's run: ``.info`` (:class:`RunInfo`), ``.data`` (:class:`RunData`), ``.inputs``."""

    def __init__(self, run_info: RunInfo, run_data: RunData, run_inputs: RunInputs | None = None):
        self._info = run_info
        self._data = run_data
        self._inputs = run_inputs or RunInputs()

    @property
    def info(self) -> RunInfo:
        return self._info

    @property
    def data(self) -> RunData:
        return self._data

    @property
    def inputs(self) -> RunInputs:
        return self._inputs

    def to_dictionary(self) -> dict[str, Any]:
        return {"info": self.info.to_dictionary(), "data": self.data.to_dictionary()}

    def __repr__(self) -> str:
        return f"<Run: data={self.data!r}, info={self.info!r}>"


@dataclass(repr=False)
class Experiment(_Entity):
    """An experiment: in nbtrack, a name (``experiment_id`` is the name too)."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = "active"
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None


@dataclass(repr=False)
class ModelVersion(_Entity):
    name: str
    version: int
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    user_id: str | None = None
    current_stage: str = "None"
    source: str | None = None
    run_id: str | None = None
    status: str = "READY"
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    run_link: str | None = None
    aliases: list[str] = field(default_factory=list)


@dataclass(repr=False)
class RegisteredModel(_Entity):
    name: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    latest_versions: list[ModelVersion] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)


class ViewType:
    """Which runs or experiments a search returns."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3

    @classmethod
    def from_string(cls, view: str) -> int:
        return {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}[view.upper()]


class RunStatus:
    """MLflow's run statuses."""

    RUNNING = 1
    SCHEDULED = 2
    FINISHED = 3
    FAILED = 4
    KILLED = 5
    _NAMES: ClassVar[dict[int, str]] = {
        1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED",
    }  # fmt: skip

    @classmethod
    def to_string(cls, status: int) -> str:
        return cls._NAMES[status]

    @classmethod
    def from_string(cls, status: str) -> int:
        return {v: k for k, v in cls._NAMES.items()}[status.upper()]

    @classmethod
    def is_terminated(cls, status: int) -> bool:
        return status in (cls.FINISHED, cls.FAILED, cls.KILLED)


class LifecycleStage:
    ACTIVE = "active"
    DELETED = "deleted"


class SourceType:
    NOTEBOOK = 1
    JOB = 2
    PROJECT = 3
    LOCAL = 4
    UNKNOWN = 1000
