"""Live curves: append-stable downsampling, live refreshes that read and send only the new
points, and zoomed curves (an x range)."""

from __future__ import annotations

import base64
import math
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import traitlets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nbtrack
from nbtrack.query.curves import CurveReader, Curves, curves
from nbtrack.widgets.comparison import Compare
from nbtrack.widgets.metric_plot import MetricPlot
from nbtrack.widgets.remote import view_state

POINTS = 5000
NEW = 100


def wiggle(i: int) -> float:
    """Values with no ties and a few spikes and dips."""
    return math.sin(i / 37) + 0.3 * math.sin(i * 1.618) + (8 if i % 997 == 0 else 0)


def reference(values: list[float], buckets: int) -> list[tuple[float, float]]:
    """Downsampled by definition: buckets [k*w, (k+1)*w) of x = index, w the smallest power of
    two leaving at most ``buckets`` of them; each keeps its lowest and highest point; and the
    first and last point."""
    last = len(values) - 1
    w = 2.0**-20
    while math.floor(last / w) >= buckets:
        w *= 2
    kept: dict[float, list[int]] = {}
    for i in range(len(values)):
        kept.setdefault(math.floor(i / w), []).append(i)
    points = {0, last}
    for members in kept.values():
        points.add(min(members, key=lambda i: values[i]))
        points.add(max(members, key=lambda i: values[i]))
    return [(float(i), values[i]) for i in sorted(points)]


def pairs(found: Curves, index: int = 0) -> list[tuple[float, float]]:
    x, y = found.split()[index]
    return [(float(a), float(b)) for a, b in zip(x, y, strict=True)]


def log_steps(run: nbtrack.Run, start: int, stop: int) -> None:
    for i in range(start, stop):
        run.log(loss=wiggle(i), acc=i / POINTS)
    nbtrack.flush()


def test_downsampling_keeps_each_buckets_lowest_and_highest_point(tmp_store: Path) -> None:
    with nbtrack.run() as run:
        log_steps(run, 0, 10_000)
    found = pairs(curves([run.id], ["loss"], buckets=50))
    expected = reference([wiggle(i) for i in range(10_000)], 50)
    assert len(found) <= 102
    assert [x for x, _ in found] == [x for x, _ in expected]
    assert [y for _, y in found] == pytest.approx([y for _, y in expected], abs=1e-6)


def test_a_growing_series_keeps_its_downsampled_prefix(tmp_store: Path) -> None:
    run = nbtrack.start_run()
    log_steps(run, 0, 10_000)
    before = pairs(curves([run.id], ["loss"], buckets=50))
    for start, stop in ((10_000, 10_100), (10_100, 11_000), (11_000, 12_000)):
        log_steps(run, start, stop)
        after = pairs(curves([run.id], ["loss"], buckets=50))
        # buckets of 256 steps throughout: only the last one (its two points) and the last
        # point may change
        assert after[: len(before) - 3] == before[: len(before) - 3]
        assert len(before) <= len(after) <= 102
        before = after
    run.end()


def test_short_time_ranges_get_buckets_under_a_second(tmp_store: Path) -> None:
    with nbtrack.run() as run:
        log_steps(run, 0, 3000)
    found = pairs(curves([run.id], ["loss"], x="relative", buckets=50))
    xs, ys = [x for x, _ in found], [y for _, y in found]
    assert xs == sorted(xs) and len(found) <= 102
    # buckets of a second or more would leave at most 2 points per second spanned, plus 2
    assert len(found) > 2 * (xs[-1] - xs[0] + 2)
    assert max(ys) == pytest.approx(max(wiggle(i) for i in range(3000)), abs=1e-6)
    assert min(ys) == pytest.approx(min(wiggle(i) for i in range(3000)), abs=1e-6)


