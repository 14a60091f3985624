"""Reading single runs and metric histories; deleting and restoring runs; raw SQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    import pandas as pd

from ..errors import RunNotFoundError
from ..store import get_store
from ..store.reader import Reader, Snapshot
from .frames import decoded_params

# Shortest prefix accepted in place of a full run id (like git's abbreviated hashes).
MIN_PREFIX = 4

RunRef = Any  # a run id, a unique id prefix, or anything with an ``.id`` (Run, RunRecord)
Queryable = Reader | Snapshot


@dataclass
class RunRecord:
    """Everything recorded about one run, as returned by :func:`nbtrack.get_run`."""

    id: str
    name: str
    experiment: str
    status: str
    start_time: datetime
    end_time: datetime | None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    parent_id: str | None = None
    deleted: bool = False
    error: str | None = None
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    models: list[Any] = field(default_factory=list)  # ModelInfo of each model the run logged

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (None while running)."""
        if self.end_time is None:
            return None
        return (self.end_time - self.start_time).total_seconds()


def _as_id(run: RunRef) -> str:
    return run if isinstance(run, str) else run.id


def id_list(runs: RunRef | Iterable[RunRef]) -> list[str]:
    if isinstance(runs, str) or hasattr(runs, "id"):
        return [_as_id(runs)]
    return [_as_id(r) for r in runs]


def resolve_id(reader: Queryable, run: RunRef) -> str:
    """The full id of ``run`` (a full id or a unique prefix of at least MIN_PREFIX chars),
    looked up through ``reader`` (the store's reader, or one of its snapshots)."""
    run_id = _as_id(run)
    rows = [
        row[0]
        for row in reader.rows(
            "SELECT run_id FROM runs WHERE run_id = ? "
            "OR (length(?) >= ? AND starts_with(run_id, ?)) ORDER BY run_id <> ? LIMIT 2",
            [run_id, run_id, MIN_PREFIX, run_id, run_id],
        )
    ]
    if not rows:
        raise RunNotFoundError(
            f"no run {run_id!r} in the store at {get_store().root}; list runs with "
            "nbtrack.search() or `nbtrack ls`"
        )
    if len(rows) > 1 and rows[0] != run_id:
        raise RunNotFoundError(f"run id prefix {run_id!r} is ambiguous; type more characters")
    return rows[0]


def resolve_ids(runs: Iterable[RunRef]) -> list[str]:
    """The full ids of ``runs`` in order, without duplicates: exact ids in one query, prefixes
    one by one (raises RunNotFoundError for an unknown or ambiguous one)."""
    reader = get_store().reader
    wanted = list(dict.fromkeys(_as_id(r) for r in runs))
    exact = {
        row[0]
        for row in reader.rows(
            "SELECT run_id FROM runs WHERE run_id IN (SELECT unnest(?))", [wanted]
        )
    }
    return list(dict.fromkeys(r if r in exact else resolve_id(reader, r) for r in wanted))


def child_ids(run_id: str) -> list[str]:
    """The ids of the runs started inside run ``run_id`` (a sweep's trials), oldest first."""
    return [
        row[0]
        for row in get_store().reader.rows(
            "SELECT run_id FROM runs WHERE parent_run_id = ? AND NOT deleted ORDER BY start_time",
            [run_id],
        )
    ]


def last_child_metric(run_id: str, key: str) -> float | None:
    """The last value of metric ``key`` logged in a run started inside run ``run_id`` (the
    latest such run), or None: a sweep trial whose notebook logs in ``%%track`` cells."""
    rows = [
        row[0]
        for row in get_store().reader.rows(
            "SELECT m.value FROM latest_metrics m JOIN runs r USING (run_id) "
            "WHERE r.parent_run_id = ? AND m.key = ? ORDER BY r.start_time DESC LIMIT 1",
            [run_id, key],
        )
    ]
    return float(rows[0]) if rows else None


