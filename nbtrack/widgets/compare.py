"""``nbtrack.compare()``: runs side by side: params (differences highlighted), metrics (the
best marked), overlaid curves of the metrics they share, and the diff of their code."""

from __future__ import annotations

import difflib
import html
from typing import Any

import anywidget
import traitlets as t

from ..query.runs import RunRecord, get_run
from ..store import get_store
from .base import bundle, json_value, with_fallbacks
from .curves import CurveTraits

MAX_RUNS = 10
# Metrics whose name says "lower is better" get their best run marked at the minimum.
LOWER_IS_BETTER = ("loss", "error", "err", "mse", "mae", "rmse", "perplexity", "time")


class Compare(anywidget.AnyWidget, CurveTraits):
    """2 to 10 runs side by side.

    >>> import nbtrack
    >>> nbtrack.compare(run_a, run_b)  # doctest: +SKIP
    """

    _esm = bundle("compare.js")
    _css = bundle("styles.css")

    _content = t.Dict().tag(sync=True)
    only_differences = t.Bool(False).tag(sync=True)

    def __init__(self, *runs: Any, x: str = "step", smoothing: float = 0.0) -> None:
        if not 2 <= len(runs) <= MAX_RUNS:
            raise ValueError(f"compare takes 2 to {MAX_RUNS} runs; got {len(runs)}")
        super().__init__(x=x, smoothing=smoothing)
        self.records = [get_run(r) for r in runs]
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any):
        return with_fallbacks(super()._repr_mimebundle_(**kwargs), self.to_html(), self.png())

    def to_html(self) -> str:
        """The params and metrics tables as plain HTML (for notebooks opened without a kernel)."""
        content = self._content
        head = "".join(f"<th>{html.escape(r['name'])}</th>" for r in content["runs"])

        def row(label: str, cells: list[Any], marked: int | None = None) -> str:
            tds = "".join(
                f"<td>{'<b>' if i == marked else ''}{html.escape(str(v))}"
                f"{'</b>' if i == marked else ''}</td>" for i, v in enumerate(cells)
            )  # fmt: skip
            return f"<tr><th>{html.escape(label)}</th>{tds}</tr>"

        params = "".join(row(p["key"], p["values"]) for p in content["params"])
        metrics = "".join(row(m["key"], m["last"], m["best"]) for m in content["metrics"])
        return (f"<table><thead><tr><th></th>{head}</tr></thead><tbody>"
                f"<tr><th colspan='99'>params</th></tr>{params}"
                f"<tr><th colspan='99'>metrics (last; best in bold)</th></tr>{metrics}"
                "</tbody></table>")  # fmt: skip

    def refresh(self) -> None:
        self.records = [get_run(r.id) for r in self.records]
        reader = get_store().reader
        with reader.lock:
            rows = reader.query(
                "SELECT run_id, key, min, max FROM latest_metrics WHERE run_id IN "
                "(SELECT unnest(?))", [[r.id for r in self.records]]
            ).to_pylist()  # fmt: skip
        extremes = {(row["run_id"], row["key"]): (row["min"], row["max"]) for row in rows}
        self._content = comparison(self.records, extremes)
        shared = set.intersection(*(set(r.metrics) for r in self.records))
        self._draw([r.id for r in self.records], sorted(shared))


def comparison(
    records: list[RunRecord], extremes: dict[tuple[str, str], tuple[float, float]]
) -> dict[str, Any]:
    """The tables of a comparison, as the front end draws them; ``extremes`` holds each run's
    (min, max) of each metric over its history."""
    params = []
    for key in sorted(set().union(*(r.params for r in records))):
        values = [r.params.get(key) for r in records]
        shown = [json_value(v) if not isinstance(v, (list, dict)) else str(v) for v in values]
        params.append({"key": key, "values": shown, "differs": len({repr(v) for v in values}) > 1})
    metrics = []
    for key in sorted(set().union(*(r.metrics for r in records))):
        last = [json_value(r.metrics.get(key)) for r in records]
        higher = not any(word in key.lower() for word in LOWER_IS_BETTER)
        present = [(v, i) for i, v in enumerate(last) if v is not None]
        best = (max if higher else min)(present)[1] if present else None
        lows, highs = zip(*(extremes.get((r.id, key), (None, None)) for r in records),
                          strict=True)  # fmt: skip
        metrics.append({
            "key": key, "last": last, "min": [json_value(v) for v in lows],
            "max": [json_value(v) for v in highs], "best": best, "higher_is_better": higher,
        })  # fmt: skip
    base = (records[0].context.get("code") or "").splitlines(keepends=True)
    code = [
        {"run_id": r.id, "name": r.name, "diff": "".join(difflib.unified_diff(
            base, (r.context.get("code") or "").splitlines(keepends=True),
            fromfile=records[0].name, tofile=r.name))}
        for r in records
    ]  # fmt: skip
    runs = [{"run_id": r.id, "name": r.name, "status": r.status, "experiment": r.experiment}
            for r in records]  # fmt: skip
    return {"runs": runs, "params": params, "metrics": metrics, "code": code}
