"""Merging small segments into larger ones while other processes keep reading and writing.

A compacted segment ``c-<id>.parquet`` carries, in its Parquet metadata, the names of the
segments it replaces (and, transitively, what those replaced). Readers hide replaced segments
as soon as the compacted one is visible, so no reader sees a row twice; the replaced files are
deleted afterwards, and a reader that listed one of them just before lists again. One
compaction runs at a time per store (an ``flock`` on ``segments/.compact.lock``). ``compact()``
then writes a run snapshot, which new processes read instead of the segments.
"""

from __future__ import annotations

import os
import secrets
import warnings
from pathlib import Path

from ..errors import StoreWarning
from .layout import COMPACTED_PREFIX, Layout, store_error
from .schema import TABLES, arrow_schema
from .segments import write_segment
from .snapshots import remove_old, write_snapshot

# Segments at least this large are left alone: merging them gains little and costs a rewrite.
LARGE_SEGMENT_BYTES = 64 << 20
# Sorting metric points by run, key and step lets readers skip row groups of other runs.
SORT_KEYS = {"metrics": ["run_id", "key", "step"]}


def compact_table(layout: Layout, table: str, files: list[str]) -> str | None:
    """Merge ``files`` (visible segments of ``table``) into one; returns its path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts, merged = [], []
    for path in files:
        try:
            parts.append(pq.read_table(layout.local([path])[0]).cast(arrow_schema(table)))
            merged.append(path)
        except FileNotFoundError:
            continue
        except Exception as err:  # corrupt or foreign: leave it where it is
            warnings.warn(f"compaction skips {path}: {err}", StoreWarning, stacklevel=3)
    if len(merged) < 2:
        return None
    data = pa.concat_tables(parts)
    if table in SORT_KEYS:
        data = data.sort_by([(k, "ascending") for k in SORT_KEYS[table]])
    directory = layout.table_dir(table)
    replaces = set()
    for path in merged:
        name = Path(path).name
        replaces.add(name)
        if name.startswith(COMPACTED_PREFIX):
            # keep the closure: a leftover older input must stay hidden after this one is gone
            replaces |= layout.replaced_by(Path(path)) & layout.segment_names(table)
    final = directory / f"{COMPACTED_PREFIX}{secrets.token_hex(8)}.parquet"
    layout.publish([(write_segment(final, data, sorted(replaces)), final)])
    layout.remove(merged)
    return str(final)


def _remove_replaced(layout: Layout, table: str) -> None:
    """Delete segments a compacted segment replaces (left over by an interrupted compaction)."""
    directory = layout.table_dir(table)
    names = layout.segment_names(table)
    for name in names:
        if name.startswith(COMPACTED_PREFIX):
            layout.remove(directory / old for old in layout.replaced_by(directory / name) & names)


def compact(store: str | os.PathLike[str] | None = None, wait: bool = True) -> dict[str, int]:
    """Merge each table's small segments into one, safely while others read and write.

    Returns how many segments were merged per table. Queries get faster when a store holds
    many small segments (each writing process adds one per table per second of logging).

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> for i in range(3):
    ...     with nbtrack.run() as run:
    ...         run.log(acc=i)
    ...     nbtrack.flush()
    >>> nbtrack.compact()["metrics"]
    3
    """
    from . import get_store

    return compact_segments(get_store(store).layout, wait, snapshot=True)


def compact_segments(
    layout: Layout, wait: bool = True, prefix: str = "", snapshot: bool = False
) -> dict[str, int]:
    """Merge the small segments whose names start with ``prefix``; counts per table. With
    ``snapshot``, then write a run snapshot of the store (see :mod:`nbtrack.store.snapshots`)."""
    merged = dict.fromkeys(TABLES, 0)
    if not layout.exists():
        return merged
    layout.check_format()
    try:
        with layout.lock(".compact.lock", f"compact the store at {layout.root}", wait) as locked:
            if not locked:
                return merged
            for table in TABLES:
                _remove_replaced(layout, table)
                small = [
                    f for f in layout.list_segments(table)
                    if prefix in Path(f).name and layout.size(f) < LARGE_SEGMENT_BYTES
                ]  # fmt: skip
                if len(small) >= 2 and compact_table(layout, table, small):
                    merged[table] = len(small)
            if snapshot and write_snapshot(layout):
                remove_old(layout)
    except OSError as err:
        raise store_error(f"compact the store at {layout.root}", err) from err
    return merged