def get_run(run_id: RunRef) -> RunRecord:
    """Everything recorded about one run; ``run_id`` may be a unique prefix.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run(params={"layers": [64, 64]}) as run:
    ...     run.log(loss=0.5)
    >>> record = nbtrack.get_run(run.id)
    >>> record.status, record.params, record.metrics
    ('finished', {'layers': [64, 64]}, {'loss': 0.5})
    """
    with get_store().reader.snapshot() as snap:
        rid = resolve_id(snap, run_id)
        info = snap.records("SELECT * FROM runs WHERE run_id = ?", [rid])[0]

        def fetch(columns: str, table: str) -> list[tuple[Any, ...]]:
            sql = f"SELECT {columns} FROM {table} WHERE run_id = ? ORDER BY key"
            return snap.rows(sql, [rid])

        params = fetch("run_id, key, type, num, value", "params")
        metrics = fetch("key, value", "latest_metrics")
        tags = fetch("key, value", "tags")
        artifacts = snap.records(
            "SELECT path, size, sha256 FROM artifacts WHERE run_id = ? "
            "QUALIFY row_number() OVER (PARTITION BY path ORDER BY timestamp DESC) = 1 "
            "ORDER BY path", [rid]
        )  # fmt: skip
        inputs = snap.records(
            "SELECT name, digest, context, source, schema, num_rows FROM inputs "
            "WHERE run_id = ? QUALIFY row_number() OVER "
            '(PARTITION BY name, digest, context ORDER BY "timestamp" DESC) = 1 '
            "ORDER BY name, context", [rid]
        )  # fmt: skip
    context_keys = ("host", "pid", "user", "python", "source", "notebook", "cell_id",
                    "execution_count", "code", "git_commit", "git_dirty", "writer")  # fmt: skip
    context = {k: info.get(k) for k in context_keys}
    context["packages"] = json.loads(info["packages"]) if info.get("packages") else {}
    paths = [a["path"] for a in artifacts]
    models: list[Any] = []
    if any(p == "MLmodel" or p.endswith("/MLmodel") for p in paths):
        from ..mlmodel.info import logged_models

        models = logged_models(get_store().layout.artifact_dir(rid), rid, paths)
    return RunRecord(
        id=rid,
        name=info["name"],
        experiment=info["experiment"],
        status=info["status"],
        start_time=info["start_time"],
        end_time=info["end_time"],
        params={k: v for _, k, v in sorted(decoded_params(params), key=lambda r: r[1])},
        metrics=dict(metrics),
        tags=dict(tags),
        parent_id=info["parent_run_id"],
        deleted=info["deleted"],
        error=info["error"],
        artifacts=artifacts,
        inputs=inputs,
        context=context,
        models=models,
    )


# Everything a view of some runs shows changes one of these: what their events decide (status,
# end, error, deletion), the number and last time of metric points, params, tags. One small
# query over the views that a run snapshot holds too (no raw events), so a live widget can
# tell "other runs changed" apart from "these runs changed".
_VERSION_SQL = """
WITH ids AS (SELECT unnest(?) AS run_id)
SELECT
  (SELECT list((run_id, status, deleted, end_time, error) ORDER BY run_id)
   FROM runs WHERE run_id IN (FROM ids)),
  (SELECT (sum("count"), max(last_time)) FROM latest_metrics WHERE run_id IN (FROM ids)),
  (SELECT (count(*), sum(hash(run_id, key, value, num))) FROM params WHERE run_id IN (FROM ids)),
  (SELECT (count(*), max("timestamp")) FROM tags WHERE run_id IN (FROM ids))
"""


def runs_version(run_ids: Iterable[str]) -> str:
    """A value that changes whenever anything recorded about ``run_ids`` does (and only then:
    other runs' logging leaves it as it was).

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run() as a, nbtrack.run() as b:
    ...     a.log(x=1.0)
    ...     before = runs_version([a.id])
    ...     b.log(x=1.0)
    ...     same = runs_version([a.id]) == before
    ...     a.log(x=2.0)
    ...     moved = runs_version([a.id]) != before
    >>> same, moved
    (True, True)
    """
    return repr(get_store().reader.rows(_VERSION_SQL, [list(run_ids)]))


