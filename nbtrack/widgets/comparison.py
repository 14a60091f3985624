"""``nbtrack.compare()``: runs side by side: params (differences highlighted), metrics (the
best marked), overlaid curves of the metrics they share, and the diff of their code. For a sweep
(3 runs or more) a parallel-coordinates chart and a param-vs-metric scatter come first, and
brushing them picks the runs shown side by side."""

from __future__ import annotations

import difflib
import html
import warnings
from collections.abc import Iterable
from typing import Any

import anywidget
import traitlets as t

from ..query.runs import (
    RunRecord,
    child_ids,
    get_run,
    metric_summaries,
    resolve_ids,
    runs_version,
)
from ..query.search import RunQuery
from .base import bundle, follow_store, higher_is_better, json_buffer, json_value
from .curves import CurveTraits
from .formatting import html_cell
from .run_table import RunTable
from .saved import SavedView
from .sweep import default_metric, default_param, sweep_content, sweep_html, sweep_png, varies

SIDE_BY_SIDE = 10  # at most this many runs side by side
SWEEP_FROM = 3  # from this many runs on, the sweep view too
MAX_RUNS = 2000


class Compare(SavedView, CurveTraits, anywidget.AnyWidget):
    """Runs side by side and, for a sweep, a parallel-coordinates chart of the params that
    vary against a metric, with a param-vs-metric scatter. Drag along an axis, or a box in the
    scatter, to select runs: ``.selected`` holds their ids (and setting it selects them), and
    the runs selected (up to 10) are the ones shown side by side. Given a RunTable, compares
    the rows selected there. Updates while runs write.

    >>> import nbtrack
    >>> nbtrack.compare(run_a, run_b)  # doctest: +SKIP
    >>> sweep = nbtrack.compare(experiment="wine", filter="params.max_depth > 0")  # doctest: +SKIP
    >>> sweep.metric, sweep.param = "f1", "n_estimators"  # doctest: +SKIP
    """

    _esm = bundle("charts.js")  # shared with MetricPlot: Vega ships once
    _css = bundle("styles.css")
    _view = t.Unicode("compare").tag(sync=True)

    runs = t.List(t.Unicode())  # Python's alone (the browser draws `_sweep`, `_content`)
    selected = t.List(t.Unicode()).tag(sync=True)
    metric = t.Unicode("").tag(sync=True)
    param = t.Unicode("").tag(sync=True)
    axes = t.List(t.Unicode()).tag(sync=True)  # the sweep's param axes; [] = the default
    only_differences = t.Bool(False).tag(sync=True)
    _content = t.Dict().tag(sync=True)
    # Thousands of runs' values: sent as one JSON buffer, which ipywidgets and the kernel pass
    # on as it is rather than walking and encoding every value of a dict again.
    _sweep = t.Dict().tag(sync=True, to_json=json_buffer)

    def __init__(
        self,
        *runs: Any,
        experiment: str | list[str] | None = None,
        filter: str | None = None,
        metric: str | None = None,
        param: str | None = None,
        x: str = "step",
        smoothing: float = 0.0,
        live: bool = True,
    ) -> None:
        table = runs[0] if len(runs) == 1 and isinstance(runs[0], RunTable) else None
        ids = [] if table is not None else compared_ids(runs, experiment, filter)
        # one run with runs inside it (a sweep and its trials): compare those, as they come
        self._parent = ids[0] if len(ids) == 1 and _has_children(ids[0]) else None
        if self._parent is not None:
            ids = child_ids(self._parent)
            metric = metric or get_run(self._parent).tags.get("nbtrack.sweep.metric")
        elif table is None and not 2 <= len(ids) <= MAX_RUNS:
            raise ValueError(f"compare takes 2 to {MAX_RUNS} runs; got {len(ids)}")
        super().__init__(x=x, smoothing=smoothing, metric=metric or "", param=param or "")
        self.records: list[RunRecord] = []
        if table is not None:
            table.follow(self)
        else:
            self.runs = ids
        self.observe(lambda _: self._show_selected(), names=["selected"])
        self.refresh()
        for name, wanted in (("metric", metric), ("param", param)):
            if self._sweep and wanted and getattr(self, name) != wanted:
                warnings.warn(
                    f"none of these runs has {name} {wanted!r} (varying, for a param); "
                    f"the sweep view shows {getattr(self, name)!r} instead",
                    stacklevel=3,
                )
        self.observe(lambda _: self.refresh(), names=["runs"])
        self.observe(lambda _: self._pick_defaults(), names=["metric"])
        if live:
            follow_store(self)

    _seen: tuple[tuple[str, ...], str] | None = None  # the runs and their version last read

    def refresh(self) -> None:
        """Read the runs again if anything of theirs changed (the live thread calls this when
        the store changes: other runs' logging costs one small query, not a new sweep)."""
        if self._parent is not None:
            trials = child_ids(self._parent)[:MAX_RUNS]
            if trials != self.runs:
                self.runs = trials  # (its observer refreshes again)
                return
        seen = (tuple(self.runs), runs_version(self.runs))
        if seen == self._seen:
            return
        self._seen = seen
        sweep = sweep_content(self.runs) if len(self.runs) >= SWEEP_FROM else {}
        with self.hold_sync():
            self._sweep = sweep
            self._pick_defaults()
            kept = [run_id for run_id in self.selected if run_id in set(self.runs)]
            if kept != self.selected:
                self.selected = kept  # (its observer shows the runs now selected)
                return
        self._show_selected()

    def _pick_defaults(self) -> None:
        """A metric and a param for the sweep view when none (or one it lacks) was chosen."""
        sweep = self._sweep
        if not sweep:
            return
        if self.metric not in {m["key"] for m in sweep["metrics"]}:
            self.metric = default_metric(sweep)
        if self.param not in {p["key"] for p in sweep["params"]}:
            self.param = default_param(sweep, self.metric)

    def shown(self) -> tuple[list[str], str]:
        """The runs shown side by side, or a note saying why there are none."""
        if self.selected:
            if len(self.selected) <= SIDE_BY_SIDE:
                return list(self.selected), ""
            return [], (f"{len(self.selected)} runs selected: narrow the selection to "
                        f"{SIDE_BY_SIDE} or fewer to see them side by side")  # fmt: skip
        if not self.runs:
            return [], "select runs in the table to compare them"
        if len(self.runs) <= SIDE_BY_SIDE:
            return list(self.runs), ""
        return [], (f"drag along an axis or across the scatter to pick up to {SIDE_BY_SIDE} "
                    "runs to see side by side")  # fmt: skip

    def _show_selected(self) -> None:
        with self._curves_lock():  # (see CurveTraits._draw)
            self._show(*self.shown())

    def _show(self, ids: list[str], note: str) -> None:
        self.records = [get_run(run_id) for run_id in ids]
        rows = metric_summaries(ids)
        extremes = {(row["run_id"], row["key"]): (row["min"], row["max"]) for row in rows}
        # curves of the metrics every run logged, and some run logged more than once
        shared = set.intersection(*(set(r.metrics) for r in self.records)) if ids else set()
        curved = sorted(shared & {row["key"] for row in rows if row["count"] > 1})
        with self.hold_sync():
            self._content = {**comparison(self.records, extremes), "note": note}
            self._draw(ids, curved)

    def saved_html(self) -> str:
        return self.to_html()

    def kernel_image(self) -> bytes | None:
        """The sweep's parallel coordinates, or the curves, rendered in the kernel (bounded)."""
        if self._sweep:
            return sweep_png(self._sweep, self.metric, self.axes)
        return self.curves_image()

    def to_html(self) -> str:
        """The sweep's runs and the side-by-side tables as plain HTML (for notebooks opened
        without a kernel)."""
        sweep = sweep_html(self._sweep, self.metric, self.axes) if self._sweep else ""
        content = self._content
        if not content.get("runs"):
            return sweep or f"<p>{html.escape(content.get('note', ''))}</p>"
        head = "".join(f"<th>{html.escape(r['name'])}</th>" for r in content["runs"])

        def row(label: str, cells: list[Any], group: str, marked: int | None = None) -> str:
            tds = "".join(html_cell(v, label, group, bold=i == marked) for i, v in enumerate(cells))
            return f"<tr><th>{html.escape(label)}</th>{tds}</tr>"

        params = "".join(row(p["key"], p["values"], "params") for p in content["params"])
        metrics = "".join(row(m["key"], m["last"], "metrics", m["best"])
                          for m in content["metrics"])  # fmt: skip
        data = "".join(row(d["key"], d["values"], "tags") for d in content.get("inputs", []))
        data = f"<tr><th colspan='99'>data (digest)</th></tr>{data}" if data else ""
        return (f"{sweep}<table><thead><tr><th></th>{head}</tr></thead><tbody>{data}"
                f"<tr><th colspan='99'>params</th></tr>{params}"
                f"<tr><th colspan='99'>metrics (last; best in bold)</th></tr>{metrics}"
                "</tbody></table>")  # fmt: skip


