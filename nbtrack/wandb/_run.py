"""A W&B run on an nbtrack run: W&B's step rules, media as artifacts, summaries as tags.

Steps follow W&B: the run has one step counter, ``_step``, shared by every key. ``log(d)``
writes ``d`` at ``_step`` and moves to the next step; ``log(d, commit=False)`` adds ``d`` to
the row of the current step without moving on; ``log(d, step=s)`` moves to step ``s`` (the
pending row is written first) and, unless ``commit=True``, keeps the row open for more keys.
A step below the current one is dropped with a warning, as W&B drops it. Each metric's
nbtrack step is the W&B ``_step`` of its row, except for metrics given an x-axis with
``define_metric(name, step_metric="epoch")``: they are logged at the value of ``epoch``.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import tracking
from ..config import settings
from ..errors import NbtrackWarning
from ..store import get_store
from ..values import metric_value
from ._artifacts import Artifact, check_name, saved_files
from ._config import SUMMARY_TAG, Config, Summary
from ._media import Image, Table
from .errors import NotSupportedError, UsageError

SUMMARY_MODES = ("min", "max", "mean", "last", "first", "best", "copy", "none")
GOALS = {"minimize": "min", "maximize": "max", "min": "min", "max": "max"}


@dataclass
class MetricSpec:
    """What ``define_metric`` said about a metric (or a glob of them)."""

    name: str
    step_metric: str | None = None
    summary: tuple[str, ...] = ()
    goal: str | None = None


@dataclass
class Aggregate:
    """Running summaries of one metric's values in this run."""

    first: float
    last: float
    min: float
    max: float
    total: float = 0.0
    count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, value: float) -> None:
        self.last = value
        self.min, self.max = min(self.min, value), max(self.max, value)
        self.total += value
        self.count += 1


