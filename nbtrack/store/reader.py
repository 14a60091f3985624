"""DuckDB over the store: an in-memory cache of the small tables, views over everything.

The small tables (runs, params, tags, events, artifacts) and one summary row per run, metric
key and metric segment are loaded into in-memory DuckDB tables, incrementally: a segment is
read once, when it first appears (segments are immutable). Metric points stay in their Parquet
files and are read on demand, from just the segments that hold the requested runs. This
process's unflushed rows are registered as Arrow tables, so a process always sees its own logs.

Views (the ``nbtrack.sql`` contract): ``runs``, ``params``, ``metrics``, ``tags``,
``latest_metrics``, ``events``, ``artifacts``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import warnings
from collections.abc import Callable

import duckdb
import pyarrow as pa

from ..config import settings
from ..errors import StoreError, StoreWarning
from .buffers import Batch
from .layout import Layout
from .liveness import writer_alive
from .schema import END_STATES, PUBLISH_ORDER, TABLES, arrow_schema, duckdb_columns
from .writer import Writer

CACHED = ("runs", "params", "tags", "events", "artifacts")
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
_VIEWS = f"""
CREATE OR REPLACE VIEW events AS
    SELECT * EXCLUDE (_seg) FROM _c_events UNION ALL BY NAME SELECT * FROM _p_events;
CREATE OR REPLACE VIEW artifacts AS
    SELECT * EXCLUDE (_seg) FROM _c_artifacts UNION ALL BY NAME SELECT * FROM _p_artifacts;
CREATE OR REPLACE VIEW _run_rows AS
    SELECT * EXCLUDE (_seg) FROM _c_runs UNION ALL BY NAME SELECT * FROM _p_runs;
CREATE OR REPLACE VIEW _states AS
    SELECT run_id,
        max_by(kind, ("timestamp", kind <> 'started'))
            FILTER (WHERE kind = 'started' OR kind IN ({_ENDS})) AS state,
        max("timestamp") FILTER (WHERE kind IN ({_ENDS})) AS end_time,
        max_by(detail, "timestamp") FILTER (WHERE kind IN ({_ENDS})) AS error,
        coalesce(max_by(kind, "timestamp") FILTER (WHERE kind IN ('deleted', 'restored'))
            = 'deleted', false) AS deleted
    FROM events GROUP BY run_id;
CREATE OR REPLACE VIEW _v_runs AS
    SELECT r.run_id, r.experiment, r.name,
        CASE WHEN s.state IS NULL OR s.state = 'started'
             THEN CASE WHEN r.writer IN (SELECT writer FROM _dead) THEN 'crashed'
                       ELSE 'running' END
             ELSE s.state END AS status,
        r.created_at AS start_time, s.end_time,
        epoch(s.end_time) - epoch(r.created_at) AS duration,
        coalesce(s.deleted, false) AS deleted, s.error,
        r.* EXCLUDE (run_id, experiment, name, created_at)
    FROM _run_rows r LEFT JOIN _m_states s USING (run_id);
CREATE OR REPLACE VIEW _param_rows AS
    SELECT * EXCLUDE (_seg) FROM _c_params UNION ALL BY NAME SELECT * FROM _p_params;
CREATE OR REPLACE VIEW _tag_rows AS
    SELECT * EXCLUDE (_seg) FROM _c_tags UNION ALL BY NAME SELECT * FROM _p_tags;
CREATE OR REPLACE VIEW _summaries AS
    SELECT * EXCLUDE (_seg) FROM _c_msum
    UNION ALL BY NAME {_SUMMARIZE} FROM _p_metrics GROUP BY run_id, key;
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
# The views users query are tables, rebuilt only when a table they derive from changed: a
# query on an unchanged store does no aggregation at all.
MATERIALIZED = {
    "runs": ("_v_runs", {"runs", "events", "_dead"}),
    "params": ("_v_params", {"params"}),
    "tags": ("_v_tags", {"tags"}),
    "latest_metrics": ("_v_latest_metrics", {"metrics"}),
}
# How often the liveness of writers with running runs is checked again when nothing changed.
LIVENESS_CHECK_S = 1.0


