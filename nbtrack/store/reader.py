"""DuckDB over the store: an in-memory cache of the small tables, views over everything.

The small tables (runs, params, tags, events, artifacts, inputs) and one summary row per run, metric
key and metric segment are loaded into in-memory DuckDB tables, incrementally: a segment is
read once, when it first appears (segments are immutable). Metric points stay in their Parquet
files and are read on demand, from just the segments that hold the requested runs. This
process's unflushed rows are registered as Arrow tables, so a process always sees its own logs.

Queries load and build only what they name: the params, tags and metric summaries (the bulk of a
store) load when a query needs one of them whole, and until then their views read the segments,
so that the first page of a table reads a few runs' values rather than every run's.
:meth:`Reader.refresh` (the live widgets call it in the background) loads and builds the rest.

Views (the ``nbtrack.sql`` contract): ``runs``, ``params``, ``metrics``, ``tags``,
``latest_metrics``, ``events``, ``artifacts``, ``inputs``, and the model registry's:

* ``registered_models``: one row per registered model: ``name, description, tags`` (a map),
  ``aliases`` (a map alias -> version), ``latest_version, created_at, updated_at``;
* ``model_versions``: one row per live version (deleted ones left out): ``name, version,
  stage, aliases`` (a list), ``tags`` (a map), ``description, status, run_id, source, path,
  flavors, signature, created_at, updated_at``;
* ``registry_events``: every registry change as it was recorded.

Stores written before the registry existed have no registry folders; their registry views
are empty.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from ..config import settings
from ..errors import StoreError, StoreWarning
from .buffers import Batch
from .duck import sql_list, sql_name, sql_string, to_arrow
from .layout import Layout, fsync_path, hidden_name
from .liveness import writer_alive
from .schema import (
    COLUMNS,
    END_STATES,
    PUBLISH_ORDER,
    TABLES,
    duckdb_columns,
    duckdb_types,
)
from .snapshots import COVERED, COVERS_KEY, PARTS, RunSnapshot, newest
from .writer import Writer

if TYPE_CHECKING:
    import pyarrow as pa

T = TypeVar("T")
CACHED = (
    "runs", "params", "tags", "events", "artifacts", "inputs", "model_versions", "registry_events",
)  # fmt: skip
# Tables whose segments load into the cache only once a query needs them whole (see above).
LAZY = ("params", "tags", "metrics")
# A concurrent compaction can remove a segment between listing and reading; list again.
RETRIES = 8

_SUMMARY_COLUMNS = (
    '_seg VARCHAR, run_id VARCHAR, "key" VARCHAR, step BIGINT, "timestamp" TIMESTAMPTZ, '
    "value DOUBLE, min DOUBLE, max DOUBLE, count BIGINT, last_time TIMESTAMPTZ"
)
_SUMMARIZE = """
    SELECT run_id, key, max(step) AS step,
           max_by("timestamp", (step, "timestamp")) AS "timestamp",
           max_by(value, (step, "timestamp")) AS value,
           min(value) AS min, max(value) AS max, count(*) AS count,
           max("timestamp") AS last_time
"""
_ENDS = ", ".join(f"'{s}'" for s in END_STATES)
POINT_COLUMNS = 'run_id, key, step, "timestamp", value'
# Every raw row of the small tables (the cache plus this process's unflushed rows), and the
# order a copy writes them in.
_RAW_ROWS = {
    "runs": ("_run_rows", "run_id"),
    "params": ("_param_rows", 'run_id, "timestamp", key'),
    "tags": ("_tag_rows", 'run_id, "timestamp", key'),
    "events": ("events", 'run_id, "timestamp", kind'),
    "artifacts": ("artifacts", 'run_id, "timestamp", path'),
    "inputs": ("inputs", 'run_id, "timestamp", name'),
    "model_versions": ("_model_version_rows", "name, version"),
    "registry_events": ("registry_events", 'name, "timestamp", kind, key'),
}
_VIEWS = f"""
CREATE OR REPLACE VIEW events AS
    SELECT * EXCLUDE (_seg) FROM _c_events UNION ALL BY NAME SELECT * FROM _p_events;
CREATE OR REPLACE VIEW artifacts AS
    SELECT * EXCLUDE (_seg) FROM _c_artifacts UNION ALL BY NAME SELECT * FROM _p_artifacts;
CREATE OR REPLACE VIEW inputs AS
    SELECT * EXCLUDE (_seg) FROM _c_inputs UNION ALL BY NAME SELECT * FROM _p_inputs;
CREATE OR REPLACE VIEW registry_events AS
    SELECT * EXCLUDE (_seg) FROM _c_registry_events
    UNION ALL BY NAME SELECT * FROM _p_registry_events;
CREATE OR REPLACE VIEW _model_version_rows AS
    SELECT * EXCLUDE (_seg) FROM _c_model_versions
    UNION ALL BY NAME SELECT * FROM _p_model_versions;
CREATE OR REPLACE VIEW _run_rows AS
    SELECT * EXCLUDE (_seg) FROM _c_runs UNION ALL BY NAME SELECT * FROM _p_runs;
CREATE OR REPLACE VIEW _states AS
    SELECT run_id,
        max_by(kind, ("timestamp", kind NOT IN ('started', 'resumed')))
            FILTER (WHERE kind IN ('started', 'resumed', {_ENDS})) AS state,
        max("timestamp") FILTER (WHERE kind IN ({_ENDS})) AS end_time,
        max_by(detail, "timestamp") FILTER (WHERE kind IN ({_ENDS})) AS error,
        max_by(detail, "timestamp") FILTER (WHERE kind = 'resumed') AS resumed_by,
        coalesce(max_by(kind, "timestamp") FILTER (WHERE kind IN ('deleted', 'restored'))
            = 'deleted', false) AS deleted
    FROM events GROUP BY run_id;
CREATE OR REPLACE VIEW _v_runs AS
    SELECT r.run_id, r.experiment, r.name,
        CASE WHEN s.state IS NULL OR s.state IN ('started', 'resumed')
             THEN CASE WHEN coalesce(s.resumed_by, r.writer) IN (SELECT writer FROM _dead)
                       THEN 'crashed' ELSE 'running' END
             ELSE s.state END AS status,
        r.created_at AS start_time, s.end_time,
        epoch(s.end_time) - epoch(r.created_at) AS duration,
        coalesce(s.deleted, false) AS deleted,
        CASE WHEN s.state IN ('started', 'resumed') THEN NULL ELSE s.error END AS error,
        r.* EXCLUDE (run_id, experiment, name, created_at)
    FROM _run_rows r LEFT JOIN _m_states s USING (run_id);
CREATE OR REPLACE VIEW _v_params AS
    SELECT run_id, key, CASE WHEN p.type = 'none' THEN NULL ELSE p.text END AS value,
        p.num, p.type FROM (
        SELECT run_id, key, max_by({{'text': text, 'num': num, 'type': type}}, "timestamp") AS p
        FROM _param_rows GROUP BY run_id, key);
CREATE OR REPLACE VIEW _v_tags AS
    SELECT run_id, key, max_by(value, "timestamp") AS value, max("timestamp") AS "timestamp"
    FROM _tag_rows GROUP BY run_id, key;
CREATE OR REPLACE VIEW _v_latest_metrics AS
    SELECT run_id, key, max_by(value, (step, "timestamp")) AS value, max(step) AS step,
        max_by("timestamp", (step, "timestamp")) AS "timestamp",
        min(min) AS min, max(max) AS max, sum(count)::BIGINT AS count,
        max(last_time) AS last_time
    FROM _summaries GROUP BY run_id, key;
