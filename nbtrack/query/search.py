"""``nbtrack.search``: one row per run, MLflow-style ``params.``/``metrics.``/``tags.`` columns."""

from __future__ import annotations

import pandas as pd

from ..store import get_store
from .columns import BASE_COLUMNS, Joins, parse_order_by
from .frames import decoded_params, pivot


def search(
    filter: str | None = None,
    experiment: str | None = None,
    order_by: list[str] | str | None = None,
    limit: int | None = None,
    include_deleted: bool = False,
) -> pd.DataFrame:
    """Runs as a DataFrame: ``run_id, experiment, name, status, start_time, end_time, duration,
    parent_run_id``, then ``params.<k>`` (typed), ``metrics.<k>`` (last value), ``tags.<k>``.

    ``experiment`` limits to one experiment (default: all). ``order_by`` takes terms such as
    ``"metrics.acc DESC"`` or ``"start_time"`` (missing values last); the default is newest
    first. Deleted runs are left out unless ``include_deleted``.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> for depth in (2, 4):
    ...     with nbtrack.run(params={"max_depth": depth}) as run:
    ...         run.log(acc=0.8 + depth / 100)
    >>> nbtrack.search(order_by=["metrics.acc DESC"])[["params.max_depth", "metrics.acc"]]
       params.max_depth  metrics.acc
    0                 4         0.84
    1                 2         0.82
    """
    if filter is not None:
        raise NotImplementedError("filter expressions are not supported yet")
    reader = get_store().reader
    joins = Joins()
    order = []
    for ref, descending in parse_order_by(order_by):
        direction = "DESC" if descending else "ASC"
        order += [f"{expr} {direction} NULLS LAST" for expr in joins.sort_exprs(ref)]
    order += ["r.start_time DESC", "r.run_id"]
    where, args = ["true"], []
    if not include_deleted:
        where.append("NOT r.deleted")
    if experiment is not None:
        where.append("r.experiment = ?")
        args.append(experiment)
    sql = select_runs(" AND ".join(where), joins.sql()) + f" ORDER BY {', '.join(order)}"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    with reader.lock:
        return widen(reader, reader.query(sql, joins.params + args))


# Params, last metrics and tags of a set of runs, in one round trip: (kind, run_id, key, type,
# number, text) rows where kind is p, m or t.
_LONG_ROWS = """
WITH ids AS (SELECT unnest(?) AS run_id)
SELECT 'p', run_id, key, type, num, value FROM params SEMI JOIN ids USING (run_id)
UNION ALL
SELECT 'm', run_id, key, NULL, value, NULL FROM latest_metrics SEMI JOIN ids USING (run_id)
UNION ALL
SELECT 't', run_id, key, NULL, NULL, value FROM tags SEMI JOIN ids USING (run_id)
"""


def select_runs(where: str = "true", joins: str = "") -> str:
    """SQL selecting search's base columns from the ``runs`` view (aliased ``r``)."""
    return f"SELECT {', '.join('r.' + c for c in BASE_COLUMNS)} FROM runs r {joins} WHERE {where}"


def widen(reader, base) -> pd.DataFrame:
    """Search's DataFrame from base rows (Arrow, ``BASE_COLUMNS``): params, metrics, tags added.

    Call with ``reader.lock`` held, right after the query that produced ``base``.
    """
    ids = base.column("run_id").to_pylist()
    long: dict[str, list[tuple]] = {"p": [], "m": [], "t": []}
    for kind, *row in reader.con.execute(_LONG_ROWS, [ids]).fetchall():
        long[kind].append(row)
    frame = base.to_pandas()
    wide = {
        **pivot(ids, decoded_params(long["p"]), "params", typed=True),
        **pivot(ids, [(r, k, num) for r, k, _, num, _ in long["m"]], "metrics", typed=False),
        **pivot(ids, [(r, k, text) for r, k, _, _, text in long["t"]], "tags", typed=False),
    }
    if wide:
        frame = pd.concat([frame, pd.DataFrame(wide, index=frame.index)], axis=1)
    return frame
