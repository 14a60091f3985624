"""Runs and the active-run stack: the tracking API users call while their code runs.

Logging validates its input and appends rows to the process's in-memory buffers; the
store's background writer turns them into Parquet segments (see ``store/writer.py``).

>>> import nbtrack, tempfile
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> with nbtrack.run("baseline", params={"lr": 0.01}) as run:
...     for epoch in range(3):
...         run.log(loss=1 / (epoch + 1), acc=0.5 + epoch / 10)
>>> nbtrack.get_run(run.id).metrics["loss"]
0.3333333333333333
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from . import active, handoff
from .config import settings
from .context import source_context
from .datasets import describe
from .errors import InactiveRunError, NbtrackWarning
from .exits import outcome, watch
from .names import new_run_id, new_run_name
from .store import Store, get_store, open_stores
from .store.artifacts import copy_artifact
from .store.buffers import MetricSeries
from .store.schema import END_STATES
from .system_metrics import SystemMetrics
from .values import check_key, encode_param, metric_value

# Points one series may buffer before the logging thread flushes itself: a loop logging faster
# than the background writer gets the GIL must wait for the disk rather than fill memory.
PENDING_LIMIT = 500_000

# Runs start and end under this lock: two threads ending one run write one end event, and the
# writer's count of running runs (its heartbeat) stays exact.
_lifecycle = threading.Lock()


class _TopLevel:
    def __repr__(self) -> str:
        return "nbtrack.TOP_LEVEL"


TOP_LEVEL = _TopLevel()
"""``start_run(parent=TOP_LEVEL)``: a run with no parent, even while another run is active."""


class Run:
    """One tracked execution: its params, metrics (with steps), tags and artifacts.

    Create runs with :func:`nbtrack.run` / :func:`nbtrack.start_run`, not directly. Used as a
    context manager, the run ends when the block does: ``finished`` normally, ``failed`` when an
    exception escapes (the exception propagates unchanged), ``interrupted`` on KeyboardInterrupt,
    ``killed`` when the process is terminated (see ``nbtrack/exits.py``).
    """

    def __init__(
        self, store: Store, run_id: str, name: str, experiment: str, parent_id: str | None
    ) -> None:
        self.id = run_id
        self.name = name
        self.experiment = experiment
        self.parent_id = parent_id
        self.store = store
        self._writer = store.writer
        self._series: dict[str, MetricSeries] = {}
        self._status = "running"
        self._owner_pid = os.getpid()
        self._sampler: SystemMetrics | None = None
        # Sees every metric value logged to the run and to runs started inside it in this
        # process: a sweep trial reports its metric to the pruner (see sweeps/pruning.py).
        self._watch: Callable[[str, float, int], None] | None = None
        self._autolog_undo: Callable[[], None] | None = None  # start_run(autolog=...)

    @classmethod
    def borrowed(cls, store: Store, run_id: str, name: str, experiment: str) -> Run:
        """A run another process started and will end (see ``handoff.py``): this process logs
        to it, and ending it here does nothing."""
        run = cls(store, run_id, name, experiment, None)
        run._owner_pid = -1
        return run

    def __repr__(self) -> str:
        return f"<Run {self.name!r} id={self.id} experiment={self.experiment!r} {self._status}>"

    @property
    def status(self) -> str:
        """``running`` until the run ends, then ``finished``, ``failed``, ``interrupted`` or
        ``killed``."""
        return self._status

    # ---- metrics (the hot path) -----------------------------------------------------------
    def log(self, step: int | None = None, **metrics: Any) -> None:
        """Log metric values, e.g. ``run.log(loss=0.3, acc=0.9, step=5)``.

        Without ``step`` each key counts its own steps from 0. A non-numeric value raises
        TypeError naming the key, and nothing of that call is logged.
        """
        self._log(metrics, step)

    def log_metric(self, key: str, value: Any, step: int | None = None) -> None:
        """Log one metric value: ``run.log_metric("val/loss", 0.25, step=3)``."""
        self._log({key: value}, step)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Log several metric values at one step: ``run.log_metrics({"loss": 0.3})``."""
        self._log(metrics, step)

    def _log(self, metrics: Mapping[str, Any], step: int | None) -> None:
        if self._status != "running":
            raise InactiveRunError(self._ended_message())
        if step is not None:
            step = _check_step(step)
        known = self._series
        checked = []
        for key, value in metrics.items():
            if type(value) is not float:
                value = metric_value(key, value)
            series = known.get(key)
            if series is None:
                series = known[key] = self._writer.new_series(self.id, check_key("metric", key))
            checked.append((series, value))
        now = time.time()
        for series, value in checked:  # only once every value passed: a bad one logs nothing
            at = series.next_step if step is None else step
            series.next_step = at + 1
            series.steps.append(at)  # steps, times, then values: see store/buffers.py
            series.times.append(now)
            series.values.append(value)
            if len(series.values) >= PENDING_LIMIT:
                self._writer.flush_behind()
        if self._watch is not None:
            for series, value in checked:
                self._watch(series.key, value, series.next_step - 1)

    # ---- params, tags, artifacts -----------------------------------------------------------
    def log_param(self, key: str, value: Any) -> None:
        """Record a hyperparameter, keeping its type: ``run.log_param("layers", [64, 64])``."""
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record several params; a later value for the same key replaces the earlier one."""
        self._check_active()
        now = time.time()
        rows = []
        for key, value in params.items():
            kind, num, text = encode_param(value)
            rows.append({"run_id": self.id, "key": check_key("param", key), "type": kind,
                         "num": num, "text": text, "timestamp": now})  # fmt: skip
        self._writer.append("params", rows)

    def set_tag(self, key: str, value: Any) -> None:
        """Set a tag (stored as text; the last value wins): ``run.set_tag("model", "rf")``."""
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set several tags at once."""
        self._check_active()
        now = time.time()
        self._writer.append("tags", [
            {"run_id": self.id, "key": check_key("tag", k), "value": str(v), "timestamp": now}
            for k, v in tags.items()
        ])  # fmt: skip

    def log_artifact(self, path: str | Path, name: str | None = None) -> None:
        """Copy a file or folder into the store, under ``artifacts/<run_id>/<name>``.

        The size and sha256 of every file are recorded with the run.
        """
        self._check_active()
        self._writer.append(
            "artifacts", copy_artifact(self.store.layout, self.id, Path(path), name)
        )

    def log_model(self, model: Any, name: str = "model", **options: Any) -> Any:
        """Save ``model`` into the run's artifacts as an MLflow-style model folder and return
        its ``ModelInfo`` (``.model_uri`` is ``runs:/<run id>/<name>``). ``options``: those of
        :func:`nbtrack.log_model` (``input_example``, ``signature``, ``pip_requirements``,
        ``registered_model_name``, ``flavor``, …).

        >>> import nbtrack, tempfile
        >>> from sklearn.linear_model import LinearRegression
        >>> nbtrack.set_store(tempfile.mkdtemp())
        >>> with nbtrack.run() as run:
        ...     info = run.log_model(LinearRegression().fit([[0], [1]], [0, 2]), "line")
        >>> nbtrack.load_model(info.model_uri).predict([[2]])
        array([4.])
        """
        from .mlmodel import log_model

        return log_model(model, name, run=self, **options)

    def log_input(
        self,
        data: Any,
        name: str | None = None,
        context: str | None = None,
        source: str | None = None,
    ) -> None:
        """Record a dataset the run used: its name, content digest, schema, row count and
        source (the data is not copied). ``data``: a pandas or polars DataFrame, an Arrow
        table, a numpy array, or a path (file or folder) or URI. ``context`` says how it was
        used, e.g. ``"train"`` or ``"eval"``. Filter with ``datasets.name = 'wine'``,
        ``datasets.digest = '…'`` or ``datasets.context = 'train'``.

        >>> import nbtrack, tempfile, pandas as pd
        >>> nbtrack.set_store(tempfile.mkdtemp())
        >>> with nbtrack.run() as run:
        ...     run.log_input(pd.DataFrame({"x": [1, 2]}), name="wine", context="train")
        >>> [(i["name"], i["context"], i["num_rows"]) for i in nbtrack.get_run(run.id).inputs]
        [('wine', 'train', 2)]
        """
        self._check_active()
        info = describe(data, name, source)
        self._writer.append(
            "inputs", [{**info, "run_id": self.id, "context": context, "timestamp": time.time()}]
        )

    # ---- lifecycle ------------------------------------------------------------------------
    def end(self, status: str = "finished", detail: str | None = None) -> None:
        """End the run (idempotent); runs started inside it in the same thread or asyncio task
        that are still active end first (runs it parents in other threads end on their own).

        Only the process that started the run ends it: a forked child leaving a ``with`` block
        (e.g. through ``sys.exit``) leaves its parent's run running.
        """
        if status not in END_STATES:
            raise ValueError(f"status must be one of {', '.join(END_STATES)}; got {status!r}")
        if self._status != "running" or os.getpid() != self._owner_pid:
            return
        for child in reversed(active.nested_in(self)):
            child.end(status)
        sampler, self._sampler = self._sampler, None
        if sampler is not None:
            sampler.stop()  # its last sample goes in while the run is still running
        undo, self._autolog_undo = self._autolog_undo, None
        if undo is not None:
            undo()
        with _lifecycle:
            if self._status != "running":
                return
            self._status = status
            self._writer.active_runs -= 1
        active.remove(self)
        self._writer.append("events", [
            {"run_id": self.id, "timestamp": time.time(), "kind": status, "detail": detail}
        ])  # fmt: skip
        for series in self._series.values():
            series.closed = True
        self._writer.request_flush()

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        status, detail = outcome(exc_type, exc, tb)
        try:
            self.end(status, detail)
        except Exception as err:  # never replace the user's exception with ours
            warnings.warn(
                f"nbtrack could not end run {self.id}: {err}", NbtrackWarning, stacklevel=2
            )

    def _check_active(self) -> None:
        if self._status != "running":
            raise InactiveRunError(self._ended_message())

    def _ended_message(self) -> str:
        return (
            f"run {self.name!r} ({self.id}) has ended ({self._status}); start a new run with "
            "nbtrack.run() to log more"
        )