"""
# The registry's current state, from its rows and events. A registered model's life starts at
# its last model_created event; a model_deleted event ends it and every version created before.
# A version's stage, description and tags are its latest events of that kind (a tag or alias
# whose latest value is null was deleted: max_by of a struct, as max_by skips null values); an
# alias belongs to the model, its value a version.
# _registry_now (built as a table, like the views users query) holds the events of the live
# models' current lives, so that the two views users query scan the raw events only once; the
# tables the views are built from exist (empty) until first built.
_REGISTRY_VIEWS = """
CREATE OR REPLACE VIEW _v_registry_now AS
    WITH life AS (
        SELECT name,
            max("timestamp") FILTER (WHERE kind = 'model_created') AS created_at,
            max("timestamp") FILTER (WHERE kind = 'model_deleted') AS deleted_at
        FROM registry_events GROUP BY name)
    SELECT e.* FROM registry_events e JOIN life l USING (name)
    WHERE l.created_at IS NOT NULL AND (l.deleted_at IS NULL OR l.created_at > l.deleted_at)
        AND e."timestamp" >= l.created_at;
CREATE TABLE _registry_now AS SELECT * FROM _v_registry_now LIMIT 0;
CREATE OR REPLACE VIEW _v_model_versions AS
    WITH live AS (
        SELECT v.* FROM _model_version_rows v
        JOIN (SELECT name, "timestamp" AS since FROM _registry_now WHERE kind = 'model_created')
            USING (name)
        ANTI JOIN (SELECT name, version FROM _registry_now WHERE kind = 'version_deleted')
            USING (name, version)
        WHERE v.created_at >= since),
    state AS (
        SELECT name, version,
            max_by(value, "timestamp") FILTER (WHERE kind = 'stage') AS stage,  -- never null
            max_by({'v': value}, "timestamp") FILTER (WHERE kind = 'description') AS description,
            max("timestamp") AS updated_at
        FROM _registry_now WHERE version IS NOT NULL GROUP BY name, version),
    tags AS (
        SELECT name, version, map_from_entries(list({'k': key, 'v': value} ORDER BY key)) AS tags
        FROM (SELECT name, version, key, max_by({'v': value}, "timestamp").v AS value
              FROM _registry_now WHERE kind = 'tag' AND version IS NOT NULL
              GROUP BY name, version, key)
        WHERE value IS NOT NULL GROUP BY name, version),
    aliases AS (
        SELECT name, TRY_CAST(value AS BIGINT) AS version, list(key ORDER BY key) AS aliases
        FROM (SELECT name, key, max_by({'v': value}, "timestamp").v AS value FROM _registry_now
              WHERE kind = 'alias' GROUP BY name, key)
        WHERE value IS NOT NULL GROUP BY ALL)
    SELECT v.name, v.version, coalesce(s.stage, 'None') AS stage,
        coalesce(a.aliases, []::VARCHAR[]) AS aliases,
        coalesce(t.tags, MAP {}::MAP(VARCHAR, VARCHAR)) AS tags,
        CASE WHEN s.description IS NULL THEN v.description ELSE s.description.v END
            AS description,
        'READY' AS status, v.run_id, v.source, v.path, v.flavors, v.signature, v.created_at,
        greatest(v.created_at, s.updated_at) AS updated_at
    FROM live v LEFT JOIN state s USING (name, version)
        LEFT JOIN aliases a USING (name, version) LEFT JOIN tags t USING (name, version);
CREATE TABLE model_versions AS SELECT * FROM _v_model_versions LIMIT 0;
CREATE OR REPLACE VIEW _v_registered_models AS
    WITH state AS (
        SELECT name,
            min("timestamp") FILTER (WHERE kind = 'model_created') AS created_at,
            max_by({'v': value}, "timestamp") FILTER (WHERE kind = 'description') AS description,
            max("timestamp") AS updated_at
        FROM _registry_now WHERE version IS NULL GROUP BY name),
    tags AS (
        SELECT name, map_from_entries(list({'k': key, 'v': value} ORDER BY key)) AS tags
        FROM (SELECT name, key, max_by({'v': value}, "timestamp").v AS value FROM _registry_now
              WHERE kind = 'tag' AND version IS NULL GROUP BY name, key)
        WHERE value IS NOT NULL GROUP BY name),
    versions AS (
        SELECT name, max(version) AS latest_version, max(updated_at) AS updated_at
        FROM model_versions GROUP BY name),
    aliases AS (
        SELECT name, map_from_entries(list({'k': alias, 'v': version} ORDER BY alias)) AS aliases
        FROM (SELECT name, version, unnest(aliases) AS alias FROM model_versions) GROUP BY name)
    SELECT s.name, s.description.v AS description,
        coalesce(t.tags, MAP {}::MAP(VARCHAR, VARCHAR)) AS tags,
        coalesce(a.aliases, MAP {}::MAP(VARCHAR, BIGINT)) AS aliases,
        v.latest_version, s.created_at, greatest(s.updated_at, v.updated_at) AS updated_at
    FROM state s LEFT JOIN versions v USING (name) LEFT JOIN aliases a USING (name)
        LEFT JOIN tags t USING (name);
"""
# The views of each lazy table's raw rows, over {rows}: its cache or (until loaded) its segments;
# for metrics, the cache holds the points' {summaries}.
_RAW_VIEWS = {
    "params": {"_param_rows": "SELECT * FROM {rows} UNION ALL BY NAME SELECT * FROM _p_params"},
    "tags": {"_tag_rows": "SELECT * FROM {rows} UNION ALL BY NAME SELECT * FROM _p_tags"},
    "metrics": {
        "_summaries": f"SELECT * FROM {{summaries}} UNION ALL BY NAME {_SUMMARIZE} "
        "FROM _p_metrics GROUP BY run_id, key",
        "_metric_keys": "SELECT run_id, key FROM {rows} "
        "UNION ALL SELECT run_id, key FROM _p_metrics",
    },
}
# The views users query are tables, built when a query first names one and then rebuilt only
# when a table they derive from changed: a query on an unchanged store does no aggregation.
MATERIALIZED = {
    "runs": ("_v_runs", {"runs", "events", "_dead"}),
    "params": ("_v_params", {"params"}),
    "tags": ("_v_tags", {"tags"}),
    "latest_metrics": ("_v_latest_metrics", {"metrics"}),
    "_registry_now": ("_v_registry_now", {"registry_events"}),
    "model_versions": ("_v_model_versions", {"model_versions", "registry_events"}),
    "registered_models": ("_v_registered_models", {"model_versions", "registry_events"}),
}
# Built tables that others are built from (built first; MATERIALIZED lists them earlier).
BUILT_FROM = {
    "model_versions": ("_registry_now",),
    "registered_models": ("_registry_now", "model_versions"),
}
# Built tables rebuilt only when a query next needs them, not as soon as their sources change:
# every registry change changes them, and a registry change must not wait for a rebuild.
REBUILT_ON_DEMAND = frozenset({"_registry_now", "model_versions", "registered_models"})
# Relations with every (run_id, key) pair of a built view, read before it is built.
_KEY_ROWS = {"params": "_param_rows", "tags": "_tag_rows", "latest_metrics": "_metric_keys"}
# The views a run snapshot answers (see nbtrack.store.snapshots), and what a query may name
# only once the segments are loaded: the raw rows and what is built from them.
SNAPSHOT_VIEWS = ("runs", "params", "tags", "latest_metrics")
RAW_NAMES = frozenset({
    "events", "metrics", "_run_rows", "_param_rows", "_tag_rows", "_summaries", "_metric_keys",
    "_states", "_m_states", "_v_runs", "_v_params", "_v_tags", "_v_latest_metrics",
    *(f"_c_{t}" for t in TABLES), "_c_msum",
})  # fmt: skip
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")  # a string or a quoted name
# In a snapshot, the run state stored beside search's columns, from which status is derived.
_SNAPSHOT_RUNS = """
SELECT * EXCLUDE (_state, _resumed_by) REPLACE (
    CASE WHEN _state IS NULL OR _state IN ('started', 'resumed')
         THEN CASE WHEN coalesce(_resumed_by, writer) IN (SELECT writer FROM _dead)
                   THEN 'crashed' ELSE 'running' END
         ELSE status END AS status)
