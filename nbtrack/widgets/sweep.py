"""The sweep view of ``nbtrack.compare()``: every run's varying params and last metrics, for a
parallel-coordinates chart and a param-vs-metric scatter in which brushing selects runs.

Everything is read in three queries, whatever the number of runs (``query/sweeps.py``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..query.sweeps import Column, sweep_rows
from .base import higher_is_better, json_value
from .correlation import correlations
from .formatting import MISSING, html_cell

# A saved notebook's sweep table, and the image a kernel renders where no browser sends one,
# show at most this many runs and param axes: rendering costs ~20 ms a run (1,500 runs x 42
# axes took 78 s; 100 runs x 9 axes take 2 s).
STATIC_RUNS = 100
STATIC_AXES = 8


def sweep_content(run_ids: Sequence[str]) -> dict[str, Any]:
    """Per run (in ``run_ids`` order): name and status, the params whose values differ between
    runs (numeric or categorical, with their rank correlation to each metric) and every last
    metric value. Params equal in every run are only listed by key, under ``constant``."""
    ids = list(run_ids)
    read = sweep_rows(ids)
    by_id = {row["run_id"]: row for row in read.runs}
    varying = {k: c for k, c in read.params.items() if varies(c.values)}
    runs = [by_id.get(run_id, {"run_id": run_id, "name": run_id, "status": ""}) for run_id in ids]
    metrics = [
        {"key": key, "values": _shown(column), "higher_is_better": higher_is_better(key)}
        for key, column in sorted(read.metrics.items())
    ]
    numbers = {key: c.numbers for key, c in read.metrics.items() if c.numbers is not None}
    return {
        "runs": [{**run, "name": run["name"] or run["run_id"]} for run in runs],
        "params": _dimensions(varying, numbers),
        "constant": sorted(set(read.params) - set(varying)),
        "metrics": metrics,
    }


def varies(values: Sequence[Any]) -> bool:
    """Whether ``values`` are not all the same (1 and 1.0, or 1 and True, count as different).

    >>> varies([1, 1.0]), varies(["a", "a", None]), varies([None, None])
    (True, True, False)
    >>> varies([float("nan"), float("nan")]), varies([1.0, float("nan")])
    (False, True)
    """
    first = values[0] if values else None
    # (a difference usually shows at once; only values all equal need their reprs compared;
    # NaN equals nothing, so it is left to the reprs)
    return any(v != first for v in values if v == v) or len({repr(v) for v in values}) > 1


def _metric_column(content: dict[str, Any], metric: str) -> dict[str, Any] | None:
    return next((m for m in content["metrics"] if m["key"] == metric), None)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value)


def _dimensions(params: dict[str, Column], metrics: dict[str, np.ndarray]) -> list[dict]:
    """One axis per param, by key: numeric when every value present is a number, else
    categorical; with the rank correlation of each numeric one to every metric."""
    numbers = {k: c.numbers for k, c in params.items() if c.numbers is not None}
    related = correlations(numbers, metrics)
    return [
        {"key": key, "kind": "number" if key in numbers else "category",
         "values": _shown(column), "correlation": related.get(key, {})}
        for key, column in sorted(params.items())
    ]  # fmt: skip


def _shown(column: Column) -> list[Any]:
    """A column's values as the front end takes them (as they are when numbers, all finite)."""
    values, numbers = column.values, column.numbers
    if numbers is not None and int(np.isfinite(numbers).sum()) == len(values) - values.count(None):
        return values
    return [json_value(v) if numbers is not None or v is None or isinstance(v, (str, bool))
            else str(v) for v in values]  # fmt: skip


def default_metric(content: dict[str, Any]) -> str:
    """The metric the most runs logged (ties: the first by name); "" when there is none."""
    metrics = content.get("metrics") or []
    if not metrics:
        return ""
    return max(metrics, key=lambda m: (sum(v is not None for v in m["values"]),
                                       -metrics.index(m)))["key"]  # fmt: skip


