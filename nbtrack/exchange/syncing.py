"""Copying what one store lacks from another, in either direction between a folder and a bucket
(log locally, publish later): segments, artifacts and registered models' files.

Segments keep their names, so a segment copied twice is copied once, and compacted segments
keep hiding what they replace on the other side. One case needs more: a compacted segment of
the source whose inputs the destination already holds inside a compacted segment of its own
(both sides compacted since the last sync). Its rows are then copied less those the
destination already has, as a segment named ``s-<its name>``, which later syncs recognise.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..locations import StoreURL, parse_location
from ..store import get_store, make_layout
from ..store.duck import to_arrow
from ..store.layout import COMPACTED_PREFIX, Layout, write_hidden
from ..store.schema import COLUMNS, PUBLISH_ORDER, arrow_schema
from ..store.segments import write_segment

# Folders of files other than segments that a copy of a store carries.
FILE_FOLDERS = ("artifacts", "registry")
SYNCED_PREFIX = "s-"


def sync(
    source: str | os.PathLike[str] | StoreURL, destination: str | os.PathLike[str] | StoreURL
) -> dict[str, int]:
    """Copy into the store at ``destination`` what it lacks of the store at ``source`` (each a
    folder or an ``s3://`` bucket); returns how many segments and files were copied. Running it
    again copies only what is new.

    >>> import nbtrack, tempfile
    >>> mine, shared = tempfile.mkdtemp(), tempfile.mkdtemp()  # shared: s3://bucket/runs, say
    >>> nbtrack.set_store(mine)
    >>> with nbtrack.run() as run:
    ...     run.log(acc=0.9)
    >>> nbtrack.flush()
    >>> nbtrack.sync(mine, shared)
    {'segments': 3, 'files': 0}
    >>> nbtrack.sync(mine, shared)
    {'segments': 0, 'files': 0}
    """
    src, dst = (_layout(parse_location(where)) for where in (source, destination))
    if not src.exists():
        raise StoreError(f"no nbtrack store at {src.name} to copy from; check the path or URL")
    src.check_format()
    dst.create()
    copied = {"segments": 0, "files": 0}
    with dst.lock(".import.lock", f"copy runs into the nbtrack store at {dst.name}"):
        for table in PUBLISH_ORDER:  # (a reader that sees a run's end sees its data)
            copied["segments"] += _sync_table(src, dst, table)
        for folder in FILE_FOLDERS:
            have = dst.files(folder)
            for path, size in sorted(src.files(folder).items()):
                if have.get(path) != size:
                    dst.put(path, src.fetch(path))
                    copied["files"] += 1
    return copied


def _layout(location: Path | StoreURL) -> Layout:
    """The layout this process already uses for ``location``, else a new one."""
    return get_store(location).layout if _is_open(location) else make_layout(location)


def _is_open(location: Path | StoreURL) -> bool:
    from ..store import open_stores

    return any(store.location == location for store in open_stores())


def _sync_table(src: Layout, dst: Layout, table: str) -> int:
    names = dst.segment_names(table)
    directory = dst.table_dir(table)
    hidden = set().union(*(dst.replaced_by(directory / n) for n in names
                           if n.startswith(COMPACTED_PREFIX)))  # fmt: skip
    has = names | hidden
    copied = 0
    for path in src.list_segments(table):
        name = Path(path).name
        if name in has or SYNCED_PREFIX + name in has:
            continue
        local = Path(src.local([path])[0])
        inputs = src.replaced_by(Path(path)) if name.startswith(COMPACTED_PREFIX) else set()
        if inputs and inputs <= has:
            continue  # every row of it is there already
        if inputs & hidden:  # partly there, inside a compacted segment of the destination
            final = directory / f"{SYNCED_PREFIX}{name}"
            written = write_segment(final, _rows_not_in(local, dst, table))
        else:
            final = directory / name
            data = local.read_bytes()
            written = write_hidden(final, lambda f: f.write(data))  # noqa: B023 (used at once)
        dst.publish([(written, final)])
        copied += 1
    return copied


def _rows_not_in(segment: Path, dst: Layout, table: str) -> Any:  # -> pyarrow.Table
    """The rows of ``segment`` that the destination's segments of ``table`` do not hold."""
    import duckdb
    import pyarrow.parquet as pq

    cols = ", ".join(f'"{c}"' for c in COLUMNS[table])
    ours = dst.local(dst.list_segments(table))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    incoming = pq.read_table(segment).select(list(COLUMNS[table]))
    con.register("incoming", incoming)
    theirs = f"SELECT {cols} FROM read_parquet(?, union_by_name=true)"
    if "run_id" in COLUMNS[table]:
        theirs += " WHERE run_id IN (SELECT run_id FROM incoming)"
    sql = f"SELECT {cols} FROM incoming EXCEPT ALL {theirs}" if ours else "FROM incoming"
    return to_arrow(con.sql(sql, params=[ours] if ours else None)).cast(arrow_schema(table))
