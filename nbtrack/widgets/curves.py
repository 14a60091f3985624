"""The curve payload shared by MetricPlot and Compare: a Vega spec plus binary points.

A redraw of the same series, drawn the same way, sends only the points that changed: a custom
message ``{"type": "curves_patch", "base": v, "version": v + 1, "changes": [...]}`` where each
change ``{"index": i, "keep": k, "added": n}`` keeps the first ``k`` points of series ``i`` and
appends ``n`` points, all of them in the message's one buffer (the ``_data`` layout). The browser
merges it into its ``_series`` and ``_data``; Python records the merged state without sending it
again, so that a new view gets it all. Those traits are Python's alone: what a browser sends back
of them (an old copy may ride along with its next change) is dropped. A view holding another
version than ``base`` (it missed messages) asks for the full state with
``{"type": "curves_sync", "version": its version}``.

A live redraw reads only the points logged since the last one (``CurveReader.update``). The
browser zooms by setting ``x_range`` (``[low, high]``, or null for the whole curves): the
curves of that window are read and sent the same way, and live redraws keep to it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import traitlets as t
from ipywidgets import Widget

from ..charts import curve_vega, smoothed, static_vega
from ..query.curves import CurveReader, Curves, XRange, curves

# The image a kernel renders for a saved notebook (where no browser sends one) draws at most
# this many series, of at most two points per bucket: its cost grows with the points.
STATIC_SERIES = 30
STATIC_BUCKETS = 200
# Sent together, always: the version names the series and points it goes with.
STATE_TRAITS = ["_series", "_data", "_curves_version"]
# Written by Python only: a browser's copy of them is never taken.
PYTHON_OWNED = frozenset({"_spec", *STATE_TRAITS})


def _as_bytes(value: Any, _widget: Any) -> bytes:
    """``_data`` as the browser sends it back (a memoryview), as bytes."""
    return value if isinstance(value, bytes) else bytes(value)


def _identity(series: list[dict]) -> list[tuple[Any, Any, Any]]:
    """What a patch cannot change: which series are drawn, in which order, with which name."""
    return [(s["run_id"], s["key"], s["name"]) for s in series]


def _bits(values: np.ndarray, size: int) -> np.ndarray:
    """Floats of ``size`` bytes as unsigned integers: equal bits, equal points (NaN too)."""
    return np.asarray(values, f"<f{size}").view(f"<u{size}")


def _common_prefix(old: tuple[np.ndarray, np.ndarray], new: tuple[np.ndarray, np.ndarray]) -> int:
    """How many first points two series (x, y) share."""
    (old_x, old_y), (new_x, new_y) = old, new
    n = min(len(old_x), len(new_x))
    differs = (_bits(old_x[:n], 8) != _bits(new_x[:n], 8)) | (
        _bits(old_y[:n], 4) != _bits(new_y[:n], 4)
    )
    first = np.flatnonzero(differs)
    return int(first[0]) if len(first) else n


def curve_patch(old: Curves, new: Curves) -> tuple[list[dict[str, int]], Curves]:
    """The changes from ``old`` to ``new`` (the same series in the same order): for each series
    that differs, its index, how many first points it keeps and how many follow; and the
    points that follow, series after series."""
    changes, xs, ys = [], [], []
    for index, (before, after) in enumerate(zip(old.split(), new.split(), strict=True)):
        keep = _common_prefix(before, after)
        if keep == len(before[0]) == len(after[0]):
            continue
        changes.append({"index": index, "keep": keep, "added": len(after[0]) - keep})
        xs.append(after[0][keep:])
        ys.append(after[1][keep:])
    if not changes:
        return [], Curves()
    return changes, Curves(x=np.concatenate(xs), y=np.concatenate(ys))


def y_title(keys: Sequence[str]) -> str:
    """The y axis' title: the metric when the chart draws one, else "value".

    >>> y_title(["loss"]), y_title(["loss", "acc"])
    ('loss', 'value')
    """
    return keys[0] if len(keys) == 1 else "value"


class CurveTraits(t.HasTraits):
    """Synced traits of a widget that draws metric curves (see js/src/models.ts)."""

    x = t.Unicode("step").tag(sync=True)
    # The x axis' range shown, [low, high] in its units (a zoomed chart), or None: all of it.
    x_range = t.List(t.Float(), minlen=2, maxlen=2, allow_none=True, default_value=None).tag(
        sync=True
    )
    smoothing = t.Float(0.0, min=0.0, max=0.99).tag(sync=True)
    log_y = t.Bool(False).tag(sync=True)
    # Python writes these (see _keep): no echo, and what the browser sends back of them (its
    # model's copy rides along with its next change of another trait) is dropped.
    _spec = t.Dict().tag(sync=True, echo_update=False)
    _series = t.List(t.Dict()).tag(sync=True, echo_update=False)
    _data = t.Bytes(b"").tag(sync=True, echo_update=False, from_json=_as_bytes)
    _curves_version = t.Int(0).tag(sync=True, echo_update=False)

    @property
    def _widget(self) -> Widget:
        return cast("Widget", self)

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Take the traits a browser changed, less the ones Python alone writes (its copy of
        them may be older than Python's: a zoom and a live patch cross on the way)."""
        Widget.set_state(
            self._widget, {k: v for k, v in sync_data.items() if k not in PYTHON_OWNED}
        )

    def _keep(self, state: dict[str, Any]) -> None:
        """Set Python's own traits as if the browser had sent them: they are not sent (the
        caller sends them, or a patch that makes them)."""
        Widget.set_state(self._widget, state)

    def _curves_lock(self) -> threading.RLock:
        """The lock of the curve state, made on the first draw (in ``__init__``), when the
        widget also starts answering views that ask for the full state."""
        lock = getattr(self, "_curve_state_lock", None)
        if lock is None:
            lock = self._curve_state_lock = threading.RLock()
            self._widget.on_msg(self._on_curves_msg)
        return lock

    @t.validate("x_range")
    def _valid_range(self, proposal: Any) -> list[float] | None:
        value = proposal["value"]
        if value is None:
            return None
        low, high = sorted(value)
        if not low < high:
            raise t.TraitError(f"x_range needs two different ends, [low, high]; got {value}")
        return [low, high]

    @t.observe("x")
    def _new_axis(self, _change: Any) -> None:
        """Another x axis: the range of the last one means nothing on it."""
        if getattr(self, "_drawn", None) is None:  # (a widget being made: its own range)
            return
        if self.x_range is not None:
            self.x_range = None  # type: ignore[assignment]  # (allowed; which draws again)
        else:
            self._redraw()

    @t.observe("log_y", "x_range")
    def _redraw(self, _change: Any = None) -> None:
        with self._curves_lock():
            drawn = getattr(self, "_drawn", None)
            if drawn is not None:
                self._draw(*drawn)

    def _zoom(self) -> XRange | None:
        shown = cast("list[float] | None", self.x_range)
        return None if shown is None else (shown[0], shown[1])

    def _draw(self, run_ids: Sequence[str], keys: Sequence[str]) -> Curves:
        """Read the curves (only the new points, when the same curves were read before) and
        send them: only the points that changed (nothing when none did) when the same series
        are drawn the same way; else spec, series and points at once. The caller holds the
        curves' lock from reading what to draw (the live thread draws too): the last draw
        is of the widget as it is."""
        with self._curves_lock():
            spec = curve_vega(self.x, self.log_y, y_title(keys))
            what = (tuple(run_ids), tuple(keys), self.x, self._zoom())
            self._drawn = (list(run_ids), list(keys))
            # The reader of the curves drawn, and of the same curves unzoomed: zooming back
            # out reads only the points logged since, not the whole series again.
            readers: dict[tuple, CurveReader] = getattr(self, "_readers", {})
            reader = readers.get(what)
            if reader is None:
                reader = CurveReader(list(run_ids), list(keys), self.x, what[3])
                found = reader.read()
            else:
                found = reader.update()
            whole = (*what[:3], None)
            self._readers = {k: r for k, r in readers.items() if k == whole} | {what: reader}
            self._last_curves = found
            if spec != self._spec or not self._send_patch(found):
                self._send_all(spec, found)
        return found

    def _send_patch(self, found: Curves) -> bool:
        """Send the points of ``found`` that the drawn state lacks; False (nothing sent) when
        ``found`` has other series than that state."""
        if _identity(found.series) != _identity(self._series):
            return False
        try:
            drawn = Curves.from_bytes(self._series, self._data)
        except ValueError:
            return False
        changes, added = curve_patch(drawn, found)
        if changes:
            base = self._curves_version
            content = {"type": "curves_patch", "base": base, "version": base + 1,
                       "changes": changes}  # fmt: skip
            self._widget.send(content, buffers=[added.to_bytes()])
            self._keep(
                {"_series": found.series, "_data": found.to_bytes(), "_curves_version": base + 1}
            )
        return True

    def _send_all(self, spec: dict, found: Curves) -> None:
        """Set spec, series and points, and send in one message what changed (series and
        points with a new version)."""
        state: dict[str, Any] = {"_spec": spec} if spec != self._spec else {}
        data = found.to_bytes()
        if found.series != self._series or data != self._data:
            state.update(_series=found.series, _data=data,
                         _curves_version=self._curves_version + 1)  # fmt: skip
        if state:
            self._keep(state)
            self._widget.send_state(list(state))

    def _on_curves_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Send the full state to a view that holds another version of it."""
        if not isinstance(content, dict) or content.get("type") != "curves_sync":
            return
        with self._curves_lock():
            if content.get("version") != self._curves_version:
                self._widget.send_state(STATE_TRAITS)

    def curve_rows(self, found: Curves | None = None) -> list[dict[str, Any]]:
        """Points as rows (raw and smoothed): ``found``, or the ones drawn."""
        found = found if found is not None else getattr(self, "_last_curves", Curves())
        rows = []
        single_key = len({s["key"] for s in found.series}) == 1
        for series, (xs, ys) in zip(found.series, found.split(), strict=True):
            label = series["name"] if single_key else f"{series['name']} · {series['key']}"
            for x, y, smooth in zip(xs, ys, smoothed(ys, self.smoothing), strict=True):
                rows.append({"series": label, "run_id": series["run_id"], "key": series["key"],
                             "x": float(x), "y": float(y), "smooth": float(smooth)})  # fmt: skip
        return rows

    def curves_image(self) -> bytes | None:
        """The curves as a PNG rendered in the kernel (None when there is nothing to draw),
        bounded: the first ``STATIC_SERIES`` series drawn, ``STATIC_BUCKETS`` buckets each."""
        drawn: Curves = getattr(self, "_last_curves", Curves())
        series = drawn.series[:STATIC_SERIES]
        if not series:
            return None
        ids = list(dict.fromkeys(s["run_id"] for s in series))
        keys = list(dict.fromkeys(s["key"] for s in series))
        found = curves(ids, keys, self.x, STATIC_BUCKETS, self._zoom())
        kept = {(s["run_id"], s["key"]) for s in series}
        rows = [row for row in self.curve_rows(found) if (row["run_id"], row["key"]) in kept]
        import vl_convert

        vega = curve_vega(self.x, self.log_y, y_title(keys))
        return vl_convert.vega_to_png(static_vega(vega, rows, self.x_range), scale=1)