@dataclass
class Sent:
    """What the widget put on its comm: (msg_type, data, buffers) per message."""

    messages: list[tuple[str, dict[str, Any], list[bytes]]]

    def record(self, msg_type: str, data: Any = None, metadata: Any = None,
               buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        self.messages.append((msg_type, data, [bytes(b) for b in buffers or []]))

    def take(self) -> list[tuple[str, dict[str, Any], list[bytes]]]:
        taken = list(self.messages)
        self.messages.clear()
        return taken


@dataclass
class Live:
    plot: MetricPlot
    finished: nbtrack.Run
    running: nbtrack.Run
    sent: Sent


@pytest.fixture
def live(tmp_store: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    """A plot of the loss and acc of a finished run and of a running one, 5000 steps each,
    recording what it sends."""
    with nbtrack.run("finished") as finished:
        log_steps(finished, 0, POINTS)
    running = nbtrack.start_run("running")
    log_steps(running, 0, POINTS)
    plot = MetricPlot(["loss", "acc"], runs=[finished.id, running.id], live=False)
    sent = Sent([])
    monkeypatch.setattr(plot.comm, "publish_msg", sent.record)
    yield Live(plot, finished, running, sent)
    running.end()


def merge(series: list[dict], data: bytes, changes: list[dict], added: bytes) -> Curves:
    """A patch applied as the browser applies it (js/src/series.ts)."""
    parts = Curves.from_bytes(series, data).split()
    tails = Curves.from_bytes([{"count": c["added"]} for c in changes], added).split()
    for change, (x, y) in zip(changes, tails, strict=True):
        index, keep = change["index"], change["keep"]
        kept_x, kept_y = parts[index]
        parts[index] = (np.concatenate([kept_x[:keep], x]), np.concatenate([kept_y[:keep], y]))
    merged = [{**s, "count": len(x)} for s, (x, _) in zip(series, parts, strict=True)]
    return Curves(
        merged, np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts])
    )