FROM _snap_runs
"""
# A snapshot's runs file up to this size is read into memory by a reader's second read of it:
# then each query costs what its work costs, not a file's scan (a few to tens of ms). Not by
# the first: reading 3,000 runs of 60 keys into memory takes 0.1 s, which a command's one
# query, or a kernel's first table, would wait for; a live widget's next refresh does it.
IN_MEMORY_BYTES = 16 << 20
IN_MEMORY_AT_READ = 2
# A snapshot's runs also hold a column per param, metric and tag key (``params.lr``, a struct of
# what a search compares: see WIDE_TYPES), so that a filter and an order read one table, up to
# this many keys in all (beyond, queries join the per-key files, as they join the views).
WIDE_KEYS = 1000
# Per group: the struct of its columns, and the view (and expression) it is built from.
WIDE_GROUPS = {
    "params": ("params", "{'value': value, 'num': num, 'type': type}"),
    "metrics": ("latest_metrics", "{'value': value, 'min': min, 'max': max}"),
    "tags": ("tags", "{'value': value}"),
}
# In a snapshot, each param's current value as the row that set it (raw rows, reduced).
_SNAPSHOT_PARAMS = (
    "SELECT run_id, key, CASE WHEN type = 'none' THEN NULL ELSE text END AS value, num, type "
    "FROM _snap_params"
)
_LATEST = 'QUALIFY row_number() OVER (PARTITION BY {} ORDER BY "timestamp" DESC{}) = 1'
_STATE_KINDS = "'started', 'resumed', " + _ENDS
# What a snapshot holds: per part, the query writing it (raw rows reduced to those the views'
# aggregates pick: a run's latest state, end, resume and deletion events, each param's latest
# value; or the views' rows: tags, metric summaries); and how a part loads into a cache, as rows
# of the segments it covers.
_SNAPSHOT_PARTS = {
    "events": " UNION ".join(
        f"(SELECT * FROM events WHERE kind IN ({kinds}) {_LATEST.format('run_id', tie)})"
        for kinds, tie in (
            (_STATE_KINDS, ", kind NOT IN ('started', 'resumed') DESC"),
            (_ENDS, ""),
            ("'resumed'", ""),
            ("'deleted', 'restored'", ""),
        )
    ),
    "params": 'SELECT run_id, key, type, num, text, "timestamp" FROM _param_rows '
    + _LATEST.format("run_id, key", ""),
    "tags": "SELECT * FROM tags ORDER BY run_id, key",
    "latest_metrics": "SELECT * FROM latest_metrics ORDER BY run_id, key",
    "metric_segments": "SELECT DISTINCT run_id, parse_filename(_seg) AS segment FROM _c_msum "
    "ORDER BY ALL",
    "keys": """SELECT DISTINCT r.experiment, k."group", k.key FROM (
        SELECT run_id, 'params' AS "group", key FROM params
        UNION ALL SELECT run_id, 'metrics', key FROM latest_metrics
        UNION ALL SELECT run_id, 'tags', key FROM tags) k
    JOIN runs r USING (run_id) ORDER BY ALL""",
}
_SNAPSHOT_ROWS = {
    "runs": ("_c_runs", ", ".join(
        "start_time AS created_at" if c == "created_at" else f'"{c}"' for c in COLUMNS["runs"])),
    "events": ("_c_events", "*"),
    "params": ("_c_params", "*"),
    "tags": ("_c_tags", "*"),
    "latest_metrics": ("_c_msum", "*"),
}  # fmt: skip
# A reader writing a run snapshot keeps its caches in a file, and DuckDB's memory within this:
# what does not fit is evicted to the file (tables) or spilled (sorts, aggregates). Rows are in
# no particular order but where a query orders them.
SPILL_MEMORY = "1GB"
# ...and writes the snapshot's runs this many at a time (see Reader._copy_wide_runs).
WIDE_CHUNK_RUNS = 200_000
# How often the liveness of writers with running runs is checked again when nothing changed.
LIVENESS_CHECK_S = 1.0


def _cache(table: str) -> str:
    """The in-memory table caching ``table``'s segments (for metrics, their summaries)."""
    return "_c_msum" if table == "metrics" else f"_c_{table}"


class _Vanished(Exception):
    """A segment disappeared while being read (compaction); list the store again."""


