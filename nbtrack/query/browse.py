"""What a run browser asks of the store beyond ``search``: experiments at a glance, a page of
runs with its total, one run's metric summaries and predecessor, the last run of each notebook
cell, and tags set on runs that have ended."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..store import get_store
from ..store.reader import Snapshot
from ..values import check_key
from .columns import BASE_COLUMNS
from .runs import RunRef, resolve_id
from .search import RunQuery, column_keys

GROUPS = ("params", "metrics", "tags")
# Columns of a run row beyond search's base ones: where the run came from, and whether hidden.
SOURCE_COLUMNS = ("notebook", "cell_id", "deleted")


def experiments() -> list[dict[str, Any]]:
    """Each experiment with runs that are not deleted: ``name``, ``runs`` (how many),
    ``running`` (how many now) and ``last_start``, most recently active first.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run(experiment="wine"):
    ...     pass
    >>> [(e["name"], e["runs"], e["running"]) for e in experiments()]
    [('wine', 1, 0)]
    """
    return experiments_and_version()[0]


def experiments_and_version() -> tuple[list[dict[str, Any]], str]:
    """:func:`experiments`, and a version of everything a query could see: it changes when
    anything is logged, ends or is deleted, so a poller can skip reading what has not changed."""
    with get_store().reader.snapshot() as snap:
        rows = snap.rows(
            "SELECT experiment, count(*), count(*) FILTER (WHERE status = 'running'), "
            "max(start_time) FROM runs WHERE NOT deleted GROUP BY experiment "
            "ORDER BY max(start_time) DESC, experiment"
        )
        reader, generation = snap.generation
        version = f"{id(reader):x}.{generation}"
    found = [
        {"name": name, "runs": runs, "running": running, "last_start": last}
        for name, runs, running, last in rows
    ]
    return found, version


@dataclass
class RunsPage:
    """One page of runs: ``runs`` as records (see :func:`runs_page`), how many runs match in
    all (``total``), and the param, metric and tag keys of the runs that could match."""

    total: int
    runs: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, list[str]] = field(default_factory=dict)


def runs_page(
    filter: str | None = None,
    experiment: str | Sequence[str] | None = None,
    order_by: list[str] | str | None = None,
    limit: int = 50,
    offset: int = 0,
    include_deleted: bool = False,
) -> RunsPage:
    """``limit`` runs from ``offset`` of those :func:`nbtrack.search` finds with the same
    arguments (newest first by default), each a record of search's base columns plus
    ``notebook``, ``cell_id``, ``deleted`` and ``params``, ``metrics`` (last values) and
    ``tags`` as ``{key: value}``. Raises :class:`nbtrack.FilterError` for a bad filter or
    ``order_by``.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> for lr in (0.1, 0.01, 0.001):
    ...     with nbtrack.run(params={"lr": lr}) as run:
    ...         run.log(acc=1 - lr)
    >>> page = runs_page("params.lr < 0.05", order_by="metrics.acc DESC", limit=1)
    >>> page.total, [(r["params"], r["metrics"]) for r in page.runs], page.columns["params"]
    (2, [({'lr': 0.001}, {'acc': 0.999})], ['lr'])
    """
    query = RunQuery(filter, experiment, order_by, include_deleted)
    with get_store().reader.snapshot() as snap:
        keys = _column_keys(snap, experiment)
        total = snap.rows(*query.count(snap.wide_columns))[0][0]
        records = query.read_records(snap, limit, offset, None)  # every param, metric and tag
        source = {
            row[0]: row[1:]
            for row in snap.rows(
                f"SELECT run_id, {', '.join(SOURCE_COLUMNS)} FROM runs "
                "WHERE run_id IN (SELECT unnest(?))",
                [[record["run_id"] for record in records]],
            )
        }
    runs = []
    for record in records:
        run = {c: record[c] for c in BASE_COLUMNS}
        run.update(zip(SOURCE_COLUMNS, source[run["run_id"]], strict=True))
        groups: dict[str, dict[str, Any]] = {group: {} for group in GROUPS}
        for column, value in record.items():
            group, _, key = column.partition(".")
            if key and group in groups:
                groups[group][key] = value
        runs.append({**run, **groups})
    return RunsPage(total, runs, keys)


# The column keys of the last few (store state, experiment) pairs asked about: a browser polling
# an unchanged store asks again and again, and listing the keys of every run is most of a page's
# cost in a store of thousands of runs.
_KEYS_KEPT = 16
_keys: dict[tuple[Any, ...], dict[str, list[str]]] = {}
_keys_lock = threading.Lock()


def _column_keys(snap: Snapshot, experiment: str | Sequence[str] | None) -> dict[str, list[str]]:
    """:func:`column_keys` of ``experiment``, reused while the store is as ``snap`` sees it."""
    wanted = experiment if experiment is None or isinstance(experiment, str) else tuple(experiment)
    key = (*snap.generation, wanted)
    with _keys_lock:
        found = _keys.get(key)
    if found is None:
        found = column_keys(experiment)
        with _keys_lock:
            _keys[key] = found
            while len(_keys) > _KEYS_KEPT:
                del _keys[next(iter(_keys))]
    return {group: list(names) for group, names in found.items()}


def metric_summary(run: RunRef) -> dict[str, dict[str, Any]]:
    """Per metric of ``run``: its ``last`` value, ``min``, ``max``, ``count`` of points and
    last ``step``.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run() as run:
    ...     for loss in (0.9, 0.2, 0.4):
    ...         run.log(loss=loss)
    >>> metric_summary(run.id)
    {'loss': {'last': 0.4, 'min': 0.2, 'max': 0.9, 'count': 3, 'step': 2}}
    """
    with get_store().reader.snapshot() as snap:
        rid = resolve_id(snap, run)
        rows = snap.rows(
            "SELECT key, value, min, max, count, step FROM latest_metrics WHERE run_id = ? "
            "ORDER BY key",
            [rid],
        )
    return {
        key: {"last": last, "min": low, "max": high, "count": count, "step": step}
        for key, last, low, high, count, step in rows
    }


def metric_keys(run_ids: Iterable[str]) -> list[str]:
    """Every metric key any of ``run_ids`` logged, sorted.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run() as run:
    ...     run.log(loss=0.5, acc=0.8)
    >>> metric_keys([run.id])
    ['acc', 'loss']
    """
    rows = get_store().reader.query(
        "SELECT DISTINCT key FROM latest_metrics WHERE run_id IN (SELECT unnest(?)) ORDER BY key",
        [list(run_ids)],
    )
    return list(rows.column("key").to_pylist())


# The run of the same cell just before ``me`` (a cell's lineage; where a run has no lineage,
# the notebook and cell id it was recorded with), ties in start time broken by id as in
# ``cell_runs``.
_PREVIOUS_SQL = """
WITH me AS (SELECT run_id, lineage, notebook, cell_id, start_time FROM runs WHERE run_id = ?)
SELECT r.run_id FROM runs r, me
WHERE r.run_id <> me.run_id AND NOT r.deleted
  AND (r.lineage = me.lineage
       OR (me.lineage IS NULL AND me.cell_id IS NOT NULL AND r.cell_id = me.cell_id
           AND r.notebook IS NOT DISTINCT FROM me.notebook))
  AND (r.start_time < me.start_time OR (r.start_time = me.start_time AND r.run_id < me.run_id))
