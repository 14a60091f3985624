"""Exceptions and warnings raised by nbtrack.

Every message says what is wrong and what to do about it::

    NbtrackError                      base of everything nbtrack raises
    ├── StoreError                    the store cannot be read or written
    ├── RunNotFoundError (LookupError) no run has that id
    ├── InactiveRunError              logging without an active run, or to an ended one
    ├── FilterError (ValueError)      a search filter does not parse
    ├── ModelNotFoundError (LookupError) a model URI, model or version resolves to nothing
    ├── ModelSignatureError (ValueError) input to a model does not match its signature
    ├── RegistryError                 a registry change that cannot be made (name taken, bad stage)
    ├── ProjectError (ValueError)     a notebook, script or MLproject cannot be run as asked
    │   └── SweepError                a sweep's space, method or target is not usable
    ├── RunFailedError                a launched notebook, script or project ran and failed
    └── TrialPruned                   a sweep trial the pruner stopped early (its log call raises)

    NbtrackWarning (UserWarning)
    └── StoreWarning                  a store problem that tracking survived (rows kept, retried)
"""

from __future__ import annotations


class NbtrackError(Exception):
    """Base class of every error nbtrack raises."""


class StoreError(NbtrackError):
    """The store folder cannot be created, read or written."""


class RunNotFoundError(NbtrackError, LookupError):
    """No run in the store has the given id."""


class InactiveRunError(NbtrackError):
    """There is no active run, or the run has already ended."""


class FilterError(NbtrackError, ValueError):
    """A search filter is malformed; ``position`` is the 0-based offset of the problem."""

    def __init__(self, message: str, text: str = "", position: int = 0) -> None:
        self.text = text
        self.position = position
        detail = f"\n  {text}\n  {' ' * position}^" if text else ""
        super().__init__(f"{message}{detail}")


class ModelNotFoundError(NbtrackError, LookupError):
    """A model URI, a registered model or one of its versions does not resolve; the message
    says which part did not and what exists."""


class ModelSignatureError(NbtrackError, ValueError):
    """Input to a model does not match its signature (a missing column, a wrong type)."""


class RegistryError(NbtrackError):
    """A model registry change that cannot be made (a name already taken, an unknown stage)."""


class ProjectError(NbtrackError, ValueError):
    """A notebook, script or MLproject folder cannot be run as asked (a missing or wrongly typed
    parameter, an unknown entry point, an environment that cannot be built); raised before
    anything runs."""


class SweepError(ProjectError):
    """A sweep's space, method or target is not usable (e.g. ``--grid`` over a continuous
    range)."""


class RunFailedError(NbtrackError):
    """A notebook, script or MLproject launched as a run (``nbtrack.run_notebook``,
    ``nbtrack run``) ran and failed or was stopped; ``.run`` is that run (ended, the executed
    notebook or the output kept with it) and ``.detail`` what went wrong."""

    def __init__(self, run: object, detail: str | None) -> None:
        self.run = run
        self.detail = detail or ""
        name, run_id = getattr(run, "name", "?"), getattr(run, "id", "?")
        status = getattr(run, "status", "failed")
        first = self.detail.strip().splitlines()[0] if self.detail.strip() else status
        super().__init__(
            f"run {name!r} ({run_id}) {status}: {first}; `nbtrack show {run_id}` has the rest"
        )


class TrialPruned(NbtrackError):  # Optuna's name, for the same thing
    """Raised by the logging call of a sweep trial that the pruner stops (``--optuna``): the
    trial ends early, ``interrupted`` with the reason, and the sweep goes on. Code that catches
    every exception around its training loop should let it through."""


class NbtrackWarning(UserWarning):
    """Base class of nbtrack's warnings."""


class StoreWarning(NbtrackWarning):
    """A store problem that did not stop tracking (skipped file, write retried later)."""
