"""How a sweep picks each trial's params: every combination, random draws, or Optuna's TPE.

A sampler hands out trials (:meth:`ask`) and hears how they ended (:meth:`tell`). Trial numbers
are stable across an interrupted sweep and its resumption: a grid's are the combinations' order,
random draws come from a seeded generator, and Optuna keeps its study in a journal file in the
store, so trials already done are not run again.

>>> from .space import Space
>>> grid = Grid(Space.from_cli(["depth=2:3", "opt=adam,sgd"]), done={1})
>>> for trial in iter(grid.ask, None):
...     print(trial.number, trial.params)
0 {'depth': 2, 'opt': 'adam'}
2 {'depth': 3, 'opt': 'adam'}
3 {'depth': 3, 'opt': 'sgd'}
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SweepError
from ..extras import optional
from .space import Space

# states a finished trial is told with
COMPLETE, PRUNED, FAILED, INTERRUPTED = "complete", "pruned", "failed", "interrupted"


@dataclass
class Trial:
    """One trial: its number in the sweep, its params, and Optuna's trial under ``--optuna``."""

    number: int
    params: dict[str, Any]
    handle: Any = field(default=None, repr=False)


class Grid:
    """Every combination of the space in order (the first ``limit``); ``done``: trial numbers
    not to run again."""

    def __init__(self, space: Space, done: Iterable[int] = (), limit: int | None = None) -> None:
        self._combos = space.grid()[:limit]  # raises SweepError for a continuous space
        self._done = set(done)
        self._next = 0

    @property
    def total(self) -> int:
        return len(self._combos)

    def ask(self) -> Trial | None:
        while self._next < len(self._combos) and self._next in self._done:
            self._next += 1
        if self._next >= len(self._combos):
            return None
        trial = Trial(self._next, self._combos[self._next])
        self._next += 1
        return trial

    def tell(self, trial: Trial, state: str, value: float | None) -> None:
        pass


class RandomSearch(Grid):
    """``n`` draws from the space with generator seed ``seed``, the same on every resumption."""

    def __init__(self, space: Space, n: int, seed: int, done: Iterable[int] = ()) -> None:
        rng = random.Random(seed)
        self._combos = [space.sample(rng) for _ in range(n)]
        self._done = set(done)
        self._next = 0


class OptunaSearch:
    """Optuna's TPE sampler and median pruner, its study kept in the journal file ``journal``.

    ``finished``: trials of the sweep already done (run again: none). Trials an earlier process
    left running (it was killed) are marked failed in the study.
    """

    def __init__(
        self, space: Space, n: int, seed: int, goal: str, journal: Path, study: str,
        finished: int = 0, prune: bool = True,
    ) -> None:  # fmt: skip
        optuna = optional("optuna", "nbtrack sweep --optuna", "optuna")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.space = space
        self.total = n
        self.journal = journal
        self.study = optuna.create_study(
            study_name=study, storage=_storage(journal), load_if_exists=True,
            sampler=optuna.samplers.TPESampler(seed=seed),
            pruner=optuna.pruners.MedianPruner() if prune else optuna.pruners.NopPruner(),
            direction="minimize" if goal == "min" else "maximize",
        )  # fmt: skip
        running = optuna.trial.TrialState.RUNNING
        for stale in self.study.get_trials(deepcopy=False, states=(running,)):
            self.study.tell(stale.number, state=optuna.trial.TrialState.FAIL)
        self._asked = finished
        self._state = optuna.trial.TrialState

    def ask(self) -> Trial | None:
        if self._asked >= self.total:
            return None
        self._asked += 1
        handle = self.study.ask()
        return Trial(handle.number, self.space.suggest(handle), handle)

    def tell(self, trial: Trial, state: str, value: float | None) -> None:
        if state == COMPLETE and value is not None and value == value:
            self.study.tell(trial.handle, value)
        elif state == PRUNED:
            self.study.tell(trial.handle, state=self._state.PRUNED)
        else:
            self.study.tell(trial.handle, state=self._state.FAIL)
        if state == INTERRUPTED:
            self._asked -= 1  # run again when the sweep resumes

    def watch_spec(self, trial: Trial, metric: str) -> dict[str, Any]:
        """What a trial in another process needs to report to this study."""
        return {"metric": metric, "journal": str(self.journal), "study": self.study.study_name,
                "trial_id": trial.handle._trial_id}  # fmt: skip


def _storage(journal: Path) -> Any:
    import optuna.storages
    from optuna.storages.journal import JournalFileBackend

    journal.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(str(journal)))


def open_trial(journal: str, study: str, trial_id: int) -> Any:
    """The Optuna trial ``trial_id`` of ``study``, opened in a process the trial runs in."""
    optuna = optional("optuna", "a sweep trial with pruning", "optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    loaded = optuna.load_study(study_name=study, storage=_storage(Path(journal)))
    return optuna.trial.Trial(loaded, trial_id)


def check_method(method: str, n_trials: int | None, metric: str | None) -> None:
    """A SweepError when ``method`` cannot run as asked."""
    if method not in ("grid", "random", "optuna"):
        raise SweepError(f"unknown sweep method {method!r}; use grid, random or optuna")
    if method != "grid" and (n_trials is None or n_trials < 1):
        raise SweepError(f"a {method} sweep needs a number of trials, e.g. n_trials=20 "
                         f"(--{method} 20)")  # fmt: skip
    if method == "optuna" and not metric:
        raise SweepError("an optuna sweep optimises a metric: give metric='val_loss' (--metric)")
    if method == "optuna":
        optional("optuna", "nbtrack sweep --optuna", "optuna")  # before the sweep run starts