def metric_summaries(run_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Per run and metric: ``run_id, key, min, max, count`` over its whole history."""
    with get_store().reader.snapshot() as snap:
        return snap.records(
            "SELECT run_id, key, min, max, count FROM latest_metrics "
            "WHERE run_id IN (SELECT unnest(?))",
            [list(run_ids)],
        )


def run_summaries(run_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each run's ``name`` and last value of each of its ``metrics``, by run id (runs unknown
    to the store left out), in two queries."""
    wanted = sorted(set(run_ids))
    if not wanted:
        return {}
    with get_store().reader.snapshot() as snap:
        named = snap.rows("SELECT run_id, name FROM runs WHERE run_id IN (SELECT unnest(?))",
                          [wanted])  # fmt: skip
        points = snap.rows(
            "SELECT run_id, key, value FROM latest_metrics WHERE run_id IN (SELECT unnest(?))",
            [wanted],
        )
    runs: dict[str, dict[str, Any]] = {rid: {"name": name, "metrics": {}} for rid, name in named}
    for run_id, key, value in points:
        if run_id in runs:
            runs[run_id]["metrics"][key] = value
    return runs


def latest_run(keys: Sequence[str]) -> list[str]:
    """The most recent run (not deleted) that logged any of metric ``keys``: ``[id]`` or ``[]``."""
    found = get_store().reader.rows(
        "SELECT r.run_id FROM runs r JOIN latest_metrics m USING (run_id) "
        "WHERE m.key IN (SELECT unnest(?)) AND NOT r.deleted "
        "ORDER BY r.start_time DESC LIMIT 1",
        [list(keys)],
    )
    return [row[0] for row in found]


def history(
    runs: RunRef | Iterable[RunRef], keys: str | Iterable[str] | None = None
) -> pd.DataFrame:
    """Metric points, long: ``run_id, key, step, timestamp, value``, ordered by run, key, step.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run() as run:
    ...     for v in (0.9, 0.5, 0.3):
    ...         run.log(loss=v)
    >>> nbtrack.history(run.id, "loss")[["step", "value"]].to_dict("list")
    {'step': [0, 1, 2], 'value': [0.9, 0.5, 0.3]}
    """
    key_list = [keys] if isinstance(keys, str) else (list(keys) if keys is not None else None)
    table = get_store().reader.points(
        id_list(runs), key_list, lambda points: f"SELECT * FROM {points}"
    )
    return in_history_order(table).to_pandas()


HISTORY_ORDER = ("run_id", "key", "step", "timestamp")


def in_history_order(table: Any) -> Any:  # pyarrow.Table -> pyarrow.Table
    """``table`` sorted by run, key, step and time; sorting is skipped when already in order.

    Points arrive in the order they were logged (segments are read in order), which for one
    series is almost always step order: checking costs a fraction of a sort of a long series.
    """
    import numpy as np
    import pyarrow.compute as pc

    if table.num_rows < 2:
        return table
    tied = np.ones(table.num_rows - 1, dtype=bool)
    for name in HISTORY_ORDER:
        column = table[name].combine_chunks()
        before, after = column[:-1], column[1:]
        equal = pc.equal(after, before).to_numpy(zero_copy_only=False)
        if equal.all():  # one run, one key: nothing to compare on this column
            continue
        if np.any(tied & pc.less(after, before).to_numpy(zero_copy_only=False)):
            return table.sort_by([(c, "ascending") for c in HISTORY_ORDER])
        tied &= equal
    return table


def sql(query: str) -> duckdb.DuckDBPyRelation:
    """Run SQL over the store's views: ``runs``, ``params``, ``metrics``, ``tags``,
    ``latest_metrics``, ``events``, ``artifacts``. The query runs at once, on the store as it
    is; the result is a relation of its own, safe to use from any thread.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run() as run:
    ...     run.log(acc=0.9)
    >>> nbtrack.sql("SELECT key, value FROM latest_metrics").fetchall()
    [('acc', 0.9)]
    """
    reader = get_store().reader
    return reader.relation(reader.query(query, metrics_view=True))


def _mark(run_id: RunRef, kind: str) -> str:
    store = get_store()
    rid = resolve_id(store.reader, run_id)
    store.writer.start()
    store.writer.append("events", [{"run_id": rid, "timestamp": time.time(), "kind": kind}])
    store.writer.request_flush()
    return rid


def delete_run(run_id: RunRef) -> None:
    """Hide a run from searches (``include_deleted=True`` shows it); undo with restore_run."""
    _mark(run_id, "deleted")


def restore_run(run_id: RunRef) -> None:
    """Undo :func:`delete_run`."""
    _mark(run_id, "restored")
