"""One autologged training call, shared by every library's autolog module.

A :class:`Session` finds the run to log to (starting one when none is active, ended after the
training), runs the training with nested autologging switched off, and turns every failure of
its own logging into one warning: the training's result, or its exception, reaches the caller
unchanged.

>>> import nbtrack, tempfile
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> def log_params(session):
...     session.run.log_params({"depth": 3})
>>> Session("Tree.fit").train(lambda: "fitted", log_params, lambda session, result: None)
'fitted'
>>> nbtrack.search()["params.depth"].tolist()
[3]
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import NbtrackWarning
from ..values import metric_value

if TYPE_CHECKING:
    from ..tracking import Run

T = TypeVar("T")
_inside: ContextVar[bool] = ContextVar("nbtrack_autolog_inside", default=False)


@dataclass(frozen=True)
class Settings:
    """What autolog records (see :func:`nbtrack.autolog`)."""

    log_models: bool = True
    log_training_metrics: bool = True
    log_post_training_metrics: bool = True
    max_tuning_runs: int | None = None
    silent: bool = False


settings = Settings()


def inside() -> bool:
    """True while an autologged training call (or a score being logged) runs in this thread
    or task: nested fits are then not logged on their own."""
    return _inside.get()


@contextlib.contextmanager
def nested() -> Iterator[None]:
    """Mark the calls in the block as nested in an autologged one."""
    token = _inside.set(True)
    try:
        yield
    finally:
        _inside.reset(token)


class Session:
    """The run one training call logs to, and what went wrong logging it."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.run: Run | None = None
        self.started = False
        self.problems: list[str] = []

    @contextlib.contextmanager
    def attempt(self, doing: str) -> Iterator[None]:
        """Run the block; an exception in it is noted for the warning, not raised."""
        try:
            yield
        except Exception as err:
            self.problems.append(f"{doing}: {type(err).__name__}: {err}")

    def train(
        self,
        call: Callable[[], T],
        before: Callable[[Session], None],
        after: Callable[[Session, T], None],
    ) -> T:
        """``call()`` inside the run, with ``before(self)`` and ``after(self, result)`` logging
        around it when there is a run to log to."""
        with nested():
            with self.attempt("starting a run"):
                from ..tracking import active_run, start_run

                self.run = active_run()
                if self.run is None:
                    self.run = start_run()
                    self.started = True
            if self.run is not None:
                with self.attempt("logging params"):
                    before(self)
            try:
                result = call()
            except BaseException as exc:
                self._end(exc)
                raise
            if self.run is not None:
                with self.attempt("logging the result"):
                    after(self, result)
        self._end(None)
        return result

    def _end(self, exc: BaseException | None) -> None:
        if self.started and self.run is not None:
            with self.attempt("ending the run"):
                if exc is None:
                    self.run.end()
                else:
                    from ..exits import outcome

                    self.run.end(*outcome(type(exc), exc, exc.__traceback__))
        self.warn(stacklevel=5)  # the code that called the training

    def warn(self, stacklevel: int = 3) -> None:
        """Emit the problems met so far as one warning (unless autolog is silent), shown at
        ``stacklevel`` (3: the caller of the function calling this)."""
        if self.problems and not settings.silent:
            warnings.warn(
                f"nbtrack autolog could not record all of {self.what} (the training itself "
                f"went on): {'; '.join(self.problems)}",
                NbtrackWarning,
                stacklevel=stacklevel,
            )
        self.problems = []


_post_steps: dict[tuple[str, str], int] = {}


def log_late_metric(run: Run, key: str, value: Any) -> None:
    """Log ``key`` to ``run`` even when it has ended (a score computed after the fit); repeated
    values of a key on an ended run take the next steps."""
    if run.status == "running":
        run.log_metric(key, value)
        return
    value = metric_value(key, value)
    writer = run.store.writer
    known = run._series.get(key)
    step = _post_steps.get((run.id, key), known.next_step if known is not None else 0)
    series = writer.new_series(run.id, key)
    series.steps.append(step)
    series.times.append(time.time())
    series.values.append(value)
    series.closed = True
    _post_steps[(run.id, key)] = step + 1
    writer.request_flush()