def _check_step(step: Any) -> int:
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise TypeError(f"step must be an integer, got {type(step).__name__} {step!r}")
    step = step.__index__()
    if not -(2**63) <= step < 2**63 - 1:
        raise ValueError(f"step {step} is out of range; steps are 64-bit integers")
    return step


# ---- the active-run stack and the module-level API -------------------------------------------
def start_run(
    name: str | None = None,
    experiment: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    parent: Run | str | None = None,
    context: Mapping[str, Any] | None = None,
    system_metrics: bool | float | None = None,
    autolog: bool | None = None,
) -> Run:
    """Start a run and make it the active one; it nests under the run active before it.

    ``parent`` (a Run or run id) overrides the automatic nesting; ``parent=nbtrack.TOP_LEVEL``
    starts a run with no parent while others are active. ``context`` adds source
    columns (``notebook``, ``cell_id``, ``code``, ...) for integrations such as ``%%track``.
    ``system_metrics=True`` (or a number of seconds) samples CPU, memory, disk, network and
    GPUs as ``system/…`` metrics while the run is active (see ``nbtrack/system_metrics.py``);
    the default follows ``$NBTRACK_SYSTEM_METRICS``. ``autolog=True`` turns autologging
    (:func:`nbtrack.autolog`) on while the run is active and back off as it ends; ``False``
    turns it off as long; ``None`` leaves it as it is. (Autologging patches libraries for the
    whole process, so training in other threads meanwhile is recorded too.)
    Raises :class:`nbtrack.StoreError` when the store folder cannot be written.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> run = nbtrack.start_run("sweep-1", params={"n_estimators": 100})
    >>> nbtrack.log(acc=0.93)
    >>> nbtrack.end_run()
    """
    store = get_store()
    store.writer.start()  # creates the store; raises StoreError before anything is logged
    watch(end_active_runs)
    if parent is None:
        parent = active_run()
    parent_id = None if parent is TOP_LEVEL else parent.id if isinstance(parent, Run) else parent
    run = Run(store, new_run_id(), name or new_run_name(), experiment or settings.experiment,
              parent_id)  # fmt: skip
    interval = settings.system_metrics(system_metrics)
    sampler = None if interval is None else SystemMetrics(run, interval)  # psutil, or raise
    info: dict[str, Any] = {
        **source_context(),
        "run_id": run.id,
        "experiment": run.experiment,
        "name": run.name,
        "parent_run_id": parent_id,
        "created_at": time.time(),
        "writer": store.writer.id,
        **(context or {}),
    }
    store.writer.append("runs", [info])
    store.writer.append("events", [
        {"run_id": run.id, "timestamp": info["created_at"], "kind": "started"}
    ])  # fmt: skip
    with _lifecycle:
        store.writer.active_runs += 1
    active.push(run)
    if isinstance(parent, Run):
        run._watch = parent._watch
    if params:
        run.log_params(params)
    if tags:
        run.set_tags(tags)
    if sampler is not None:
        run._sampler = sampler
        sampler.start()
    if autolog is not None:
        from .autologging import switched

        run._autolog_undo = switched(autolog)
    return run