def test_a_live_refresh_sends_only_the_new_points(live: Live) -> None:
    plot = live.plot
    series, data, version = plot._series, plot._data, plot._curves_version
    log_steps(live.running, POINTS, POINTS + NEW)
    plot.refresh()
    [(msg_type, message, buffers)] = live.sent.take()  # the patch alone: no update, no echo
    assert msg_type == "comm_msg" and message["method"] == "custom"
    patch = message["content"]
    assert patch["type"] == "curves_patch"
    assert patch["base"] == version and patch["version"] == plot._curves_version == version + 1
    # the finished run's loss and acc are left out; the running run's get their new tails
    assert [c["index"] for c in patch["changes"]] == [2, 3]
    [added] = buffers
    assert len(added) == 12 * sum(c["added"] for c in patch["changes"])
    # 5000 steps are cut into buckets of 8: 100 new steps fill at most 14 buckets of 2 points
    assert len(added) <= 12 * 2 * 2 * (NEW // 8 + 2) < len(data) / 10
    fresh = curves([live.finished.id, live.running.id], ["loss", "acc"])
    assert plot._series == fresh.series and plot._data == fresh.to_bytes()
    merged = merge(series, data, patch["changes"], added)
    assert merged.series == fresh.series and merged.to_bytes() == fresh.to_bytes()


def test_nothing_is_sent_when_nothing_changed(live: Live) -> None:
    live.plot.refresh()
    assert live.sent.take() == []
    with nbtrack.run() as other:  # the store changed, but not these curves
        other.log(loss=1.0)
    live.plot.refresh()
    assert live.sent.take() == []


def test_a_selection_change_sends_the_full_state(live: Live) -> None:
    plot = live.plot
    plot.runs = [live.running.id]
    [(state, paths, buffers)] = [(m["state"], m["buffer_paths"], b) for _, m, b in live.sent.take()
                                 if "_series" in m.get("state", {})]  # fmt: skip
    assert paths == [["_data"]] and buffers == [plot._data]
    assert state["_curves_version"] == plot._curves_version
    assert [s["run_id"] for s in state["_series"]] == [live.running.id] * 2
    plot.log_y = True  # a new spec; the same points are not sent again
    sent = live.sent.take()
    assert [list(m["state"]) for _, m, _ in sent] == [["log_y"], ["_spec"]]
    assert all(buffers == [] for _, _, buffers in sent)


def test_a_view_that_missed_messages_gets_the_full_state(live: Live) -> None:
    plot = live.plot

    def ask(version: int | None) -> list:
        message = {"method": "custom", "content": {"type": "curves_sync", "version": version}}
        plot.comm.handle_msg({"content": {"data": message}, "buffers": []})
        return live.sent.take()

    assert ask(plot._curves_version) == []
    [(_, message, [data])] = ask(plot._curves_version - 1)
    assert set(message["state"]) == {"_series", "_curves_version"} and data == plot._data
    assert len(ask(None)) == 1


def test_points_the_browser_sends_back_are_not_echoed(live: Live) -> None:
    """The browser's merged `_series` and `_data` ride along with its next change."""
    plot = live.plot
    log_steps(live.running, POINTS, POINTS + NEW)
    plot.refresh()
    live.sent.take()
    state = {"smoothing": 0.5, "_series": plot._series, "_curves_version": plot._curves_version}
    message = {"method": "update", "state": state, "buffer_paths": [["_data"]]}
    data = plot._data
    plot.comm.handle_msg({"content": {"data": message}, "buffers": [memoryview(data)]})
    assert plot.smoothing == 0.5 and plot._data == data and isinstance(plot._data, bytes)
    [(_, echo, buffers)] = live.sent.take()
    assert echo == {"method": "echo_update", "state": {"smoothing": 0.5}, "buffer_paths": []}
    assert buffers == []


# ---- zoomed curves (an x range), and incremental live reads ----------------------------------


def test_a_window_of_a_long_series_gets_every_point_inside_it(tmp_store: Path) -> None:
    with nbtrack.run() as run:
        log_steps(run, 0, 200_000)
    found = pairs(curves([run.id], ["loss"], x_range=(120_000, 120_999)))
    # every step of the window, and the nearest point beyond each end (the lines reach the edges)
    assert [x for x, _ in found] == [float(s) for s in range(119_999, 121_001)]
    assert [y for _, y in found] == pytest.approx([wiggle(s) for s in range(119_999, 121_001)])
    # a window ending between steps, or past the last one
    found = pairs(curves([run.id], ["loss"], x_range=(199_500.5, 250_000)))
    assert [x for x, _ in found] == [float(s) for s in range(199_500, 200_000)]


def test_a_wide_window_is_bucketed_keeping_its_first_last_and_extremes(tmp_store: Path) -> None:
    with nbtrack.run() as run:
        log_steps(run, 0, 60_000)
    low, high = 10_001, 49_999
    found = pairs(curves([run.id], ["loss"], buckets=100, x_range=(low, high)))
    inside = [(x, y) for x, y in found if low <= x <= high]
    assert len(inside) <= 202 and (low - 1, wiggle(low - 1)) == pytest.approx(found[0])
    assert inside[0] == pytest.approx((low, wiggle(low))) and inside[-1][0] == high
    values = [wiggle(i) for i in range(low, high + 1)]
    assert max(y for _, y in inside) == pytest.approx(max(values))
    assert min(y for _, y in inside) == pytest.approx(min(values))
    # buckets of the window: 512 steps here, each keeping its lowest and highest point
    spikes = {float(i) for i in range(low, high + 1) if i % 997 == 0}
    assert spikes <= {x for x, _ in inside}


def test_series_with_no_point_in_a_window_stay_in_the_legend(tmp_store: Path) -> None:
    with nbtrack.run("short") as short:
        log_steps(short, 0, 100)
    with nbtrack.run("long") as long:
        log_steps(long, 0, 5000)
    found = curves([short.id, long.id], ["loss"], x_range=(3000, 3100))
    assert [(s["name"], s["count"]) for s in found.series] == [("long", 103), ("short", 0)]


def same_curves(a: Curves, b: Curves) -> None:
    assert a.series == b.series
    assert np.array_equal(a.x, b.x)
    assert np.array_equal(a.y, b.y, equal_nan=True)


VALUES = st.sampled_from([0.0, 1.0, -1.0, 2.5, math.nan, math.inf, 1e-3])


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    chunks=st.lists(
        st.lists(st.tuples(st.integers(0, 2), VALUES, st.integers(0, 40)), max_size=40),
        min_size=2,
        max_size=5,
    ),
    x=st.sampled_from(["step", "time", "relative"]),
    window=st.sampled_from([None, (20.0, 60.0), (35.5, 37.5), (-5.0, 300.0)]),
    random=st.randoms(use_true_random=False),
)
def test_incremental_reads_equal_reading_again(
    chunks: list[list[tuple[int, float, int]]], x: str, window: Any, random: Any
) -> None:
    """Points logged in chunks (three runs, two keys, ties, NaN and inf, now and then a step
    logged again): after each chunk, the curves updated with the new points only are the
    curves read again from scratch."""
    nbtrack.set_store(tempfile.mkdtemp())
    runs = [nbtrack.start_run(f"r{i}") for i in range(3)]
    ids = [run.id for run in runs]
    # (a time window: the same shares of the seconds the points were logged over)
    reader = None
    for chunk in chunks:
        for which, value, count in chunk:
            for _ in range(count):
                runs[which].log(loss=value + random.random(), acc=value)
            if count == 7:  # a step logged again
                runs[which].log(loss=value, step=3)
        nbtrack.flush()
        shown = window if x == "step" or window is None else (0.0, 1e10)
        if reader is None:
            reader = CurveReader(ids, ["loss", "acc"], x=x, x_range=shown, buckets=8)
            reader.read()
            continue
        fresh = CurveReader(ids, ["loss", "acc"], x=x, x_range=shown, buckets=8).read()
        same_curves(reader.update(), fresh)
    for run in runs:
        run.end()


