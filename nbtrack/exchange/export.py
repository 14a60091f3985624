"""``nbtrack.export``: runs out of the store, as one wide Parquet file or a lossless bundle."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from .._version import __version__
from ..errors import NbtrackError, StoreError
from ..store import get_store
from ..store.layout import fsync_path
from ..store.reader import RETRIES
from ..store.schema import COLUMNS
from .formats import ARTIFACTS_DIR, BUNDLE_TABLES, EXPORT_FORMAT, EXPORT_KEY, MANIFEST, stamp
from .formats import is_wide_path as _is_wide
from .wide import write_wide

# Where the reader keeps every raw row of the small tables (its cache plus unflushed rows),
# and the order rows are written in (small tables only: metric points stream unsorted).
_SOURCES = {
    "runs": ("_run_rows", "run_id"),
    "params": ("_param_rows", 'run_id, "timestamp", key'),
    "tags": ("_tag_rows", 'run_id, "timestamp", key'),
    "events": ("events", 'run_id, "timestamp", kind'),
    "artifacts": ("artifacts", 'run_id, "timestamp", path'),
}
_IDS = "_export_ids"


def export(
    path: str | os.PathLike[str],
    filter: str | None = None,
    experiment: str | Sequence[str] | None = None,
    artifacts: bool = False,
) -> int:
    """Write runs to ``path``; returns how many runs were exported.

    * ``path`` ending in ``.parquet``: one wide file, one row per run with exactly the columns
      of :func:`nbtrack.search` (deleted runs left out), for pandas, polars, DuckDB or Spark.
      A ``params.<k>`` column mixing types becomes text (lists and dicts as JSON).
    * any other ``path``: a bundle folder holding every raw row of the runs (all param and tag
      values with their times, every metric point, every event; deleted runs included) that
      :func:`nbtrack.import_runs` reads back losslessly. ``artifacts=True`` copies the runs'
      artifact files too. The folder appears only once complete; it must not exist yet (an
      empty folder is fine).

    ``filter`` and ``experiment`` select runs as in :func:`nbtrack.search`.

    >>> import nbtrack, os, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run(params={"lr": 0.1}) as run:
    ...     run.log(loss=0.5)
    >>> folder = tempfile.mkdtemp()
    >>> nbtrack.export(os.path.join(folder, "runs.parquet"))
    1
    >>> nbtrack.export(os.path.join(folder, "bundle"))
    1
    >>> sorted(os.listdir(os.path.join(folder, "bundle")))  # doctest: +NORMALIZE_WHITESPACE
    ['artifacts.parquet', 'events.parquet', 'manifest.json', 'metrics.parquet',
     'params.parquet', 'runs.parquet', 'tags.parquet']
    """
    from ..query.search import search
    from ..tracking import flush

    target = Path(path).expanduser().absolute()
    flush()  # this process's own unflushed rows go out too
    if _is_wide(target):
        frame = search(filter=filter, experiment=experiment, include_deleted=False)
        write_wide(frame, target)
        return len(frame)
    selected = search(filter=filter, experiment=experiment, include_deleted=True)
    ids = [str(i) for i in selected["run_id"]]
    selection = {"filter": filter, "experiment": experiment}
    write_bundle(target, ids, artifacts=artifacts, selection=selection)
    return len(ids)


def write_bundle(target: Path, run_ids: list[str], artifacts: bool, selection: dict) -> None:
    """Write the bundle of ``run_ids`` to ``target`` (a temporary sibling renamed at the end)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise NbtrackError(
            f"cannot export to {target}: it already exists; choose a new folder or delete it"
        )
    store = get_store()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    work.mkdir()
    try:
        rows = _copy_tables(store, run_ids, work)
        files = _copy_artifacts(store.layout.artifacts, run_ids, work) if artifacts else 0
        manifest = {
            "format": EXPORT_FORMAT,
            "kind": "bundle",
            "nbtrack": __version__,
            "exported_at": datetime.now(timezone.utc).isoformat(),
            "store": str(store.root),
            "selection": selection,
            "runs": len(run_ids),
            "rows": rows,
            "artifact_files": files if artifacts else None,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        for name in (*(f"{t}.parquet" for t in BUNDLE_TABLES), MANIFEST):
            fsync_path(work / name)
        fsync_path(work)
        os.rename(work, target)
        fsync_path(target.parent)
    except OSError as err:
        raise StoreError(
            f"cannot write the bundle {target}: {err.strerror or err}; "
            "check the folder is writable and has free space"
        ) from err
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy_tables(store, run_ids: list[str], work: Path) -> dict[str, int]:
    """COPY each table's rows of ``run_ids`` from DuckDB straight into Parquet files.

    Metric points stream from the segments that hold them into the file, never through
    Python; a segment removed by a concurrent compaction makes the whole copy start over.
    """
    reader = store.reader
    ids = pa.table({"run_id": pa.array(run_ids, type=pa.string())})
    with reader.lock:
        reader.con.register(_IDS, ids)
        try:
            for attempt in range(RETRIES):
                reader.refresh()
                try:
                    return {t: _copy(reader, t, run_ids, work) for t in BUNDLE_TABLES}
                except duckdb.IOException:
                    if attempt == RETRIES - 1:
                        raise
        finally:
            reader.con.unregister(_IDS)
    raise AssertionError("unreachable")


def _copy(reader, table: str, run_ids: list[str], work: Path) -> int:
    cols = ", ".join(f'"{c}"' for c in COLUMNS[table])
    where = f"run_id IN (SELECT run_id FROM {_IDS})"
    if table == "metrics":
        files = reader.metric_segments(run_ids)
        query = f"SELECT {cols} FROM _p_metrics WHERE {where}"
        if files:
            listing = "[" + ", ".join(_literal(f) for f in files) + "]"
            query = (
                f"SELECT {cols} FROM read_parquet({listing}, union_by_name=true) "
                f"WHERE {where} UNION ALL {query}"
            )
    else:
        source, order = _SOURCES[table]
        query = f"SELECT {cols} FROM {source} WHERE {where} ORDER BY {order}"
    meta = _literal(stamp("bundle", table=table))
    out = _literal(str(work / f"{table}.parquet"))
    copied = reader.con.execute(
        f"COPY ({query}) TO {out} "
        f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{_literal(EXPORT_KEY)}: {meta}}})"
    ).fetchone()
    return int(copied[0]) if copied else 0


def _copy_artifacts(source: Path, run_ids: list[str], work: Path) -> int:
    """Copy ``artifacts/<run_id>/`` of each run into the bundle; returns the number of files."""
    count = 0
    for run_id in run_ids:
        folder = source / run_id
        if folder.is_dir():
            shutil.copytree(folder, work / ARTIFACTS_DIR / run_id)
            count += sum(1 for p in (work / ARTIFACTS_DIR / run_id).rglob("*") if p.is_file())
    return count
