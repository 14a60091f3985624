"""Metric points of chosen runs and keys, read from just the segments that hold them.

Shared by :func:`nbtrack.history` (every point) and the plots (points downsampled in DuckDB).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import duckdb

from ..store.reader import RETRIES, Reader

POINT_COLUMNS = 'run_id, key, step, "timestamp", value'


def query_points(
    reader: Reader,
    run_ids: Sequence[str],
    keys: Sequence[str] | None,
    shape: Callable[[str], str],
    extra: Sequence[Any] = (),
):  # -> pyarrow.Table
    """Run ``shape(points)`` where ``points`` is a SQL subquery of the selected metric points
    (columns ``run_id, key, step, timestamp, value``); ``extra`` are parameters that follow.

    Retries when a compaction removed a segment mid-read.
    """
    # One placeholder per value (not a list parameter) lets DuckDB skip row groups by stats.
    where = f"run_id IN ({', '.join('?' * len(run_ids))})" if run_ids else "false"
    args: list[Any] = list(run_ids)
    if keys is not None:
        where += f" AND key IN ({', '.join('?' * len(keys))})" if keys else " AND false"
        args += list(keys)
    with reader.lock:
        for attempt in range(RETRIES):
            reader.refresh()
            files = reader.metric_segments(list(run_ids))
            source = f"SELECT {POINT_COLUMNS} FROM _p_metrics"
            if files:
                source = f"SELECT {POINT_COLUMNS} FROM read_parquet(?) UNION ALL {source}"
            points = f"(SELECT * FROM ({source}) WHERE {where})"
            try:
                return reader.arrow(shape(points), ([files] if files else []) + args + [*extra])
            except duckdb.IOException:
                if attempt == RETRIES - 1:
                    raise
    raise AssertionError("unreachable")
