"""How a registry change reaches the store: one process at a time, written at once.

Every change runs under the store's registry lock (``segments/.registry.lock``): it lists the
store afresh (so it sees every change another process made before it), checks what it is
asked to do against that state, and writes its rows straight to new segments, fsynced and
published before the lock is released. So version numbers are dense and unique per name across
processes, and any process reading after a change returns sees it.

Registry rows never wait in the process's write buffers: a change that cannot be written (a
read-only store, a full disk) raises StoreError and leaves nothing behind to be written later,
so the registry never changes behind the caller's back.

A model's times are strictly increasing in lock order (a change's time is after every time
recorded for that model, even if the clock stepped back), so the latest event of a kind is
always the last one made.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import StoreError, StoreWarning
from ..store import Store, get_store
from ..store.layout import store_error
from ..store.schema import PUBLISH_ORDER, as_row
from ..store.segments import rows_to_arrow, write_segment
from ..store.writer import HOSTNAME
from .state import ModelState, read_state

if TYPE_CHECKING:
    from ..store.reader import Snapshot

LOCK = ".registry.lock"
# Folder of the store holding model folders registered from outside it: registry/<name>/<version>/
REGISTRY_DIR = "registry"
# Registry segments are named registry-<random>.parquet: each change writes one or two small
# files, so once a table holds this many of them they are merged (in the background of nothing:
# the change that finds them does it, without waiting for another compaction).
SEGMENT_PREFIX = "registry-"
COMPACT_AT = 64
UNCHANGED = "the registry was not changed"
TABLES = ("model_versions", "registry_events")


def refused(action: str, err: OSError | StoreError) -> StoreError:
    """The StoreError of a registry change that could not be written: what, why, the fix, and
    that nothing changed.

    >>> print(refused("register model 'wine'", PermissionError(13, "Permission denied")))
    ... # doctest: +ELLIPSIS
    cannot register model 'wine': Permission denied; make it writable, ... was not changed)
    """
    if isinstance(err, StoreError):
        cause = err.__cause__
        base = store_error(action, cause) if isinstance(cause, OSError) else err
    else:
        base = store_error(action, err)
    return StoreError(f"{base} ({UNCHANGED})")


class Change:
    """One registry change being made: the store's current state (``snap``) and the rows it
    adds, written by :meth:`publish`."""

    def __init__(self, store: Store, snap: Snapshot, action: str) -> None:
        self.store = store
        self.snap = snap
        self.action = action
        self.rows: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}
        self._last = 0

    @property
    def root(self) -> Path:
        return self.store.root

    def state(self, name: str) -> ModelState:
        """Registered model ``name`` as it is now; the change's times come after every time in
        it."""
        state = read_state(self.snap, self.root, name)
        self._last = max(self._last, state.last_micros)
        return state

    def now(self) -> int:
        """A time in epoch microseconds after every time of the models read with :meth:`state`
        and every earlier call (ordering matters within one model only)."""
        self._last = max(time.time_ns() // 1000, self._last + 1)
        return self._last

    def add_version(self, **values: Any) -> None:
        """A row of ``model_versions`` (``created_at`` in epoch microseconds)."""
        self.rows["model_versions"].append({**values, "writer": f"{HOSTNAME}-{os.getpid()}"})

    def event(
        self,
        name: str,
        kind: str,
        version: int | None = None,
        key: str | None = None,
        value: str | None = None,
    ) -> int:
        """A row of ``registry_events``, timed now; returns its time (epoch microseconds)."""
        moment = self.now()
        self.rows["registry_events"].append(
            {"name": name, "version": version, "timestamp": moment, "kind": kind,
             "key": key, "value": value}
        )  # fmt: skip
        return moment

    def publish(self) -> None:
        """Write the rows as new segments and make them visible (fsynced), versions first."""
        layout = self.store.layout
        written: list[tuple[Path, Path]] = []
        tables: list[tuple[str, str, Any]] = []
        try:
            for table in PUBLISH_ORDER:
                rows = self.rows.get(table)
                if not rows:
                    continue
                tuples = [as_row(table, r) for r in rows]
                data = rows_to_arrow(table, tuples, epoch_micros=True)
                final = layout.table_dir(table) / f"{SEGMENT_PREFIX}{secrets.token_hex(8)}.parquet"
                final.parent.mkdir(parents=True, exist_ok=True)  # a store from before the registry
                written.append((write_segment(final, data), final))
                tables.append((table, str(final), tuples))
            layout.publish(written)
        except OSError as err:
            layout.discard(hidden for hidden, _ in written)
            raise refused(self.action, err) from err
        for table, path, tuples in tables:  # this process sees its change without reading it back
            self.store.reader.adopt(table, path, tuples)


@contextlib.contextmanager
def changing(action: str) -> Iterator[Change]:
    """Make a registry change (``action`` says what, for errors): under the registry lock, on
    the store as it is now; the rows added in the block are written when it ends normally,
    none when it raises."""
    store = get_store()
    layout = store.layout
    with contextlib.ExitStack() as held:
        try:
            layout.create()
            held.enter_context(layout.lock(LOCK, action))
        except StoreError as err:
            raise refused(action, err) from err
        with store.reader.snapshot() as snap:
            change = Change(store, snap, action)
            yield change
        change.publish()
    _compact_if_many(store)


def _compact_if_many(store: Store) -> None:
    """Merge the registry's small segments once there are many (skipped while another
    compaction runs; a failure only warns: the change itself is written)."""
    from ..store.compaction import compact_segments

    layout = store.layout
    try:
        count = sum(
            1 for name in os.listdir(layout.table_dir("registry_events"))
            if name.startswith(SEGMENT_PREFIX)
        )  # fmt: skip
        if count >= COMPACT_AT:
            compact_segments(layout, wait=False, prefix=SEGMENT_PREFIX)
    except (OSError, StoreError) as err:
        warnings.warn(f"could not merge the registry's segments: {err}", StoreWarning,
                      stacklevel=3)  # fmt: skip