def default_param(content: dict[str, Any], metric: str) -> str:
    """The varying param most correlated with ``metric`` (categorical params come last)."""
    params = content.get("params") or []
    if not params:
        return ""
    return max(params, key=lambda p: (abs(p["correlation"].get(metric) or 0),
                                      -params.index(p)))["key"]  # fmt: skip


def best_first(content: dict[str, Any], metric: str) -> list[int]:
    """Indices of the runs, best ``metric`` first, runs without it last."""
    column = _metric_column(content, metric)
    order = list(range(len(content["runs"])))
    if column is None:
        return order
    sign = -1 if column["higher_is_better"] else 1
    present = [i for i in order if _is_number(column["values"][i])]
    missing = [i for i in order if not _is_number(column["values"][i])]
    return sorted(present, key=lambda i: sign * column["values"][i]) + missing


def shown_params(content: dict[str, Any], metric: str, axes: Sequence[str] = ()) -> list[str]:
    """The param axes the sweep view shows: those in ``axes`` (the user's choice), or by
    default the ``STATIC_AXES`` most related to ``metric`` (largest |rho|), in their order (as
    js/src/sweep.ts chooses).

    >>> content = {"params": [{"key": k, "correlation": {"f1": r}}
    ...                       for k, r in [("a", 0.1), ("b", -0.9), ("c", None)]]}
    >>> shown_params(content, "f1"), shown_params(content, "f1", ["c", "gone"])
    (['a', 'b', 'c'], ['c'])
    """
    keys = [p["key"] for p in content["params"]]
    chosen = [k for k in keys if k in set(axes)]
    if chosen:
        return chosen
    strength = {p["key"]: abs(p["correlation"].get(metric) or 0) for p in content["params"]}
    top = set(sorted(keys, key=lambda k: -strength[k])[:STATIC_AXES])
    return [k for k in keys if k in top]


def bounded(
    content: dict[str, Any], metric: str, axes: Sequence[str] = ()
) -> tuple[dict[str, Any], str]:
    """The sweep a saved notebook shows: the best ``STATIC_RUNS`` runs and the param axes the
    view shows (:func:`shown_params`); and a note saying what was left out ("" when nothing
    was)."""
    runs = content["runs"]
    keep = sorted(best_first(content, metric)[:STATIC_RUNS])
    chosen = set(shown_params(content, metric, axes))
    params = [p for p in content["params"] if p["key"] in chosen]
    if len(keep) == len(runs) and len(params) == len(content["params"]):
        return content, ""

    def subset(column: dict[str, Any]) -> dict[str, Any]:
        return {**column, "values": [column["values"][i] for i in keep]}

    small = {**content, "runs": [runs[i] for i in keep], "params": [subset(p) for p in params],
             "metrics": [subset(m) for m in content["metrics"]]}  # fmt: skip
    which = "chosen" if set(axes) & chosen else "most related to it"
    note = (f"the best {len(keep):,} of {len(runs):,} runs by {metric}, and the {len(params)} "
            f"of {len(content['params'])} varying params {which}")  # fmt: skip
    return small, note


