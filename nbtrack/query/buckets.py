"""Min/max downsampling in numpy, the same as the curve query's SQL (see curves.py), for
merging a live series' new points into what was drawn of it without reading it again.

A curve is cut into buckets of x, the ranges ``[k * w, (k + 1) * w)`` with ``w`` a power of two;
each bucket keeps its first and its last point in the order of (y, x): its lowest and its
highest, the one of smaller x among equal lowest values and of larger x among equal highest
ones (NaN counts as the highest value, as in DuckDB). The curve keeps its first and last point
in the order of (x, y). A
curve short enough to keep whole has a bucket per x (two points logged at one step: the
lower and the higher).
Buckets of ``2 * w`` are unions of buckets of ``w``, so the points kept at ``w``, with the
new ones, give the points kept at any larger width: merging never needs the points dropped.

>>> x = np.arange(8.0)
>>> y = np.array([3.0, 1.0, 2.0, 5.0, 4.0, 0.0, 6.0, 7.0])
>>> kept_x, kept_y = extremes(x, y, width=4.0)
>>> kept_x.tolist(), kept_y.tolist()
([0.0, 1.0, 3.0, 5.0, 7.0], [3.0, 1.0, 5.0, 0.0, 7.0])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np


def bucket_width(x0: float, x1: float, buckets: int) -> float:
    """The smallest power of two ``w`` for which ``x0..x1`` falls in at most ``buckets``
    buckets (1 for a single x).

    >>> bucket_width(0, 10_000, 800), bucket_width(0, 1599, 800), bucket_width(5, 5, 800)
    (16.0, 2.0, 1.0)
    """
    if not x1 > x0:
        return 1.0
    width = 2.0 ** math.ceil(math.log2((x1 - x0) / buckets))
    while math.floor(x1 / width) - math.floor(x0 / width) >= buckets:
        width *= 2
    while math.floor(x1 / (width / 2)) - math.floor(x0 / (width / 2)) < buckets:
        width /= 2  # (in case log2 rounded up)
    return width


def _in_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices sorting points by x, then y (NaN last), as SQL's ``ORDER BY x, y`` does."""
    nan = np.isnan(y)
    return np.lexsort((np.where(nan, 0.0, y), nan, x))


