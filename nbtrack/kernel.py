"""Inside a Jupyter kernel: finding its shell, and importing in the background, while the user
writes the next cell, what the kernel's first table, plot or comparison needs (0.2 s of it).

``$NBTRACK_WARM_UP=0`` turns the background import off.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Sequence
from importlib import import_module
from typing import Any

# What a first widget imports besides nbtrack. Third-party modules only: they never import
# nbtrack, so the thread and the user's cell cannot each wait on a module the other holds.
WIDGET_DEPENDENCIES = ("duckdb", "numpy", "anywidget")


def shell() -> Any:
    """The IPython shell of the Jupyter kernel this code runs in (None elsewhere, a terminal
    IPython included)."""
    ipython = sys.modules.get("IPython")
    found = ipython.get_ipython() if ipython is not None else None  # type: ignore[attr-defined]
    return found if getattr(found, "kernel", None) is not None else None


def warm_up(modules: Sequence[str] = WIDGET_DEPENDENCIES) -> threading.Thread | None:
    """In a kernel, import ``modules`` in a daemon thread (nothing elsewhere, nor when
    ``$NBTRACK_WARM_UP`` is 0). A module that fails to import is left for the cell that
    needs it, which then says why.

    >>> warm_up() is None  # (not in a kernel)
    True
    """
    if shell() is None or os.environ.get("NBTRACK_WARM_UP", "").strip() in ("0", "false"):
        return None

    def run() -> None:
        for name in modules:
            with contextlib.suppress(Exception):
                import_module(name)

    thread = threading.Thread(target=run, name="nbtrack-warm-up", daemon=True)
    thread.start()
    return thread
