"""Metric curves for plots, downsampled in DuckDB so the browser never gets millions of points.

A series longer than ``2 * buckets`` points is cut into buckets of x, the ranges
``[k * w, (k + 1) * w)`` with ``w`` the smallest power of two for which the series spans at most
``buckets`` of them. Each bucket keeps its lowest and its highest point (with their x), so
spikes and dips survive and a curve of any length costs at most ``2 * buckets`` points. The
buckets stay put as a series grows: until its x range doubles, new points change only its last
buckets, so a live chart needs only the tail of each curve again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..store import get_store

# A chart is at most a couple of thousand pixels wide: two points per pixel column is all a
# curve can show, and 20 curves stay under half a megabyte (12 bytes a point).
BUCKETS = 800
X_AXES = {
    "step": "p.step::DOUBLE",
    "time": 'epoch(p."timestamp")',
    "relative": 'epoch(p."timestamp") - epoch(r.start_time)',
}


@dataclass
class Curves:
    """Downsampled series: ``series[i]`` owns the next ``series[i]["count"]`` x and y values."""

    series: list[dict[str, Any]] = field(default_factory=list)
    x: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))
    y: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))

    def to_bytes(self) -> bytes:
        """x as little-endian float64, then y as little-endian float32 (the widgets' format)."""
        return self.x.astype("<f8").tobytes() + self.y.astype("<f4").tobytes()

    @classmethod
    def from_bytes(cls, series: list[dict[str, Any]], data: bytes) -> Curves:
        """The curves that ``series`` and ``to_bytes()``'s ``data`` describe (no copy)."""
        total = sum(int(s["count"]) for s in series)
        if len(data) != 12 * total:
            raise ValueError(f"{len(data)} bytes cannot hold {total} points (12 bytes each)")
        x = np.frombuffer(data, "<f8", count=total)
        return cls(list(series), x, np.frombuffer(data, "<f4", count=total, offset=8 * total))

    def split(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each series' x and y values, in the order of ``series``."""
        counts = np.array([int(s["count"]) for s in self.series], dtype=np.int64)
        ends = np.cumsum(counts)
        starts = ends - counts
        return [(self.x[a:b], self.y[a:b]) for a, b in zip(starts, ends, strict=True)]

    @property
    def points(self) -> int:
        return len(self.x)


def _sql(points: str, x: str, buckets: int) -> str:
    return f"""
    WITH pts AS (
        SELECT p.run_id, p.key, p.value, {X_AXES[x]} AS x
        FROM {points} p {"LEFT JOIN runs r USING (run_id)" if x == "relative" else ""}
    ),
    stats AS (
        SELECT run_id, key, count(*) AS n, min(x) AS x0, max(x) AS x1,
               CASE WHEN max(x) > min(x)
                    THEN 2.0 ** ceil(log2((max(x) - min(x)) / {buckets})) ELSE 1.0 END AS w
        FROM pts GROUP BY ALL
    ),
    widths AS (  -- the smallest power of two that cuts x0..x1 into at most {buckets} buckets
        SELECT run_id, key, n,
               CASE WHEN floor(x1 / w) - floor(x0 / w) >= {buckets} THEN 2 * w ELSE w END AS w
        FROM stats
    ),
    bucketed AS (
        SELECT pts.*, CASE WHEN s.n <= 2 * {buckets} THEN pts.x ELSE floor(pts.x / s.w) END
            AS bucket
        FROM pts JOIN widths s USING (run_id, key)
    ),
    extremes AS (  -- ties go to the first point, so that a query gives the same points again
        SELECT run_id, key, arg_min(x, (value, x)) AS x_lo, min(value) AS y_lo,
               arg_max(x, (value, -x)) AS x_hi, max(value) AS y_hi
        FROM bucketed GROUP BY run_id, key, bucket
    )
    SELECT run_id, key, x_lo AS x, y_lo AS y FROM extremes
    UNION ALL  -- a bucket's highest point, unless it is also its lowest
    SELECT run_id, key, x_hi, y_hi FROM extremes WHERE x_hi IS DISTINCT FROM x_lo
    ORDER BY run_id, key, x
    """


def natural_key(text: str) -> list[Any]:
    """Sort key that orders the numbers inside text by value.

    >>> sorted(["long-10", "long-2", "Long-1"], key=natural_key)
    ['Long-1', 'long-2', 'long-10']
    """
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def curves(
    run_ids: Sequence[str], keys: Sequence[str], x: str = "step", buckets: int = BUCKETS
) -> Curves:
    """The curves of ``keys`` for ``run_ids``, runs in the natural order of their names
    (``run-2`` before ``run-10``), x as ``step``, ``time`` (epoch seconds) or ``relative``
    (seconds since the run started)."""
    if x not in X_AXES:
        raise ValueError(f"x must be one of {', '.join(X_AXES)}; got {x!r}")
    reader = get_store().reader
    ids, key_list = list(dict.fromkeys(run_ids)), list(dict.fromkeys(keys))
    if not ids or not key_list:
        return Curves()
    table = reader.points(ids, key_list, lambda points: _sql(points, x, int(buckets)))
    found = reader.query("SELECT run_id, name FROM runs WHERE run_id IN (SELECT unnest(?))", [ids])
    names = dict(zip(found["run_id"].to_pylist(), found["name"].to_pylist(), strict=True))
    ids.sort(key=lambda run_id: natural_key(names.get(run_id) or run_id))
    run_col = table.column("run_id").to_numpy(zero_copy_only=False)
    key_col = table.column("key").to_numpy(zero_copy_only=False)
    xs = table.column("x").to_numpy(zero_copy_only=False).astype(np.float64)
    ys = table.column("y").to_numpy(zero_copy_only=False).astype(np.float32)
    out = Curves()
    parts_x, parts_y = [], []
    for run_id in ids:
        for key in key_list:
            mask = (run_col == run_id) & (key_col == key)
            count = int(mask.sum())
            if count:
                out.series.append(
                    {"run_id": run_id, "name": names.get(run_id, run_id), "key": key,
                     "count": count}
                )  # fmt: skip
                parts_x.append(xs[mask])
                parts_y.append(ys[mask])
    if parts_x:
        out.x, out.y = np.concatenate(parts_x), np.concatenate(parts_y)
    return out