ORDER BY r.start_time DESC, r.run_id DESC LIMIT 1
"""


def previous_run(run: RunRef) -> str | None:
    """The id of the run of the same notebook cell before ``run``, or None (the cell's first
    run, or a run not made in a notebook cell).

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> cell = {"notebook": "/work/a.ipynb", "cell_id": "c1"}
    >>> first = nbtrack.start_run(context=cell); nbtrack.end_run()
    >>> second = nbtrack.start_run(context=cell); nbtrack.end_run()
    >>> previous_run(second.id) == first.id, previous_run(first.id)
    (True, None)
    """
    with get_store().reader.snapshot() as snap:
        rid = resolve_id(snap, run)
        rows = snap.rows(_PREVIOUS_SQL, [rid])
    return rows[0][0] if rows else None


def cell_badges(notebooks: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The latest run (not deleted) of each cell of a notebook, by cell id: ``run_id, name,
    status, duration, start_time`` and ``metric``, its first metric as ``[key, last value]``
    (system metrics last) or None. ``notebooks``: the paths the notebook's runs may carry.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> run = nbtrack.start_run("fit", context={"notebook": "/w/a.ipynb", "cell_id": "c1"})
    >>> run.log(acc=0.9, loss=0.2)
    >>> nbtrack.end_run()
    >>> badge = cell_badges(["/w/a.ipynb"])["c1"]
    >>> badge["name"], badge["status"], badge["metric"]
    ('fit', 'finished', ['acc', 0.9])
    """
    with get_store().reader.snapshot() as snap:
        latest = snap.rows(
            "SELECT cell_id, run_id, name, status, duration, start_time FROM runs "
            "WHERE notebook IN (SELECT unnest(?)) AND cell_id IS NOT NULL AND NOT deleted "
            "QUALIFY row_number() OVER (PARTITION BY cell_id "
            "ORDER BY start_time DESC, run_id DESC) = 1",
            [list(notebooks)],
        )
        firsts = snap.rows(
            "SELECT run_id, arg_min(key, (starts_with(key, 'system/'), key)), "
            "arg_min(value, (starts_with(key, 'system/'), key)) "
            "FROM latest_metrics WHERE run_id IN (SELECT unnest(?)) GROUP BY run_id",
            [[row[1] for row in latest]],
        )
    metric = {run_id: [key, value] for run_id, key, value in firsts}
    return {
        cell_id: {"run_id": run_id, "name": name, "status": status, "duration": duration,
                  "metric": metric.get(run_id), "start_time": start}
        for cell_id, run_id, name, status, duration, start in latest
    }  # fmt: skip


def run_tags(run: RunRef) -> dict[str, str]:
    """The tags of ``run`` as they are now.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run(tags={"model": "rf"}) as run:
    ...     pass
    >>> run_tags(run.id)
    {'model': 'rf'}
    """
    with get_store().reader.snapshot() as snap:
        rid = resolve_id(snap, run)
        return dict(snap.rows("SELECT key, value FROM tags WHERE run_id = ? ORDER BY key", [rid]))


def set_run_tag(run: RunRef, key: str, value: Any) -> str:
    """Set tag ``key`` of ``run`` to ``value`` (as text; the last value wins), whether the run
    is active, ended, or in another process; returns the run's full id.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run(tags={"stage": "draft"}) as run:
    ...     pass
    >>> _ = set_run_tag(run.id, "stage", "final")
    >>> run_tags(run.id)
    {'stage': 'final'}
    """
    key = check_key("tag", key)
    store = get_store()
    rid = resolve_id(store.reader, run)
    store.writer.start()
    row = {"run_id": rid, "key": key, "value": str(value), "timestamp": time.time()}
    store.writer.append("tags", [row])
    store.writer.request_flush()
    return rid
