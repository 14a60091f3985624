"""Rows logged but not yet in segments: tuples for the small tables, columns for metrics.

Metric points are the hot path (millions per run), so each (run, key) series keeps three typed
arrays (steps, times, values: 24 bytes a point, no Python object kept alive) and the run id and
key only once; turning a million points into Arrow is then three memory copies, not a million
tuples and strings.

Lock-free handoff: the logging thread appends to ``steps``, ``times`` then ``values``; the
writer reads ``len(values)`` first, so the first n items of all three lists are complete, and
only the writer removes items (from the front).
"""

from __future__ import annotations

import threading
from array import array
from dataclasses import dataclass, field
from typing import Any

from .schema import TABLES

ROW_TABLES = tuple(t for t in TABLES if t != "metrics")


class MetricSeries:
    """The unflushed points of one metric key of one run."""

    __slots__ = ("closed", "key", "next_step", "run_id", "steps", "times", "values")

    def __init__(self, run_id: str, key: str) -> None:
        self.run_id = run_id
        self.key = key
        self.steps = array("q")
        self.times = array("d")
        self.values = array("d")
        self.next_step = 0
        self.closed = False  # its run ended: drop the series once drained


# (series, steps, times, values): a slice of one series taken for writing or reading.
Chunk = tuple[MetricSeries, "array[int]", "array[float]", "array[float]"]


@dataclass
class Batch:
    """A set of unflushed rows, by table."""

    rows: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {t: [] for t in ROW_TABLES}
    )
    chunks: list[Chunk] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.chunks) or any(self.rows.values())

    def tables(self) -> set[str]:
        """Names of the tables this batch has rows for."""
        found = {t for t, rows in self.rows.items() if rows}
        return found | {"metrics"} if self.chunks else found

    def __len__(self) -> int:
        return sum(len(c[3]) for c in self.chunks) + sum(len(r) for r in self.rows.values())

    def __add__(self, other: Batch) -> Batch:
        return Batch(
            {t: self.rows[t] + other.rows[t] for t in ROW_TABLES}, self.chunks + other.chunks
        )

    def table(self, name: str) -> Any:  # pyarrow.Table
        from .segments import chunks_to_arrow, rows_to_arrow

        return (
            chunks_to_arrow(self.chunks)
            if name == "metrics"
            else rows_to_arrow(name, self.rows[name])
        )


class Buffers:
    """This process's unflushed rows for one store."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in ROW_TABLES}
        self.series: list[MetricSeries] = []
        self._series_lock = threading.Lock()

    def new_series(self, run_id: str, key: str) -> MetricSeries:
        series = MetricSeries(run_id, key)
        with self._series_lock:
            self.series.append(series)
        return series

    def _slices(self, take: bool) -> list[Chunk]:
        chunks = []
        with self._series_lock:
            for s in self.series:
                n = len(s.values)
                if n:
                    chunks.append((s, s.steps[:n], s.times[:n], s.values[:n]))
                    if take:
                        del s.steps[:n], s.times[:n], s.values[:n]
            if take:
                self.series = [s for s in self.series if s.values or not s.closed]
        return chunks

    def take(self) -> Batch:
        """Move every pending row out (into a batch being written)."""
        rows = {}
        for table, buf in self.rows.items():
            n = len(buf)  # appends racing with us land after index n and stay
            rows[table] = buf[:n]
            del buf[:n]
        return Batch(rows, self._slices(take=True))

    def peek(self) -> Batch:
        """A copy of every pending row."""
        return Batch({t: list(buf) for t, buf in self.rows.items()}, self._slices(take=False))

    def forget_after_fork(self) -> None:
        """In a forked child: the parent writes what was pending; keep the series for new points."""
        self._series_lock = threading.Lock()
        for rows in self.rows.values():
            rows.clear()
        for s in self.series:
            del s.steps[:], s.times[:], s.values[:]

    def put_back(self, batch: Batch) -> None:
        """Return a batch that could not be written, ahead of anything logged since."""
        for table, rows in batch.rows.items():
            self.rows[table][0:0] = rows
        with self._series_lock:
            for series, steps, times, values in batch.chunks:
                series.steps[0:0] = steps
                series.times[0:0] = times
                series.values[0:0] = values
                if series not in self.series:
                    self.series.append(series)