class Run:
    """What ``wandb.init`` returns: log with ``run.log``, read ``run.config`` and
    ``run.summary``, end with ``run.finish()``; also a context manager (the run ends with the
    block: ``finished``, or ``failed`` when an exception escapes).

    ``run.id`` is the nbtrack run id (``nbtrack.get_run(run.id)``); ``run.url`` says where the
    run lives, as there is no web page.
    """

    def __init__(
        self,
        nbtrack_run: tracking.Run,
        project: str,
        config: Mapping[str, Any],
        tags: tuple[str, ...],
        group: str | None,
        notes: str | None,
        job_type: str | None,
        entity: str | None,
        allow_val_change: bool,
    ) -> None:
        self._nbtrack_run = nbtrack_run
        self.project = project
        self.entity = entity
        self.group = group
        self.job_type = job_type
        self._tags = tags
        self._notes = notes
        self._step = 0
        self._pending: dict[str, Any] = {}
        self._last: dict[str, float] = {}
        self._aggregates: dict[str, Aggregate] = {}
        self._specs: dict[str, MetricSpec] = {}
        self._dir: Path | None = None
        self._deferred: list[tuple[str, str | None]] = []
        self._finished = False
        self.start_time = time.time()
        self.config = Config(self)
        self.config.update(config, allow_val_change=allow_val_change)
        self.summary = Summary(self)

    # ---- identity --------------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The nbtrack run id."""
        return self._nbtrack_run.id

    @property
    def name(self) -> str:
        return self._nbtrack_run.name

    @name.setter
    def name(self, value: str) -> None:
        raise NotSupportedError(
            "an nbtrack run's name is set when it starts: pass name= to wandb.init"
        )

    @property
    def nbtrack_run(self) -> tracking.Run:
        """The nbtrack :class:`~nbtrack.Run` behind this run (``nbtrack.log`` logs to it while
        it is the active run)."""
        return self._nbtrack_run

    @property
    def tags(self) -> tuple[str, ...]:
        return self._tags

    @tags.setter
    def tags(self, value: Any) -> None:
        self._tags = tuple(str(t) for t in value)
        self._nbtrack_run.set_tags(tag_labels(self._tags))

    @property
    def notes(self) -> str | None:
        return self._notes

    @notes.setter
    def notes(self, value: str) -> None:
        self._notes = value
        self._nbtrack_run.set_tags({"wandb.notes": value})

    @property
    def step(self) -> int:
        """The current W&B step (``_step``): where the next ``log`` writes."""
        return self._step

    @property
    def path(self) -> str:
        return f"{self.entity or 'local'}/{self.project}/{self.id}"

    @property
    def url(self) -> str:
        """Where the run lives: nbtrack has no web page for it."""
        return (
            f"local nbtrack run {self.id} in {get_store().root} (no web page: view it with "
            f"nbtrack.get_run({self.id!r}) or nbtrack.table())"
        )

    def get_url(self) -> str:
        return self.url

    @property
    def offline(self) -> bool:
        return True

    @property
    def disabled(self) -> bool:
        return False

    @property
    def dir(self) -> str:
        """A folder for the run's files: whatever is in it when the run finishes is logged as
        artifacts (as W&B uploads its run folder)."""
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix=f"nbtrack-wandb-{self.id}-"))
        return str(self._dir)

    # ---- logging ---------------------------------------------------------------------------
    def log(
        self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None
    ) -> None:
        """Log a dict of numbers (metrics), ``wandb.Image`` s and ``wandb.Table`` s (artifacts)
        at the run's step; nested dicts give ``a/b`` keys. See the module docstring for
        steps. A value of another kind raises TypeError naming the key; nothing of that call
        is logged."""
        self._check_running("log")
        if not isinstance(data, Mapping):
            raise TypeError(f"wandb.log takes a dict, not {type(data).__name__}")
        values = {key: checked(key, value) for key, value in flatten(data).items()}
        if step is not None:
            step = check_step(step)
            if step < self._step:
                warnings.warn(
                    f"Tried to log to step {step} that is less than the current step "
                    f"{self._step}. Steps must be monotonically increasing, so this data will "
                    "be ignored (as W&B does); to log against another x-axis use "
                    "wandb.define_metric(name, step_metric=...)",
                    NbtrackWarning,
                    stacklevel=3,
                )
                return
            row = values if step > self._step else {**self._pending, **values}
            self._metric_steps(row, step)  # a bad step metric raises before anything changes
            if step > self._step:
                self._commit()
                self._step = step
            commit = bool(commit)
        else:
            self._metric_steps({**self._pending, **values}, self._step)
            commit = True if commit is None else bool(commit)
        self._pending.update(values)
        if commit:
            self._commit()
            self._step += 1

    def _commit(self) -> None:
        """Write the pending row at the current step."""
        row, self._pending = self._pending, {}
        if not row:
            return
        numbers = {k: v for k, v in row.items() if isinstance(v, float)}
        by_step: dict[int, dict[str, float]] = {}
        for key, at in self._metric_steps(row, self._step).items():
            by_step.setdefault(at, {})[key] = numbers[key]
        for at, metrics in by_step.items():
            self._nbtrack_run.log_metrics(metrics, step=at)
        for key, value in numbers.items():
            self._last[key] = value
            aggregate = self._aggregates.get(key)
            if aggregate is None:
                self._aggregates[key] = Aggregate(value, value, value, value, value, 1)
            else:
                aggregate.add(value)
        for key, value in row.items():
            if not isinstance(value, float):
                self._log_media(key, value)

    def _metric_steps(self, row: Mapping[str, Any], default: int) -> dict[str, int]:
        """The nbtrack step of each number in ``row``: its x-axis metric's value, if
        ``define_metric`` gave it one, else ``default``."""
        steps = {}
        for key, value in row.items():
            if not isinstance(value, float):
                continue
            spec = self._spec(key)
            at = default
            if spec is not None and spec.step_metric and spec.step_metric != key:
                x = row.get(spec.step_metric, self._last.get(spec.step_metric))
                if isinstance(x, float):
                    if not x.is_integer():
                        raise ValueError(
                            f"metric {key!r} has step_metric {spec.step_metric!r}, whose value "
                            f"{x} is not a whole number: nbtrack steps are integers; log the "
                            "x-axis as an integer count (e.g. the batch number)"
                        )
                    at = int(x)
            steps[key] = at
        return steps

    def _log_media(self, key: str, value: Any) -> None:
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            suffix = f"_{index}" if isinstance(value, list) else ""
            if isinstance(item, Image):
                content, name = item.png, f"media/images/{key}_{self._step}{suffix}.png"
            else:
                content, kind = item.encoded()
                name = f"media/tables/{key}_{self._step}{suffix}.{kind}"
            with tempfile.TemporaryDirectory(prefix="nbtrack-wandb-") as folder:
                path = Path(folder) / Path(name).name
                path.write_bytes(content)
                self._nbtrack_run.log_artifact(path, check_name(name, "media key"))

    # ---- metrics' definitions --------------------------------------------------------------
    def define_metric(
        self,
        name: str,
        step_metric: str | None = None,
        step_sync: bool | None = None,
        hidden: bool | None = None,
        summary: str | None = None,
        goal: str | None = None,
        overwrite: bool | None = None,
    ) -> MetricSpec:
        """Give a metric (or a glob such as ``"val/*"``) an x-axis and summary modes.

        ``step_metric``: the metric's points are logged at that metric's value (its value in
        the same row, else its last one) instead of ``_step``. ``summary``: ``min``, ``max``,
        ``mean``, ``first``, ``last`` or ``best`` (by ``goal``), comma-separated; at finish
        each becomes the tag ``wandb.summary.<name>.<mode>``. The definition itself is the tag
        ``wandb.metric.<name>`` (e.g. ``step_metric=epoch summary=min goal=minimize``), so
        nbtrack.table() and nbtrack.search() show both.
        """
        self._check_running("define_metric")
        modes = tuple(m.strip() for m in (summary or "").split(",") if m.strip())
        for mode in modes:
            if mode not in SUMMARY_MODES:
                raise ValueError(f"summary must be among {', '.join(SUMMARY_MODES)}; got {mode!r}")
        if goal is not None and goal not in GOALS:
            raise ValueError(f"goal must be 'minimize' or 'maximize', not {goal!r}")
        spec = MetricSpec(name, step_metric, modes, goal)
        self._specs[name] = spec
        described = " ".join(
            f"{label}={value}"
            for label, value in (("step_metric", step_metric), ("summary", ",".join(modes)),
                                 ("goal", goal))
            if value
        )  # fmt: skip
        if described:
            self._nbtrack_run.set_tags({f"wandb.metric.{name}": described})
        return spec

    def _spec(self, key: str) -> MetricSpec | None:
        spec = self._specs.get(key)
        if spec is not None:
            return spec
        for pattern, spec in self._specs.items():
            if "*" in pattern and fnmatch.fnmatchcase(key, pattern) and key != spec.step_metric:
                return spec
        return None

    def _summary_values(self) -> dict[str, Any]:
        """Each metric's summary: its modes' values if defined, else its last value."""
        values: dict[str, Any] = {}
        for key, last in self._last.items():
            spec = self._spec(key)
            modes = [m for m in spec.summary if m not in ("copy", "none")] if spec else []
            if spec and "none" in spec.summary:
                continue
            if spec is None or not modes:
                values[key] = last
                continue
            aggregate = self._aggregates[key]
            values[key] = {mode: _mode_value(mode, aggregate, spec) for mode in modes}
        return values

    # ---- files -----------------------------------------------------------------------------
    def log_artifact(
        self,
        artifact_or_path: Artifact | str | Path,
        name: str | None = None,
        type: str | None = None,
        aliases: list[str] | None = None,
        tags: list[str] | None = None,
    ) -> Artifact | None:
        """Copy an Artifact's files, or a file or folder, into the run's artifacts (an
        Artifact under the folder ``<artifact name>/``)."""
        self._check_running("log_artifact")
        if isinstance(artifact_or_path, Artifact):
            artifact = artifact_or_path
            for path, inside in artifact.entries():
                self._nbtrack_run.log_artifact(path, f"{artifact.name}/{inside}")
            self._nbtrack_run.set_tags(
                {f"wandb.artifact.{artifact.name}": artifact.description_tag(aliases)}
            )
            artifact.cleanup()
            return artifact
        path = Path(artifact_or_path)
        if not path.exists():
            raise FileNotFoundError(f"log_artifact: nothing at {str(path)!r}")
        self._nbtrack_run.log_artifact(path, check_name(name, "name") if name else None)
        if type is not None:
            self._nbtrack_run.set_tags(
                {f"wandb.artifact.{name or path.name}": json.dumps({"type": type})}
            )
        return None

    def save(
        self,
        glob_str: str | Path | None = None,
        base_path: str | None = None,
        policy: str = "live",
    ) -> list[str]:
        """Copy the files matching ``glob_str`` into the run's artifacts now (named relative
        to ``base_path``, else by file name); with ``policy="end"``, or when nothing matches
        yet, when the run finishes."""
        self._check_running("save")
        if glob_str is None:
            raise TypeError("wandb.save needs a path or glob")
        if policy not in ("live", "now", "end"):
            raise ValueError(f"policy must be 'live', 'now' or 'end', not {policy!r}")
        files = [] if policy == "end" else saved_files(str(glob_str), base_path)
        if not files:
            self._deferred.append((str(glob_str), base_path))
        for path, name in files:
            self._nbtrack_run.log_artifact(path, name)
        return [str(path) for path, _ in files]

    # ---- lifecycle -------------------------------------------------------------------------
    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """End the run: ``finished`` for exit code 0 or None, ``failed`` otherwise."""
        if exit_code:
            self._end("failed", f"exit_code={exit_code}")
        else:
            self._end("finished", None)

    def _end(self, status: str, detail: str | None) -> None:
        self._close(lambda: self._nbtrack_run.end(status, detail))

    def _close(self, end: Callable[[], None]) -> None:
        """Write what is pending (the open row, summaries, saved files), then ``end()`` the
        nbtrack run, once."""
        from . import _session

        if self._finished:
            return
        try:
            self.wrap_up()
        finally:
            self._finished = True
            _session.forget(self)
            end()

    def wrap_up(self) -> None:
        """Write what W&B writes at the end: the pending row, the summaries of defined
        metrics, deferred ``save`` s and the files of ``run.dir``."""
        if self._finished or self._nbtrack_run.status != "running":
            return
        self._commit()
        tags = {}
        for key, value in self._summary_values().items():
            if isinstance(value, dict):
                for mode, number in value.items():
                    tags[f"{SUMMARY_TAG}{key}.{mode}"] = str(number)
        if tags:
            self._nbtrack_run.set_tags(tags)
        for pattern, base_path in self._deferred:
            files = saved_files(pattern, base_path)
            if not files:
                warnings.warn(f"wandb.save: no file matched {pattern!r}", NbtrackWarning,
                              stacklevel=2)  # fmt: skip
            for path, name in files:
                self._nbtrack_run.log_artifact(path, name)
        self._deferred.clear()
        if self._dir is not None:
            for child in sorted(self._dir.iterdir()):
                self._nbtrack_run.log_artifact(child, child.name)
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _check_running(self, what: str) -> None:
        if self._finished or self._nbtrack_run.status != "running":
            raise UsageError(
                f"run {self.id} is finished ({self._nbtrack_run.status}): the call to {what} "
                "is refused; start a new run with wandb.init()"
            )

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        # finished, failed or interrupted, as the nbtrack run's own block decides
        self._close(lambda: self._nbtrack_run.__exit__(exc_type, exc, tb))

    def watch(self, *args: Any, **kwargs: Any) -> None:
        from . import watch

        watch(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise NotSupportedError(
            f"Run.{name} is not supported by nbtrack.wandb: a run offers id, name, project, "
            "config, summary, tags, notes, step, dir, url, log, define_metric, log_artifact, "
            "save and finish; use run.nbtrack_run for nbtrack's own API"
        )

    def __repr__(self) -> str:
        return f"<wandb Run {self.name!r} id={self.id} project={self.project!r}>"


def _mode_value(mode: str, aggregate: Aggregate, spec: MetricSpec) -> float:
    if mode == "best":
        mode = GOALS.get(spec.goal or "minimize", "min")
    if mode == "mean":
        return aggregate.total / aggregate.count
    return float(getattr(aggregate, mode))


def tag_labels(tags: tuple[str, ...]) -> dict[str, str]:
    """W&B's tags (labels) as nbtrack tags: ``wandb.tags`` lists them, and each is a tag of its
    own with the value ``true`` (filter with ``tags.baseline = 'true'``)."""
    if not tags:
        return {"wandb.tags": ""}
    return {"wandb.tags": ",".join(tags), **dict.fromkeys(tags, "true")}


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as ``a/b`` keys."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise TypeError(f"wandb.log keys must be strings, got {key!r}")
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, full + "/"))
        else:
            flat[full] = value
    return flat


def checked(key: str, value: Any) -> Any:
    """A logged value as a float, an Image, a list of Images or a Table; else TypeError."""
    if isinstance(value, (Image, Table)):
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Image) for v in value):
        return list(value)
    if isinstance(value, (int, float)) or (
        hasattr(value, "__float__") and not isinstance(value, (str, bytes))
        and getattr(value, "ndim", 0) == 0
    ):  # fmt: skip
        return metric_value(key, value)
    raise TypeError(
        f"wandb.log: {key!r} is {type(value).__name__} {value!r:.60}; nbtrack records numbers "
        "as metrics and wandb.Image / wandb.Table values as artifacts: put text in "
        "wandb.config or wandb.summary, log one number per key (e.g. value.item()), and save "
        "other objects to a file logged with wandb.save(path)"
    )


def check_step(step: Any) -> int:
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise TypeError(f"step must be an integer, got {type(step).__name__} {step!r}")
    return int(step.__index__())


def default_project() -> str:
    """The experiment runs go to without ``project=``: nbtrack's current one."""
    return settings.experiment
