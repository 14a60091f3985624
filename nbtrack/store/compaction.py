"""Merging small segments into larger ones while other processes keep reading and writing.

A compacted segment ``c-<id>.parquet`` carries, in its Parquet metadata, the names of the
segments it replaces (and, transitively, what those replaced). Readers hide replaced segments
as soon as the compacted one is visible, so no reader sees a row twice; the replaced files are
deleted afterwards, and a reader that listed one of them just before lists again. One
compaction runs at a time per store (an ``flock`` on ``segments/.compact.lock``). DuckDB
streams the rows into the merged file (``COPY``) in bounded memory: a sort beyond
:data:`MEMORY_LIMIT` spills into a hidden folder of the store. A segment it cannot read is left
where it is, with a warning. ``compact()`` then writes a run snapshot, which new processes read
instead of the segments.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import StoreWarning
from .duck import sql_list, sql_name, sql_string
from .layout import COMPACTED_PREFIX, Layout, store_error
from .schema import COLUMNS, TABLES, duckdb_types
from .segments import copy_segment
from .snapshots import remove_old, write_snapshot

if TYPE_CHECKING:
    import duckdb

# Segments at least this large are left alone: merging them gains little and costs a rewrite.
LARGE_SEGMENT_BYTES = 64 << 20
# Sorting metric points by run, key and step lets readers skip row groups of other runs.
SORT_KEYS = {"metrics": ["run_id", "key", "step"]}
# DuckDB's memory while merging; a sort beyond it spills into a hidden folder of the store.
MEMORY_LIMIT = "512MB"


@contextlib.contextmanager
def _duckdb(layout: Layout) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection of bounded memory that spills to a hidden folder of the store."""
    import duckdb

    with layout.scratch("compact") as spill:
        con = duckdb.connect(":memory:")
        try:
            for name, value in (("TimeZone", "UTC"), ("memory_limit", MEMORY_LIMIT),
                                ("temp_directory", str(spill))):  # fmt: skip
                con.execute(f"SET {name} = {sql_string(value)}")
            yield con
        finally:
            con.close()


def _columns(con: duckdb.DuckDBPyConnection, source: str, params: list[Any]) -> set[str]:
    return {d[0] for d in con.execute(f"SELECT * FROM {source} LIMIT 0", params).description}


def _casts(table: str, present: set[str]) -> str:
    """The columns of ``table`` in order, cast to their types (NULL where no input has one)."""
    return ", ".join(
        f"CAST({sql_name(c) if c in present else 'NULL'} AS {kind}) AS {sql_name(c)}"
        for c, kind in duckdb_types(table)
    )


def _problem(con: duckdb.DuckDBPyConnection, table: str, path: str, full: bool) -> str | None:
    """Why the local segment ``path`` cannot be merged into ``table`` (None: it can), from its
    footer or, with ``full``, all its rows. FileNotFoundError: it vanished."""
    import duckdb

    try:
        names = _columns(con, "read_parquet(?)", [path])
        if names - set(COLUMNS[table]):
            return f"it has no {table} column {sorted(names - set(COLUMNS[table]))[0]!r}"
        read = f"SELECT {_casts(table, names)} FROM read_parquet(?)"
        con.execute(f"SELECT max(hash(t)) FROM ({read}) t" if full else f"{read} LIMIT 0", [path])
    except duckdb.Error as err:
        if not os.path.exists(path):
            raise FileNotFoundError(path) from err
        return str(err).splitlines()[0]
    return None


def _mergeable(
    con: duckdb.DuckDBPyConnection, layout: Layout, table: str, files: list[str], full: bool
) -> dict[str, str]:
    """Those of ``files`` that can be merged (path -> local file). A corrupt or foreign file is
    left where it is, with a warning; a vanished one is left out."""
    usable = {}
    for path in files:
        try:
            local = layout.local([path])[0]
            problem = _problem(con, table, local, full)
        except FileNotFoundError:
            continue
        if problem is None:
            usable[path] = local
        else:
            warnings.warn(f"compaction skips {path}: {problem}", StoreWarning, stacklevel=4)
    return usable


def _merge_sql(con: duckdb.DuckDBPyConnection, table: str, files: list[str]) -> str:
    """A query of the rows of ``files`` in a merged segment's order: file after file, or by
    :data:`SORT_KEYS` (ties in file order, as a stable sort leaves them). Its columns are
    nullable (as pyarrow writes them), whatever the inputs' statistics say: an empty branch
    ``FROM range(0)`` is added to the union (WHERE false would be optimized away)."""
    sort = table in SORT_KEYS
    source = (
        f"read_parquet({sql_list(files)}, union_by_name=true, filename={sort}, "
        f"file_row_number={sort})"
    )
    ties, no_ties = (", filename, file_row_number", ", NULL, NULL") if sort else ("", "")
    rows = (
        f"SELECT {_casts(table, _columns(con, source, []))}{ties} FROM {source} "
        f"UNION ALL SELECT {_casts(table, set())}{no_ties} FROM range(0)"
    )
    if not sort:
        return rows
    order = ", ".join([*map(sql_name, SORT_KEYS[table]), "filename", "file_row_number"])
    columns = ", ".join(map(sql_name, COLUMNS[table]))
    return f"SELECT {columns} FROM ({rows}) ORDER BY {order}"


def _merge(
    con: duckdb.DuckDBPyConnection, layout: Layout, table: str, usable: dict[str, str]
) -> str | None:
    """Write the merged segment of ``usable`` (see :func:`_mergeable`), publish it, and delete
    what it replaces; returns its path (None: fewer than two inputs)."""
    if len(usable) < 2:
        return None
    replaces = set()
    for path in usable:
        name = Path(path).name
        replaces.add(name)
        if name.startswith(COMPACTED_PREFIX):
            # keep the closure: a leftover older input must stay hidden after this one is gone
            replaces |= layout.replaced_by(Path(path)) & layout.segment_names(table)
    final = layout.table_dir(table) / f"{COMPACTED_PREFIX}{secrets.token_hex(8)}.parquet"
    select = _merge_sql(con, table, sorted(usable.values()))
    hidden = copy_segment(con, final, select, sorted(replaces))
    try:
        layout.publish([(hidden, final)])
    except BaseException:
        layout.discard([hidden])
        raise
    layout.remove(list(usable))
    return str(final)


def compact_table(layout: Layout, table: str, files: list[str]) -> str | None:
    """Merge ``files`` (visible segments of ``table``) into one; returns its path. DuckDB
    streams the rows into the merged file (a sort spills to disk past :data:`MEMORY_LIMIT`)."""
    import duckdb

    with _duckdb(layout) as con:
        usable = _mergeable(con, layout, table, files, full=False)
        try:
            return _merge(con, layout, table, usable)
        except duckdb.Error:  # rows that do not read behind a footer that does (or one vanished)
            return _merge(con, layout, table, _mergeable(con, layout, table, list(usable), True))


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
