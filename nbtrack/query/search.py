"""``nbtrack.search``: one row per run, MLflow-style ``params.``/``metrics.``/``tags.`` columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..extras import optional
from ..store import get_store
from ..store.reader import Snapshot
from .columns import BASE_COLUMNS, Joins
from .filter import compile_filter, parse_order_by
from .frames import decoded_params, pivot, to_arrow

if TYPE_CHECKING:
    import pyarrow as pa


def search(
    filter: str | None = None,
    experiment: str | Sequence[str] | None = None,
    order_by: list[str] | str | None = None,
    limit: int | None = None,
    include_deleted: bool = False,
    output: str = "pandas",
    offset: int = 0,
) -> Any:
    """Runs as a table: ``run_id, experiment, name, status, start_time, end_time, duration,
    parent_run_id``, then ``params.<k>`` (typed), ``metrics.<k>`` (last value), ``tags.<k>``.

    ``filter`` takes the grammar of :mod:`nbtrack.query.filter`, e.g.
    ``"params.lr < 0.01 and metrics.`val/loss` <= 0.3 and tags.model = 'rf'"``.
    ``experiment`` is a name, a list of names, or a glob (``"sweep-*"``); default: all.
    ``order_by`` takes terms such as ``"metrics.acc DESC"``, ``"min(metrics.loss)"`` or
    ``"start_time"`` (missing values last); the default is newest first. Deleted runs are left
    out unless ``include_deleted``. ``output``: ``"pandas"`` (default), ``"arrow"``, ``"polars"``.
    ``offset`` skips that many runs first (with ``limit``, a page).

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> for depth in (2, 4, 8):
    ...     with nbtrack.run(params={"max_depth": depth}) as run:
    ...         run.log(acc=0.8 + depth / 100)
    >>> runs = nbtrack.search("params.max_depth >= 4", order_by=["metrics.acc DESC"])
    >>> runs[["params.max_depth", "metrics.acc"]]
       params.max_depth  metrics.acc
    0                 8         0.88
    1                 4         0.84
    """
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {', '.join(OUTPUTS)}; got {output!r}")
    query = RunQuery(filter, experiment, order_by, include_deleted)
    with get_store().reader.snapshot() as snap:
        frame = widen(snap, snap.query(*query.page(limit, offset)))
    return convert(frame, output)


class RunQuery:
    """A search's SQL: the filter and joins compiled once, then paged or counted."""

    def __init__(
        self,
        filter: str | None = None,
        experiment: str | Sequence[str] | None = None,
        order_by: list[str] | str | None = None,
        include_deleted: bool = False,
    ) -> None:
        self.joins = Joins()
        where, self.args = ["true"], []
        if filter is not None and filter.strip():
            condition, filter_args = compile_filter(filter, self.joins)
            where.append(condition)
            self.args += filter_args
        order = []
        for ref, descending in parse_order_by(order_by):
            direction = "DESC" if descending else "ASC"
            order += [f"{expr} {direction} NULLS LAST" for expr in self.joins.sort_exprs(ref)]
        self.order = ", ".join([*order, "r.start_time DESC", "r.run_id"])
        if not include_deleted:
            where.append("NOT r.deleted")
        if experiment is not None:
            condition, names = experiments_condition(experiment)
            where.append(condition)
            self.args += names
        self.where = " AND ".join(where)

    def page(self, limit: int | None = None, offset: int = 0) -> tuple[str, list[Any]]:
        """SQL and parameters of the ordered runs, ``limit`` of them from ``offset``."""
        sql = select_runs(self.where, self.joins.sql()) + f" ORDER BY {self.order}"
        args = self.joins.params + self.args
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        if offset:
            sql += " OFFSET ?"
            args.append(int(offset))
        return sql, args

    def count(self) -> tuple[str, list[Any]]:
        """SQL and parameters counting the matching runs."""
        sql = f"SELECT count(*) AS n FROM runs r {self.joins.sql()} WHERE {self.where}"
        return sql, self.joins.params + self.args

    def run_ids(self) -> list[str]:
        """The ids of the matching runs, in order."""
        return get_store().reader.query(*self.page()).column("run_id").to_pylist()

    def read_page(self, size: int, offset: int) -> tuple[int, int, pd.DataFrame]:
        """The number of matching runs, the offset used (moved back onto the last page when
        beyond it) and that page of ``size`` runs, as :func:`search` gives them."""
        with get_store().reader.snapshot() as snap:
            total = snap.query(*self.count())[0][0].as_py()
            offset = min(offset, max(0, (total - 1) // size * size))
            return total, offset, widen(snap, snap.query(*self.page(size, offset)))


OUTPUTS = ("pandas", "arrow", "polars")


def column_keys(experiment: str | Sequence[str] | None = None) -> dict[str, list[str]]:
    """The param, metric and tag keys of the runs of ``experiment`` (as in :func:`search`;
    None: every run), each list sorted."""
    where, args = experiments_condition(experiment)
    sources = {"params": "params", "metrics": "latest_metrics", "tags": "tags"}
    with get_store().reader.snapshot() as snap:
        return {
            group: [row[0] for row in snap.rows(
                f"SELECT DISTINCT k.key FROM {table} k JOIN runs r USING (run_id) "
                f"WHERE {where} ORDER BY 1", args)]
            for group, table in sources.items()
        }  # fmt: skip


def experiments_condition(experiment: str | Sequence[str] | None) -> tuple[str, list[str]]:
    """SQL over ``runs r`` selecting an experiment name, a list of names or a glob."""
    if experiment is None:
        return "true", []
    if isinstance(experiment, str):
        if any(c in experiment for c in "*?["):
            return "r.experiment GLOB ?", [experiment]
        return "r.experiment = ?", [experiment]
    names = list(experiment)
    if not names:
        return "false", []
    return f"r.experiment IN ({', '.join('?' * len(names))})", names


def convert(frame: pd.DataFrame, output: str) -> Any:
    """``frame`` as pandas, Arrow or polars; mixed-type columns become text for Arrow."""
    if output == "pandas":
        return frame
    table = to_arrow(frame)
    if output == "arrow":
        return table
    return optional("polars", "search(output='polars')", "polars").from_arrow(table)


# Params, last metrics and tags of a set of runs, in one round trip: (kind, run_id, key, type,
# number, text) rows where kind is p, m or t.
_LONG_ROWS = """
WITH ids AS (SELECT unnest(?) AS run_id)
SELECT 'p', run_id, key, type, num, value FROM params SEMI JOIN ids USING (run_id)
UNION ALL
SELECT 'm', run_id, key, NULL, value, NULL FROM latest_metrics SEMI JOIN ids USING (run_id)
UNION ALL
SELECT 't', run_id, key, NULL, NULL, value FROM tags SEMI JOIN ids USING (run_id)
UNION ALL
SELECT DISTINCT 'd', run_id, name, NULL, NULL, name || '@' || digest
    FROM inputs SEMI JOIN ids USING (run_id)
"""


def select_runs(where: str = "true", joins: str = "") -> str:
    """SQL selecting search's base columns from the ``runs`` view (aliased ``r``)."""
    return f"SELECT {', '.join('r.' + c for c in BASE_COLUMNS)} FROM runs r {joins} WHERE {where}"


def widen(snap: Snapshot, base: pa.Table) -> pd.DataFrame:
    """Search's DataFrame from base rows (Arrow, ``BASE_COLUMNS``) read from ``snap``: params,
    metrics and tags added, and ``datasets`` (``name@digest, …``) when any run logged inputs."""
    ids = base.column("run_id").to_pylist()
    long: dict[str, list[tuple[Any, ...]]] = {"p": [], "m": [], "t": [], "d": []}
    for kind, *row in snap.rows(_LONG_ROWS, [ids]):
        long[kind].append(tuple(row))
    frame = base.to_pandas()
    wide = {
        **pivot(ids, decoded_params(long["p"]), "params", typed=True),
        **pivot(ids, [(r, k, num) for r, k, _, num, _ in long["m"]], "metrics", typed=False),
        **pivot(ids, [(r, k, text) for r, k, _, _, text in long["t"]], "tags", typed=False),
    }
    if long["d"]:  # the datasets each run used, as name@digest
        used: dict[str, list[str]] = {}
        for run_id, _, _, _, label in long["d"]:
            used.setdefault(run_id, []).append(label)
        wide["datasets"] = pd.array(
            [", ".join(sorted(used[i])) if i in used else None for i in ids], dtype=object
        )
    if wide:
        frame = pd.concat([frame, pd.DataFrame(wide, index=frame.index)], axis=1)
    return frame