def distinct(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points sorted by x then y, each (x, y) once."""
    order = _in_order(x, y)
    x, y = x[order], y[order]
    if len(x) < 2:
        return x, y
    same_y = (y[1:] == y[:-1]) | (np.isnan(y[1:]) & np.isnan(y[:-1]))
    keep = np.concatenate([[True], ~((x[1:] == x[:-1]) & same_y)])
    return x[keep], y[keep]


def _lowest_highest(x: np.ndarray, y: np.ndarray, bucket: np.ndarray) -> np.ndarray:
    """The indices of each bucket's lowest and highest point."""
    nan = np.isnan(y)
    value = np.where(nan, 0.0, y)
    lowest = np.lexsort((x, value, nan, bucket))  # NaN only where a bucket holds nothing else
    highest = np.lexsort((-x, -value, ~nan, bucket))
    firsts = np.flatnonzero(np.diff(bucket[lowest], prepend=np.nan) != 0)
    return np.concatenate([lowest[firsts], highest[firsts]])


def _buckets(x: np.ndarray, width: float | None) -> np.ndarray:
    return x if width is None else np.floor(x / width)


def extremes(x: np.ndarray, y: np.ndarray, width: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Each bucket's lowest and highest point, and the first and last point (by x, then y),
    sorted and distinct; ``width`` None: buckets of one x each (a series kept whole)."""
    if len(x) == 0:
        return x, y
    order = _in_order(x, y)
    chosen = np.concatenate([_lowest_highest(x, y, _buckets(x, width)), order[[0, -1]]])
    return distinct(x[chosen], y[chosen])


def appended(
    kept: tuple[np.ndarray, np.ndarray], new: tuple[np.ndarray, np.ndarray], width: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """``extremes`` of the points ``kept`` (sorted, themselves the extremes at ``width``) and
    ``new`` (each past every kept x): only the buckets from the last kept point's on change.

    >>> kept = extremes(np.arange(8.0), np.array([3.0, 1, 2, 5, 4, 0, 6, 7]), 4.0)
    >>> new = (np.array([8.0, 9.0]), np.array([-1.0, 9.0]))
    >>> appended(kept, new, 4.0)[0].tolist()
    [0.0, 1.0, 3.0, 5.0, 7.0, 8.0, 9.0]
    """
    (kept_x, kept_y), (new_x, new_y) = kept, new
    bucket = _buckets(kept_x, width)
    head = bucket < bucket[-1]
    x, y = np.concatenate([kept_x[~head], new_x]), np.concatenate([kept_y[~head], new_y])
    order = _in_order(x, y)
    ends = order[[-1]] if head.any() else order[[0, -1]]  # (the first point is in the head)
    chosen = np.concatenate([_lowest_highest(x, y, _buckets(x, width)), ends])
    tail_x, tail_y = distinct(x[chosen], y[chosen])
    return np.concatenate([kept_x[head], tail_x]), np.concatenate([kept_y[head], tail_y])


def _width(inside: int, x: np.ndarray, window: Window | None, buckets: int) -> float | None:
    """The bucket width of a series with ``inside`` points in the window (those of ``x``
    there: the first and last among them), or None while it is kept whole."""
    if inside <= 2 * buckets:
        return None
    if window is not None:
        return window.width(buckets)
    return bucket_width(float(x.min()), float(x.max()), buckets)


@dataclass(frozen=True)
class Window:
    """An x range shown: its points are kept (bucketed once there are more than ``exact``),
    and of the points beyond each end within ``margin``, the nearest one (so that the line
    reaches the edge)."""

    lo: float
    hi: float
    margin: float

    def width(self, buckets: int) -> float:
        return bucket_width(self.lo, self.hi, buckets)


@dataclass(frozen=True)
class Downsampled:
    """One series as drawn, and what merging its next points needs: how many points the
    whole series had (``count``), its greatest step or time (``last``, the axis' order), and
    how many of them lie in the window (``inside``; all of them without a window)."""

    count: int
    last: int
    inside: int
    x: np.ndarray
    y: np.ndarray

    def merged(
        self,
        x: np.ndarray,
        y: np.ndarray,
        last: int,
        window: Window | None,
        buckets: int,
    ) -> Downsampled:
        """This series with its points ``x, y`` that came after ``last`` was seen (all of
        them, ``last`` now the greatest step or time among them)."""
        count = self.count + len(x)
        if window is None:
            inside, kept_x, kept_y = self.inside + len(x), self.x, self.y
            new_x, new_y = x, y
        else:
            inner = (x >= window.lo) & (x <= window.hi)
            inside = self.inside + int(inner.sum())
            kept = (self.x >= window.lo) & (self.x <= window.hi)
            kept_x, kept_y = self.x[kept], self.y[kept]
            new_x, new_y = x[inner], y[inner]
        all_x, all_y = np.concatenate([kept_x, new_x]), np.concatenate([kept_y, new_y])
        width = _width(inside, all_x, window, buckets)
        if len(new_x) == 0:
            xs, ys = kept_x, kept_y
        elif len(kept_x) and width == _width(self.inside, kept_x, window, buckets):
            xs, ys = appended((kept_x, kept_y), (new_x, new_y), width)
        else:  # (the buckets widened, or the series outgrew being kept whole)
            xs, ys = extremes(all_x, all_y, width)
        if window is not None:
            xs, ys = self._with_edges(xs, ys, x, y, window)
        return replace(self, count=count, last=max(self.last, last), inside=inside, x=xs, y=ys)

    def _with_edges(
        self, xs: np.ndarray, ys: np.ndarray, x: np.ndarray, y: np.ndarray, window: Window
    ) -> tuple[np.ndarray, np.ndarray]:
        """``xs, ys`` with the nearest point before and after the window (within its margin)
        among the ones kept before and the new points ``x, y``: the greatest (x, y) before
        it, the least after it."""
        before = (x < window.lo) & (x >= window.lo - window.margin)
        after = (x > window.hi) & (x <= window.hi + window.margin)
        parts_x, parts_y = [xs], [ys]
        for old, new, last in ((self.x < window.lo, before, True),
                               (self.x > window.hi, after, False)):  # fmt: skip
            cx = np.concatenate([self.x[old], x[new]])
            cy = np.concatenate([self.y[old], y[new]])
            if len(cx):
                nearest = _in_order(cx, cy)[-1 if last else 0]
                parts_x.append(cx[nearest : nearest + 1])
                parts_y.append(cy[nearest : nearest + 1])
        return distinct(np.concatenate(parts_x), np.concatenate(parts_y))
