"""What every nbtrack widget shares: the bundled front end, live refresh, JSON-safe values."""

from __future__ import annotations

import atexit
import json
import math
import threading
import weakref
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import NbtrackError

STATIC = Path(__file__).resolve().parent.parent / "static"
# Live widgets look for store changes this often (one thread per store, whatever the number
# of widgets); an unchanged store costs a folder listing.
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


def higher_is_better(key: str) -> bool:
    """Whether a bigger value of metric ``key`` is better, judged by its name.

    >>> higher_is_better("val_acc"), higher_is_better("val_loss")
    (True, False)
    """
    return not any(word in key.lower() for word in LOWER_IS_BETTER)


def json_buffer(value: Any, _widget: Any = None) -> memoryview:
    """``value`` (of JSON types) as compact UTF-8 JSON, for a trait the browser decodes with
    ``JSON.parse``: ipywidgets sends it as a binary buffer, untouched.

    >>> bytes(json_buffer({"runs": [1, None]}))
    b'{"runs":[1,null]}'
    """
    return memoryview(json.dumps(value, separators=(",", ":"), allow_nan=False).encode())


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
_pollers: weakref.WeakKeyDictionary[Any, _Poller] = weakref.WeakKeyDictionary()
_pollers_lock = threading.Lock()


@atexit.register
def _stop_following() -> None:
    """Let live threads finish their query before the interpreter (and DuckDB) goes away."""
    _stop.set()
    with _pollers_lock:
        threads = [p.thread for p in _pollers.values() if p.thread is not None]
    for thread in threads:
        thread.join(timeout=2)


class _Poller:
    """The one thread that watches a store for all its live widgets: every ``LIVE_POLL_S`` it
    looks for new segments (an unchanged store costs a folder listing) and, when anything
    changed, calls each widget's ``refresh()``. It ends when no open widget follows it, or when
    ``nbtrack.set_store()`` chose another store."""

    def __init__(self, reader: Any) -> None:
        self.reader = weakref.ref(reader)
        self.widgets: weakref.WeakSet[Any] = weakref.WeakSet()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def add(self, widget: Any) -> None:
        with self.lock:
            self.widgets.add(widget)
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="nbtrack-live", daemon=True)
                self.thread.start()

    def _following(self) -> list[Any]:
        """The open widgets that follow, or [] (and the thread ends) when there are none or
        the store is no longer the current one."""
        from ..store import get_store

        with self.lock:
            widgets = [w for w in self.widgets if getattr(w, "comm", None) is not None]
            if not widgets or get_store().reader is not self.reader():
                self.widgets.clear()
                self.thread = None
                return []
            return widgets

    def _loop(self) -> None:
        reader = self.reader()
        seen = reader.generation if reader is not None else 0
        del reader
        while not _stop.wait(LIVE_POLL_S):
            widgets = self._following()
            reader = self.reader()
            if not widgets or reader is None:
                return
            try:
                reader.refresh()
            except NbtrackError:  # e.g. the store folder went away: try again next time
                continue
            if reader.generation != seen:
                seen = reader.generation
                for widget in widgets:
                    try:
                        widget.refresh()
                    except NbtrackError:  # e.g. a run deleted meanwhile: at the next change
                        continue
            del widgets, reader


def follow_store(widget: Any) -> None:
    """Call ``widget.refresh()`` whenever the current store changes, until the widget is closed
    or garbage-collected (only a weak reference is kept), or another store is chosen."""
    from ..store import get_store

    reader = get_store().reader
    with _pollers_lock:
        poller = _pollers.get(reader)
        if poller is None:
            poller = _pollers[reader] = _Poller(reader)
    poller.add(widget)
