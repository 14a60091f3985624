"""Inside a Jupyter kernel: finding its shell, and importing in the background, while the user
writes the next cell, what the kernel's first table, plot or comparison needs (0.2 s of it).

``$NBTRACK_WARM_UP=0`` turns the background import off.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings
from collections.abc import Sequence
from importlib import import_module
from typing import Any

from .config import _env_switch
from .errors import NbtrackWarning

# What a first widget imports besides nbtrack. Third-party modules only: they never import
# nbtrack, so the thread and the user's cell cannot each wait on a module the other holds.
WIDGET_DEPENDENCIES = ("duckdb", "anywidget", "numpy")
# Run All starts the next cell within milliseconds of the one before: the imports wait this
# long for one, so as not to slow it down.
QUIET_S = 0.2


def shell() -> Any:
    """The IPython shell of the Jupyter kernel this code runs in (None elsewhere, a terminal
    IPython included)."""
    ipython = sys.modules.get("IPython")
    found = ipython.get_ipython() if ipython is not None else None  # type: ignore[attr-defined]
    return found if getattr(found, "kernel", None) is not None else None


def warm_up(modules: Sequence[str] = WIDGET_DEPENDENCIES) -> bool:
    """In a kernel, once the running cell has ended and no other has started for ``QUIET_S``,
    import ``modules`` in a daemon thread, one after the other until the next cell starts:
    that cell imports what it needs itself, and a module it does not need would only slow it
    down. Nothing elsewhere, nor when ``$NBTRACK_WARM_UP`` is 0; returns whether it is
    arranged. A module that fails to import is left for the cell that needs it, which then
    says why.

    >>> warm_up()  # (not in a kernel)
    False
    """
    kernel_shell = shell()
    if kernel_shell is None:
        return False
    try:
        if not _env_switch("NBTRACK_WARM_UP", default=True):
            return False
    except ValueError as err:  # (importing nbtrack must not fail for it)
        warnings.warn(f"{err}; nbtrack's background import stays off", NbtrackWarning,
                      stacklevel=2)  # fmt: skip
        return False
    events = kernel_shell.events
    next_cell = threading.Event()

    def run() -> None:
        if next_cell.wait(QUIET_S):
            return
        for name in modules:
            if next_cell.is_set():
                return
            with contextlib.suppress(Exception):
                import_module(name)

    def warm_up_after_cell(*_: Any) -> None:
        events.unregister("post_run_cell", warm_up_after_cell)
        threading.Thread(target=run, name="nbtrack-warm-up", daemon=True).start()

    def warm_up_until_cell(*_: Any) -> None:
        events.unregister("pre_run_cell", warm_up_until_cell)
        next_cell.set()

    events.register("post_run_cell", warm_up_after_cell)
    events.register("pre_run_cell", warm_up_until_cell)
    return True
