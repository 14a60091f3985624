"""``nbtrack.import_runs``: reading a bundle written by ``nbtrack.export`` into the store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import NbtrackError
from ..store.duck import arrow_batches
from ..store.schema import COLUMNS, PUBLISH_ORDER
from .formats import (
    ARTIFACTS_DIR,
    BUNDLE_TABLES,
    LATER_TABLES,
    MANIFEST,
    REGISTRY_TABLES,
    check_version,
    file_stamp,
    is_wide_path,
)
from .registry import import_registry
from .segments import ROWS_PER_SEGMENT, importing

EXPORT_HINT = "write a bundle with nbtrack.export('<folder>') (a path not ending in .parquet)"


def import_runs(path: str | os.PathLike[str]) -> int:
    """Add the runs of a bundle (a folder written by :func:`nbtrack.export`) to the current
    store, keeping their ids, timestamps, every param/tag value, metric point and event, and
    their artifact files; returns how many runs were added.

    Runs the store already has (same run id) are skipped entirely, so importing a bundle twice
    adds nothing. The bundle's model registry comes along: versions the store lacks (by name
    and number) with their aliases, stages, tags and model folders. The store is created if
    it does not exist yet. A wide ``.parquet`` export
    holds only the latest values, so it cannot be imported.

    >>> import nbtrack, os, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run("baseline", params={"layers": [64, 64]}) as run:
    ...     run.log(loss=0.5)
    >>> bundle = os.path.join(tempfile.mkdtemp(), "bundle")
    >>> nbtrack.export(bundle)
    1
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> nbtrack.import_runs(bundle), nbtrack.import_runs(bundle)
    (1, 0)
    >>> nbtrack.get_run(run.id).params
    {'layers': [64, 64]}
    """
    source = Path(path).expanduser().absolute()
    files = open_bundle(source)
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        found = con.execute(
            "SELECT DISTINCT run_id FROM read_parquet(?) WHERE run_id IS NOT NULL",
            [str(files["runs"])],
        ).fetchall()
        run_ids = [r[0] for r in found]
        with importing("import") as job:
            new = sorted(set(run_ids) - job.existing(run_ids))
            if not new:
                import_registry(source, files)
                return 0
            for run_id in new:
                folder = source / ARTIFACTS_DIR / run_id
                if folder.is_dir():
                    job.copy_artifacts(folder, run_id)
            con.register("_new_ids", pa.table({"run_id": pa.array(new, type=pa.string())}))
            for table in (t for t in PUBLISH_ORDER if t in files and t in BUNDLE_TABLES):
                cols = ", ".join(f'"{c}"' for c in COLUMNS[table])
                relation = con.sql(
                    f"SELECT {cols} FROM read_parquet(?) "
                    "WHERE run_id IN (SELECT run_id FROM _new_ids)",
                    params=[str(files[table])],
                )
                job.segments.add_batches(table, arrow_batches(relation, ROWS_PER_SEGMENT))
        import_registry(source, files)  # after the runs: their model folders are in place
        return len(new)
    finally:
        con.close()


def open_bundle(source: Path) -> dict[str, Path]:
    """Check that ``source`` is a bundle this nbtrack reads; the Parquet file of each table.

    Raises NbtrackError naming what is wrong: not a folder, a wide file, no manifest, a newer
    format, a missing table or column.
    """
    if source.is_file():
        kind = "a file"
        if is_wide_path(source):
            try:
                stamp = file_stamp(pq.read_schema(source).metadata) or {}
            except Exception:
                stamp = {}
            if stamp.get("kind") == "wide":
                kind = "a wide export (one row per run, latest values only)"
        raise NbtrackError(
            f"cannot import {source}: it is {kind}, not a bundle folder; import_runs needs "
            f"every row of the runs: {EXPORT_HINT} and import that folder"
        )
    if not source.is_dir():
        raise NbtrackError(f"cannot import {source}: no such folder; {EXPORT_HINT}")
    manifest_path = source / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        raise NbtrackError(
            f"{source} is not an nbtrack bundle: it has no {MANIFEST}; {EXPORT_HINT}"
        ) from None
    except (OSError, ValueError) as err:
        raise NbtrackError(
            f"the bundle manifest {manifest_path} is unreadable ({err}); export the runs again"
        ) from err
    if not isinstance(manifest, dict):
        raise NbtrackError(f"the bundle manifest {manifest_path} is not a JSON object; "
                           "export the runs again")  # fmt: skip
    check_version(manifest.get("format"), f"the bundle at {source}")
    files = {}
    for table in (*BUNDLE_TABLES, *REGISTRY_TABLES):
        file = source / f"{table}.parquet"
        if not file.is_file() and table in LATER_TABLES:
            continue
        if not file.is_file():
            raise NbtrackError(
                f"the bundle at {source} is incomplete: {file.name} is missing; "
                "export the runs again (or copy the whole folder)"
            )
        try:
            schema = pq.read_schema(file)
        except Exception as err:
            raise NbtrackError(
                f"{file} is not a readable Parquet file ({err}); export the runs again"
            ) from err
        found = file_stamp(schema.metadata)
        if found is None or found.get("table") != table:
            raise NbtrackError(
                f"{file} was not written by nbtrack.export as the {table!r} table of a "
                "bundle; export the runs again"
            )
        check_version(found.get("format"), str(file))
        missing = [c for c in COLUMNS[table] if c not in schema.names]
        if missing:
            raise NbtrackError(
                f"{file} lacks the column(s) {', '.join(missing)}; it is not a complete "
                f"{table!r} table: export the runs again"
            )
        files[table] = file
    return files
