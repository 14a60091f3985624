"""``nbtrack.plot()``: metric curves across runs, downsampled in DuckDB, live while runs write."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anywidget
import traitlets as t

from ..query.runs import latest_run
from .base import bundle, follow_store
from .curves import CurveTraits
from .run_table import RunTable
from .saved import SavedView


class MetricPlot(SavedView, CurveTraits, anywidget.AnyWidget):
    """Line charts of metric ``keys`` for ``runs``: x by step, wall time or relative time,
    EMA smoothing (the raw line stays faint behind), log-scale y, hover tooltips, a legend
    that highlights. ``runs`` follows a RunTable's selection when given one. Drag across the
    chart to zoom (``x_range`` holds the range shown; the points inside it are read again, in
    full detail), scroll to zoom in or out, shift-drag to pan, double-click to see it all.

    >>> import nbtrack
    >>> nbtrack.plot(["loss", "val_acc"], runs=table, smoothing=0.6)  # doctest: +SKIP
    >>> nbtrack.plot("loss", x_range=(1000, 2000))  # doctest: +SKIP
    """

    _esm = bundle("charts.js")  # shared with Compare: Vega ships once
    _css = bundle("styles.css")
    _view = t.Unicode("plot").tag(sync=True)

    # What to draw: Python's alone (the browser draws `_series`), so not synced; observed.
    # (not ``keys``: ipywidgets uses that name for the list of synced traits)
    metric_keys = t.List(t.Unicode())
    runs = t.List(t.Unicode())

    def __init__(
        self,
        keys: str | Sequence[str],
        runs: Any = None,
        x: str = "step",
        smoothing: float = 0.0,
        log_y: bool = False,
        live: bool = True,
        x_range: Sequence[float] | None = None,
    ) -> None:
        keys = [keys] if isinstance(keys, str) else list(keys)
        super().__init__(metric_keys=keys, x=x, smoothing=smoothing, log_y=log_y,
                         x_range=None if x_range is None else list(x_range))  # fmt: skip
        if isinstance(runs, RunTable):
            runs.follow(self)
        elif runs is None:
            self.runs = latest_run(keys)
        else:
            self.runs = [runs] if isinstance(runs, str) else [getattr(r, "id", r) for r in runs]
        self.refresh()
        # (x, log_y and x_range redraw by themselves: see CurveTraits)
        self.observe(lambda _: self.refresh(), names=["metric_keys", "runs"])
        if live:
            follow_store(self)

    def refresh(self) -> None:
        """Query the curves again (the live thread calls this when the store changes)."""
        with self._curves_lock():
            self._draw(self.runs, self.metric_keys)

    def kernel_image(self) -> bytes | None:
        return self.curves_image()
