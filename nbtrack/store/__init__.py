"""The embedded store: a folder (or a bucket) of immutable Parquet segments, one writer each,
read with DuckDB."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import settings
from ..locations import Location, StoreURL, parse_location
from .layout import Layout
from .writer import Writer

if TYPE_CHECKING:
    from .reader import Reader


_inherited: list[object] = []  # readers a forked child inherited, never touched


class Store:
    """One store (a folder or a bucket), with this process's writer and reader for it (both
    created lazily)."""

    def __init__(self, location: Location) -> None:
        self.location = location
        self.layout = make_layout(location)
        self._writer: Writer | None = None
        self._reader: Reader | None = None
        self._lock = threading.Lock()

    def after_fork(self) -> None:
        self._lock = threading.Lock()
        # A DuckDB connection must not cross a fork, nor be closed in the child (its threads
        # did not cross: closing it there crashes the process). The child keeps it, unused.
        if self._reader is not None:
            _inherited.append(self._reader)
        self._reader = None
        if self._writer is not None:
            self._writer.after_fork()

    @property
    def root(self) -> Path:
        """The store folder (for a bucket: this machine's cache of it; see ``location``)."""
        return self.layout.root

    @property
    def writer(self) -> Writer:
        with self._lock:
            if self._writer is None:
                self._writer = Writer(self.layout, settings)
            return self._writer

    def has_writer(self) -> bool:
        return self._writer is not None

    @property
    def reader(self) -> Reader:  # imported lazily: it needs DuckDB
        with self._lock:
            if self._reader is None:
                from .reader import Reader

                self._reader = Reader(self.layout, lambda: self._writer)
            return self._reader


def make_layout(location: Location) -> Layout:
    """The file-system seam of a store: a folder's :class:`Layout`, or a bucket's
    :class:`~nbtrack.store.objects.ObjectLayout`."""
    if isinstance(location, StoreURL):
        from .objects import ObjectLayout

        return ObjectLayout(location)
    return Layout(location)


_stores: dict[Location, Store] = {}
_stores_lock = threading.Lock()


def get_store(path: os.PathLike[str] | str | StoreURL | None = None) -> Store:
    """The :class:`Store` at ``path`` (default: the configured store), one per folder or
    bucket."""
    root = parse_location(path) if path is not None else settings.store_path()
    with _stores_lock:
        store = _stores.get(root)
        if store is None:
            store = _stores[root] = Store(root)
        return store


def open_stores() -> list[Store]:
    with _stores_lock:
        return list(_stores.values())


_held_for_fork: list[Writer] = []


def _before_fork() -> None:
    """No fork in the middle of a flush: the child would inherit the locks it holds."""
    for store in open_stores():
        writer = store._writer
        if writer is not None and writer.hold_for_fork():
            _held_for_fork.append(writer)


def _after_fork_in_parent() -> None:
    while _held_for_fork:
        _held_for_fork.pop().release_after_fork()


def _after_fork_in_child() -> None:
    global _stores_lock
    _held_for_fork.clear()  # (the child's writers start afresh)
    _stores_lock = threading.Lock()
    for store in _stores.values():
        store.after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
