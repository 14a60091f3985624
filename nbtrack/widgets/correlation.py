"""Spearman's rank correlation of a sweep's params with its metrics, in numpy: the values of
each column become one float array once, so hundreds of param-metric pairs over thousands of
runs take milliseconds (pandas' method="spearman" would also need scipy)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def as_numbers(values: Sequence[Any]) -> np.ndarray:
    """``values`` as floats; anything but a finite int or float (None, text, bools, NaN,
    infinities) becomes NaN, which the correlation leaves out."""
    out = np.array(
        [v if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan
         for v in values],
        dtype=np.float64,
    )  # fmt: skip
    out[~np.isfinite(out)] = math.nan
    return out


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank (as Spearman's correlation wants).

    >>> average_ranks(np.array([10.0, 30.0, 20.0, 30.0])).tolist()
    [1.0, 3.5, 2.0, 3.5]
    """
    order = values.argsort(kind="mergesort")
    ordered = values[order]
    starts_tie = np.r_[True, ordered[1:] != ordered[:-1]]
    starts = np.flatnonzero(starts_tie)
    sizes = np.diff(np.r_[starts, len(values)])
    ranks = np.empty(len(values))
    ranks[order] = (starts + (sizes + 1) / 2)[np.cumsum(starts_tie) - 1]
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    """Spearman's correlation of two float arrays over the pairs where both are present (None
    when fewer than three pairs, or when either side is constant), to 4 decimals."""
    return correlations({"x": x}, {"y": y})["x"]["y"]


def correlations(
    xs: dict[str, np.ndarray], ys: dict[str, np.ndarray]
) -> dict[str, dict[str, float | None]]:
    """:func:`spearman` of every column of ``xs`` with every column of ``ys``. A column's
    centred ranks are computed once per set of pairs present (once in all, for columns
    without gaps), not once per pair."""
    cache: dict[tuple[str, str, bytes], tuple[np.ndarray, float]] = {}

    def centred(side: str, key: str, column: np.ndarray, both: np.ndarray, whole: bool):
        found = cache.get(index := (side, key, b"" if whole else np.packbits(both).tobytes()))
        if found is None:
            ranks = average_ranks(column if whole else column[both])
            ranks -= ranks.mean()
            found = cache[index] = (ranks, float((ranks * ranks).sum()))
        return found

    present_x = {k: ~np.isnan(v) for k, v in xs.items()}
    present_y = {k: ~np.isnan(v) for k, v in ys.items()}
    out: dict[str, dict[str, float | None]] = {}
    for kx, x in xs.items():
        row = out[kx] = {}
        for ky, y in ys.items():
            both = present_x[kx] & present_y[ky]
            count = int(both.sum())
            if count < 3:
                row[ky] = None
                continue
            whole = count == len(both)
            rx, sx = centred("x", kx, x, both, whole)
            ry, sy = centred("y", ky, y, both, whole)
            scale = math.sqrt(sx * sy)
            row[ky] = None if scale == 0 else round(float((rx * ry).sum()) / scale, 4)
    return out


def rank_correlation(xs: Sequence[Any], ys: Sequence[Any]) -> float | None:
    """Spearman's rank correlation of two columns of values (see :func:`spearman`).

    >>> rank_correlation([1, 2, 3, 4], [0.1, 0.4, 0.2, 0.9])
    0.8
    >>> rank_correlation([1, 1, 2, 3], [1, 2, 2, 3])  # ties share their average rank
    0.8333
    >>> rank_correlation([1, 2, None], [3, 2, 1]) is None
    True
    """
    return spearman(as_numbers(xs), as_numbers(ys))