class Reader:
    """This process's query engine for one store."""

    def __init__(
        self, layout: Layout, own_writer: Callable[[], Writer | None], spill: Path | None = None
    ) -> None:
        """``spill``: keep the caches in a database file in that folder, in bounded memory
        (see :data:`SPILL_MEMORY`), rather than in memory."""
        self.layout = layout
        self._own_writer = own_writer
        self._con = duckdb.connect(":memory:" if spill is None else str(spill / "reader.duckdb"))
        self._con.execute("SET TimeZone = 'UTC'")
        self._spill = spill
        if spill is not None:
            self._con.execute(f"SET memory_limit = {sql_string(SPILL_MEMORY)}")
            self._con.execute(f"SET temp_directory = {sql_string(str(spill))}")
            self._con.execute("SET preserve_insertion_order = false")
        # A progress bar would print into cells; in a kernel without ipywidgets DuckDB refuses
        # the setting (and shows no bar there anyway).
        with contextlib.suppress(duckdb.Error):
            self._con.execute("SET enable_progress_bar = false")
        with contextlib.suppress(duckdb.Error):  # (segments and snapshots never change)
            self._con.execute("SET parquet_metadata_cache = true")
        self._lock = threading.RLock()
        self._loaded: dict[str, set[str]] = {t: set() for t in TABLES}
        self._bad: set[str] = set()
        # The segments of each table at the last refresh (bad ones left out), the lazy tables
        # whose segments are not in the cache yet, and the views built as tables so far.
        self._visible: dict[str, list[str]] = {t: [] for t in TABLES}
        self._unloaded = set(LAZY)
        self._built: set[str] = set()
        self._stale: set[str] = set()  # built tables of REBUILT_ON_DEMAND whose sources changed
        # The run snapshot queries read while the store is as it describes; snapshots are used
        # only until the segments of the tables they cover are first loaded.
        self._snap: RunSnapshot | None = None
        self._snap_direct = False  # read its files as the views (else: its rows are cached)
        self._wide: frozenset[str] | None = None  # its per-key columns (see WIDE_KEYS)
        self._snap_in_memory = False  # its runs were read into memory (see IN_MEMORY_BYTES)
        self._snap_reads = 0  # the refreshes that found it, since it was picked
        self._snapshots_usable = True
        for table in CACHED:
            self._con.execute(f"CREATE TABLE _c_{table} (_seg VARCHAR, {duckdb_columns(table)})")
        self._con.execute(f"CREATE TABLE _c_msum ({_SUMMARY_COLUMNS})")
        for table in TABLES:  # empty until this process has unflushed rows (no pyarrow needed;
            # FROM range(0), unlike WHERE false, leaves its columns nullable in what is copied)
            columns = ", ".join(f'NULL::{kind} AS "{c}"' for c, kind in duckdb_types(table))
            self._con.execute(f"CREATE TEMP VIEW _p_{table} AS SELECT {columns} FROM range(0)")
        self.generation = 0  # bumps whenever anything a query could see has changed
        self._dead: set[str] = set()
        self._dead_checked = 0.0
        self._pending_tables: set[str] = set()
        self._register_dead(set())
        self._define_metrics_view([])
        self._con.execute("CREATE TABLE _m_states AS SELECT * FROM (VALUES (NULL::VARCHAR, "
                         "NULL::VARCHAR, NULL::TIMESTAMPTZ, NULL::VARCHAR, NULL::VARCHAR, "
                         "NULL::BOOLEAN)) t(run_id, state, end_time, error, resumed_by, deleted) "
                         "WHERE false")  # fmt: skip
        for table in LAZY:
            self._define_raw(table, [])
        # what the raw views hold when they read the cache: segments must read the same
        self._raw_columns = {table: self._raw_view_columns(table) for table in LAZY}
        self._con.execute(_VIEWS)
        self._registry_views = False  # defined when a query first needs the registry's state

    # ---- refreshing -----------------------------------------------------------------------
    def refresh(self, metrics_view: bool = False) -> None:
        """Load new segments, drop replaced ones, take this process's unflushed rows, and bring
        every view up to date, the ones no query has needed yet included: the live widgets call
        this in the background, so that the queries that follow find everything loaded.

        ``metrics_view`` also points the ``metrics`` view at the current metric segments
        (binding it reads every segment's footer, so only ``sql()`` asks for it).
        """
        with self._lock:
            self._refresh(metrics_view)
            self._build(MATERIALIZED)

    def _refresh(self, metrics_view: bool = False) -> None:
        """What a query needs of :meth:`refresh`: the lazy tables stay as they are (loaded, or
        read from their segments) and no table is built."""
        with self._lock:
            self.layout.check_format()
            for _ in range(RETRIES):
                try:
                    self._refresh_once()
                    self._snapshot_runs_into_memory()
                    if metrics_view:
                        self._load(["metrics"])  # which finds the segments that cannot be read
                        self._define_metrics_view(sorted(self._loaded["metrics"]))
                    return
                except (_Vanished, FileNotFoundError, duckdb.IOException):
                    continue
            raise StoreError(
                f"the store at {self.layout.root} kept changing under the reader; try again"
            )

    def _refresh_once(self) -> None:
        listing, pending = self._list()
        if self._snapshots_usable:
            self._pick_snapshot(listing, pending.tables())
        skipped = set(COVERED) if self._on_snapshot_files else set()
        changed = {table for table in TABLES if listing[table] != self._visible[table]}
        for table in TABLES:
            if table in skipped:
                continue
            if table not in self._unloaded:
                self._sync(table, listing[table])
            elif table in changed:
                self._read_segments(table, listing[table])
        self._visible = {t: [f for f in fs if f not in self._bad] for t, fs in listing.items()}
        now_pending = pending.tables()
        for table in now_pending | self._pending_tables:  # new rows, or rows now in segments
            self._con.execute(f"DROP VIEW IF EXISTS _p_{table}")  # (an empty one at first)
            self._con.register(f"_p_{table}", pending.table(table))
            changed.add(table)
        self._pending_tables = now_pending
        if (
            "events" in changed and not self._on_snapshot_files
        ):  # run states first: liveness reads them
            self._con.execute("CREATE OR REPLACE TABLE _m_states AS SELECT * FROM _states")
        now = time.monotonic()
        if changed & {"runs", "events"} or now - self._dead_checked > LIVENESS_CHECK_S:
            self._dead_checked = now
            dead = self._dead_writers()
            if dead != self._dead:
                self._dead = dead
                self._register_dead(dead)
                changed.add("_dead")
        if changed:
            self.generation += 1
        self._materialize(changed)

    def _materialize(self, changed: set[str]) -> None:
        """Rebuild the built tables that derive from a table in ``changed`` (those of
        :data:`REBUILT_ON_DEMAND`: mark them for the next query that needs them)."""
        for name, (view, sources) in MATERIALIZED.items():
            if name in self._built and sources & changed:
                if self._on_snapshot_files and name in SNAPSHOT_VIEWS:
                    continue  # views of the snapshot, which derive status as they are read
                if name in REBUILT_ON_DEMAND:
                    self._stale.add(name)
                else:
                    self._con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {view}")

    def _build(self, names: Iterable[str]) -> None:
        """Build those of ``names`` that are views of :data:`MATERIALIZED` as tables (from then
        on kept up to date), loading the lazy tables they derive from."""
        wanted = set(names)
        for name in list(wanted):
            wanted.update(BUILT_FROM.get(name, ()))
        if wanted & REBUILT_ON_DEMAND and not self._registry_views:
            self._con.execute(_REGISTRY_VIEWS)
            self._registry_views = True
        for name, (view, sources) in MATERIALIZED.items():
            if name in wanted and (name not in self._built or name in self._stale):
                self._load(sources)
                self._con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {view}")
                self._built.add(name)
                self._stale.discard(name)

    def _prepare(self, sql: str) -> None:
        """Build the tables that ``sql`` names (a word such as ``params`` in it, anywhere)."""
        # (string literals and dotted column names such as "metrics.acc" name no relation)
        plain = _QUOTED.sub(lambda m: " " if "." in m[0] or m[0][0] == "'" else m[0], sql)
        words = set(re.findall(r"\w+", plain.lower()))
        if words & RAW_NAMES:
            self._need_segments()
        self._build(words)

    def _list(self) -> tuple[dict[str, list[str]], Batch]:
        """Visible segments per table, plus this process's rows not yet in any of them."""
        writer = self._own_writer()
        if writer is None:
            return self._list_segments(), Batch()
        with writer.visibility:
            return self._list_segments(), writer.snapshot()

    def _list_segments(self) -> dict[str, list[str]]:
        # Reverse publish order: whoever sees a run's end event also sees the data before it.
        listing = {
            t: self.layout.list_segments(t, self._parquet_metadata) for t in reversed(PUBLISH_ORDER)
        }
        return {t: [f for f in files if f not in self._bad] for t, files in listing.items()}

    def _parquet_metadata(self, path: Path) -> dict[bytes, bytes]:
        """The key-value metadata of the Parquet file at ``path`` (read without pyarrow)."""
        try:
            rows = self._con.execute(
                "SELECT key, value FROM parquet_kv_metadata(?)", [str(path)]
            ).fetchall()
        except duckdb.IOException as err:
            if not os.path.exists(path):
                raise FileNotFoundError(path) from err
            raise
        return dict(rows)

    def _sync(self, table: str, files: list[str]) -> bool:
        """Bring the cache of ``table`` in line with ``files``; True when anything changed."""
        loaded = self._loaded[table]
        current = set(files)
        removed = loaded - current
        added = sorted(current - loaded)
        target = _cache(table)
        if removed:
            self._con.execute(
                f"DELETE FROM {target} WHERE _seg IN (SELECT unnest(?))", [sorted(removed)]
            )
            loaded -= removed
        if added:
            loaded |= set(self._insert(table, target, added))
        return bool(removed or added)

    def _insert(self, table: str, target: str, files: list[str]) -> list[str]:
        """Insert the rows of new segments; returns the ones that loaded (bad ones are skipped)."""
        if table == "metrics":
            sql = (
                f"INSERT INTO {target} BY NAME {_SUMMARIZE}, filename AS _seg "
                "FROM read_parquet(?, filename=true) GROUP BY filename, run_id, key"
            )
        else:
            sql = (
                f"INSERT INTO {target} BY NAME SELECT * EXCLUDE (filename), filename AS _seg "
                "FROM read_parquet(?, union_by_name=true, filename=true)"
            )
        try:
            self._con.execute(sql, [self.layout.local(files)])
            return files
        except duckdb.Error:
            pass  # find the culprit(s) one file at a time
        good = []
        for path in files:
            try:
                self._con.execute(sql, [[path]])
                good.append(path)
            except duckdb.Error as err:
                if not os.path.exists(path):
                    raise _Vanished(path) from err
                self._bad.add(path)
                warnings.warn(
                    f"skipping {path}: not a readable nbtrack {table} segment "
                    f"({str(err).splitlines()[0]}); move it out of the store to silence this",
                    StoreWarning, stacklevel=4,
                )  # fmt: skip
        return good

    # ---- run snapshots --------------------------------------------------------------------
    @property
    def snapshot_id(self) -> str | None:
        """The run snapshot that queries read now (None: they read the segments)."""
        return self._snap.id if self._snap is not None else None

    @property
    def _on_snapshot_files(self) -> bool:
        """Whether the views users query read the snapshot's files."""
        return self._snap is not None and self._snap_direct

    def _pick_snapshot(self, listing: dict[str, list[str]], pending: set[str]) -> None:
        """Choose how queries read the run snapshot: its files directly while the store is
        exactly as it describes and this process has no unflushed rows of its tables; its rows
        as the cached rows of the segments it covers, with newer segments added as usual,
        while those segments are all still there; else not at all (the segments are read)."""
        current = self._snap
        clean = not pending.intersection(COVERED)
        if current is not None:
            if self._snap_direct and clean and current.matches(listing):
                return
            if not self._snap_direct and current.within(listing):
                return
        if current is None or self._snap_direct:  # no snapshot rows in the caches yet
            try:
                found = newest(self.layout, self._con)
            except StoreError:  # (a bucket out of reach: the segments' last listing answers)
                found = None
            if found is not None and clean and found.matches(listing):
                if current is None or found.id != current.id:
                    self._use_snapshot(found)
                return
            if found is not None and found.within(listing):
                self._use_snapshot_rows(found)
                return
        self._snapshots_usable = False
        if current is not None:
            self._leave_snapshot()

    def _snapshot_views(self, snap: RunSnapshot, parts: Iterable[str]) -> None:
        views = {
            "runs": "_snap_runs", "metric_segments": "_snap_msegs", "params": "_snap_params",
            "keys": "_snap_keys",
        }  # fmt: skip
        for part in parts:
            path = sql_string(str(snap.files[part]))
            select = f"SELECT * FROM read_parquet({path})"
            if part == "runs":  # each run's position in the file: a page reads only its rows
                select = (
                    "SELECT * EXCLUDE (file_row_number), file_row_number AS _row "
                    f"FROM read_parquet({path}, file_row_number=true)"
                )
                self._snap_in_memory, self._snap_reads = False, 0
            self._con.execute(f"CREATE OR REPLACE VIEW {views.get(part, part)} AS {select}")
        self._con.execute("DROP TABLE IF EXISTS _snap_runs_copy")  # (a previous snapshot's)

    def _snapshot_runs_into_memory(self) -> None:
        """Count a read of the snapshot's runs file, and at the IN_MEMORY_AT_READ-th read them
        into memory (see IN_MEMORY_BYTES)."""
        snap = self._snap
        if snap is None or not self._on_snapshot_files:
            return
        self._snap_reads += 1
        if self._snap_reads != IN_MEMORY_AT_READ:
            return
        if os.path.getsize(snap.files["runs"]) > IN_MEMORY_BYTES:
            return
        self._con.execute("CREATE OR REPLACE TABLE _snap_runs_copy AS SELECT * FROM _snap_runs")
        self._con.execute("CREATE OR REPLACE VIEW _snap_runs AS SELECT * FROM _snap_runs_copy")
        self._snap_in_memory = True

    def _use_snapshot(self, snap: RunSnapshot) -> None:
        """Let the views users query read the snapshot's files."""
        self._snapshot_views(
            snap, ("runs", "params", "tags", "latest_metrics", "metric_segments", "keys")
        )
        self._con.execute(f"CREATE OR REPLACE VIEW _runs_wide AS {_SNAPSHOT_RUNS}")
        names = [row[0] for row in self._con.execute("DESCRIBE _runs_wide").fetchall()]
        wide = frozenset(n for n in names if n.partition(".")[0] in WIDE_GROUPS and "." in n)
        base = ", ".join(sql_name(n) for n in names if n not in wide and n != "_row")
        self._con.execute(f"CREATE OR REPLACE VIEW runs AS SELECT {base} FROM _runs_wide")
        self._con.execute(f"CREATE OR REPLACE VIEW params AS {_SNAPSHOT_PARAMS}")
        self._wide = wide or None
        self._built.update(SNAPSHOT_VIEWS)
        self._snap, self._snap_direct = snap, True

    def _use_snapshot_rows(self, snap: RunSnapshot) -> None:
        """Load the snapshot's rows into the caches as the rows of the segments it covers (the
        caches of those tables are empty: nothing read them yet); the refresh that follows adds
        the newer segments, and the views are built from both as usual."""
        if self._snap is not None:
            self._drop_snapshot_views()
        self._snapshot_views(snap, ("metric_segments",))
        for table, (cache, select) in _SNAPSHOT_ROWS.items():
            self._con.execute(
                f"INSERT INTO {cache} BY NAME SELECT {select}, ? AS _seg "
                f"FROM read_parquet({sql_string(str(snap.files[table]))})",
                [snap.id],
            )
        for table in COVERED:
            self._loaded[table] |= snap.covered(self.layout, table)
            self._visible[table] = []  # so that the refresh brings their views up to date
            if table in self._unloaded:
                self._unloaded.discard(table)
                self._define_raw(table, [])
        self._snap, self._snap_direct = snap, False

    def _drop_snapshot_views(self) -> None:
        self._wide = None
        for name in SNAPSHOT_VIEWS:
            self._con.execute(f"DROP VIEW IF EXISTS {name}")
            self._built.discard(name)

    def _leave_snapshot(self) -> None:
        """Stop reading the snapshot; the next refresh reads the segments it stood for."""
        snap, self._snap = self._snap, None
        if snap is None:
            return
        if self._snap_direct:
            self._drop_snapshot_views()
        else:
            for cache, _ in _SNAPSHOT_ROWS.values():
                self._con.execute(f"DELETE FROM {cache} WHERE _seg = ?", [snap.id])
            for table in COVERED:
                self._loaded[table] -= snap.covered(self.layout, table)
        for table in COVERED:
            self._visible[table] = []

    def _need_segments(self) -> None:
        """Load the segments (leaving the run snapshot, if one is read): for a query of raw rows
        or metric points."""
        self._snapshots_usable = False
        if self._snap is not None:
            self._leave_snapshot()
            self._refresh()

    def write_snapshot(self, snapshot_id: str) -> str | None:
        """Write the state of every run as snapshot ``snapshot_id`` (see
        :mod:`nbtrack.store.snapshots`); returns its id, or None when the newest snapshot is
        still current or the store has no runs. A fresh reader builds it from the newest
        snapshot and the segments written since, when those it covers are all still there."""
        with self._lock:
            self._refresh()
            current = newest(self.layout, self._con)
            if not self._visible["runs"] or (current and current.matches(self._visible)):
                return None
            # (latest_metrics loads the metric summaries.) Unless built already, the params view
            # is the snapshot's, read from its params part once written: the raw rows are
            # reduced once, not twice, and the runs' per-key columns agree with that part.
            from_part = "params" not in self._built
            self._build(v for v in SNAPSHOT_VIEWS if not (from_part and v == "params"))
            covers = {t: sorted(os.path.basename(f) for f in self._visible[t]) for t in COVERED}
            self.layout.snapshots.mkdir(exist_ok=True)
            written: list[tuple[Path, Path]] = []
            try:
                for part in PARTS:
                    final = self.layout.snapshots / f"{snapshot_id}.{part}.parquet"
                    hidden = hidden_name(final)
                    written.append((hidden, final))
                    meta = {"nbtrack.snapshot": snapshot_id}
                    if part == "runs":
                        meta[COVERS_KEY] = json.dumps(covers)
                    pairs = ", ".join(f"{sql_string(k)}: {sql_string(v)}" for k, v in meta.items())
                    options = f"FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{pairs}}}"
                    if part == "runs":
                        self._copy_wide_runs(hidden, options)
                    else:  # (params may read their segments: see _direct)
                        select = _SNAPSHOT_PARTS[part]
                        if part == "metric_segments" and self._snap is not None:
                            select = self._metric_segments_on_snapshot(self._snap)
                        sql = f"COPY ({select}) TO {sql_string(str(hidden))} ({options})"
                        self._direct(functools.partial(self._con.execute, sql))
                    fsync_path(hidden)
                    if part == "params" and from_part:
                        rows = f"read_parquet({sql_string(str(hidden))})"
                        self._con.execute(
                            "CREATE TEMP VIEW params AS "
                            + _SNAPSHOT_PARAMS.replace("_snap_params", rows)
                        )
                self.layout.publish(written)
            except BaseException:
                self.layout.discard(hidden for hidden, _ in written)
                raise
            finally:
                if from_part:
                    self._con.execute("DROP VIEW IF EXISTS params")
            return snapshot_id

    def _metric_segments_on_snapshot(self, snap: RunSnapshot) -> str:
        """A snapshot's ``metric_segments`` while the caches hold the rows of snapshot ``snap``
        (whose metric summaries stand for the segments it names) and of newer segments."""
        return (
            f"SELECT run_id, segment FROM _snap_msegs UNION SELECT DISTINCT run_id, "
            f"parse_filename(_seg) FROM _c_msum WHERE _seg != {sql_string(snap.id)} ORDER BY ALL"
        )

    def _copy_wide_runs(self, target: Path, options: str) -> None:
        """COPY a snapshot's runs (see :meth:`_wide_runs`) to ``target`` with ``options``,
        :data:`WIDE_CHUNK_RUNS` runs at a time, in their order: the pivot of a chunk fits in
        memory where that of every run would not. Chunks go to files, then into ``target``."""
        con = self._con
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _run_order AS SELECT run_id, "
            "row_number() OVER (ORDER BY start_time DESC, run_id) AS _pos FROM runs"
        )
        runs = con.execute("SELECT count(*) FROM _run_order").fetchall()[0][0]
        keys = {
            group: [row[0] for row in con.execute(
                f"SELECT DISTINCT key FROM {view} ORDER BY 1").fetchall()]
            for group, (view, _) in WIDE_GROUPS.items()
        }  # fmt: skip
        if runs <= WIDE_CHUNK_RUNS:
            sql = self._wide_runs(keys, 0, runs)
            con.execute(f"COPY ({sql}) TO {sql_string(str(target))} ({options})")
            return
        folder = self._spill or target.parent
        chunks = [folder / f".{target.name}.{i}" for i in range(0, runs, WIDE_CHUNK_RUNS)]
        try:
            for chunk, start in zip(chunks, range(0, runs, WIDE_CHUNK_RUNS), strict=True):
                sql = self._wide_runs(keys, start, start + WIDE_CHUNK_RUNS)
                con.execute(f"COPY ({sql}) TO {sql_string(str(chunk))} (FORMAT parquet)")
            con.execute("SET preserve_insertion_order = true")  # chunk after chunk
            con.execute(
                f"COPY (SELECT * FROM read_parquet({sql_list([str(c) for c in chunks])})) "
                f"TO {sql_string(str(target))} ({options})"
            )
        finally:
            con.execute(f"SET preserve_insertion_order = {self._spill is None}")
            for chunk in chunks:
                chunk.unlink(missing_ok=True)

    @staticmethod
    def _wide_runs(keys: dict[str, list[str]], start: int, stop: int) -> str:
        """SQL of a snapshot's runs at positions ``start`` to ``stop`` (see ``_run_order``):
        the ``runs`` view, each run's state, and (up to :data:`WIDE_KEYS` ``keys`` in all) a
        column per param, metric and tag key."""
        chunk = f"(SELECT * FROM _run_order WHERE _pos > {start} AND _pos <= {stop})"
        columns, joins = ["r.*", "s.state AS _state", "s.resumed_by AS _resumed_by"], []
        if sum(map(len, keys.values())) <= WIDE_KEYS:
            for group, (view, struct) in WIDE_GROUPS.items():
                if not keys[group]:
                    continue
                picks = ", ".join(
                    f"any_value({struct}) FILTER (WHERE key = {sql_string(key)}) "
                    f"AS {sql_name(f'{group}.{key}')}"
                    for key in keys[group]
                )
                joins.append(f"LEFT JOIN (SELECT run_id, {picks} FROM {view} SEMI JOIN {chunk} "
                             f"USING (run_id) GROUP BY run_id) {group} USING (run_id)")  # fmt: skip
                columns.append(f"{group}.* EXCLUDE (run_id)")
        return (
            f"SELECT {', '.join(columns)} FROM {chunk} o JOIN runs r USING (run_id) "
            f"LEFT JOIN _m_states s USING (run_id) {' '.join(joins)} ORDER BY o._pos"
        )

    def close(self) -> None:
        """Close the DuckDB connection (the reader is unusable afterwards)."""
        with self._lock:
            self._con.close()

    # ---- lazy tables ----------------------------------------------------------------------
    def _define_raw(self, table: str, files: list[str]) -> None:
        """Point the raw views of lazy ``table`` at ``files`` (its segments, while it is not
        loaded), or at its cache (``files`` empty)."""
        rows = summaries = f"(SELECT * EXCLUDE (_seg) FROM {_cache(table)})"
        files = self.layout.local(files)
        if files and table == "metrics":  # (like the cache: one schema, no union by name)
            rows = f"read_parquet({sql_list(files)})"
            summaries = f"({_SUMMARIZE} FROM {rows} GROUP BY run_id, key)"
        elif files:
            rows = f"read_parquet({sql_list(files)}, union_by_name=true)"
        for view, sql in _RAW_VIEWS[table].items():
            self._con.execute(
                f"CREATE OR REPLACE VIEW {view} AS {sql.format(rows=rows, summaries=summaries)}"
            )

    def _raw_view_columns(self, table: str) -> set[tuple[str, str, str]]:
        """(view, column, type) of the raw views of lazy ``table``."""
        return {(view, *row[:2]) for view in _RAW_VIEWS[table]
                for row in self._con.execute(f"DESCRIBE {view}").fetchall()}  # fmt: skip

    def _read_segments(self, table: str, files: list[str]) -> None:
        """Let the views of unloaded ``table`` read ``files``; when DuckDB cannot read them as
        nbtrack's (a damaged or foreign segment), load the table instead, which skips those
        segments with a warning."""
        try:
            self._define_raw(table, files)
            if self._raw_view_columns(table) == self._raw_columns[table]:
                return
        except duckdb.IOException as err:
            raise _Vanished(table) from err
        except duckdb.Error:
            pass
        self._unloaded.discard(table)
        self._define_raw(table, [])
        self._sync(table, files)

    def _load(self, tables: Iterable[str]) -> None:
        """Read the segments of those of ``tables`` that are lazy and not loaded yet into the
        cache, and point their views at it."""
        if self._on_snapshot_files and set(tables) & set(COVERED):
            self._need_segments()
        new = sorted(self._unloaded.intersection(tables))
        self._unloaded.difference_update(new)
        for table in new:
            self._define_raw(table, [])
        try:
            for table in new:
                self._sync(table, self._visible[table])
                self._visible[table] = [f for f in self._visible[table] if f not in self._bad]
        except _Vanished:  # a compaction replaced a segment since the last listing
            self._refresh()

    def _direct(self, read: Callable[[], T]) -> T:
        """``read()``; when it fails while views read segments directly (a compaction removed
        one, or one is damaged), load those the usual way and read again."""
        try:
            return read()
        except (duckdb.IOException, duckdb.InvalidInputException):
            if not self._unloaded:
                raise
            self._load(LAZY)
            return read()

    def _read(self, sql: str, read: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """``read(connection)``, which runs ``sql``, once the tables it names are built."""
        self._prepare(sql)
        return self._direct(lambda: read(self._con))

    def _define_metrics_view(self, files: list[str]) -> None:
        files = self.layout.local(files)
        cols = ", ".join(f'"{c}"' for c in COLUMNS["metrics"])
        source = f"read_parquet({sql_list(files)})" if files else "_p_metrics WHERE false"
        self._con.execute(
            f"CREATE OR REPLACE VIEW metrics AS SELECT {cols} FROM {source} "
            f"UNION ALL SELECT {cols} FROM _p_metrics"
        )

    # ---- liveness -------------------------------------------------------------------------
    def _dead_writers(self) -> set[str]:
        # each run's writer and raw state: from a snapshot's runs, or the rows and events
        source = (
            "SELECT writer, host, pid, _state AS state, _resumed_by AS resumed_by FROM _snap_runs"
            if self._on_snapshot_files
            else "SELECT r.writer, r.host, r.pid, s.state, s.resumed_by "
            "FROM _run_rows r LEFT JOIN _m_states s USING (run_id)"
        )
        # a resumed run is written by the writer that resumed it (host and pid unknown)
        rows = self._con.execute(
            "SELECT DISTINCT coalesce(resumed_by, writer), if(resumed_by IS NULL, host, NULL), "
            f"if(resumed_by IS NULL, pid, NULL) FROM ({source}) "
            "WHERE state IS NULL OR state IN ('started', 'resumed')"
        ).fetchall()
        own = self._own_writer()
        dead = set()
        for writer, host, pid in rows:
            if own is not None and writer == own.id:
                continue
            beat = self.layout.last_beat(writer)
            if not writer_alive(beat, settings.heartbeat_timeout, host, pid):
                dead.add(writer)
        return dead

    def _register_dead(self, writers: set[str]) -> None:
        self._con.execute(
            "CREATE OR REPLACE TABLE _dead AS SELECT unnest(?::VARCHAR[]) AS writer",
            [sorted(writers)],
        )

    # ---- the read API: everything above the store reads through these -------------------
    def query(
        self, sql: str, params: list[Any] | None = None, metrics_view: bool = False
    ) -> pa.Table:
        """``sql`` (with ``?`` parameters) on the store as it is now, as an Arrow table.

        ``metrics_view``: the query reads the ``metrics`` view (every point; see
        :meth:`refresh`). Retries when a compaction removed a file the query was reading.
        """
        return self._fresh(
            lambda: self._read(sql, lambda con: to_arrow(con.sql(sql, params=params or None))),
            metrics_view,
        )

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """:meth:`query`'s answer as a list of tuples (which needs neither pyarrow nor pandas:
        what a widget or a command shows first reads this way)."""
        return self._fresh(
            lambda: self._read(sql, lambda con: con.execute(sql, params or []).fetchall())
        )

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """The store as it is now, for several queries of the views that must agree (another
        thread's refresh waits until the block ends)."""
        with self._lock:
            self._refresh()
            yield Snapshot(self)

    def relation(self, table: pa.Table) -> duckdb.DuckDBPyRelation:
        """``table`` as a DuckDB relation on a cursor of its own, for the caller to query further
        in any thread (one DuckDB connection must not be used by two threads at once)."""
        with self._lock:
            cursor = self._con.cursor()
        return cursor.from_arrow(table)

    def points(
        self,
        run_ids: Sequence[str],
        keys: Sequence[str] | None,
        shape: Callable[[str], str],
        extra: Sequence[Any] = (),
        arrays: bool = False,
    ) -> Any:  # pa.Table, or with ``arrays`` {column: numpy array}
        """Run ``shape(points)`` where ``points`` is a SQL subquery of the metric points of
        ``run_ids`` and ``keys`` (all keys when None; columns ``run_id, key, step, timestamp,
        value``), read from just the segments that hold them; ``extra`` are the parameters of
        what ``shape`` adds. Retries when a compaction removed a segment mid-read. The answer
        is an Arrow table, or with ``arrays`` numpy arrays by column (masked where null),
        which a chart reads without importing pyarrow and pandas.
        """
        # One placeholder per value (not a list parameter) lets DuckDB skip row groups by stats.
        where = f"run_id IN ({', '.join('?' * len(run_ids))})" if run_ids else "false"
        args: list[Any] = list(run_ids)
        if keys is not None:
            where += f" AND key IN ({', '.join('?' * len(keys))})" if keys else " AND false"
            args += list(keys)

        def scan() -> Any:
            files = self._metric_segments(list(run_ids))
            source = f"SELECT {POINT_COLUMNS} FROM _p_metrics"
            if files:
                source = f"SELECT {POINT_COLUMNS} FROM read_parquet(?) UNION ALL {source}"
            points = f"(SELECT * FROM ({source}) WHERE {where})"
            parameters = ([files] if files else []) + args + [*extra]
            sql = shape(points)
            if arrays:
                return self._read(sql, lambda con: con.execute(sql, parameters).fetchnumpy())
            return self._read(sql, lambda con: to_arrow(con.sql(sql, params=parameters)))

        return self._fresh(scan)

    def adopt(self, table: str, path: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Take ``rows`` (tuples in the table's column order, times in epoch microseconds), the
        rows of a segment this process has just published at ``path``, into the cache as they
        are, so that the next refresh need not read the file back."""
        with self._lock:
            if table not in CACHED or table in self._unloaded or path in self._loaded[table]:
                return
            if self._on_snapshot_files and table in COVERED:
                return  # read with the rest once the snapshot's files are left
            # One statement of lists (not an Arrow scan, not a row at a time): the cheapest way
            # into DuckDB for a few rows.
            columns = [
                "make_timestamptz(unnest(?::BIGINT[]))" if kind == "TIMESTAMPTZ"
                else f"unnest(?::{kind}[])"
                for _, kind in duckdb_types(table)
            ]  # fmt: skip
            names = ", ".join(f'"{c}"' for c in COLUMNS[table])
            self._con.execute(
                f"INSERT INTO {_cache(table)} ({names}, _seg) SELECT {', '.join(columns)}, ?",
                [*map(list, zip(*rows, strict=True)), path],
            )
            self._loaded[table].add(path)

    def known_runs(self, run_ids: Iterable[str]) -> set[str]:
        """Those of ``run_ids`` the store has, this process's unflushed runs included."""
        with self.snapshot():
            source = "runs" if self._on_snapshot_files else "_run_rows"
            rows = self._con.execute(
                f"SELECT DISTINCT run_id FROM {source} WHERE run_id IN (SELECT unnest(?))",
                [sorted(set(run_ids))],
            ).fetchall()
        return {r[0] for r in rows}

    def copy_rows(
        self,
        run_ids: Sequence[str],
        files: Mapping[str, Path],
        metadata: Mapping[str, Mapping[str, str]],
    ) -> dict[str, int]:
        """Write every stored row of ``run_ids`` (all param and tag values with their times,
        every metric point, every event) of each table in ``files`` into that Parquet file,
        with ``metadata[table]`` as its key-value metadata; returns the rows per table.

        Metric points stream from the segments that hold them into the file, never through
        Python; a segment removed by a concurrent compaction makes the whole copy start over.
        """
        import pyarrow as pa

        ids = pa.table({"run_id": pa.array(list(run_ids), type=pa.string())})
        with self._lock:
            self._con.register("_copy_ids", ids)
            try:
                return self._fresh(
                    lambda: {
                        table: self._copy(table, list(run_ids), path, metadata[table])
                        for table, path in files.items()
                    }
                )
            finally:
                self._con.unregister("_copy_ids")

    def copy_tables(
        self, files: Mapping[str, Path], metadata: Mapping[str, Mapping[str, str]]
    ) -> dict[str, int]:
        """Write every stored row of each small table in ``files`` (the registry's, say) into
        that Parquet file, with ``metadata[table]`` as its key-value metadata; returns the rows
        per table."""
        if "metrics" in files:
            raise ValueError("metric points are copied per run, with copy_rows")
        return self._fresh(
            lambda: {
                table: self._copy(table, None, path, metadata[table])
                for table, path in files.items()
            }
        )

    def _fresh(self, read: Callable[[], T], metrics_view: bool = False) -> T:
        """``read()`` on the store as it is now; when a compaction removed a file it was
        reading, list the store again and read again."""
        with self._lock:
            for attempt in range(RETRIES):
                self._refresh(metrics_view)
                try:
                    return self._direct(read)
                except (duckdb.IOException, FileNotFoundError):
                    if attempt == RETRIES - 1:
                        raise
        raise AssertionError("unreachable")

    def _copy(
        self, table: str, run_ids: list[str] | None, path: Path, metadata: Mapping[str, str]
    ) -> int:
        """Copy the rows of ``run_ids`` (None: every row) of ``table`` into ``path``."""
        self._need_segments()
        cols = ", ".join(f'"{c}"' for c in COLUMNS[table])
        where = "true" if run_ids is None else "run_id IN (SELECT run_id FROM _copy_ids)"
        if table == "metrics":
            assert run_ids is not None
            files = self._metric_segments(run_ids)
            query = f"SELECT {cols} FROM _p_metrics WHERE {where}"
            if files:
                query = (
                    f"SELECT {cols} FROM read_parquet({sql_list(files)}, union_by_name=true) "
                    f"WHERE {where} UNION ALL {query}"
                )
        else:
            source, order = _RAW_ROWS[table]
            query = f"SELECT {cols} FROM {source} WHERE {where} ORDER BY {order}"
        pairs = ", ".join(f"{sql_string(k)}: {sql_string(v)}" for k, v in metadata.items())
        # Every column optional, as in the segments, whatever the rows: DuckDB writes a column
        # as required when it can prove it holds no null (here, when the filter implies it).
        optional = ", ".join(f'if("{c}" IS NULL, NULL, "{c}") AS "{c}"' for c in COLUMNS[table])
        copied = self._con.execute(
            f"COPY (SELECT {optional} FROM ({query})) TO {sql_string(str(path))} "
            f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{pairs}}})"
        ).fetchone()
        return int(copied[0]) if copied else 0

    def _metric_segments(self, run_ids: list[str]) -> list[str]:
        """The metric segments holding points of ``run_ids`` (call after refresh)."""
        found: list[str] = []
        if self._snap is not None:  # the segments it covers, named in the snapshot
            directory = self.layout.table_dir("metrics")
            covered = self._con.execute(
                "SELECT DISTINCT segment FROM _snap_msegs WHERE run_id IN (SELECT unnest(?)) "
                "ORDER BY 1",
                [run_ids],
            ).fetchall()
            found = [str(directory / row[0]) for row in covered]
            if self._on_snapshot_files:
                return self.layout.local(found)
        self._load(["metrics"])
        rows = self._con.execute(
            "SELECT DISTINCT _seg FROM _c_msum WHERE run_id IN (SELECT unnest(?)) "
            "AND _seg != ? ORDER BY 1",
            [run_ids, self.snapshot_id or ""],
        ).fetchall()
        return self.layout.local(sorted(found + [r[0] for r in rows]))


