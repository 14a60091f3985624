"""What every nbtrack widget shares: the bundled front end, live refresh, JSON-safe values."""

from __future__ import annotations

import atexit
import math
import threading
import weakref
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import NbtrackError

STATIC = Path(__file__).resolve().parent.parent / "static"
# Live widgets look for store changes this often; an unchanged store costs a folder listing.
LIVE_POLL_S = 1.0
# Metrics whose name says "lower is better": their best run is the one with the lowest value.
LOWER_IS_BETTER = ("loss", "error", "err", "mse", "mae", "rmse", "perplexity", "time")


def bundle(name: str) -> Path:
    """The built front end file ``name`` (raises when the front end was not built)."""
    path = STATIC / name
    if not path.exists():
        raise NbtrackError(
            f"nbtrack's widget front end is missing ({path}); install nbtrack with pip, which "
            "builds it, or run `npm install && npm run build` in the js/ folder"
        )
    return path


def with_fallbacks(result: Any, html_text: str | None = None, png: bytes | None = None) -> Any:
    """A widget's mimebundle plus static views that a notebook opened without a kernel shows
    (GitHub, nbviewer): an HTML table and/or a PNG image."""
    import base64

    bundle_, metadata = (dict(result[0]), result[1]) if isinstance(result, tuple) else (
        dict(result or {}), None)  # fmt: skip
    if html_text is not None:
        bundle_["text/html"] = html_text
    if png is not None:
        bundle_["image/png"] = base64.b64encode(png).decode()
    return (bundle_, metadata) if metadata is not None else bundle_


def higher_is_better(key: str) -> bool:
    """Whether a bigger value of metric ``key`` is better, judged by its name.

    >>> higher_is_better("val_acc"), higher_is_better("val_loss")
    (True, False)
    """
    return not any(word in key.lower() for word in LOWER_IS_BETTER)


def json_value(value: Any) -> Any:
    """A value as the front end can take it: numbers, strings, booleans, None."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else (value if math.isfinite(value) else str(value))
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    item = getattr(value, "item", None)  # numpy and pandas scalars
    if callable(item):
        return json_value(item())
    if getattr(value, "isoformat", None):
        return value.isoformat()
    return str(value)


_stop = threading.Event()
_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


@atexit.register
def _stop_following() -> None:
    """Let live threads finish their query before the interpreter (and DuckDB) goes away."""
    _stop.set()
    for thread in list(_threads):
        thread.join(timeout=2)


def follow_store(widget: Any) -> threading.Thread:
    """Call ``widget.refresh()`` whenever the store changes, until the widget is closed or
    garbage-collected (the thread holds only a weak reference to it), or another store is
    chosen."""
    from ..store import get_store

    reader = get_store().reader
    target = weakref.ref(widget)
    seen = reader.generation

    def loop() -> None:
        nonlocal seen
        while not _stop.wait(LIVE_POLL_S):
            owner = target()
            if owner is None or getattr(owner, "comm", None) is None:
                return
            if get_store().reader is not reader:  # nbtrack.set_store() chose another store
                return
            try:
                reader.refresh()
                if reader.generation != seen:
                    seen = reader.generation
                    owner.refresh()
            except NbtrackError:  # e.g. a run deleted meanwhile: try again at the next change
                continue
            finally:
                del owner

    thread = threading.Thread(target=loop, name="nbtrack-live-widget", daemon=True)
    _threads.add(thread)
    thread.start()
    return thread