def sweep_html(content: dict[str, Any], metric: str, axes: Sequence[str] = ()) -> str:
    """The runs as an HTML table, best ``metric`` first (for notebooks opened without a
    kernel), bounded as :func:`bounded` says."""
    content, note = bounded(content, metric, axes)
    column = _metric_column(content, metric)
    order = best_first(content, metric)
    keys = [p["key"] for p in content["params"]]
    head = "".join(f"<th>{html.escape(k)}</th>" for k in ["run", metric, *keys] if k)

    rows = "".join(
        "<tr>" + html_cell(content["runs"][i]["name"])
        + (html_cell(column["values"][i], metric, "metrics") if column else "")
        + "".join(html_cell(p["values"][i], p["key"], "params") for p in content["params"])
        + "</tr>"
        for i in order
    )  # fmt: skip
    shown = f"<p>Showing {html.escape(note)}.</p>" if note else ""
    return f"{shown}<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def parallel_rows(content: dict[str, Any], metric: str) -> list[dict[str, Any]]:
    """One row per run and axis (the varying params, then ``metric``), each value placed at
    0..1 on its axis as the live view places it (:func:`axis_placer`)."""
    column = _metric_column(content, metric)
    axes = [(p["key"], p["values"], p["kind"] == "number") for p in content["params"]]
    if column is not None:
        axes.append((metric, column["values"], True))
    rows = []
    for order, (key, values, numeric) in enumerate(axes):
        place, labelled = axis_placer(values, numeric)
        for i, value in enumerate(values):
            position = place(value)
            if position is None:
                continue
            label = MISSING if value is None else f"{value:.4g}" if isinstance(value, float) \
                else str(value)  # fmt: skip
            rows.append({
                "run": content["runs"][i]["run_id"], "axis": key, "order": order,
                "position": position, "label": label, "labelled": labelled(value, position),
                "metric": column["values"][i] if column else None,
            })  # fmt: skip
    return rows


# As in js/src/scales.ts: positive numbers spanning this ratio get a log axis; missing values
# sit at 0, the others above this gap.
LOG_SPAN = 1000
MISSING_GAP = 0.12


def axis_placer(values: list[Any], numeric: bool) -> tuple[Any, Any]:
    """Where a value sits on its axis (0..1, None when it cannot be placed), and whether its
    label is printed; as js/src/scales.ts does: a linear axis, a log one for positive numbers
    spanning three decades, or evenly spaced categories (missing first, numbers, then text);
    missing values at the bottom of a numeric axis, below the others.

    >>> place, _ = axis_placer([0.001, 0.01, 1.0, None], True)
    >>> [round(place(v), 3) for v in (0.001, 0.01, 1.0, None)]
    [0.12, 0.413, 1.0, 0]
    """
    present = [v for v in values if v is not None]
    if not numeric or not present or not all(_finite(v) for v in present):
        order = sorted({_category(v): v for v in values}.items(), key=_category_rank)
        at = {key: 0.5 if len(order) == 1 else i / (len(order) - 1)
              for i, (key, _) in enumerate(order)}  # fmt: skip
        return (lambda v: at.get(_category(v))), (lambda v, p: True)
    # (every value present is a finite number, and positive on a log axis)
    low, high = min(present), max(present)
    log = low > 0 and high / low >= LOG_SPAN
    if log:
        low, high = math.log10(low), math.log10(high)
    span = high - low

    def scale(v: float) -> float:
        return ((math.log10(v) if log else v) - low) / span if span else 0.5

    lift = MISSING_GAP if len(present) < len(values) else 0.0

    def place(v: Any) -> float | None:
        if v is None:
            return 0 if lift else None
        return lift + (1 - lift) * scale(v)

    ends = {place(min(present)), place(max(present)), 0 if lift else None}
    return place, (lambda v, p: p in ends)


def _category(value: Any) -> str:
    return MISSING if value is None else str(value)


def _category_rank(item: tuple[str, Any]) -> tuple[int, float, str]:
    key, value = item
    if value is None:
        return (0, 0.0, "")
    if _is_number(value):
        return (1, float(value), "")
    return (2, 0.0, key)


def sweep_png(content: dict[str, Any], metric: str, axes: Sequence[str] = ()) -> bytes | None:
    """The parallel-coordinates chart as a PNG, rendered offline (None without axes), bounded
    as :func:`bounded` says: rendering grows with runs times axes."""
    rows = parallel_rows(bounded(content, metric, axes)[0], metric)
    if not rows:
        return None
    import vl_convert

    from ..charts import parallel_spec

    return vl_convert.vegalite_to_png(parallel_spec(rows, metric), scale=1)