def resume_run(run_id: str) -> Run:
    """Reopen the ended run ``run_id`` in this process (a sweep continued after an
    interruption): it is ``running`` again until it ends again, and active like a started one.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run("long") as first:
    ...     first.log(loss=0.5, step=0)
    >>> with resume_run(first.id) as again:
    ...     again.log(loss=0.25, step=1)
    >>> record = nbtrack.get_run(first.id)
    >>> record.status, record.metrics["loss"]
    ('finished', 0.25)
    """
    from .query import get_run

    record = get_run(run_id)
    store = get_store()
    store.writer.start()
    watch(end_active_runs)
    run = Run(store, record.id, record.name, record.experiment, record.parent_id)
    store.writer.append("events", [{"run_id": run.id, "timestamp": time.time(),
                                    "kind": "resumed", "detail": store.writer.id}])  # fmt: skip
    with _lifecycle:
        store.writer.active_runs += 1
    active.push(run)
    return run


def run(
    name: str | None = None,
    experiment: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    parent: Run | str | None = None,
    system_metrics: bool | float | None = None,
    autolog: bool | None = None,
) -> Run:
    """Start a run for a ``with`` block: it ends when the block does.

    ``system_metrics=True`` (every 5 s) or a number of seconds logs ``system/cpu_percent``,
    ``system/rss_mb``, … while the run is active, as :func:`start_run` says; ``autolog=True``
    autologs the training inside the block (:func:`nbtrack.autolog`), and only there.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run("rf", params={"max_depth": 4}, tags={"model": "rf"}) as run:
    ...     run.log(acc=0.91)
    >>> run.status
    'finished'
    """
    return start_run(
        name, experiment, params, tags, parent, system_metrics=system_metrics, autolog=autolog
    )


