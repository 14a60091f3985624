"""``nbtrack.search``: one row per run, MLflow-style ``params.``/``metrics.``/``tags.`` columns."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from ..extras import optional
from ..store import get_store
from ..store.duck import sql_name
from ..store.reader import Snapshot
from ..values import decode_param
from .columns import BASE_COLUMNS, Joins
from .filter import compile_filter, parse_order_by
from .frames import pivot, to_arrow

if TYPE_CHECKING:
    import pandas as pd
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
        wide = snap.wide_columns
        if wide is None:
            frame = widen(snap, snap.query(*query.page(limit, offset)))
        else:
            page = query.wide_page(snap, wide, limit, offset, sorted(wide))
            frame = widen(snap, snap.query(*page), wide)
    return convert(frame, output)


class RunQuery:
    """A search's SQL: the filter and joins compiled (once for the views, once more for a run
    snapshot's wide runs: see :attr:`Snapshot.wide_columns`), then paged or counted."""

    def __init__(
        self,
        filter: str | None = None,
        experiment: str | Sequence[str] | None = None,
        order_by: list[str] | str | None = None,
        include_deleted: bool = False,
    ) -> None:
        self._spec = (filter, experiment, order_by, include_deleted)
        self._compiled: dict[frozenset[str] | None, tuple[str, str, str, list[Any]]] = {}
        self._compile(None)  # (a bad filter is an error now)

    def _compile(self, wide: frozenset[str] | None) -> tuple[str, str, str, list[Any]]:
        """FROM, WHERE and ORDER BY clauses and their parameters, on the views or on wide runs."""
        found = self._compiled.get(wide)
        if found is not None:
            return found
        filter, experiment, order_by, include_deleted = self._spec
        joins = Joins(wide=wide)
        where, args = ["true"], []
        if filter is not None and filter.strip():
            condition, filter_args = compile_filter(filter, joins)
            where.append(condition)
            args += filter_args
        order = []
        for ref, descending in parse_order_by(order_by):
            direction = "DESC" if descending else "ASC"
            order += [f"{expr} {direction} NULLS LAST" for expr in joins.sort_exprs(ref)]
        if not include_deleted:
            where.append("NOT r.deleted")
        if experiment is not None:
            condition, names = experiments_condition(experiment)
            where.append(condition)
            args += names
        order_sql = ", ".join([*order, "r.start_time DESC", "r.run_id"])
        found = (joins.source(), " AND ".join(where), order_sql, joins.params + args)
        self._compiled[wide] = found
        return found

    def page(
        self,
        limit: int | None = None,
        offset: int = 0,
        wide: frozenset[str] | None = None,
        values: Collection[str] = (),
    ) -> tuple[str, list[Any]]:
        """SQL and parameters of the ordered runs (``BASE_COLUMNS``, then on ``wide`` runs the
        columns ``values``), ``limit`` of them from ``offset``."""
        return self._ordered(_page_columns(values), limit, offset, wide)

    def _ordered(
        self, columns: str, limit: int | None, offset: int, wide: frozenset[str] | None
    ) -> tuple[str, list[Any]]:
        source, where, order, args = self._compile(wide)
        sql = f"SELECT {columns} FROM {source} WHERE {where} ORDER BY {order}"
        args = list(args)
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        if offset:
            sql += " OFFSET ?"
            args.append(int(offset))
        return sql, args

    def wide_page(
        self,
        snap: Snapshot,
        wide: frozenset[str],
        limit: int | None,
        offset: int,
        values: Collection[str],
    ) -> tuple[str, list[Any]]:
        """SQL and parameters of :meth:`page` on ``wide`` runs; when they are in a file (see
        :attr:`Snapshot.pages_by_position`), their positions are found first, reading only what
        the filter and order need, then their values are read by position."""
        if not snap.pages_by_position:
            return self.page(limit, offset, wide, values)
        rows = [row[0] for row in snap.rows(*self._ordered("r._row", limit, offset, wide))]
        return (
            f"SELECT {_page_columns(values)} FROM _runs_wide r "
            f"WHERE r._row IN ({', '.join('?' * len(rows)) or 'NULL'}) "
            "ORDER BY list_position(?::BIGINT[], r._row)",
            [*rows, rows],
        )

    def count(self, wide: frozenset[str] | None = None) -> tuple[str, list[Any]]:
        """SQL and parameters counting the matching runs."""
        source, where, _, args = self._compile(wide)
        return f"SELECT count(*) AS n FROM {source} WHERE {where}", list(args)

    def run_ids(self) -> list[str]:
        """The ids of the matching runs, in order."""
        return [
            row[0] for row in get_store().reader.rows(*self._ordered("r.run_id", None, 0, None))
        ]

    def records(
        self, limit: int | None = None, columns: Collection[str] = ()
    ) -> list[dict[str, Any]]:
        """The first ``limit`` matching runs as records with ``columns`` (see
        :func:`page_records`), read without pandas."""
        with get_store().reader.snapshot() as snap:
            return self.read_records(snap, limit, 0, columns)

    def read_records(
        self, snap: Snapshot, limit: int | None, offset: int, columns: Collection[str] | None
    ) -> list[dict[str, Any]]:
        """:func:`page_records` of ``limit`` matching runs from ``offset``, read from ``snap``
        in one query when it reads a run snapshot with a column per key."""
        wide = snap.wide_columns
        if wide is None:
            return page_records(snap, snap.rows(*self.page(limit, offset)), columns)
        values = sorted(wide if columns is None else wide.intersection(columns))
        rows = snap.rows(*self.wide_page(snap, wide, limit, offset, values))
        n = len(BASE_COLUMNS)
        records = [dict(zip(BASE_COLUMNS, row[:n], strict=True)) for row in rows]
        ids = [record["run_id"] for record in records]
        found = wide_values(ids, {v: [row[n + i] for row in rows] for i, v in enumerate(values)})
        by_id = {record["run_id"]: record for record in records}
        for group in _GROUP_ROWS:
            for run_id, key, value in found[group]:
                by_id[run_id][f"{group}.{key}"] = value
        if columns is not None and "datasets" in columns:
            used = _datasets(_dataset_rows(snap, ids))
            for record in records:
                record["datasets"] = used.get(record["run_id"])
        return records

    def read_page(
        self, size: int, offset: int, columns: Collection[str], snap: Snapshot | None = None
    ) -> tuple[int, int, list[dict[str, Any]]]:
        """The number of matching runs, the offset used (moved back onto the last page when
        beyond it) and that page of ``size`` runs as records (see :func:`page_records`);
        ``snap``: read in that snapshot of the store (else a new one)."""
        if snap is None:
            with get_store().reader.snapshot() as snap:
                return self.read_page(size, offset, columns, snap)
        total = snap.rows(*self.count(snap.wide_columns))[0][0]
        offset = min(offset, max(0, (total - 1) // size * size))
        return total, offset, self.read_records(snap, size, offset, columns)


OUTPUTS = ("pandas", "arrow", "polars")


def _page_columns(values: Collection[str]) -> str:
    """The columns of a page of runs (``r``): ``BASE_COLUMNS``, then ``values``."""
    return ", ".join([f"r.{c}" for c in BASE_COLUMNS] + [f"r.{sql_name(v)}" for v in values])


def column_keys(
    experiment: str | Sequence[str] | None = None, snap: Snapshot | None = None
) -> dict[str, list[str]]:
    """The param, metric and tag keys of the runs of ``experiment`` (as in :func:`search`;
    None: every run), each list sorted; ``snap``: read in that snapshot of the store."""
    if snap is None:
        with get_store().reader.snapshot() as snap:
            return column_keys(experiment, snap)
    where, args = experiments_condition(experiment)
    sources = {"params": "params", "metrics": "latest_metrics", "tags": "tags"}
    keys = snap.keys_relation
    if keys is not None:  # a run snapshot lists them
        found = snap.rows(
            f'SELECT DISTINCT "group", key FROM {keys} r WHERE {where} ORDER BY 2', args
        )
        return {group: [key for g, key in found if g == group] for group in sources}
    return {
        group: [row[0] for row in snap.rows(
            f"SELECT DISTINCT k.key FROM {snap.source(table, keys=True)} k "
            f"JOIN runs r USING (run_id) WHERE {where} ORDER BY 1", args)]
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


# Per column group, its view and its rows as (kind, run_id, key, type, number, text), where kind
# is p, m or t; then the datasets runs used (kind d).
_GROUP_ROWS = {
    "params": ("params", "SELECT 'p', run_id, key, type, num, value FROM {}"),
    "metrics": ("latest_metrics", "SELECT 'm', run_id, key, NULL, value, NULL FROM {}"),
    "tags": ("tags", "SELECT 't', run_id, key, NULL, NULL, value FROM {}"),
}
_DATASETS = "SELECT DISTINCT 'd', run_id, name, NULL, NULL, name || '@' || digest FROM inputs"
_KINDS = {"p": "params", "m": "metrics", "t": "tags", "d": "datasets"}


def _long_rows(
    snap: Snapshot, ids: list[str], columns: Collection[str] | None = None
) -> tuple[str, list[Any]]:
    """SQL and parameters of the params, last metrics and tags of runs ``ids`` and the datasets
    they used, in one round trip. ``columns``: only the params, metrics and tags among them
    (``params.lr``, ...), read without building their views as tables (see
    :meth:`Snapshot.source`)."""
    parts, args = [], [ids]
    for group, (view, select) in _GROUP_ROWS.items():
        keys = [c.partition(".")[2] for c in columns or () if c.startswith(f"{group}.")]
        if columns is None:
            parts.append(select.format(view) + " SEMI JOIN ids USING (run_id)")
        elif keys:
            parts.append(select.format(snap.source(view)) + " SEMI JOIN ids USING (run_id) "
                         "WHERE key IN (SELECT unnest(?))")  # fmt: skip
            args.append(keys)
    parts.append(f"{_DATASETS} SEMI JOIN ids USING (run_id)")
    return "WITH ids AS (SELECT unnest(?) AS run_id) " + " UNION ALL ".join(parts), args


def _dataset_rows(snap: Snapshot, ids: list[str]) -> list[tuple[str, str, Any]]:
    """The ``datasets`` group of :func:`_grouped` for runs ``ids`` (none asked for when no run
    logged a dataset)."""
    if not snap.any_inputs:
        return []
    return _grouped(snap.rows(*_long_rows(snap, ids, ["datasets"])))["datasets"]


def _grouped(rows: list[tuple[Any, ...]]) -> dict[str, list[tuple[str, str, Any]]]:
    """:func:`_long_rows`' rows per group as (run_id, key, value): a param's value (typed), a
    metric's last value, a tag's text, and per dataset a run used, ``name@digest``."""
    groups: dict[str, list[tuple[str, str, Any]]] = {group: [] for group in _KINDS.values()}
    for kind, run_id, key, type_, number, text in rows:
        if kind == "p":
            value = decode_param(type_, number, text)
        else:
            value = number if kind == "m" else text
        groups[_KINDS[kind]].append((run_id, key, value))
    return groups


def _datasets(rows: list[tuple[str, str, Any]]) -> dict[str, str]:
    """Run id -> the datasets it used, ``name@digest, …``, from the ``datasets`` group."""
    used: dict[str, list[str]] = {}
    for run_id, _, label in rows:
        used.setdefault(run_id, []).append(label)
    return {run_id: ", ".join(sorted(labels)) for run_id, labels in used.items()}


def page_records(
    snap: Snapshot, base: list[tuple[Any, ...]], columns: Collection[str] | None
) -> list[dict[str, Any]]:
    """Base rows (tuples of ``BASE_COLUMNS``) read from ``snap`` as ``{column: value}`` records
    with the params, metrics and tags among ``columns`` (and ``datasets``) added, valued as in
    :func:`search`: what a run table shows, read without pandas. ``columns`` None: every
    param, metric and tag of the runs (read from the materialised views, which is quicker when
    most keys are wanted), no datasets."""
    records = [dict(zip(BASE_COLUMNS, row, strict=True)) for row in base]
    by_id = {record["run_id"]: record for record in records}
    groups = _grouped(snap.rows(*_long_rows(snap, list(by_id), columns)))
    for group in _GROUP_ROWS:
        for run_id, key, value in groups[group]:
            by_id[run_id][f"{group}.{key}"] = value
    if columns is not None and "datasets" in columns:
        used = _datasets(groups["datasets"])
        for record in records:
            record["datasets"] = used.get(record["run_id"])
    return records


def select_runs(where: str = "true", joins: str = "") -> str:
    """SQL selecting search's base columns from the ``runs`` view (aliased ``r``)."""
    return f"SELECT {', '.join('r.' + c for c in BASE_COLUMNS)} FROM runs r {joins} WHERE {where}"


def widen(snap: Snapshot, base: pa.Table, wide: frozenset[str] | None = None) -> pd.DataFrame:
    """Search's DataFrame from base rows (Arrow, ``BASE_COLUMNS``) read from ``snap``: params,
    metrics and tags added, and ``datasets`` (``name@digest, …``) when any run logged inputs.
    With ``wide`` (a run snapshot's per-key columns), ``base`` holds those columns too."""
    import pandas as pd  # (here: a run table's page needs no pandas)

    ids = base.column("run_id").to_pylist()
    if wide is None:
        groups = _grouped(snap.rows(*_long_rows(snap, ids)))
    else:
        names = [n for n in base.column_names if n in wide]
        groups = wide_values(ids, {n: base.column(n).to_pylist() for n in names})
        groups["datasets"] = _dataset_rows(snap, ids)
        base = base.select(list(BASE_COLUMNS))
    parts = [base.to_pandas()] + [
        pivot(ids, groups[group], group, typed=group == "params")
        for group in ("params", "metrics", "tags")
        if groups[group]
    ]
    if groups["datasets"]:  # the datasets each run used, as name@digest
        used = _datasets(groups["datasets"])
        parts.append(pd.DataFrame({"datasets": pd.array([used.get(i) for i in ids], object)}))
    return pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]


def wide_values(
    ids: list[str], columns: dict[str, list[dict[str, Any] | None]]
) -> dict[str, list[tuple[str, str, Any]]]:
    """Per group, the (run_id, key, value) of the runs ``ids`` from a run snapshot's per-key
    columns (``{"params.lr": [struct or None per run]}``), valued as :func:`_grouped` does."""
    groups: dict[str, list[tuple[str, str, Any]]] = {group: [] for group in _KINDS.values()}
    for name, structs in columns.items():
        group, _, key = name.partition(".")
        found = groups[group]
        for run_id, struct in zip(ids, structs, strict=True):
            if struct is None:
                continue
            value = struct["value"]
            if group == "params":
                value = decode_param(struct["type"], struct["num"], value)
            found.append((run_id, key, value))
    return groups
