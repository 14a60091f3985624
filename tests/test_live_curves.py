"""Live curves: append-stable downsampling, and live refreshes that send only the new points."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nbtrack
from nbtrack.query.curves import Curves, curves
from nbtrack.widgets.plot import MetricPlot

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