def active_run() -> Run | None:
    """The innermost active run; in a notebook or script launched by ``nbtrack run`` or a
    sweep with no run of its own, the run it was launched as; else None."""
    return active.current() or handoff.attached()


def end_run(status: str = "finished") -> None:
    """End the active run with ``status`` (finished, failed, interrupted or killed)."""
    current = active_run()
    if current is None:
        raise InactiveRunError("there is no active run to end")
    current.end(status)


def _require_active() -> Run:
    current = active_run()
    if current is None:
        raise InactiveRunError(
            "there is no active run: wrap the code in `with nbtrack.run():`, mark the cell "
            "with %%track, or call nbtrack.start_run() first"
        )
    return current


def log(step: int | None = None, **metrics: Any) -> None:
    """Log metrics to the active run: ``nbtrack.log(loss=0.3, step=5)``."""
    _require_active()._log(metrics, step)


def log_metric(key: str, value: Any, step: int | None = None) -> None:
    """Log one metric to the active run."""
    _require_active()._log({key: value}, step)


def log_metrics(metrics: Mapping[str, Any], step: int | None = None) -> None:
    """Log several metrics to the active run."""
    _require_active()._log(metrics, step)


def log_param(key: str, value: Any) -> None:
    """Record a param on the active run."""
    _require_active().log_params({key: value})


def log_params(params: Mapping[str, Any]) -> None:
    """Record several params on the active run."""
    _require_active().log_params(params)


def set_tag(key: str, value: Any) -> None:
    """Set a tag on the active run."""
    _require_active().set_tags({key: value})


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set several tags on the active run."""
    _require_active().set_tags(tags)


def log_artifact(path: str | Path, name: str | None = None) -> None:
    """Copy a file or folder into the active run's artifacts."""
    _require_active().log_artifact(path, name)


def log_input(
    data: Any, name: str | None = None, context: str | None = None, source: str | None = None
) -> None:
    """Record a dataset the active run used (see :meth:`Run.log_input`)."""
    _require_active().log_input(data, name, context, source)


def flush() -> None:
    """Write everything logged so far to the store now (normally done within a second).

    Raises :class:`nbtrack.StoreError` if the store cannot be written; the rows stay buffered
    and are retried.
    """
    for store in open_stores():
        if store.has_writer():
            store.writer.flush()


def end_active_runs(status: str, detail: str | None = None) -> None:
    """End every run this process still has active, innermost first."""
    for current in reversed(active.running()):
        current.end(status, detail)


def _after_fork_in_child() -> None:
    """A forked child must not end its parent's runs at exit; it may still log to them."""
    global _lifecycle
    _lifecycle = threading.Lock()
    active.forget_all()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
