"""Keeping the run snapshot fresh while a store is written, so no one has to compact it.

Every :data:`~nbtrack.store.writer.AUTO_COMPACT_EVERY` flushes a writer merges its own
segments (see ``Writer.compact_own``); when the newest run snapshot (see :mod:`.snapshots`)
is then older than :data:`EVERY_S`, or there is none, it starts::

    python -m nbtrack.store.autosnapshot <store>

a process of its own, at low priority, that writes a new snapshot from the newest one and the
segments written since (or from all segments, when there is no usable snapshot), unless
another process is compacting the store, the snapshot is current, or the work would read more
than :data:`MAX_BYTES` (a store that large is snapshotted by ``nbtrack compact``). The logging
process neither waits for it nor shares its memory, and a new kernel then starts from a
snapshot at most a few minutes old. ``$NBTRACK_AUTO_SNAPSHOT=0`` turns this off.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

from ..config import _env_switch
from .layout import Layout
from .snapshots import COVERED, newest, published, remove_old, write_snapshot, written_at

# A writer starts a new snapshot when the newest one is older than this.
EVERY_S = 300.0
# ... and the process writing it skips it when it would read more than this: about 180,000
# runs of 10 params, 5 metrics and 2 tags, or 6,000,000 metric points logged since the last
# snapshot (about 15 s of a background core every few minutes, at most).
MAX_BYTES = 64 << 20
# The priority of that process (added niceness): the user's training comes first.
NICENESS = 10


def enabled() -> bool:
    """Whether writers keep the run snapshot fresh (``$NBTRACK_AUTO_SNAPSHOT``, default on)."""
    return _env_switch("NBTRACK_AUTO_SNAPSHOT", default=True)


def due(layout: Layout, now: float | None = None) -> bool:
    """Whether the store's newest snapshot is older than :data:`EVERY_S` (or there is none)."""
    ids = published(layout)
    if not ids:
        return True
    return (now if now is not None else time.time()) - written_at(ids[-1]) >= EVERY_S


def start(layout: Layout) -> subprocess.Popen[bytes]:
    """Start the process that writes a snapshot of ``layout``'s store; it runs on its own."""
    return subprocess.Popen(
        [sys.executable, "-m", __name__, layout.name],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # (a Ctrl-C meant for the user's program does not reach it)
    )


def read_bytes(layout: Layout) -> int:
    """About how many bytes writing a snapshot now reads: the newest snapshot's files and the
    segments written since, or every segment of the tables a snapshot covers."""
    import duckdb

    listing = {table: layout.list_segments(table) for table in COVERED}
    with duckdb.connect() as con:
        snap = newest(layout, con)
    if snap is not None and snap.within(listing):
        covered = {t: snap.covered(layout, t) for t in COVERED}
        newer = sum(layout.size(f) for t in COVERED for f in listing[t] if f not in covered[t])
        return newer + sum(os.path.getsize(f) for f in snap.files.values())
    return sum(layout.size(f) for t in COVERED for f in listing[t])


def refresh(layout: Layout) -> str | None:
    """Write a snapshot of the store now unless another process compacts it, it is current,
    or it would read more than :data:`MAX_BYTES`; returns its id (None: not written)."""
    with layout.lock(".compact.lock", f"snapshot the store at {layout.name}", False) as locked:
        if not locked or read_bytes(layout) > MAX_BYTES:
            return None
        written = write_snapshot(layout)
        if written:
            remove_old(layout)
        return written


def main(argv: list[str]) -> int:
    from ..locations import parse_location
    from . import make_layout

    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    layout = make_layout(parse_location(argv[0]))
    if not layout.exists():
        return 1
    layout.check_format()
    return 0 if refresh(layout) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
