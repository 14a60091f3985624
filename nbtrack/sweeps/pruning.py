"""What a sweep trial reports while it runs: its metric, to the pruner.

A :class:`Watch` sees every value the trial logs (``Run._watch``, inherited by runs started
inside the trial). It keeps the last value of the sweep's metric, and under ``--optuna`` reports
each to the Optuna trial; when the median pruner says stop, the ``nbtrack.log`` call that logged
the value raises :class:`TrialPruned`, which ends the trial early. A trial in another process (a
notebook's kernel, a script) gets its watch through ``$NBTRACK_TRIAL``.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any

from ..errors import NbtrackWarning, TrialPruned

TRIAL = "NBTRACK_TRIAL"


class Watch:
    """The last value of ``metric`` a trial logged, and the Optuna trial it reports to."""

    def __init__(self, metric: str | None, trial: Any = None, spec: dict[str, Any] | None = None):
        self.metric = metric
        self.trial = trial
        self.spec = spec  # how a process the trial runs in rebuilds this watch
        self.last: float | None = None
        self._warned = False

    def __call__(self, key: str, value: float, step: int) -> None:
        if key != self.metric:
            return
        self.last = value
        if self.trial is None:
            return
        try:
            self.trial.report(value, step)
            prune = self.trial.should_prune()
        except Exception as err:  # the pruner's problem must not end the trial
            if not self._warned:
                self._warned = True
                warnings.warn(f"nbtrack could not report {key} to the pruner: {err}",
                              NbtrackWarning, stacklevel=3)  # fmt: skip
            return
        if prune:
            raise TrialPruned(f"pruned at step {step}: {key}={value:.6g} (median pruner)")

    def environ(self) -> dict[str, str]:
        """The variable that gives a process running the trial this watch."""
        spec = self.spec or {"metric": self.metric}
        return {TRIAL: json.dumps(spec)}

    @classmethod
    def from_environ(cls) -> Watch | None:
        """The watch ``$NBTRACK_TRIAL`` describes, or None."""
        raw = os.environ.get(TRIAL)
        return cls.from_spec(json.loads(raw)) if raw else None

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Watch:
        """The watch :meth:`environ` described, its Optuna trial opened in this process."""
        trial = None
        if spec.get("journal"):
            from .samplers import open_trial

            trial = open_trial(spec["journal"], spec["study"], spec["trial_id"])
        return cls(spec.get("metric"), trial, spec)
