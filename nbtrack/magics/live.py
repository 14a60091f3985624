"""``--live``: a metric plot under the cell that follows the cell's run while it trains."""

from __future__ import annotations

from ..tracking import Run


class LivePlot:
    """A MetricPlot of ``keys`` for ``run``, displayed under the running cell.

    The plot's own live thread redraws it when the store changes (about once a second; this
    process's unflushed points count); :meth:`stop` draws it a last time, and the image a
    saved notebook keeps is taken after that draw (see nbtrack.widgets.saved).
    """

    def __init__(self, run: Run, keys: list[str]) -> None:
        from IPython.display import display

        from ..widgets.metric_plot import MetricPlot

        self.plot = MetricPlot(keys, runs=[run.id])
        display(self.plot)

    def stop(self) -> None:
        self.plot.refresh()
