"""Vega-Lite specs of nbtrack's charts (pure functions, testable with dicts): the curve chart
built with Altair and shipped compiled to Vega, the static parallel coordinates written out.

The curve chart reads a named dataset ``points`` with fields ``series``, ``run_id``, ``key``,
``x``, ``y`` (raw value) and ``smooth`` (smoothed value): the widget front end inserts the data
(and recomputes ``smooth`` when the smoothing slider moves); the static fallback inlines it. The
hover layer reads the same fields from ``hover``, a thinned copy (a point for every one of
tens of thousands would cost seconds of every redraw; a static image needs none).
The widgets get the spec compiled to Vega here (:func:`curve_vega`), so the browser needs only
Vega's runtime, not the Vega-Lite compiler. Its ``x_range`` param, ``[low, high]`` in the
axis' units or null, sets the x axis' range (a zoomed chart); the marks are clipped to it.
The kernel renders its images from that compiled Vega too: nothing a kernel runs imports
Altair, which compiles the curve chart (``python -m nbtrack.charts``) and nothing else.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

X_TITLES = {"step": "step", "time": "wall time", "relative": "seconds since start"}
X_RANGE = "x_range"
# Static images are rendered at this width; in a notebook the chart fills the cell.
STATIC_WIDTH = 640
HEIGHT = 260


@functools.lru_cache(maxsize=32)
def curve_spec(x: str = "step", log_y: bool = False, y_title: str = "value") -> dict[str, Any]:
    """Curves of one or more series: a faint raw line under a solid smoothed one, a legend
    that highlights the series clicked (in the order the series come, which the caller sorts
    naturally), and on hover the nearest point ringed, with its run, step (or time), value and
    smoothed value. ``y_title`` names the y axis: the metric, when there is one (built once per
    axis choice: the result is shared, do not modify it)."""
    import altair as alt

    x_field = "t:T" if x == "time" else "x:Q"
    scale = alt.Scale(type="log") if log_y else alt.Scale(zero=False)
    zoom = alt.param(name=X_RANGE, value=None)
    # (a time axis counts milliseconds)
    shown = f"{X_RANGE} && [{X_RANGE}[0] * 1000, {X_RANGE}[1] * 1000]" if x == "time" else X_RANGE
    pick = alt.selection_point(fields=["series"], bind="legend")
    encoding: dict[str, Any] = dict(
        x=alt.X(
            x_field,
            title=X_TITLES[x],
            axis=alt.Axis(tickMinStep=1) if x == "step" else alt.Undefined,
            scale=alt.Scale(domainRaw=alt.ExprRef(shown)),
        ),
        # (the legend would take the faint raw layer's opacity without symbolOpacity, and the
        # hover layer's rings without symbolType)
        color=alt.Color(
            "series:N",
            title=None,
            sort=None,  # the data's order: run-2 before run-10
            legend=alt.Legend(orient="bottom", symbolOpacity=1, symbolType="stroke"),
        ),
        detail="series:N",
    )

    def layer(data: str) -> alt.Chart:
        # (parse=None: the values are numbers already; parsing 32k points costs a redraw)
        chart = alt.Chart(alt.Data(name=data, format={"parse": None})).encode(**encoding)
        return chart.transform_calculate(t="datum.x * 1000") if x == "time" else chart

    base = layer("points")
    raw = base.mark_line(strokeWidth=1, clip=True).encode(
        y=alt.Y("y:Q", scale=scale, title=y_title),
        opacity=alt.condition(pick, alt.value(0.25), alt.value(0.05)),
    )
    smooth = base.mark_line(strokeWidth=2, clip=True).encode(
        y=alt.Y("smooth:Q", scale=scale),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
    )
    # Hovering anywhere picks the nearest point (a Voronoi diagram; a line alone answers only
    # within a pixel or two of a vertex): it is ringed, and its tooltip shows.
    hover = alt.selection_point(nearest=True, on="pointerover", clear="pointerout", empty=False)
    points = (
        layer("hover")
        .mark_point(size=40, filled=False, clip=True)
        .encode(
            y=alt.Y("smooth:Q", scale=scale),
            opacity=alt.condition(hover, alt.value(1.0), alt.value(0.0)),
            tooltip=[
                alt.Tooltip("series:N", title="run"),
                alt.Tooltip("x:Q", title=X_TITLES[x], format=",.6~g"),
                alt.Tooltip("y:Q", title="value", format=",.6~g"),
                alt.Tooltip("smooth:Q", title="smoothed", format=",.6~g"),
            ],
        )
        .add_params(hover)
    )
    chart = alt.layer(raw, smooth, points).add_params(pick, zoom)
    return chart.properties(width="container", height=HEIGHT).to_dict()


# The curve chart compiled to Vega for every x axis and y scale, with Y_TITLE where the y
# axis' title goes: the widgets read it, so that showing a chart imports neither Altair nor
# vl-convert. Written by ``python -m nbtrack.charts``; a test checks it matches the compiler.
COMPILED = Path(__file__).with_name("curves.vega.json")
Y_TITLE = "<y title>"


def compile_curve_vega(x: str = "step", log_y: bool = False, y_title: str = "value") -> dict:
    """:func:`curve_spec` compiled to Vega (offline, with vl-convert). The compiler's white
    background is left out: the widget's theme gives the background."""
    import vl_convert

    vega = vl_convert.vegalite_to_vega(curve_spec(x, log_y, y_title))
    for mark in vega.get("marks", []):
        # The Voronoi cells of the nearest-point hover get a copy of the points' tooltip that
        # reads the run from the wrong object (it shows "undefined"); a cell's datum is the
        # point's scene item, which holds the point's own tooltip: show that.
        update = mark.get("encode", {}).get("update", {})
        if mark.get("name", "").endswith("_voronoi") and "tooltip" in update:
            update["tooltip"] = {"signal": "datum.tooltip"}
    return {key: value for key, value in vega.items() if key != "background"}


