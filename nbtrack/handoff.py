"""A run started by one process and carried on by the process it launches.

``nbtrack run`` and sweeps start a run, then execute a notebook in a new kernel or a script in a
new process. They hand the run over through environment variables (:func:`environ`); in the
launched process :func:`attached` is that run, so ``nbtrack.log(...)`` needs no ``with`` block,
``%%track`` cells and ``nbtrack.run()`` blocks nest under it, and :func:`params` returns the
parameters it was given, typed. The launcher ends the run with the outcome it saw.

>>> import os, nbtrack, tempfile
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> os.environ.update(environ("a1b2c3d4e5", "trial-1", "sweep", {"lr": 0.01, "layers": [64, 64]}))
>>> params(lr=0.1, depth=3)
{'lr': 0.01, 'depth': 3, 'layers': [64, 64]}
>>> nbtrack.active_run()
<Run 'trial-1' id=a1b2c3d4e5 experiment='sweep' running>
>>> for key in ("NBTRACK_RUN_ID", "NBTRACK_RUN_NAME", "NBTRACK_EXPERIMENT", "NBTRACK_PARAMS"):
...     del os.environ[key]
>>> forget()
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tracking import Run

RUN_ID = "NBTRACK_RUN_ID"
RUN_NAME = "NBTRACK_RUN_NAME"
EXPERIMENT = "NBTRACK_EXPERIMENT"
PARAMS = "NBTRACK_PARAMS"

_attached: tuple[str, Run] | None = None  # (run id, the run), built on first use


def environ(
    run_id: str, name: str, experiment: str, params: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The variables that hand run ``run_id`` (and its ``params``) to a launched process."""
    return {
        RUN_ID: run_id,
        RUN_NAME: name,
        EXPERIMENT: experiment,
        PARAMS: json.dumps(dict(params or {}), default=str),
    }


def attached() -> Run | None:
    """The run this process was launched to carry on, or None."""
    global _attached
    run_id = os.environ.get(RUN_ID)
    if not run_id:
        return None
    if _attached is None or _attached[0] != run_id:
        from .store import get_store
        from .tracking import Run

        store = get_store()
        store.writer.start()
        name = os.environ.get(RUN_NAME) or run_id
        experiment = os.environ.get(EXPERIMENT) or "default"
        run = Run.borrowed(store, run_id, name, experiment)
        if os.environ.get("NBTRACK_TRIAL"):  # a sweep's trial: its metric goes to the pruner
            from .sweeps.pruning import Watch

            run._watch = Watch.from_environ()
        _attached = (run_id, run)
    return _attached[1]


def forget() -> None:
    """Drop the attached run (the launcher ended it, or the variables changed)."""
    global _attached
    _attached = None


def params(**defaults: Any) -> dict[str, Any]:
    """The parameters this notebook or script was run with (``nbtrack run … -p lr=0.01``, a
    sweep's trial), typed, over ``defaults``: ``nbtrack.params(lr=0.1, depth=3)`` returns the
    defaults when the code runs on its own and the given values when it is launched.

    >>> import nbtrack
    >>> nbtrack.params(lr=0.1)
    {'lr': 0.1}
    """
    raw = os.environ.get(PARAMS)
    given = json.loads(raw) if raw else {}
    return {**defaults, **given}
