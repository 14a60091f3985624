"""W&B's tracking API on nbtrack: run W&B notebook code by changing only its import.

::

    import nbtrack.wandb as wandb      # instead of: import wandb

    wandb.login()                      # True at once: no server, no network
    run = wandb.init(project="mnist", config={"lr": 1e-3, "epochs": 5}, tags=["baseline"])
    wandb.define_metric("val/acc", step_metric="epoch", summary="max")
    for epoch in range(wandb.config.epochs):
        for batch in range(100):
            wandb.log({"train/loss": loss})
        wandb.log({"epoch": epoch, "val/acc": acc, "samples": wandb.Image(array)})
    wandb.summary["best_acc"] = best
    wandb.finish()

How W&B's notions land in nbtrack:

* ``project`` is the experiment, ``config`` the params (changes after ``init`` too),
  ``tags``, ``group``, ``notes``, ``job_type`` are tags (see :func:`init`);
* ``wandb.log`` keeps W&B's steps (one ``_step`` per run for all keys, ``commit=False``,
  ``step=``; see :mod:`nbtrack.wandb._run`): each metric's nbtrack step is its ``_step``;
  nested dicts give ``a/b`` keys; ``wandb.Image`` and ``wandb.Table`` values are stored as
  artifacts (``media/images/<key>_<step>.png``, ``media/tables/<key>_<step>.parquet``);
* ``wandb.summary`` values set by the code are the tags ``wandb.summary.<key>``;
  ``define_metric(summary=...)`` modes are the tags ``wandb.summary.<key>.<mode>``;
* ``wandb.finish(exit_code)`` ends the run ``finished`` (0) or ``failed``; a ``with`` block
  ends it as nbtrack's own runs end (``failed`` on an exception);
* ``wandb.save``, ``wandb.log_artifact`` and ``wandb.Artifact`` copy files into the run's
  artifacts, as do files written to ``wandb.run.dir``.

What W&B has and nbtrack does not (``wandb.watch``, sweeps, the public ``Api``, other media)
raises :class:`~nbtrack.wandb.errors.NotSupportedError` naming the nbtrack way. Importing
this module does not import the wandb package.

>>> import nbtrack, nbtrack.wandb as wandb, tempfile
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> run = wandb.init(project="demo", config={"lr": 0.1})
>>> wandb.log({"loss": 0.5})
>>> wandb.log({"acc": 0.7}, commit=False)
>>> wandb.log({"loss": 0.4})
>>> wandb.finish()
>>> nbtrack.history(run.id)[["key", "step", "value"]].values.tolist()
[['acc', 1, 0.7], ['loss', 0, 0.5], ['loss', 1, 0.4]]
"""

from __future__ import annotations

from typing import Any

from . import errors
from ._artifacts import Artifact
from ._media import Image, Table
from ._run import Run
from ._session import (
    Settings,
    define_metric,
    finish,
    init,
    log,
    log_artifact,
    login,
    save,
    watch,
)
from ._unsupported import TOP_LEVEL, module_getattr
from .errors import Error

__all__ = [
    "Artifact",
    "Error",
    "Image",
    "Run",
    "Settings",
    "Table",
    "config",
    "define_metric",
    "errors",
    "finish",
    "init",
    "log",
    "log_artifact",
    "login",
    "run",
    "save",
    "summary",
    "watch",
]

_missing = module_getattr(__name__, TOP_LEVEL)


class _BeforeInit:
    """``wandb.config`` / ``wandb.summary`` before ``wandb.init``: any use says to call it."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise errors.UsageError(f"You must call wandb.init() before using wandb.{self._name}")

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return self._refuse()

    __setattr__ = __getitem__ = __setitem__ = __contains__ = __iter__ = __len__ = _refuse

    def __repr__(self) -> str:
        return f"<wandb.{self._name}: no run (call wandb.init() first)>"


def __getattr__(name: str) -> Any:
    # wandb.run, wandb.config and wandb.summary follow the global run, as in W&B.
    if name in ("run", "config", "summary"):
        from ._session import current

        run = current()
        if name == "run":
            return run
        return getattr(run, name) if run is not None else _BeforeInit(name)
    return _missing(name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
