"""Sweeps: many runs of one target over a space of params.

``nbtrack.sweep(train, space={...})`` (or ``nbtrack sweep TARGET -p …``) starts one *sweep* run
and, under it, one child run per *trial*: every combination of the space (``grid``), ``n_trials``
random draws (``random``) or Optuna's TPE suggestions with median pruning (``optuna``). The
target is a function of the params (called with them as keyword arguments, inside the trial's
run: it logs with ``nbtrack.log`` and may return the metric), a notebook, a script or an
MLproject folder. ``n_jobs`` trials run at once, each in its own process. A failing trial is
recorded as failed and the sweep goes on; Ctrl-C stops every trial and marks the unfinished ones
interrupted; ``resume=True`` (``--resume NAME``) continues an interrupted sweep without running
again the trials it finished. The sweep run logs the best value so far of the metric (one step
per trial) and tags the best trial; ``nbtrack.compare(sweep)`` shows the trials side by side.

>>> import nbtrack, tempfile
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> def train(lr, depth):
...     nbtrack.log(val_loss=(lr - 0.01) ** 2 + depth / 100)
>>> result = nbtrack.sweep(train, {"lr": [0.001, 0.01, 0.1], "depth": "2:3"}, metric="val_loss")
>>> result
<Sweep ... 6 trials: 6 complete; best val_loss=0.02 (trial 2: lr=0.01, depth=2)>
>>> result.best.params
{'lr': 0.01, 'depth': 2}
"""

from __future__ import annotations

import inspect
import os
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SweepError
from .pruning import Watch
from .samplers import COMPLETE, INTERRUPTED, Grid, OptunaSearch, RandomSearch, Trial, check_method
from .space import Space, choice, int_uniform, loguniform, uniform
from .state import SweepSpec
from .trials import ForkedWorkers, Outcome, run_here, run_target

if TYPE_CHECKING:
    from ..projects import Options, Target
    from ..tracking import Run

__all__ = ["Sweep", "TrialResult", "choice", "int_uniform", "loguniform", "sweep", "uniform"]

GOALS = {"min": "min", "minimize": "min", "max": "max", "maximize": "max"}


@dataclass(frozen=True)
class TrialResult:
    """One trial: its number, params, run id, state (complete, pruned, failed, interrupted)
    and the value of the sweep's metric."""

    number: int
    params: dict[str, Any]
    run_id: str
    state: str
    value: float | None


@dataclass
class Sweep:
    """A sweep's result: its run (the trials' parent) and its trials, in the order they ended."""

    name: str
    run: Run
    metric: str | None
    goal: str
    trials: list[TrialResult] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The sweep run's id (so that a Sweep goes wherever a run does: ``compare(sweep)``)."""
        return self.run.id

    @property
    def best(self) -> TrialResult | None:
        """The complete trial with the best value of the metric (None without one)."""
        scored = [t for t in self.trials if t.state == COMPLETE and t.value is not None]
        if not scored:
            return None
        pick = min if self.goal == "min" else max
        return pick(scored, key=lambda t: t.value)  # type: ignore[arg-type,return-value]

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for trial in self.trials:
            counts[trial.state] = counts.get(trial.state, 0) + 1
        text = f"<Sweep {self.name!r} ({self.run.id}) {len(self.trials)} trials: " + ", ".join(
            f"{n} {state}" for state, n in counts.items()
        )
        best = self.best
        if best is not None:
            params = ", ".join(f"{k}={v!r}" for k, v in best.params.items())
            text += f"; best {self.metric}={best.value:.4g} (trial {best.number}: {params})"
        return text + ">"


