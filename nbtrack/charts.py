"""Vega-Lite specs of nbtrack's charts, built with Altair (pure functions, testable with dicts).

The curve chart reads a named dataset ``points`` with fields ``series``, ``run_id``, ``key``,
``x``, ``y`` (raw value) and ``smooth`` (smoothed value): the widget front end inserts the data
(and recomputes ``smooth`` when the smoothing slider moves); the static fallback inlines it.
"""

from __future__ import annotations

from typing import Any

X_TITLES = {"step": "step", "time": "wall time", "relative": "seconds since start"}
# Static images are rendered at this width; in a notebook the chart fills the cell.
STATIC_WIDTH = 640
HEIGHT = 260


def curve_spec(x: str = "step", log_y: bool = False) -> dict[str, Any]:
    """Curves of one or more series: a faint raw line under a solid smoothed one, a legend
    that highlights the series clicked, tooltips with run, key, step/time and value."""
    import altair as alt

    x_field = "t:T" if x == "time" else "x:Q"
    scale = alt.Scale(type="log") if log_y else alt.Scale(zero=False)
    pick = alt.selection_point(fields=["series"], bind="legend")
    base = alt.Chart(alt.Data(name="points")).encode(
        x=alt.X(x_field, title=X_TITLES[x]),
        # (the legend would take the faint raw layer's opacity without symbolOpacity)
        color=alt.Color(
            "series:N", title=None, legend=alt.Legend(orient="bottom", symbolOpacity=1)
        ),
        detail="series:N",
    )
    if x == "time":
        base = base.transform_calculate(t="datum.x * 1000")
    raw = base.mark_line(strokeWidth=1).encode(
        y=alt.Y("y:Q", scale=scale, title="value"),
        opacity=alt.condition(pick, alt.value(0.25), alt.value(0.05)),
    )
    smooth = base.mark_line(strokeWidth=2).encode(
        y=alt.Y("smooth:Q", scale=scale),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=[
            alt.Tooltip("series:N", title="run"),
            alt.Tooltip("x:Q", title=X_TITLES[x], format=",.6~g"),
            alt.Tooltip("y:Q", title="value", format=",.6~g"),
            alt.Tooltip("smooth:Q", title="smoothed", format=",.6~g"),
        ],
    )
    chart = alt.layer(raw, smooth).add_params(pick)
    return chart.properties(width="container", height=HEIGHT).to_dict()


def smoothed(values, weight: float):  # numpy array -> numpy array
    """TensorBoard's debiased exponential moving average (weight 0 returns the values); a NaN
    or infinite point passes through without entering the average (as in js/src/series.ts)."""
    import math

    import numpy as np

    out = np.empty(len(values), dtype=np.float64)
    last, seen = 0.0, 0
    for i, value in enumerate(map(float, values)):
        if not weight or not math.isfinite(value):
            out[i] = value
            continue
        last = last * weight + (1 - weight) * value
        seen += 1
        out[i] = last / (1 - weight**seen)
    return out


def inline(spec: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``spec`` with its named data replaced by ``rows`` and a fixed width (for images)."""
    return {**spec, "data": {"values": rows}, "width": STATIC_WIDTH}
