"""Running one trial of a sweep: a function here or in a forked worker, or a launched target.

Every kind ends the same way, as an :class:`Outcome`: the trial run's status and detail, and
the value of the sweep's metric (the function's return value, else the last value logged).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import numbers
import os
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import TrialPruned
from ..exits import outcome
from ..projects.processes import STOP_GRACE_S, interrupt_pid, interruptible
from .pruning import Watch
from .samplers import COMPLETE, FAILED, INTERRUPTED, PRUNED

if TYPE_CHECKING:
    from ..projects import Options, Target
    from ..tracking import Run


@dataclass
class Outcome:
    """How a trial ended: its run's status and detail, and the metric's value."""

    status: str
    detail: str | None = None
    value: float | None = None
    pruned: bool = False

    @property
    def state(self) -> str:
        if self.pruned:
            return PRUNED
        return {"finished": COMPLETE, "failed": FAILED}.get(self.status, INTERRUPTED)


def _call(fn: Callable[..., Any], params: Mapping[str, Any], watch: Watch) -> Outcome:
    """``fn(**params)`` in the trial's run (active in this process); never raises but
    KeyboardInterrupt and SystemExit."""
    try:
        returned = fn(**params)
    except TrialPruned as err:
        return Outcome("interrupted", str(err), watch.last, pruned=True)
    except Exception as err:
        if type(err).__name__ == "TrialPruned":  # optuna.TrialPruned raised by the function
            return Outcome("interrupted", str(err) or "pruned", watch.last, pruned=True)
        return Outcome("failed", "".join(traceback.format_exception(err)), watch.last)
    if isinstance(returned, numbers.Real) and not isinstance(returned, bool):
        return Outcome("finished", None, float(returned))
    return Outcome("finished", None, watch.last)


def run_here(fn: Callable[..., Any], run: Run, params: Mapping[str, Any], watch: Watch) -> Outcome:
    """The trial in this process and thread; Ctrl-C propagates after the run ends."""
    run._watch = watch
    try:
        result = _call(fn, params, watch)
    except BaseException as exc:
        run._watch = None
        run.end(*outcome(type(exc), exc, exc.__traceback__))
        raise
    return _finish(run, result, watch)


class ForkedWorkers:
    """Worker processes forked from this thread before any trial starts, each running the
    function for the trials handed to it: the function is not pickled (the forks have it, so a
    function defined in a notebook works), and no fork happens while other threads of the sweep
    run (a fork then could copy a lock one of them holds, and hang)."""

    def __init__(self, fn: Callable[..., Any], n: int) -> None:
        context = multiprocessing.get_context("fork")
        self._workers = []
        for _ in range(n):
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(fn, theirs), daemon=True)
            process.start()
            theirs.close()
            self._workers.append((process, ours))

    def run(self, worker: int, run: Run, params: Mapping[str, Any], watch: Watch) -> Outcome:
        """The trial in worker ``worker``; the run is ended here, by the process that
        started it."""
        process, connection = self._workers[worker]
        with interruptible(interrupt_pid(process.pid)):
            try:
                connection.send((run.id, run.name, run.experiment, dict(params), watch.spec))
                result: Outcome = connection.recv()
            except (EOFError, BrokenPipeError, ConnectionResetError):
                result = Outcome("failed", f"the worker process died (exit code "
                                           f"{process.exitcode})")  # fmt: skip
        return _finish(run, result, watch)

    def close(self) -> None:
        for _, connection in self._workers:
            with contextlib.suppress(OSError):
                connection.send(None)
        for process, _ in self._workers:
            process.join(STOP_GRACE_S)
            if process.is_alive():
                process.kill()
                process.join()


def _serve(fn: Callable[..., Any], connection: Any) -> None:
    """A worker's life: run the trials it is sent until told to stop."""
    from .. import active
    from ..store import get_store
    from ..tracking import Run, flush

    try:
        while (job := connection.recv()) is not None:
            run_id, name, experiment, params, spec = job
            run = Run.borrowed(get_store(), run_id, name, experiment)  # ended by the parent
            watch = Watch.from_spec(spec)
            run._watch = watch
            active.push(run)
            try:
                result = _call(fn, params, watch)
            except KeyboardInterrupt:
                result = Outcome("interrupted", "KeyboardInterrupt", watch.last)
            except SystemExit as exc:
                result = Outcome(*outcome(SystemExit, exc, None), watch.last)
            finally:
                active.remove(run)
            try:
                flush()
            except Exception as err:
                result = Outcome("failed", f"the trial's logging could not be written: {err}")
            connection.send(result)
    except (KeyboardInterrupt, EOFError):
        pass  # stopped while waiting for a trial
    finally:
        with contextlib.suppress(Exception):
            flush()
        os._exit(0)


def run_target(
    target: Target,
    params: Mapping[str, Any],
    *,
    parent: Run,
    name: str,
    tags: Mapping[str, Any],
    options: Options,
    watch: Watch,
) -> tuple[Run, Outcome]:
    """The trial as a launched notebook, script or MLproject entry point."""
    from ..projects import launch
    from ..query import get_run
    from ..query.runs import last_child_metric

    def lift_metric(run: Run) -> None:
        """A notebook that logs in ``%%track`` cells logs the metric in runs inside the trial:
        the last such value becomes the trial's own."""
        metric = watch.metric
        if metric and metric not in get_run(run.id).metrics:
            value = last_child_metric(run.id, metric)
            if value is not None:
                run.log_metric(metric, value)

    run = launch(target, params, experiment=parent.experiment, name=name, tags=tags,
                 parent=parent, options=options, check=False, env=watch.environ(),
                 before_end=lift_metric)  # fmt: skip
    record = get_run(run.id)
    value = record.metrics.get(watch.metric) if watch.metric else None
    pruned = record.status == "interrupted" and (record.error or "").startswith("pruned")
    return run, Outcome(record.status, record.error, value, pruned=pruned)


def _finish(run: Run, result: Outcome, watch: Watch) -> Outcome:
    run._watch = None
    metric, value = watch.metric, result.value
    if result.status == "finished" and metric and value is not None and watch.last != value:
        run.log_metric(metric, value)  # the function returned it and did not log it
    run.end(result.status, result.detail)
    return result