def sweep(
    target: Callable[..., Any] | str | os.PathLike[str] | None,
    space: Mapping[str, Any] | Space | None = None,
    *,
    method: str = "grid",
    n_trials: int | None = None,
    metric: str | None = None,
    goal: str = "min",
    n_jobs: int = 1,
    name: str | None = None,
    experiment: str | None = None,
    seed: int | None = None,
    resume: bool = False,
    prune: bool = True,
    options: Options | None = None,
    entry_point: str | None = None,
    on_trial: Callable[[TrialResult], None] | None = None,
) -> Sweep:
    """Run ``target`` once per trial over ``space`` (see the module's docstring and
    ``space.py`` for the syntax), and return the :class:`Sweep`.

    ``method``: ``grid`` (every combination; ``n_trials`` takes the first ones), ``random`` or
    ``optuna`` (both need ``n_trials``; optuna needs ``metric`` and the ``optuna`` extra).
    ``metric`` and ``goal`` (``min`` or ``max``) say what is best. ``name`` names the sweep run
    (default: generated); with ``resume=True`` the sweep of that name continues where it
    stopped, with the space and settings it was started with (``target=None``: the notebook,
    script or folder it ran). ``prune``: let Optuna's median
    pruner stop trials that log a poor intermediate metric. ``options`` and ``entry_point``:
    how a notebook, script or MLproject target runs (see ``nbtrack.projects``). ``on_trial``
    is called with each :class:`TrialResult` as the trial ends.
    """
    from ..projects import Options as ProjectOptions
    from ..projects import Target as ProjectTarget
    from ..store import get_store
    from ..tracking import resume_run, start_run

    root = get_store().root
    if resume:
        if not name:
            raise SweepError("resume=True continues the sweep named by name='…'")
        spec = SweepSpec.load(root, name)
        run = resume_run(spec.run_id)
    else:
        goal = GOALS.get(goal, goal)
        if goal not in ("min", "max"):
            raise SweepError(f"goal is 'min' or 'max'; got {goal!r}")
        check_method(method, n_trials, metric)
        if space is None or target is None:
            raise SweepError("a sweep needs a target and a space, e.g. "
                             "nbtrack.sweep(train, {'lr': 'loguniform(1e-4,1e-1)'})")  # fmt: skip
        parsed = Space.parse(space)
        if method == "grid":
            parsed.grid()  # a continuous param is an error before anything runs
        if name and SweepSpec.find(root, name) is not None:
            raise SweepError(
                f"a sweep named {name!r} is already in the store; continue it with resume=True "
                "(--resume) or choose another name"
            )
        target_text = _describe(target)
        run = start_run(name, experiment, tags={
            "nbtrack.kind": "sweep", "nbtrack.sweep.method": method,
            "nbtrack.sweep.target": target_text, "nbtrack.sweep.space": repr(parsed),
            **({"nbtrack.sweep.metric": metric, "nbtrack.sweep.goal": goal} if metric else {}),
        })  # fmt: skip
        spec = SweepSpec(
            name=run.name, run_id=run.id, target=target_text, space=parsed.to_json(),
            method=method, n_trials=n_trials, metric=metric, goal=goal,
            seed=seed if seed is not None else random.randrange(2**31),
            options={"entry_point": entry_point, "prune": prune},
        )  # fmt: skip
        spec.save(root)
    if target is None and spec.target.startswith("python:"):
        raise SweepError(
            f"sweep {spec.name!r} ran the function {spec.target[7:]}; resume it from Python: "
            f"nbtrack.sweep(fn, name={spec.name!r}, resume=True)"
        )
    if callable(target):
        runnable: Callable[..., Any] | Target = target
    else:
        runnable = ProjectTarget.open(target or spec.target, spec.options.get("entry_point"))
    try:
        driver = _Driver(spec, run, runnable, options or ProjectOptions(), max(1, n_jobs), root)
    except BaseException as exc:
        from ..exits import outcome

        run.end(*outcome(type(exc), exc, exc.__traceback__))
        raise
    driver.on_trial = on_trial
    return driver.run()