def _variant(x: str, log_y: bool) -> str:
    return f"{x}/{'log' if log_y else 'linear'}"


@functools.lru_cache(maxsize=1)
def _compiled() -> dict[str, Any]:
    return json.loads(COMPILED.read_text())


@functools.lru_cache(maxsize=32)
def curve_vega(x: str = "step", log_y: bool = False, y_title: str = "value") -> dict[str, Any]:
    """The curve chart as Vega (see :func:`compile_curve_vega`), read from ``COMPILED`` (shared,
    do not modify)."""
    if x not in X_TITLES:
        raise ValueError(f"x must be one of {', '.join(X_TITLES)}; got {x!r}")
    return _titled(_compiled()[_variant(x, log_y)], y_title)


def _titled(value: Any, title: str) -> Any:
    """``value`` with ``Y_TITLE`` replaced by ``title``: as is where it is the whole string (a
    title), escaped where it is inside one (an expression's string literal)."""
    if value == Y_TITLE:
        return title
    if isinstance(value, str):
        return value.replace(Y_TITLE, json.dumps(title)[1:-1]) if Y_TITLE in value else value
    if isinstance(value, dict):
        return {k: _titled(v, title) for k, v in value.items()}
    if isinstance(value, list):
        return [_titled(v, title) for v in value]
    return value


def write_compiled() -> None:
    """Compile every variant of the curve chart into ``COMPILED``."""
    variants = {_variant(x, log_y): compile_curve_vega(x, log_y, Y_TITLE)
                for x in X_TITLES for log_y in (False, True)}  # fmt: skip
    COMPILED.write_text(json.dumps(variants, indent=1, sort_keys=True) + "\n")


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


def static_vega(vega: dict[str, Any], rows: list[dict[str, Any]], x_range: Any = None) -> dict:
    """The compiled curve chart ``vega`` (see :func:`curve_vega`) as an image shows it:
    ``rows`` as its ``points`` (nothing to hover), the x axis' ``x_range`` (None: the points'),
    a fixed width and a white background."""
    values = {"points": rows, "hover": []}
    fixed = {"width": STATIC_WIDTH, X_RANGE: list(x_range) if x_range else None}
    return {
        **vega,
        "background": "white",
        "data": [{**d, "values": values[d["name"]]} if d["name"] in values else d
                 for d in vega["data"]],
        "signals": [{"name": s["name"], "value": fixed[s["name"]]} if s["name"] in fixed else s
                    for s in vega["signals"]],
    }  # fmt: skip


def parallel_spec(rows: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    """A static parallel-coordinates chart (Vega-Lite): one line per run across axes ordered
    by ``order``, coloured by ``metric``; rows hold ``run``, ``axis``, ``order``, ``position``
    (0..1 along the axis), ``label``, ``labelled`` (whether to print the label: the ends of
    a numeric axis, every category) and ``metric`` (see nbtrack.widgets.sweep). Written out
    rather than built with Altair, whose import takes seconds where jsonschema's format
    checkers are installed (as Jupyter installs them)."""
    x = {
        "field": "axis",
        "type": "nominal",
        "sort": {"field": "order"},
        "title": None,
        "axis": {"orient": "top", "labelAngle": 0, "domain": False, "ticks": False},
    }
    y = {"field": "position", "type": "quantitative", "axis": None, "scale": {"domain": [0, 1]}}
    color = {
        "field": "metric",
        "type": "quantitative",
        "title": metric or None,
        "scale": {"scheme": "plasma"},
    }
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "data": {"values": rows},
        "width": STATIC_WIDTH,
        "height": HEIGHT,
        "config": {"view": {"stroke": None}},
        "layer": [
            {"mark": {"type": "rule", "color": "#888"},
             "encoding": {"x": x, "y": {"value": 0}, "y2": {"value": HEIGHT}}},
            {"mark": {"type": "line", "opacity": 0.7},
             "encoding": {"x": x, "y": y, "color": color,
                          "detail": {"field": "run", "type": "nominal"}}},
            {"mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 10, "color": "#666"},
             "encoding": {"x": x, "y": y, "text": {"field": "label", "type": "nominal"}},
             "transform": [{"filter": "datum.labelled"}]},
        ],
    }  # fmt: skip


if __name__ == "__main__":
    write_compiled()
