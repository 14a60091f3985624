"""The curve payload shared by MetricPlot and Compare: a Vega-Lite spec plus binary points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import traitlets as t

from ..charts import curve_spec, inline, smoothed
from ..query.curves import Curves, curves


class CurveTraits(t.HasTraits):
    """Synced traits of a widget that draws metric curves (see js/src/models.ts)."""

    x = t.Unicode("step").tag(sync=True)
    smoothing = t.Float(0.0, min=0.0, max=0.99).tag(sync=True)
    log_y = t.Bool(False).tag(sync=True)
    _spec = t.Dict().tag(sync=True)
    _series = t.List(t.Dict()).tag(sync=True)
    _data = t.Bytes(b"").tag(sync=True)

    def _draw(self, run_ids: Sequence[str], keys: Sequence[str]) -> Curves:
        """Query the curves and send spec, series and points in one message."""
        found = curves(run_ids, keys, self.x)
        self._last_curves = found
        with self.hold_sync():  # type: ignore[attr-defined]
            self._spec = curve_spec(self.x, self.log_y)
            self._series = found.series
            self._data = found.to_bytes()
        return found

    def curve_rows(self) -> list[dict[str, Any]]:
        """The drawn points as rows (raw and smoothed), e.g. for a static image."""
        found: Curves = getattr(self, "_last_curves", Curves())
        rows, start = [], 0
        single_key = len({s["key"] for s in found.series}) == 1
        for series in found.series:
            end = start + series["count"]
            label = series["name"] if single_key else f"{series['name']} · {series['key']}"
            ys = found.y[start:end]
            for x, y, smooth in zip(found.x[start:end], ys, smoothed(ys, self.smoothing),
                                    strict=True):  # fmt: skip
                rows.append({"series": label, "run_id": series["run_id"], "key": series["key"],
                             "x": float(x), "y": float(y), "smooth": float(smooth)})  # fmt: skip
            start = end
        return rows

    def png(self) -> bytes | None:
        """The chart as a PNG, rendered offline (None when there is nothing to draw)."""
        rows = self.curve_rows()
        if not rows:
            return None
        import vl_convert

        return vl_convert.vegalite_to_png(inline(self._spec, rows), scale=1)
