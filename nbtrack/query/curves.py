"""Metric curves for plots, downsampled in DuckDB so the browser never gets millions of points.

A series longer than ``2 * buckets`` points is cut into buckets of x, the ranges
``[k * w, (k + 1) * w)`` with ``w`` the smallest power of two for which the series spans at most
``buckets`` of them. Each bucket keeps its lowest and its highest point (with their x), so
spikes and dips survive, and the series keeps its first and last point: a curve of any length
costs at most ``2 * buckets + 2`` points. The buckets stay put as a series grows: until its x
range doubles, new points change only its last buckets, so a live chart needs only the tail of
each curve again, and :meth:`CurveReader.update` reads only the points logged since the last
read and merges them into what it kept (buckets.py).

A window (``x_range``, a zoomed chart) shows the points inside it, exactly up to
``2 * buckets`` of them and else in buckets as above (of the window's width), and the nearest
point beyond each end (so that the lines reach the edges). DuckDB reads only the row groups of
segments whose steps (or times) overlap the window.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..store import get_store
from .buckets import Downsampled, Window
from .curve_sql import X_AXES, downsampled, since

# A chart is at most a couple of thousand pixels wide: two points per pixel column is all a
# curve can show, and 20 curves stay under half a megabyte (12 bytes a point).
BUCKETS = 800
# How far beyond each end of a window (a share of its width) the nearest point outside it is
# looked for: far enough for the lines of a sparse series to reach the edge, near enough that
# the read stays about the window's size.
EDGE_MARGIN = 0.25
XRange = tuple[float, float]


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


def natural_key(text: str) -> list[Any]:
    """Sort key that orders the numbers inside text by value.

    >>> sorted(["long-10", "long-2", "Long-1"], key=natural_key)
    ['Long-1', 'long-2', 'long-10']
    """
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


class CurveReader:
    """The curves of ``keys`` of ``run_ids`` along ``x`` (``step``, ``time``: epoch seconds, or
    ``relative``: seconds since the run started), whole or within ``x_range``: :meth:`read`
    queries them, :meth:`update` brings them up to date reading only the points logged since.
    Runs come in the natural order of their names (``run-2`` before ``run-10``).

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run() as run:
    ...     for i in range(10_000):
    ...         run.log(loss=1 / (i + 1))
    >>> whole = CurveReader([run.id], ["loss"])
    >>> whole.read().points <= 2 * BUCKETS + 2
    True
    >>> zoomed = CurveReader([run.id], ["loss"], x_range=(5000, 5999)).read()
    >>> zoomed.points, zoomed.x[[0, 1, -2, -1]].tolist()  # every point, the nearest outside
    (1002, [4999.0, 5000.0, 5999.0, 6000.0])
    """

    def __init__(
        self,
        run_ids: Sequence[str],
        keys: Sequence[str],
        x: str = "step",
        x_range: XRange | None = None,
        buckets: int = BUCKETS,
    ) -> None:
        if x not in X_AXES:
            raise ValueError(f"x must be one of {', '.join(X_AXES)}; got {x!r}")
        self.run_ids, self.keys = list(dict.fromkeys(run_ids)), list(dict.fromkeys(keys))
        self.x, self.buckets = x, int(buckets)
        self.window: Window | None = None
        if x_range is not None:
            lo, hi = (float(v) for v in x_range)
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"x_range must be two finite numbers, low < high; got {x_range}")
            self.window = Window(lo, hi, (hi - lo) * EDGE_MARGIN)
        self._names: dict[str, str] = {}
        self._starts: dict[str, int] = {}
        self._series: dict[tuple[str, str], Downsampled] = {}

    def read(self) -> Curves:
        """Query the curves (downsampled in DuckDB) and keep them for :meth:`update`."""
        if not self.run_ids or not self.keys:
            return Curves()
        reader = get_store().reader
        found = reader.rows(
            "SELECT run_id, name, epoch_us(start_time) AS start FROM runs "
            "WHERE run_id IN (SELECT unnest(?))",
            [self.run_ids],
        )
        self._names = {run_id: name for run_id, name, _ in found}
        self._starts = {run_id: start for run_id, _, start in found if start is not None}
        self.run_ids.sort(key=lambda run_id: natural_key(self._names.get(run_id) or run_id))
        window = self.window is not None
        read, buckets = self._window_bounds()
        series = [(run_id, key) for run_id in self.run_ids for key in self.keys]
        columns = reader.points(
            self.run_ids,
            self.keys,
            lambda points: downsampled(points, self.x, self.buckets, window),
            [*read, [r for r, _ in series], [k for _, k in series], *buckets],
            arrays=True,
        )
        self._series = {}
        for (run_id, key), rows in _by_series(columns):
            shown = ~np.ma.getmaskarray(rows["x"])
            self._series[run_id, key] = Downsampled(
                count=_first(rows["count"]),
                last=_first(rows["last"]),
                inside=_first(rows["n"]),
                x=_values(rows["x"], shown),
                y=_values(rows["y"], shown),
            )
        return self.curves()

    def update(self) -> Curves:
        """The curves now: the points logged since the last read (or update) merged into them.
        Reads them all again when a series appeared, or got a point that does not come after
        its last one (a step logged again)."""
        if not self._series:
            return self.read()
        seen = list(self._series.items())
        columns = get_store().reader.points(
            self.run_ids,
            self.keys,
            lambda points: since(points, self.x),
            [min(s.last for _, s in seen), [r for (r, _), _ in seen], [k for (_, k), _ in seen],
             [s.last for _, s in seen], self.run_ids, self.keys],
            arrays=True,
        )  # fmt: skip
        merged = {}
        for ident, rows in _by_series(columns):
            kept = self._series.get(ident)
            new = ~np.ma.getmaskarray(rows["o"])
            added = int(new.sum())
            if kept is None or kept.count + added != _first(rows["count"]):
                return self.read()
            if added:
                merged[ident] = kept.merged(
                    _values(rows["x"], new),
                    _values(rows["y"], new),
                    _first(rows["last"]),
                    self.window,
                    self.buckets,
                )
        self._series.update(merged)
        return self.curves()

    def curves(self) -> Curves:
        """The curves as last read or updated, runs in order, then keys in order."""
        out = Curves()
        parts_x, parts_y = [], []
        for run_id in self.run_ids:
            for key in self.keys:
                kept = self._series.get((run_id, key))
                if kept is None:
                    continue
                out.series.append({"run_id": run_id, "name": self._names.get(run_id, run_id),
                                   "key": key, "count": len(kept.x)})  # fmt: skip
                parts_x.append(kept.x)
                parts_y.append(kept.y)
        if parts_x:
            out.x = np.concatenate(parts_x)
            out.y = np.concatenate(parts_y).astype(np.float32)
        return out

    def _window_bounds(self) -> tuple[list[Any], list[Any]]:
        """The parameters of a windowed read (see ``curve_sql.downsampled``): the bounds of
        the points read, and of the buckets; else none."""
        w = self.window
        if w is None:
            return [], []
        low, high = w.lo - w.margin, w.hi + w.margin
        if self.x == "step":
            order = [math.floor(low), math.ceil(high)]
        else:
            starts = list(self._starts.values()) or [0]
            offset = (min(starts), max(starts)) if self.x == "relative" else (0, 0)
            order = [offset[0] + math.floor(low * 1e6) - 1, offset[1] + math.ceil(high * 1e6) + 1]
        return [*order, low, high], [w.width(self.buckets), w.lo, w.hi, w.lo, w.hi]


Columns = dict[str, np.ndarray]


def _by_series(columns: Columns) -> list[tuple[tuple[str, str], Columns]]:
    """The rows of each series of columns ordered by ``run_id, key`` (numpy arrays, masked
    where null)."""
    runs, keys = np.asarray(columns["run_id"]), np.asarray(columns["key"])
    if len(runs) == 0:
        return []
    starts = np.flatnonzero(np.concatenate(
        [[True], (runs[1:] != runs[:-1]) | (keys[1:] != keys[:-1])]))  # fmt: skip
    ends = np.append(starts[1:], len(runs))
    return [
        ((str(runs[a]), str(keys[a])), {name: values[a:b] for name, values in columns.items()})
        for a, b in zip(starts, ends, strict=True)
    ]


def _first(values: np.ndarray) -> Any:
    """The first value of a column, as a Python number."""
    return np.asarray(values)[0].item()


def _values(values: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """The ``kept`` values of a column, as float64."""
    return np.asarray(values)[kept].astype(np.float64)


def curves(
    run_ids: Sequence[str],
    keys: Sequence[str],
    x: str = "step",
    buckets: int = BUCKETS,
    x_range: XRange | None = None,
) -> Curves:
    """The curves of ``keys`` for ``run_ids`` (see :class:`CurveReader`), read once."""
    return CurveReader(run_ids, keys, x, x_range, buckets).read()