class _Driver:
    """Hands out trials to ``n_jobs`` workers, records their outcomes, and ends the sweep."""

    def __init__(
        self, spec: SweepSpec, run: Run, target: Callable[..., Any] | Target, options: Options,
        n_jobs: int, root: Path,
    ) -> None:  # fmt: skip
        self.spec = spec
        self.sweep_run = run
        self.target = target
        self.options = options
        self.n_jobs = n_jobs
        self.result = Sweep(spec.name, run, spec.metric, spec.goal)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.on_trial: Callable[[TrialResult], None] | None = None
        self.forked: ForkedWorkers | None = None
        done = self._done_before()
        self.result.trials.extend(done)
        space = Space.from_json(spec.space)
        numbers = {t.number for t in done}
        if spec.method == "grid":
            self.sampler: Grid | OptunaSearch = Grid(space, numbers, limit=spec.n_trials)
        elif spec.method == "random":
            self.sampler = RandomSearch(space, spec.n_trials or 0, spec.seed, numbers)
        else:
            self.sampler = OptunaSearch(
                space, spec.n_trials or 0, spec.seed, spec.goal,
                spec.folder(root) / "optuna.journal", spec.run_id, finished=len(done),
                prune=bool(spec.options.get("prune", True)),
            )  # fmt: skip
        best = self.result.best
        self.best_value = best.value if best is not None else None

    def run(self) -> Sweep:
        try:
            if self.n_jobs == 1:
                self._work(None)
            else:
                self._parallel()
        except BaseException as exc:
            from ..exits import outcome

            self.sweep_run.end(*outcome(type(exc), exc, exc.__traceback__))
            raise
        self.sweep_run.end()
        return self.result

    def _parallel(self) -> None:
        from ..projects.processes import interrupt_children

        if callable(self.target):  # forked now, before the threads start
            self.forked = ForkedWorkers(self.target, self.n_jobs)
        threads = [
            threading.Thread(target=self._work, args=(i,), name=f"nbtrack-sweep-{i}")
            for i in range(self.n_jobs)
        ]
        try:
            for thread in threads:
                thread.start()
            try:
                for thread in threads:
                    while thread.is_alive():
                        thread.join(0.2)  # wakes up for Ctrl-C
            except KeyboardInterrupt:
                self.stop.set()
                interrupt_children()
                for thread in threads:
                    thread.join()
                raise
        finally:
            if self.forked is not None:
                self.forked.close()

    def _work(self, worker: int | None) -> None:
        """Run trials until there are none left; ``worker``: this thread's forked worker (or
        launched targets' slot), None in the sweep's own thread."""
        while not self.stop.is_set():
            with self.lock:
                trial = self.sampler.ask()
            if trial is None:
                return
            run, result = self._trial(trial, worker)
            if self.stop.is_set() and result.state != COMPLETE:
                result = Outcome(INTERRUPTED, result.detail, result.value)
            self._record(trial, run, result)

    def _trial(self, trial: Trial, worker: int | None) -> tuple[Run, Outcome]:
        from ..tracking import start_run

        name, tags = f"trial-{trial.number}", {"nbtrack.trial": trial.number}
        spec = {"metric": self.spec.metric}
        if isinstance(self.sampler, OptunaSearch) and self.spec.metric:
            spec = self.sampler.watch_spec(trial, self.spec.metric)
        watch = Watch(self.spec.metric, trial.handle, spec)
        if not callable(self.target):
            options = self.options
            if self.n_jobs > 1:  # trials side by side: no interleaved output or progress lines
                options = _quiet(options)
            return run_target(self.target, trial.params, parent=self.sweep_run, name=name,
                              tags=tags, options=options, watch=watch)  # fmt: skip
        run = start_run(name, self.sweep_run.experiment, trial.params, tags, parent=self.sweep_run)
        if self.forked is not None and worker is not None:
            return run, self.forked.run(worker, run, trial.params, watch)
        try:
            return run, run_here(self.target, run, trial.params, watch)
        except BaseException:
            with self.lock:
                self.sampler.tell(trial, INTERRUPTED, None)
            raise

    def _record(self, trial: Trial, run: Run, result: Outcome) -> None:
        done = TrialResult(trial.number, trial.params, run.id, result.state, result.value)
        with self.lock:
            self.sampler.tell(trial, result.state, result.value)
            self.result.trials.append(done)
            if self.on_trial is not None:
                self.on_trial(done)
            value, metric = result.value, self.spec.metric
            if result.state != COMPLETE or value is None or metric is None or value != value:
                return
            if self.best_value is not None and (
                value >= self.best_value if self.spec.goal == "min" else value <= self.best_value
            ):
                return
            self.best_value = value
            self.sweep_run.log_metric(metric, value, step=len(self.result.trials))
            self.sweep_run.set_tags({"nbtrack.sweep.best_run": run.id,
                                "nbtrack.sweep.best_trial": trial.number})  # fmt: skip

    def _done_before(self) -> list[TrialResult]:
        """Trials an earlier part of this sweep ended (complete, pruned or failed)."""
        from ..query import search, sql

        parent = self.spec.run_id
        if not parent.isalnum():
            raise SweepError(f"the sweep record names a bad run id {parent!r}")
        frame = search(f"parent_run_id = '{parent}'", limit=None)
        if frame.empty or "tags.nbtrack.trial" not in frame:
            return []
        errors = dict(sql(f"SELECT run_id, error FROM runs WHERE parent_run_id = '{parent}'")
                      .fetchall())  # fmt: skip
        metric = f"metrics.{self.spec.metric}"
        done = []
        for row in frame.to_dict("records"):
            status, error = row["status"], errors.get(row["run_id"]) or ""
            pruned = status == "interrupted" and str(error).startswith("pruned")
            if status not in ("finished", "failed") and not pruned:
                continue
            state = "pruned" if pruned else COMPLETE if status == "finished" else "failed"
            params = {k[7:]: v for k, v in row.items() if k.startswith("params.") and v == v}
            value = row.get(metric)
            value = None if value is None or value != value else float(value)
            number = int(row["tags.nbtrack.trial"])
            done.append(TrialResult(number, params, row["run_id"], state, value))
        return sorted(done, key=lambda t: t.number)


def _quiet(options: Options) -> Options:
    from dataclasses import replace

    return replace(options, progress=False, echo=False)


def _describe(target: Callable[..., Any] | str | os.PathLike[str]) -> str:
    if callable(target):
        module = inspect.getmodule(target)
        return f"python:{getattr(module, '__name__', '?')}.{getattr(target, '__qualname__', '?')}"
    return str(Path(target).expanduser().resolve())
