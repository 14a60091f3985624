"""The sweep view of ``nbtrack.compare()``: every run's varying params and last metrics, for a
parallel-coordinates chart and a param-vs-metric scatter in which brushing selects runs.

Everything is read in three queries, whatever the number of runs (``query/sweeps.py``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from ..query.sweeps import sweep_rows
from .base import higher_is_better, json_value


def sweep_content(run_ids: Sequence[str]) -> dict[str, Any]:
    """Per run (in ``run_ids`` order): name and status, the params whose values differ between
    runs (numeric or categorical, with their rank correlation to each metric) and every last
    metric value. Params equal in every run are only listed by key, under ``constant``."""
    ids = list(run_ids)
    read = sweep_rows(ids)
    index = {run_id: i for i, run_id in enumerate(ids)}
    by_id = {row["run_id"]: row for row in read.runs}
    metric_columns = _columns(len(ids), index, read.metrics)
    param_columns = _columns(len(ids), index, read.params)
    varying = {k: v for k, v in param_columns.items() if varies(v)}
    runs = [by_id.get(run_id, {"run_id": run_id, "name": run_id, "status": ""}) for run_id in ids]
    metrics = [
        {
            "key": key,
            "values": [json_value(v) for v in values],
            "higher_is_better": higher_is_better(key),
        }
        for key, values in sorted(metric_columns.items())
    ]
    return {
        "runs": [{**run, "name": run["name"] or run["run_id"]} for run in runs],
        "params": [_dimension(k, v, metric_columns) for k, v in sorted(varying.items())],
        "constant": sorted(set(param_columns) - set(varying)),
        "metrics": metrics,
    }


def varies(values: Sequence[Any]) -> bool:
    """Whether ``values`` are not all the same (1 and 1.0, or 1 and True, count as different).

    >>> varies([1, 1.0]), varies(["a", "a", None]), varies([None, None])
    (True, True, False)
    """
    return len({repr(v) for v in values}) > 1


def _metric_column(content: dict[str, Any], metric: str) -> dict[str, Any] | None:
    return next((m for m in content["metrics"] if m["key"] == metric), None)


def _columns(count: int, index: dict[str, int], rows: Any) -> dict[str, list[Any]]:
    """(run_id, key, value) rows as one list of values per key, in the order of ``index``."""
    columns: dict[str, list[Any]] = {}
    for run_id, key, value in rows:
        columns.setdefault(key, [None] * count)[index[run_id]] = value
    return columns


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value)


def _dimension(key: str, values: list[Any], metrics: dict[str, list[Any]]) -> dict[str, Any]:
    """One param axis: numeric when every value present is a number, else categorical."""
    numeric = all(v is None or _is_number(v) for v in values)
    shown = [json_value(v) if numeric or v is None or isinstance(v, (str, bool)) else str(v)
             for v in values]  # fmt: skip
    correlation = (
        {name: rank_correlation(values, column) for name, column in metrics.items()}
        if numeric else {}
    )  # fmt: skip
    return {"key": key, "kind": "number" if numeric else "category", "values": shown,
            "correlation": correlation}  # fmt: skip


def rank_correlation(xs: Sequence[Any], ys: Sequence[Any]) -> float | None:
    """Spearman's rank correlation over the pairs where both values are finite numbers (None
    when fewer than three pairs, or when either side is constant).

    >>> rank_correlation([1, 2, 3, 4], [0.1, 0.4, 0.2, 0.9])
    0.8
    >>> rank_correlation([1, 1, 2, 3], [1, 2, 2, 3])  # ties share their average rank
    0.8333
    >>> rank_correlation([1, 2, None], [3, 2, 1]) is None
    True
    """
    import pandas as pd

    pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if _finite(x) and _finite(y)]
    if len(pairs) < 3:
        return None
    # Pearson's correlation of the average ranks is Spearman's (pandas' method="spearman" would
    # need scipy, which a plain install does not have).
    ranks = pd.DataFrame(pairs, columns=["x", "y"]).rank()
    value = ranks["x"].corr(ranks["y"])
    return None if math.isnan(value) else round(float(value), 4)


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


def sweep_html(content: dict[str, Any], metric: str) -> str:
    """The runs as an HTML table, best ``metric`` first (for notebooks opened without a
    kernel)."""
    column = _metric_column(content, metric)
    order = list(range(len(content["runs"])))
    if column is not None:
        sign = -1 if column["higher_is_better"] else 1
        present = [i for i in order if _is_number(column["values"][i])]
        missing = [i for i in order if not _is_number(column["values"][i])]
        order = sorted(present, key=lambda i: sign * column["values"][i]) + missing
    keys = [p["key"] for p in content["params"]]
    head = "".join(f"<th>{html.escape(k)}</th>" for k in ["run", metric, *keys] if k)

    def cell(value: Any) -> str:
        return f"<td>{'' if value is None else html.escape(str(value))}</td>"

    rows = "".join(
        "<tr>" + cell(content["runs"][i]["name"])
        + (cell(column["values"][i]) if column else "")
        + "".join(cell(p["values"][i]) for p in content["params"]) + "</tr>"
        for i in order
    )  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def parallel_rows(content: dict[str, Any], metric: str) -> list[dict[str, Any]]:
    """One row per run and axis (the varying params, then ``metric``), each value placed at
    0..1 on its axis: numbers linearly between their min and max, categories evenly."""
    column = _metric_column(content, metric)
    axes = [(p["key"], p["values"], p["kind"] == "number") for p in content["params"]]
    if column is not None:
        axes.append((metric, column["values"], True))
    rows = []
    for order, (key, values, numeric) in enumerate(axes):
        place = _placer(values, numeric)
        for i, value in enumerate(values):
            position = place(value)
            if position is None:
                continue
            label = f"{value:.4g}" if isinstance(value, float) else str(value)
            rows.append({
                "run": content["runs"][i]["run_id"], "axis": key, "order": order,
                "position": position, "label": label,
                "labelled": not numeric or position in (0, 1),
                "metric": column["values"][i] if column else None,
            })  # fmt: skip
    return rows


def _placer(values: list[Any], numeric: bool):  # -> Callable[[Any], float | None]
    if numeric:
        present = [v for v in values if _finite(v)]
        low, high = (min(present), max(present)) if present else (0, 0)
        span = high - low
        return lambda v: ((v - low) / span if span else 0.5) if _finite(v) else None
    categories = sorted({str(v) for v in values}, key=lambda c: (c == "None", c))
    return lambda v: (categories.index(str(v)) + 0.5) / len(categories)


def sweep_png(content: dict[str, Any], metric: str) -> bytes | None:
    """The parallel-coordinates chart as a PNG, rendered offline (None without axes)."""
    rows = parallel_rows(content, metric)
    if not rows:
        return None
    import vl_convert

    from ..charts import parallel_spec

    return vl_convert.vegalite_to_png(parallel_spec(rows, metric), scale=1)
