"""IPython integration: ``%load_ext nbtrack`` registers ``%%track`` and ``%track``."""

from __future__ import annotations

import contextlib
from typing import Any

from . import cell as cells

_registered: dict[int, Any] = {}


def load_ipython_extension(shell: Any) -> None:
    """Register the magics, the ``%%track`` input rewrite and the cell events (idempotent)."""
    from .commands import TrackMagics

    unload_ipython_extension(shell)
    shell.register_magics(TrackMagics)
    shell.input_transformers_cleanup.append(cells.rewrite)
    post = cells.make_post_run_cell(shell)
    shell.events.register("pre_run_cell", cells.on_pre_run_cell)
    shell.events.register("post_run_cell", post)
    _registered[id(shell)] = post


def unload_ipython_extension(shell: Any) -> None:
    """Undo :func:`load_ipython_extension` (``%reload_ext`` calls both)."""
    transformers = shell.input_transformers_cleanup
    transformers[:] = [t for t in transformers if getattr(t, "__name__", "") != "rewrite"
                       or getattr(t, "__module__", "") != cells.__name__]  # fmt: skip
    post = _registered.pop(id(shell), None)
    for event, callback in (("pre_run_cell", cells.on_pre_run_cell), ("post_run_cell", post)):
        if callback is not None:
            with contextlib.suppress(ValueError):
                shell.events.unregister(event, callback)