class _Vanished(Exception):
    """A segment disappeared while being read (compaction); list the store again."""


class Reader:
    """This process's query engine for one store."""

    def __init__(self, layout: Layout, own_writer: Callable[[], Writer | None]) -> None:
        self.layout = layout
        self._own_writer = own_writer
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        # A progress bar would print into cells; in a kernel without ipywidgets DuckDB refuses
        # the setting (and shows no bar there anyway).
        with contextlib.suppress(duckdb.Error):
            self.con.execute("SET enable_progress_bar = false")
        self.lock = threading.RLock()
        self._loaded: dict[str, set[str]] = {t: set() for t in TABLES}
        self._bad: set[str] = set()
        for table in CACHED:
            self.con.execute(f"CREATE TABLE _c_{table} (_seg VARCHAR, {duckdb_columns(table)})")
        self.con.execute(f"CREATE TABLE _c_msum ({_SUMMARY_COLUMNS})")
        for table in TABLES:
            self.con.register(f"_p_{table}", arrow_schema(table).empty_table())
        self.generation = 0  # bumps whenever anything a query could see has changed
        self._dead: set[str] = set()
        self._dead_checked = 0.0
        self._pending_tables: set[str] = set()
        self._register_dead(set())
        self._define_metrics_view([])
        self.con.execute("CREATE TABLE _m_states AS SELECT * FROM (VALUES (NULL::VARCHAR, "
                         "NULL::VARCHAR, NULL::TIMESTAMPTZ, NULL::VARCHAR, NULL::BOOLEAN)) "
                         "t(run_id, state, end_time, error, deleted) WHERE false")  # fmt: skip
        self.con.execute(_VIEWS)
        self._materialize(set(TABLES) | {"_dead"})

    # ---- refreshing -----------------------------------------------------------------------
    def refresh(self, metrics_view: bool = False) -> None:
        """Load new segments, drop replaced ones, and take this process's unflushed rows.

        ``metrics_view`` also points the ``metrics`` view at the current metric segments
        (binding it reads every segment's footer, so only ``sql()`` asks for it).
        """
        with self.lock:
            self.layout.check_format()
            for _ in range(RETRIES):
                try:
                    self._refresh_once()
                    if metrics_view:
                        self._define_metrics_view(sorted(self._loaded["metrics"]))
                    return
                except (_Vanished, FileNotFoundError, duckdb.IOException):
                    continue
            raise StoreError(
                f"the store at {self.layout.root} kept changing under the reader; try again"
            )

    def _refresh_once(self) -> None:
        listing, pending = self._list()
        changed = {table for table in TABLES if self._sync(table, listing[table])}
        now_pending = pending.tables()
        for table in now_pending | self._pending_tables:  # new rows, or rows now in segments
            self.con.register(f"_p_{table}", pending.table(table))
            changed.add(table)
        self._pending_tables = now_pending
        if "events" in changed:  # run states first: liveness below reads them
            self.con.execute("CREATE OR REPLACE TABLE _m_states AS SELECT * FROM _states")
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
        for name, (view, sources) in MATERIALIZED.items():
            if sources & changed:
                self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {view}")

    def _list(self) -> tuple[dict[str, list[str]], Batch]:
        """Visible segments per table, plus this process's rows not yet in any of them."""
        writer = self._own_writer()
        if writer is None:
            return self._list_segments(), Batch()
        with writer.visibility:
            return self._list_segments(), writer.snapshot()

    def _list_segments(self) -> dict[str, list[str]]:
        # Reverse publish order: whoever sees a run's end event also sees the data before it.
        listing = {t: self.layout.list_segments(t) for t in reversed(PUBLISH_ORDER)}
        return {t: [f for f in files if f not in self._bad] for t, files in listing.items()}

    def _sync(self, table: str, files: list[str]) -> bool:
        """Bring the cache of ``table`` in line with ``files``; True when anything changed."""
        loaded = self._loaded[table]
        current = set(files)
        removed = loaded - current
        added = sorted(current - loaded)
        target = "_c_msum" if table == "metrics" else f"_c_{table}"
        if removed:
            self.con.execute(
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
            self.con.execute(sql, [files])
            return files
        except duckdb.Error:
            pass  # find the culprit(s) one file at a time
        good = []
        for path in files:
            try:
                self.con.execute(sql, [[path]])
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

    def _define_metrics_view(self, files: list[str]) -> None:
        cols = ", ".join(f'"{c}"' for c in arrow_schema("metrics").names)
        source = f"read_parquet({_sql_list(files)})" if files else "_p_metrics WHERE false"
        self.con.execute(
            f"CREATE OR REPLACE VIEW metrics AS SELECT {cols} FROM {source} "
            f"UNION ALL SELECT {cols} FROM _p_metrics"
        )

    # ---- liveness -------------------------------------------------------------------------
    def _dead_writers(self) -> set[str]:
        rows = self.con.execute(
            "SELECT DISTINCT r.writer, r.host, r.pid FROM _run_rows r LEFT JOIN _m_states s "
            "USING (run_id) WHERE s.state IS NULL OR s.state = 'started'"
        ).fetchall()
        own = self._own_writer()
        dead = set()
        for writer, host, pid in rows:
            if own is not None and writer == own.id:
                continue
            heartbeat = self.layout.writers / f"{writer}.json"
            if not writer_alive(heartbeat, settings.heartbeat_timeout, host, pid):
                dead.add(writer)
        return dead

    def _register_dead(self, writers: set[str]) -> None:
        self.con.register("_dead", pa.table({"writer": pa.array(sorted(writers), pa.string())}))

    # ---- queries --------------------------------------------------------------------------
    def metric_segments(self, run_ids: list[str]) -> list[str]:
        """The metric segments holding points of ``run_ids`` (call after refresh)."""
        rows = self.con.execute(
            "SELECT DISTINCT _seg FROM _c_msum WHERE run_id IN (SELECT unnest(?)) ORDER BY 1",
            [run_ids],
        ).fetchall()
        return [r[0] for r in rows]

    def arrow(self, sql: str, params: list | None = None):  # -> pyarrow.Table
        """Result of ``sql`` as an Arrow table (no refresh; hold ``lock``)."""
        relation = self.con.sql(sql, params=params or None)
        # DuckDB 2 names it to_arrow_table(); DuckDB 1.x (the one Python 3.10 gets) arrow().
        convert = getattr(relation, "to_arrow_table", None) or relation.arrow
        return convert()

    def query(
        self, sql: str, params: list | None = None, refresh: bool = True, metrics_view: bool = False
    ):  # -> pyarrow.Table
        """Run ``sql`` (with ``?`` parameters) on fresh data; returns an Arrow table.

        Retries when a compaction removed a file the query was reading. ``metrics_view``: the
        query reads the ``metrics`` view (see :meth:`refresh`).
        """
        with self.lock:
            for attempt in range(RETRIES):
                if refresh or attempt:
                    self.refresh(metrics_view)
                try:
                    return self.arrow(sql, params)
                except duckdb.IOException:
                    if attempt == RETRIES - 1:
                        raise
            raise AssertionError("unreachable")

    def relation(self, table):  # pyarrow.Table -> duckdb.DuckDBPyRelation
        """``table`` as a DuckDB relation on a cursor of its own, for the caller to query further
        in any thread (one DuckDB connection must not be used by two threads at once)."""
        with self.lock:
            cursor = self.con.cursor()
        return cursor.from_arrow(table)


def _sql_list(files: list[str]) -> str:
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
