"""The SQL of the curve queries (see curves.py): downsampled curves, whole or within an x
window, and the points logged since a curve was last read. Each is a ``shape`` for
``Reader.points``: its placeholders all follow the points subquery's."""

from __future__ import annotations

X_AXES = {
    "step": "p.step::DOUBLE",
    "time": 'epoch(p."timestamp")',
    "relative": 'epoch(p."timestamp") - epoch(r.start_time)',
}
# What orders a series' points along each x axis: its new points are those past the last seen.
ORDERS = {
    "step": "p.step",
    "time": 'epoch_us(p."timestamp")',
    "relative": 'epoch_us(p."timestamp")',
}
# The same, as a filter on the column itself, which lets DuckDB skip row groups by their stats.
_AFTER = {"step": "p.step > ?", "time": 'p."timestamp" > make_timestamptz(?::BIGINT)'}
_BETWEEN = {
    "step": "p.step BETWEEN ? AND ?",
    "time": 'p."timestamp" BETWEEN make_timestamptz(?::BIGINT) AND make_timestamptz(?::BIGINT)',
}
_LAST = {"step": "m.step", "time": "epoch_us(m.last_time)"}
# Each series' whole count and last step or time (``?``: the run ids, then the keys).
_META = """meta AS (
        SELECT run_id, key, count, {last} AS last FROM latest_metrics m
        WHERE run_id IN (SELECT unnest(?::VARCHAR[])) AND key IN (SELECT unnest(?::VARCHAR[]))
    )"""


def _join(x: str) -> str:
    return "LEFT JOIN runs r USING (run_id)" if x == "relative" else ""


def _column(x: str) -> str:
    return "step" if x == "step" else "time"


