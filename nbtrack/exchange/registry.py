"""The model registry in bundles: its rows and its model folders, out and back in.

A bundle carries the whole registry: ``model_versions.parquet`` and ``registry_events.parquet``
(every row, so that numbering and history survive), and the folder of every live version at the
path the version records (``registry/<name>/<version>/`` for copied models, or
``artifacts/<run_id>/<path>/`` for models logged with a run, copied even when the run's other
artifacts are not).

Importing adds the versions the store lacks (a version already there, same name and number,
is skipped with its events) and the model-level history (created, aliases, tags, descriptions)
of names the store has never had; so importing a bundle twice adds nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb

from ..registry.storage import LOCK
from ..store import Store, get_store
from ..store.duck import arrow_batches, sql_string
from ..store.layout import store_error
from ..store.schema import COLUMNS
from .formats import EXPORT_KEY, REGISTRY_TABLES, stamp
from .segments import ROWS_PER_SEGMENT, SegmentAppender


def write_registry(work: Path) -> dict[str, int]:
    """Every registry row into ``work/<table>.parquet``, and the live versions' model folders
    under ``work``; returns the rows per table."""
    store = get_store()
    files = {table: work / f"{table}.parquet" for table in REGISTRY_TABLES}
    metadata = {table: {EXPORT_KEY: stamp("bundle", table=table)} for table in REGISTRY_TABLES}
    rows = store.reader.copy_tables(files, metadata)
    relation = store.reader.query("SELECT path FROM model_versions ORDER BY path")
    for path in relation.column("path").to_pylist():
        source = store.root / path
        if Path(path).is_absolute() or not source.is_dir():
            continue  # a model outside the store, or its files are gone: rows only
        target = work / path
        if not target.exists():
            shutil.copytree(source, target)
    return rows


def import_registry(source: Path, files: dict[str, Path]) -> int:
    """Add the registry of the bundle at ``source`` to the current store; returns how many
    versions were added."""
    if "model_versions" not in files or "registry_events" not in files:
        return 0
    store = get_store()
    layout = store.layout
    if not layout.exists():
        layout.create()
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        for table in REGISTRY_TABLES:
            file = sql_string(str(files[table]))
            con.execute(f"CREATE VIEW bundle_{table} AS SELECT * FROM read_parquet({file})")
        action = f"import the registry of {source} into the nbtrack store at {layout.root}"
        with layout.lock(LOCK, action):
            return _import_new(con, source, store)
    finally:
        con.close()


def _import_new(con: Any, source: Path, store: Store) -> int:
    """Under the registry lock: pick the new rows, copy their folders, publish their segments."""
    with store.reader.snapshot() as snap:
        have = snap.query(f"SELECT DISTINCT name, version FROM {snap.rows_of('model_versions')}")
        names = snap.query(
            f"SELECT name FROM {snap.rows_of('model_versions')} UNION "
            "SELECT name FROM registry_events"
        )
    con.register("have", have)
    con.register("known_names", names)
    con.execute(
        "CREATE TEMP TABLE new_versions AS SELECT v.* FROM bundle_model_versions v "
        "ANTI JOIN have h USING (name, version)"
    )
    added = con.execute("SELECT count(*) FROM new_versions").fetchone()[0]
    events = (
        "SELECT e.* FROM bundle_registry_events e WHERE "
        "(e.version IS NOT NULL AND EXISTS (SELECT 1 FROM new_versions n "
        "WHERE n.name = e.name AND n.version = e.version)) OR "
        "(e.version IS NULL AND e.name NOT IN (SELECT name FROM known_names))"
    )
    if not added and not con.execute(f"SELECT count(*) FROM ({events})").fetchone()[0]:
        return 0
    for (path,) in con.execute("SELECT path FROM new_versions").fetchall():
        _copy_folder(source, store.root, path)
    appender = SegmentAppender(store.layout, "import")
    try:
        for table, query in (("model_versions", "SELECT * FROM new_versions"),
                             ("registry_events", events)):  # fmt: skip
            cols = ", ".join(f'"{c}"' for c in COLUMNS[table])
            relation = con.sql(f"SELECT {cols} FROM ({query})")
            appender.add_batches(table, arrow_batches(relation, ROWS_PER_SEGMENT))
        appender.publish()
    except BaseException:
        appender.discard()
        raise
    store.reader.refresh()
    return int(added)


def _copy_folder(source: Path, root: Path, path: str) -> None:
    """Copy a version's model folder from the bundle into the store, unless the store has it."""
    if Path(path).is_absolute():
        return
    origin, target = source / path, root / path
    if not origin.is_dir() or target.exists():
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(origin, target)
    except OSError as err:
        raise store_error(f"copy the model folder {origin} into {target}", err) from err