def _has_children(run_id: str) -> bool:
    return bool(child_ids(run_id)) or get_run(run_id).tags.get("nbtrack.kind") == "sweep"


def compared_ids(
    runs: Iterable[Any], experiment: str | list[str] | None, filter: str | None
) -> list[str]:
    """Full run ids from ids, prefixes, runs, lists of them (a pandas column too) and/or an
    experiment and filter."""
    refs: list[Any] = []
    for item in runs:
        if isinstance(item, str) or hasattr(item, "id"):
            refs.append(item)
        else:
            refs.extend(item)
    if experiment is not None or filter is not None:
        refs.extend(RunQuery(filter, experiment, ["start_time"]).run_ids())
    return resolve_ids(refs)


def comparison(
    records: list[RunRecord], extremes: dict[tuple[str, str], tuple[float, float]]
) -> dict[str, Any]:
    """The tables of a comparison, as the front end draws them; ``extremes`` holds each run's
    (min, max) of each metric over its history."""
    params = []
    for key in sorted(set().union(*(r.params for r in records))):
        values = [r.params.get(key) for r in records]
        shown = [json_value(v) if not isinstance(v, (list, dict)) else str(v) for v in values]
        params.append({"key": key, "values": shown, "differs": varies(values)})
    metrics = []
    for key in sorted(set().union(*(r.metrics for r in records))):
        last = [json_value(r.metrics.get(key)) for r in records]
        higher = higher_is_better(key)
        present = [(v, i) for i, v in enumerate(last) if v is not None]
        best = (max if higher else min)(present)[1] if present else None
        lows, highs = zip(*(extremes.get((r.id, key), (None, None)) for r in records),
                          strict=True)  # fmt: skip
        metrics.append({
            "key": key, "last": last, "min": [json_value(v) for v in lows],
            "max": [json_value(v) for v in highs], "best": best, "higher_is_better": higher,
        })  # fmt: skip
    base = (records[0].context.get("code") or "").splitlines(keepends=True) if records else []
    code = [
        {"run_id": r.id, "name": r.name, "diff": "".join(difflib.unified_diff(
            base, (r.context.get("code") or "").splitlines(keepends=True),
            fromfile=records[0].name, tofile=r.name))}
        for r in records
    ]  # fmt: skip
    runs = [{"run_id": r.id, "name": r.name, "status": r.status, "experiment": r.experiment}
            for r in records]  # fmt: skip
    return {"runs": runs, "inputs": compared_inputs(records), "params": params,
            "metrics": metrics, "code": code}  # fmt: skip


