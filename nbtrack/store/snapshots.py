"""Run snapshots: the state of every run as a few Parquet files, so a new process starts fast.

Compaction writes one after merging (see :func:`write_snapshot`)::

    <root>/snapshots/<id>.events.parquet          per run, the events its state comes from
    <root>/snapshots/<id>.params.parquet          one row per run and param: its current value
    <root>/snapshots/<id>.tags.parquet            one row per run and tag
    <root>/snapshots/<id>.latest_metrics.parquet  one row per run and metric: last, min, max, count
    <root>/snapshots/<id>.metric_segments.parquet which metric segments hold each run's points
    <root>/snapshots/<id>.keys.parquet            which keys the runs of each experiment have
    <root>/snapshots/<id>.runs.parquet            one row per run: what ``search`` shows of it,
                                                  its raw state, a column per key (up to
                                                  1,000 keys), and (in the Parquet metadata)
                                                  the segments the snapshot was built from

These are the tables a query reads (the ``runs``, ``params``, ``tags`` and ``latest_metrics``
views of ``nbtrack.sql``), written by DuckDB as plain Parquet, so any engine reads them too.
The ``runs`` file is published last and names the segments of the ``runs``, ``events``,
``params``, ``tags`` and ``metrics`` tables that the snapshot reflects. A reader whose listing of
those tables is exactly that answers queries from the snapshot's files, with no segment read and
nothing aggregated; a run's ``running`` state is still checked against its writer's heartbeat.
Once anything newer appears (another process logs, or this one does), the reader loads the
segments as usual. Older snapshots are removed; the newest two are kept, so that a reader still
reading the previous one finds it.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .layout import Layout

if TYPE_CHECKING:
    import duckdb

# The tables whose state a snapshot holds (the other tables are small and always loaded).
COVERED = ("runs", "events", "params", "tags", "metrics")
# The files of a snapshot, published in this order (``runs``, which names its segments, last).
PARTS = ("events", "params", "tags", "latest_metrics", "metric_segments", "keys", "runs")
COVERS_KEY = "nbtrack.covers"
FOLDER = "snapshots"
KEEP = 2


@dataclass(frozen=True)
class RunSnapshot:
    """One published snapshot: its files by part, and the segment names per covered table."""

    id: str
    files: dict[str, Path]
    covers: dict[str, list[str]]

    def matches(self, listing: dict[str, list[str]]) -> bool:
        """Whether ``listing`` (visible segment paths per table) is what it was built from."""
        return all(
            sorted(os.path.basename(f) for f in listing[t]) == self.covers.get(t) for t in COVERED
        )

    def covered(self, layout: Layout, table: str) -> set[str]:
        """The paths (as the layout lists them) of the segments of ``table`` it covers."""
        directory = layout.table_dir(table)
        return {str(directory / name) for name in self.covers[table]}

    def within(self, listing: dict[str, list[str]]) -> bool:
        """Whether every segment it was built from is in ``listing`` (newer ones may be too)."""
        return all(
            set(self.covers.get(t, ())) <= {os.path.basename(f) for f in listing[t]}
            for t in COVERED
        )


def new_id() -> str:
    """A snapshot id; later ids sort after earlier ones."""
    return f"s{time.time_ns():020d}-{secrets.token_hex(4)}"


def written_at(snapshot_id: str) -> float:
    """When snapshot ``snapshot_id`` was started (epoch seconds; see :func:`new_id`).

    >>> abs(written_at(new_id()) - time.time()) < 60
    True
    """
    return int(snapshot_id[1:].partition("-")[0]) / 1e9


def _names(layout: Layout) -> list[str]:
    """The names of the files in the store's snapshots folder (through the layout: a bucket
    lists its keys)."""
    return [
        name
        for name in (path.rpartition("/")[2] for path in layout.files(FOLDER))
        if not name.startswith(".")
    ]


def published(layout: Layout) -> list[str]:
    """Ids of the complete snapshots in the store, oldest first."""
    names = set(_names(layout))
    ids = {n.split(".", 1)[0] for n in names if n.endswith(".runs.parquet")}
    return sorted(i for i in ids if all(f"{i}.{part}.parquet" in names for part in PARTS))


def newest(layout: Layout, con: duckdb.DuckDBPyConnection) -> RunSnapshot | None:
    """The newest complete snapshot, its files local (a bucket downloads them), read with
    ``con`` (None: none, or unreadable)."""
    import duckdb

    ids = published(layout)
    if not ids:
        return None
    try:
        files = {part: layout.fetch(f"{FOLDER}/{ids[-1]}.{part}.parquet") for part in PARTS}
    except FileNotFoundError:
        return None  # removed meanwhile: the reader loads the segments this time
    try:
        rows = con.execute(
            "SELECT value FROM parquet_kv_metadata(?) WHERE key = ?",
            [str(files["runs"]), COVERS_KEY.encode()],
        ).fetchall()
        covers = json.loads(rows[0][0]) if rows else None
    except (duckdb.Error, ValueError):
        return None  # removed meanwhile, or damaged: the reader loads the segments instead
    if not isinstance(covers, dict):
        return None
    return RunSnapshot(ids[-1], files, covers)


def write_snapshot(layout: Layout) -> str | None:
    """Write a snapshot of the store as it is now (skipped when the newest one is still
    current, or there are no runs); returns its id. Call it under the compaction lock. Its
    reader keeps what it loads in a scratch folder, not in memory."""
    from .reader import Reader

    with layout.scratch("snapshot") as spill:
        reader = Reader(layout, lambda: None, spill)
        try:
            return reader.write_snapshot(new_id())
        finally:
            reader.close()


def remove_old(layout: Layout) -> None:
    """Delete all but the newest :data:`KEEP` snapshots, the files of unfinished ones, and the
    hidden files a writing process killed midway left."""
    keep = set(published(layout)[-KEEP:])
    layout.remove(layout.snapshots / n for n in _names(layout) if n.split(".", 1)[0] not in keep)
    layout.remove_leftovers(layout.snapshots, ".*.tmp")  # (hidden files are local, bucket or not)