def downsampled(points: str, x: str, buckets: int, window: bool) -> str:
    """Each series' points, downsampled (see curves.py), with its ``count``, ``last``, and
    ``n`` (its points inside the window): rows ``run_id, key, count, last, n, x, y`` ordered
    by series, x and y; a series with no point to show has one row, x and y null.

    Parameters after the points': with ``window``, the bounds of the points read (on the
    order column, then on x); the series as two lists of the same length (the run id and
    the key of each); then with ``window``, its bucket width, its ends, its ends again.
    """
    exact = 2 * buckets
    where, inside, side, width = "true", "true", "0", ""
    if window:
        where = f"{_BETWEEN[_column(x)]} AND {X_AXES[x]} BETWEEN ? AND ?"
        inside, width = "x BETWEEN ? AND ?", "?::DOUBLE"
        side = "CASE WHEN p.x < ? THEN -1 WHEN p.x > ? THEN 1 ELSE 0 END"
    else:  # the smallest power of two that cuts x0..x1 into at most `buckets` buckets
        w = (f"(CASE WHEN max(x) > min(x) THEN 2.0 ** ceil(log2((max(x) - min(x)) / {buckets})) "
             "ELSE 1.0 END)")  # fmt: skip
        width = (f"CASE WHEN floor(max(x) / {w}) - floor(min(x) / {w}) >= {buckets} "
                 f"THEN 2 * {w} ELSE {w} END")  # fmt: skip
    # A bucket's lowest and highest point are its first and last by (y, x), its first and
    # last point those by (x, y): so ties always pick the same points (as buckets.py does).
    # Sort keys order the pairs at less than half the cost of structs.
    by_y = "create_sort_key(y, 'ASC NULLS LAST', x, 'ASC NULLS LAST')"
    by_x = "create_sort_key(x, 'ASC NULLS LAST', y, 'ASC NULLS LAST')"
    return f"""
    WITH raw AS (
        SELECT p.run_id, p.key, p.value AS y, {X_AXES[x]} AS x
        FROM {points} p {_join(x)} WHERE {where}
    ),
    lists AS (SELECT ?::VARCHAR[] AS runs, ?::VARCHAR[] AS keys),
    series AS (  -- a number per series: grouping by it is cheaper than by two strings
        SELECT unnest(runs) AS run_id, unnest(keys) AS key, unnest(range(len(runs))) AS sid
        FROM lists
    ),
    pts AS MATERIALIZED (SELECT s.sid, p.x, p.y FROM raw p JOIN series s USING (run_id, key)),
    stats AS (SELECT sid, count(*) AS n, {width} AS w FROM pts WHERE {inside} GROUP BY sid),
    keyed AS (  -- side: before the window (-1), in it (0), after it (1)
        SELECT p.*, {side} AS side, s.n, s.w FROM pts p LEFT JOIN stats s USING (sid)
    ),
    groups AS MATERIALIZED (  -- a bucket, or each x of a series short enough to keep whole
        SELECT sid, side,
               CASE WHEN side <> 0 THEN 0 WHEN n <= {exact} THEN x ELSE floor(x / w) END
                   AS bucket,
               arg_min(x, {by_y}) AS x_lo, min(y) AS y_lo,
               arg_max(x, {by_y}) AS x_hi, max(y) AS y_hi,
               {{'x': min(x), 'y': arg_min(y, {by_x})}} AS first,
               {{'x': max(x), 'y': arg_max(y, {by_x})}} AS last
        FROM keyed GROUP BY sid, side, bucket
    ),
    ends AS (  -- the first and last point, and the nearest outside each end of a window
        SELECT sid, unnest([
            arg_min(first, first.x) FILTER (WHERE side = 0),
            arg_max(last, last.x) FILTER (WHERE side = 0),
            any_value(last) FILTER (WHERE side = -1),
            any_value(first) FILTER (WHERE side = 1)]) AS point
        FROM groups GROUP BY sid
    ),
    chosen AS (
        SELECT sid, x_lo AS x, y_lo AS y FROM groups WHERE side = 0
        UNION ALL SELECT sid, x_hi, y_hi FROM groups WHERE side = 0
        UNION ALL SELECT sid, point.x, point.y FROM ends WHERE point IS NOT NULL
    ),
    shown AS (SELECT DISTINCT sid, x, y FROM chosen),
    meta AS (
        SELECT s.sid, m.run_id, m.key, m.count, {_LAST[_column(x)]} AS last
        FROM latest_metrics m JOIN series s USING (run_id, key)
    )
    SELECT m.run_id, m.key, m.count, m.last, coalesce(s.n, 0) AS n, c.x, c.y
    FROM meta m LEFT JOIN stats s USING (sid) LEFT JOIN shown c USING (sid)
    ORDER BY m.sid, c.x NULLS FIRST, c.y
    """


def since(points: str, x: str) -> str:
    """Each series' points past the last seen, with its ``count`` and ``last``: rows
    ``run_id, key, count, last, x, y, o`` (``o``: the point's step, or time in µs), one with
    x, y and o null for a series with no new point.

    Parameters after the points': the least of the last orders seen; the run ids, keys and
    last orders seen of each series (three lists); then the run ids and the keys.
    """
    return f"""
    WITH pts AS (
        SELECT p.run_id, p.key, p.value AS y, {X_AXES[x]} AS x, {ORDERS[x]} AS o
        FROM {points} p {_join(x)} WHERE {_AFTER[_column(x)]}
    ),
    seen AS (
        SELECT unnest(?::VARCHAR[]) AS run_id, unnest(?::VARCHAR[]) AS key,
               unnest(?::BIGINT[]) AS last
    ),
    fresh AS (SELECT p.* FROM pts p JOIN seen s USING (run_id, key) WHERE p.o > s.last),
    {_META.format(last=_LAST[_column(x)])}
    SELECT m.run_id, m.key, m.count, m.last, f.x, f.y, f.o
    FROM meta m LEFT JOIN fresh f USING (run_id, key)
    ORDER BY m.run_id, m.key, f.o NULLS FIRST
    """