def test_a_zoomed_live_plot_stays_on_its_range_and_sends_only_what_changed(live: Live) -> None:
    plot = live.plot
    plot.x_range = [POINTS - 50, POINTS + 50]
    ids, keys = [live.finished.id, live.running.id], ["loss", "acc"]
    zoomed = curves(ids, keys, x_range=(POINTS - 50, POINTS + 50))
    assert plot._last_curves.to_bytes() == zoomed.to_bytes()
    assert [s["count"] for s in plot._series] == [51] * 4  # to the last step, and one before
    live.sent.take()
    log_steps(live.running, POINTS, POINTS + NEW)  # half of them inside the window
    plot.refresh()
    [(_, message, [added])] = live.sent.take()
    assert message["content"]["type"] == "curves_patch"
    assert [c["index"] for c in message["content"]["changes"]] == [2, 3]
    assert len(added) == 12 * 2 * 52  # 51 new points inside the window, the one past its end
    assert plot.x_range == [POINTS - 50, POINTS + 50]
    fresh = curves(ids, keys, x_range=(POINTS - 50, POINTS + 50))
    assert plot._series == fresh.series and plot._data == fresh.to_bytes()
    plot.x = "relative"  # another axis: the whole curves
    assert plot.x_range is None and plot._series == curves(ids, keys, x="relative").series


def test_zooming_back_out_reads_only_what_was_logged_while_zoomed_in(live: Live) -> None:
    plot = live.plot
    ids, keys = [live.finished.id, live.running.id], ["loss", "acc"]
    [(whole, reader)] = plot._readers.items()
    plot.x_range = [100, 199]
    log_steps(live.running, POINTS, POINTS + NEW)  # while the plot shows the window
    plot.refresh()
    plot.x_range = None
    assert plot._readers[whole] is reader  # the whole curves' reader, brought up to date
    fresh = curves(ids, keys)
    assert plot._series == fresh.series and plot._data == fresh.to_bytes()
    assert list(plot._readers) == [whole]


def test_a_browsers_old_copy_of_the_curves_is_not_taken(live: Live) -> None:
    """The browser's model keeps the curves it was last sent in full, and sends them back
    along with its next change: a zoom and a live patch may have replaced them since."""
    plot = live.plot
    plot.x_range = [100, 199]
    zoomed = (plot._series, plot._data, plot._curves_version)
    plot.x_range = None
    whole = plot._series, plot._data, plot._curves_version
    state = {"smoothing": 0.3, "_series": zoomed[0], "_curves_version": zoomed[2]}
    message = {"method": "update", "state": state, "buffer_paths": [["_data"]]}
    plot.comm.handle_msg({"content": {"data": message}, "buffers": [memoryview(zoomed[1])]})
    assert plot.smoothing == 0.3
    assert (plot._series, plot._data, plot._curves_version) == whole


def test_the_range_is_checked_and_reaches_a_page_without_a_kernel(live: Live) -> None:
    plot = live.plot
    plot.x_range = [300, 100]
    assert plot.x_range == [100, 300]
    with pytest.raises(traitlets.TraitError, match="two different ends"):
        plot.x_range = [5, 5]
    state = view_state("plot", [live.finished.id], ["loss"], {"x_range": [100, 199]})
    assert state["x_range"] == [100, 199]
    assert Curves.from_bytes(state["_series"], base64.b64decode(state["_data"])).points == 102


def test_a_comparisons_curves_zoom_too(live: Live) -> None:
    compare = Compare(live.finished.id, live.running.id, live=False)
    compare.x_range = [100, 199]
    assert [s["count"] for s in compare._series] == [102] * 4  # every step, and one each side
    assert compare.kernel_image().startswith(b"\x89PNG")  # the image a saved notebook keeps
    log_steps(live.running, POINTS, POINTS + NEW)
    compare.refresh()
    assert compare.x_range == [100, 199] and [s["count"] for s in compare._series] == [102] * 4
    compare.x_range = None
    assert compare._series == curves([live.finished.id, live.running.id], ["acc", "loss"]).series
