"""Inline widgets (anywidget): the run table, metric curves, side-by-side comparisons and the
model registry.

Each widget's module is imported when the widget is first asked for, so a kernel's first
``nbtrack.table()`` does not also import the curves, the comparison and sweep views (numpy)
and the registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .comparison import Compare
    from .metric_plot import MetricPlot
    from .registry import ModelRegistry
    from .run_table import RunTable

__all__ = [
    "Compare", "MetricPlot", "ModelRegistry", "RunTable", "compare", "models", "plot", "table",
]  # fmt: skip

# The widget classes, by the module that defines each: imported on first use (PEP 562).
_CLASSES = {
    "Compare": "comparison",
    "MetricPlot": "metric_plot",
    "ModelRegistry": "registry",
    "RunTable": "run_table",
}


def __getattr__(name: str) -> Any:
    from ..lazy import load

    return load(__name__, name, _CLASSES)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def table(
    experiment: str | list[str] | None = None,
    filter: str | None = None,
    columns: list[str] | None = None,
) -> RunTable:
    """An interactive table of runs; ``.selected`` holds the ids of the rows selected.

    >>> import nbtrack
    >>> runs = nbtrack.table(experiment="wine", filter="metrics.f1 > 0.9")  # doctest: +SKIP
    """
    from .run_table import RunTable

    return RunTable(experiment=experiment, filter=filter, columns=columns)


def plot(
    keys: str | Sequence[str],
    runs: Any = None,
    x: str = "step",
    smoothing: float = 0.0,
    log_y: bool = False,
    x_range: Sequence[float] | None = None,
) -> MetricPlot:
    """Curves of metric ``keys``; ``runs``: run ids, a RunTable (follows its selection) or None
    (the latest run). ``x``: ``"step"``, ``"time"`` or ``"relative"``; ``x_range``: the part of
    the x axis shown, ``(low, high)`` (None: all of it; the chart zooms by setting it).

    >>> import nbtrack
    >>> nbtrack.plot("loss", runs=nbtrack.table())  # doctest: +SKIP
    """
    from .metric_plot import MetricPlot

    return MetricPlot(keys, runs=runs, x=x, smoothing=smoothing, log_y=log_y, x_range=x_range)


def compare(
    *runs: Any,
    experiment: str | list[str] | None = None,
    filter: str | None = None,
    metric: str | None = None,
    param: str | None = None,
) -> Compare:
    """Runs side by side (params diff, metrics, overlaid curves, code diff); for 3 runs or
    more, also a parallel-coordinates chart and a param-vs-metric scatter where dragging
    selects runs (``.selected``). ``runs``: run ids, runs, lists of them, or a RunTable (its
    selected rows); ``experiment`` and ``filter`` add the runs they match. One sweep (its run
    or the :func:`nbtrack.sweep` result), or any run with runs inside it, compares those: the
    trials, joined by new ones as they finish. ``metric`` and ``param`` choose what the sweep
    view shows first (for a sweep, its metric).

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> result = nbtrack.sweep(lambda depth: 1 / depth, {"depth": "1:4"}, metric="loss")
    >>> view = nbtrack.compare(result)
    >>> len(view.runs), view.metric
    (4, 'loss')
    >>> nbtrack.compare(*view.runs[:2]).runs == view.runs[:2]
    True
    """
    from .comparison import Compare

    return Compare(*runs, experiment=experiment, filter=filter, metric=metric, param=param)


def models(filter: str | None = None) -> ModelRegistry:
    """The model registry as an interactive widget; ``filter`` uses the registry's filter
    grammar (``name LIKE 'wine%' and tags.team = 'a'``); ``.selected`` is ``"name/version"``.

    >>> import nbtrack
    >>> nbtrack.models()  # doctest: +SKIP
    """
    from .registry import ModelRegistry

    return ModelRegistry(filter=filter)