def compared_inputs(records: list[RunRecord]) -> list[dict[str, Any]]:
    """One row per dataset name and context the runs logged: each run's digest (short) and row
    count; ``differs`` when the runs did not all use the same data under that name.

    >>> from types import SimpleNamespace as Run
    >>> wine = {"name": "wine", "context": "train", "digest": "1a2b3c4d5e6f7a8b", "num_rows": 178}
    >>> fewer = {**wine, "digest": "99aa88bb77cc66dd", "num_rows": 120}
    >>> row = compared_inputs([Run(inputs=[wine]), Run(inputs=[fewer])])[0]
    >>> row["key"], row["values"], row["differs"]
    ('wine (train)', ['1a2b3c4d · 178 rows', '99aa88bb · 120 rows'], True)
    """
    keys = sorted({(i["name"], i["context"] or "") for r in records for i in r.inputs})
    rows = []
    for name, context in keys:
        used = [
            next((i for i in r.inputs if (i["name"], i["context"] or "") == (name, context)), None)
            for r in records
        ]
        shown = [None if i is None else _dataset_cell(i) for i in used]
        rows.append({"key": f"{name} ({context})" if context else name, "values": shown,
                     "differs": varies([i and i["digest"] for i in used])})  # fmt: skip
    return rows


def _dataset_cell(used: dict[str, Any]) -> str:
    rows = used.get("num_rows")
    return used["digest"][:8] + (f" · {rows:,} rows" if rows is not None else "")