class Snapshot:
    """Queries of the views on one state of the store (see :meth:`Reader.snapshot`)."""

    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    @property
    def generation(self) -> tuple[Reader, int]:
        """Equal for two snapshots exactly when nothing a query could see changed between them
        (the same reader, at the same generation), so results may be reused while it holds."""
        return self._reader, self._reader.generation

    @property
    def wide_columns(self) -> frozenset[str] | None:
        """The ``params.<key>``, ``metrics.<key>`` and ``tags.<key>`` columns of the relation
        ``_runs_wide`` (the ``runs`` view plus a struct per key, see :data:`WIDE_GROUPS`, and
        ``_row``, each run's position in the file), when the views read a run snapshot that has
        them; None: query the per-key views."""
        reader = self._reader
        return reader._wide if reader._on_snapshot_files else None

    @property
    def pages_by_position(self) -> bool:
        """Whether a page of ``_runs_wide`` is best read in two steps: the positions of its runs
        (reading what the filter and order need), then their values by position (the runs are
        in a file, not in memory)."""
        return not self._reader._snap_in_memory

    @property
    def any_inputs(self) -> bool:
        """Whether any run logged a dataset (see ``log_input``): else no query need ask."""
        reader = self._reader
        return bool(reader._loaded["inputs"]) or "inputs" in reader._pending_tables

    @property
    def keys_relation(self) -> str | None:
        """A relation of ``experiment, group, key``: which param, metric and tag keys the runs
        of each experiment have, when the views read a run snapshot (None: ask the views)."""
        return "_snap_keys" if self._reader._on_snapshot_files else None

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        """``sql`` (with ``?`` parameters) as an Arrow table."""
        return self._reader._read(sql, lambda con: to_arrow(con.sql(sql, params=params or None)))

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """``sql`` (with ``?`` parameters) as a list of tuples."""
        return self._reader._read(sql, lambda con: con.execute(sql, params or []).fetchall())

    def records(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """``sql`` (with ``?`` parameters) as a list of ``{column: value}`` dicts."""

        def read(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
            cursor = con.execute(sql, params or [])
            names = [column[0] for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return self._reader._read(sql, read)

    def numpy(self, sql: str, params: list[Any] | None = None) -> dict[str, Any]:
        """``sql`` (with ``?`` parameters) as a numpy array per column (masked where null)."""
        return self._reader._read(sql, lambda con: con.execute(sql, params or []).fetchnumpy())

    def rows_of(self, table: str) -> str:
        """The relation holding every stored row of small ``table`` (e.g. ``model_versions``:
        deleted versions included; ``params``: every value ever logged), for queries that need
        more than the views' current state."""
        return _RAW_ROWS[table][0]

    def source(self, name: str, keys: bool = False) -> str:
        """What a query that reads only part of view ``name`` (``params``, ``tags`` or
        ``latest_metrics``) should read instead: a few runs' rows, or with ``keys`` only its
        ``run_id, key`` pairs (each at least once). That is the table once a query has needed
        it whole, else what the table is built from, which costs less than building it would:
        the first page of a run table reads no more than that."""
        if name in self._reader._built:
            return name
        return _KEY_ROWS[name] if keys else MATERIALIZED[name][0]
