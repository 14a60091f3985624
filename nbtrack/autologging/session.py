"""One autologged training call, shared by every library's autolog module.

A :class:`Session` finds the run to log to (starting one when none is active, ended after the
training), runs the training with nested autologging switched off, and turns every failure of
its own logging into one warning: the training's result, or its exception, reaches the caller
unchanged. A :class:`StepLogger` logs the metrics a training reports as it goes (per boosting
round, per epoch); :func:`flat_params`, :func:`free_name` and :func:`log_text` are the pieces
the libraries' modules share.

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
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
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
    log_every_n_steps: int | None = None


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


# ---- shared by the libraries' modules -----------------------------------------------------------
def flat_params(params: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    """``params`` with nested mappings spread out as ``outer__inner`` keys (the way scikit-learn
    names nested params), every key a string.

    >>> flat_params({"eta": 0.1, "tree": {"depth": 3, "leaves": {"max": 8}}})
    {'eta': 0.1, 'tree__depth': 3, 'tree__leaves__max': 8}
    """
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flat_params(value, f"{name}__"))
        else:
            flat[name] = value
    return flat


def free_name(run: Run, name: str, suffix: str = "") -> str:
    """``name + suffix``, else ``name_1 + suffix``, …: the first not taken in ``run``'s artifacts
    (a second training logged to one run keeps the first one's files)."""
    folder = run.store.layout.artifacts / run.id
    free, n = name, 0
    while (folder / f"{free}{suffix}").exists():
        n += 1
        free = f"{name}_{n}"
    return f"{free}{suffix}"


def log_text(run: Run, name: str, suffix: str, text: str) -> str:
    """Log ``text`` as the artifact ``free_name(run, name, suffix)``; return that name."""
    target = free_name(run, name, suffix)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / target
        path.write_text(text, encoding="utf-8")
        run.log_artifact(path)
    return target


class StepLogger:
    """Logs the metrics a training reports step by step to its session's run, as they come.

    A value nbtrack rejects (or any failure logging it) is noted for the session's warning once
    per key, and that key is left out from then on; the other keys, and the training, go on.
    ``history`` keeps each step's values (a few floats per step) for a later look back, such as
    the metrics of an early-stopped training's best iteration.

    >>> import nbtrack, tempfile, warnings
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> session = Session("train")
    >>> def train():
    ...     steps = StepLogger(session)
    ...     for i in range(3):
    ...         steps.log({"valid-loss": 1 / (i + 1), "valid-note": "text"}, step=i)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     session.train(train, lambda s: None, lambda s, result: None)
    >>> len(caught), "'valid-note' at step 0" in str(caught[0].message)
    (1, True)
    >>> nbtrack.history(session.run.id)["key"].unique().tolist()
    ['valid-loss']
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.history: dict[int, dict[str, Any]] = {}
        self.last_step: int | None = None
        self._failed: set[str] = set()
        self._broken = False

    def log(self, values: Mapping[str, Any], step: int) -> None:
        """Log ``values`` at ``step`` (an iteration, an epoch) to the session's run."""
        run = self.session.run
        if run is None:
            return
        self.history[step] = dict(values)
        self.last_step = step if self.last_step is None else max(step, self.last_step)
        for key, value in values.items():
            if key in self._failed:
                continue
            try:
                run.log_metric(key, value, step=step)
            except Exception as err:
                self._failed.add(key)
                self.session.problems.append(
                    f"logging metric {key!r} at step {step}: {type(err).__name__}: {err}"
                )

    def fail(self, doing: str, err: Exception) -> None:
        """Note a failure to read a step's metrics, once (the training calls back every step)."""
        if not self._broken:
            self._broken = True
            self.session.problems.append(f"{doing}: {type(err).__name__}: {err}")
