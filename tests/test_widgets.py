"""The widgets' Python side: what they send to the browser for a given store (the browser
itself is exercised end to end elsewhere)."""

from __future__ import annotations

import base64
import json
import math
import re
import time
from pathlib import Path

import pytest

import nbtrack
from nbtrack.charts import compile_curve_vega, curve_vega, parallel_spec
from nbtrack.query.curves import BUCKETS
from nbtrack.widgets import Compare
from nbtrack.widgets.base import STATIC
from nbtrack.widgets.saved import PNG_MAGIC, WIDGET_VIEW


@pytest.fixture
def sweep(tmp_store: Path) -> list[str]:
    ids = []
    for i, (lr, model) in enumerate([(0.1, "rf"), (0.01, "svm"), (0.001, "rf"), (0.5, "mlp")]):
        with nbtrack.run(f"run-{i}", experiment="sweep", params={"lr": lr},
                         tags={"model": model}) as run:  # fmt: skip
            for step in range(30):
                run.log(loss=1 / (step + 1 + i), acc=0.5 + i / 10)
        ids.append(run.id)
    return ids


def test_table_sends_the_first_page_with_default_columns(sweep: list[str]) -> None:
    table = nbtrack.table(experiment="sweep")
    assert table._total == 4 and len(table._rows) == 4
    assert table.columns[:4] == ["name", "status", "start_time", "duration"]
    assert {"metrics.acc", "metrics.loss", "params.lr"} <= set(table.columns)
    groups = {c["name"]: c["group"] for c in table._all_columns}
    assert groups["params.lr"] == "params" and groups["tags.model"] == "tags"
    row = table._rows[0]
    assert row["run_id"] == sweep[-1] and row["status"] == "finished"
    assert row["values"]["name"] == "run-3" and row["values"]["params.lr"] == 0.5
    assert isinstance(row["values"]["start_time"], str)  # ISO text, JSON-safe


def test_sorting_filtering_and_paging_happen_in_python(sweep: list[str]) -> None:
    table = nbtrack.table()
    table.sort = [{"column": "metrics.acc", "descending": False}]
    assert [r["values"]["name"] for r in table._rows] == ["run-0", "run-1", "run-2", "run-3"]
    table.sort = [{"column": "tags.model", "descending": False},
                  {"column": "params.lr", "descending": True}]  # fmt: skip
    assert [r["values"]["name"] for r in table._rows] == ["run-3", "run-0", "run-2", "run-1"]
    table.filter = "tags.model = 'rf'"
    assert table._total == 2 and table._filter_error == ""
    table.filter = "parms.lr < 1"
    assert "did you mean 'params'" in table._filter_error
    assert table._total == 2  # the last good result stays
    table.filter = ""
    table.page_size = 3
    table.offset = 3
    assert table._total == 4 and len(table._rows) == 1
    table.offset = 99  # past the end: clamped to the last page
    assert table.offset == 3


def test_selection_is_plain_run_ids_both_ways(sweep: list[str]) -> None:
    table = nbtrack.table()
    table.selected = sweep[:2]
    plot = nbtrack.plot("loss", runs=table)
    assert plot.runs == sweep[:2]
    table.selected = [sweep[3]]
    assert plot.runs == [sweep[3]] and [s["run_id"] for s in plot._series] == [sweep[3]]


def test_table_pages_stay_small_on_a_big_store(tmp_store: Path) -> None:
    for i in range(2000):
        with nbtrack.run(params={"i": i}) as run:
            run.log(acc=i / 2000)
    table = nbtrack.table()
    table.sort = [{"column": "metrics.acc", "descending": True}]
    assert table._total == 2000 and len(table._rows) == table.page_size == 20
    assert table._rows[0]["values"]["metrics.acc"] == pytest.approx(1999 / 2000)


def test_table_refresh_picks_up_new_runs(sweep: list[str]) -> None:
    table = nbtrack.table(experiment="sweep")
    with nbtrack.run("late", experiment="sweep"):
        pass
    table.refresh()
    assert table._total == 5 and table._rows[0]["values"]["name"] == "late"


def test_live_table_updates_by_itself(sweep: list[str]) -> None:
    table = nbtrack.table(experiment="sweep")
    with nbtrack.run("live-one", experiment="sweep"):
        pass
    deadline = time.time() + 10
    while table._total < 5 and time.time() < deadline:
        time.sleep(0.2)
    assert table._total == 5


def test_plot_series_and_binary_points(sweep: list[str]) -> None:
    plot = nbtrack.plot(["loss", "acc"], runs=sweep[:2])
    assert [(s["run_id"], s["key"], s["count"]) for s in plot._series] == [
        (run_id, key, 30) for run_id in sweep[:2] for key in ("loss", "acc")
    ]
    assert len(plot._data) == 120 * (8 + 4)
    # the spec is Vega (compiled from Vega-Lite in Python): the browser fills its "points",
    # and a thinned copy to "hover"
    assert {"points", "hover"} <= {data["name"] for data in plot._spec["data"]}
    assert plot._spec["$schema"].startswith("https://vega.github.io/schema/vega/")
    marks = plot._spec["marks"]
    lines = [m for group in marks for m in group.get("marks", []) if m["type"] == "line"]
    assert len(lines) == 2  # the faint raw line and the smoothed one
    # hovering picks the nearest point: a Voronoi diagram carries the tooltip
    voronoi = [m for m in marks if m["name"].endswith("_voronoi")]
    assert len(voronoi) == 1
    assert voronoi[0]["encode"]["update"]["tooltip"] == {"signal": "datum.tooltip"}
    rows = plot.curve_rows()
    assert rows[0] == {"series": "run-0 · loss", "run_id": sweep[0], "key": "loss", "x": 0.0,
                       "y": 1.0, "smooth": 1.0}  # fmt: skip


@pytest.mark.parametrize("x", ["step", "time", "relative"])
def test_the_shipped_vega_specs_are_what_the_compiler_makes_now(x: str) -> None:
    # (if this fails after a change to charts.curve_spec: python -m nbtrack.charts)
    def text(spec: dict) -> str:  # (Altair names views after a hash of the spec)
        return re.sub(r"view_[0-9a-f]{16}", "view", json.dumps(spec, sort_keys=True))

    for log_y in (False, True):
        title = 'val "loss"'
        assert text(curve_vega(x, log_y, title)) == text(compile_curve_vega(x, log_y, title))


def test_the_static_parallel_chart_is_valid_vega_lite() -> None:
    import altair as alt

    rows = [{"run": "a", "axis": "lr", "order": 0, "position": 0.5, "label": "0.1",
             "labelled": True, "metric": 0.9}]  # fmt: skip
    chart = alt.LayerChart.from_dict(parallel_spec(rows, "acc"))  # (checked against the schema)
    assert [layer["mark"]["type"] for layer in chart.to_dict()["layer"]] == ["rule", "line", "text"]


def test_plot_defaults_to_the_latest_run_and_changes_axes(sweep: list[str]) -> None:
    plot = nbtrack.plot("loss")
    assert plot.runs == [sweep[-1]]
    plot.x = "relative"
    xs = plot.curve_rows()
    assert 0 <= xs[0]["x"] < 5
    assert "seconds since start" in [axis.get("title") for axis in plot._spec["axes"]]
    assert "log" not in [scale["type"] for scale in plot._spec["scales"]]
    plot.log_y = True
    assert "log" in [scale["type"] for scale in plot._spec["scales"]]


def test_long_series_are_downsampled_keeping_extremes(tmp_store: Path) -> None:
    ids = []
    for r in range(4):
        with nbtrack.run() as run:
            for i in range(100_000):
                spike = 50.0 if i == 12_345 + r else (-50.0 if i == 67_890 else 0.0)
                run.log(loss=math.sin(i / 500) + spike)
        ids.append(run.id)
    plot = nbtrack.plot("loss", runs=ids)
    assert all(s["count"] <= 2 * BUCKETS + 2 for s in plot._series)  # (+ first and last)
    assert len(plot._data) <= 4 * (2 * BUCKETS + 2) * 12  # 20 such runs stay under 500 KB
    rows = plot.curve_rows()
    for r, run_id in enumerate(ids):
        ys = [row["y"] for row in rows if row["run_id"] == run_id]
        xs = [row["x"] for row in rows if row["run_id"] == run_id]
        assert max(ys) == pytest.approx(50 + math.sin((12_345 + r) / 500), abs=1e-4)
        assert min(ys) == pytest.approx(-50 + math.sin(67_890 / 500), abs=1e-4)
        assert xs == sorted(xs) and xs[0] == 0 and xs[-1] == 99_999


def test_compare_content(sweep: list[str]) -> None:
    with nbtrack.run("twin", experiment="sweep", params={"lr": 0.1}, tags={"model": "rf"}) as run:
        run.log(loss=0.01, acc=0.99)
    view = nbtrack.compare(sweep[0], run.id, sweep[1])
    content = view._content
    assert [r["run_id"] for r in content["runs"]] == [sweep[0], run.id, sweep[1]]
    lr = next(p for p in content["params"] if p["key"] == "lr")
    assert lr == {"key": "lr", "values": [0.1, 0.1, 0.01], "differs": True}
    metrics = {m["key"]: m for m in content["metrics"]}
    assert metrics["acc"]["best"] == 1 and metrics["acc"]["higher_is_better"] is True
    assert metrics["loss"]["best"] == 1 and metrics["loss"]["higher_is_better"] is False
    assert metrics["loss"]["max"][0] == 1.0 and metrics["loss"]["min"][0] == pytest.approx(1 / 30)
    assert {s["key"] for s in view._series} == {"acc", "loss"}
    with pytest.raises(ValueError, match=r"compare takes 2 to \d+ runs; got 1"):
        nbtrack.compare(sweep[0])


def test_saved_notebooks_get_static_views(sweep: list[str]) -> None:
    table = nbtrack.table()
    data, _ = table.saved_bundle()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "<table>" in data["text/html"] and "run-3" in data["text/html"]
    view = nbtrack.compare(sweep[0], sweep[1])
    assert "<b>0.6</b>" in view.saved_bundle()[0]["text/html"]
    # the image comes from the browser, or from the kernel where none draws (test_saved_views)
    plot = nbtrack.plot("loss", runs=sweep)
    data, _ = plot.saved_bundle()
    assert "application/vnd.jupyter.widget-view+json" in data and "image/png" not in data
    plot.render_in_kernel()
    assert base64.b64decode(plot.saved_bundle()[0]["image/png"]).startswith(PNG_MAGIC)


def test_a_widget_keeps_the_image_its_browser_sent(sweep: list[str]) -> None:
    view = nbtrack.plot("loss", runs=sweep)
    data, _ = view.saved_bundle()
    assert WIDGET_VIEW in data and "image/png" not in data
    png = PNG_MAGIC + b"rest of the image"
    view._on_snapshot(view, {"type": "snapshot", "width": 10, "height": 5}, [png])
    data, metadata = view.saved_bundle()
    assert base64.b64decode(data["image/png"]) == png and metadata["image/png"]["width"] == 10
    # anything but a PNG is ignored
    view._on_snapshot(view, {"type": "snapshot"}, [b"<svg/>"])
    assert base64.b64decode(view.saved_bundle()[0]["image/png"]) == png


def test_the_bundled_front_end_fetches_nothing_at_run_time() -> None:
    for name in ("table.js", "charts.js", "registry.js"):
        code = (STATIC / name).read_text()
        assert not re.search(r"""(import\(|from\s*)["']https?://""", code), name
        assert "esm.sh" not in code and "cdn.jsdelivr" not in code, name


def test_table_columns_come_from_its_experiment(sweep: list[str]) -> None:
    with nbtrack.run(experiment="elsewhere", params={"other_param": 1}):
        pass
    names = {c["name"] for c in nbtrack.table(experiment="sweep")._all_columns}
    assert "params.lr" in names and "params.other_param" not in names
    assert "params.other_param" in {c["name"] for c in nbtrack.table()._all_columns}


def test_compare_of_a_sweep_sends_every_run_and_selects_by_brushing(sweep: list[str]) -> None:
    view = nbtrack.compare(experiment="sweep", metric="loss")
    assert view.runs == sweep  # oldest first
    content = view._sweep
    assert [r["name"] for r in content["runs"]] == ["run-0", "run-1", "run-2", "run-3"]
    lr = next(p for p in content["params"] if p["key"] == "lr")
    assert lr["kind"] == "number" and lr["values"] == [0.1, 0.01, 0.001, 0.5]
    # lr ranks 3, 2, 1, 4 against acc ranks 1, 2, 3, 4: Spearman's 1 - 6 * 8 / 60
    assert lr["correlation"]["acc"] == pytest.approx(0.2)
    loss = next(m for m in content["metrics"] if m["key"] == "loss")
    assert loss["higher_is_better"] is False and loss["values"][0] == pytest.approx(1 / 30)
    assert view.metric == "loss" and view.param == "lr"
    # more than 10 runs need a selection; up to 10 are all side by side
    assert [r["run_id"] for r in view._content["runs"]] == sweep and view._content["note"] == ""
    view.selected = [sweep[1], sweep[3]]  # what a brush in the browser sets
    assert [r["run_id"] for r in view._content["runs"]] == [sweep[1], sweep[3]]
    assert {s["run_id"] for s in view._series} == {sweep[1], sweep[3]}
    assert {s["key"] for s in view._series} == {"loss", "acc"}


def test_compare_reads_its_runs_again_only_when_they_change(sweep: list[str]) -> None:
    running = nbtrack.start_run("running", experiment="sweep", params={"lr": 0.2})
    running.log(loss=0.9)
    view = Compare(*sweep[:2], running.id, live=False)
    read = view._sweep
    with nbtrack.run("elsewhere", experiment="other") as other:
        other.log(loss=0.1)
    view.refresh()  # what the live thread does on any change to the store
    assert view._sweep is read  # another run's logging: nothing read again
    running.log(loss=0.5)
    view.refresh()
    assert view._sweep is not read
    assert next(m for m in view._sweep["metrics"] if m["key"] == "loss")["values"][2] == 0.5
    running.end()
    view.refresh()
    assert [r["status"] for r in view._sweep["runs"]][2] == "finished"


def test_sweep_params_categories_constants_and_defaults(tmp_store: Path) -> None:
    for i in range(12):
        with nbtrack.run(f"r{i}", experiment="big",
                         params={"opt": ["adam", "sgd"][i % 2], "depth": i if i % 3 else None,
                                 "seed": 7}) as run:  # fmt: skip
            run.log(f1=0.5 + i / 100)
    with pytest.warns(UserWarning, match="none of these runs has metric 'f2'"):
        view = nbtrack.compare(experiment="big", metric="f2")
    params = {p["key"]: p for p in view._sweep["params"]}
    assert set(params) == {"opt", "depth"} and view._sweep["constant"] == ["seed"]
    assert params["opt"]["kind"] == "category" and params["opt"]["correlation"] == {}
    assert params["depth"]["values"][:4] == [None, 1, 2, None]
    assert view.metric == "f1" and view.param == "depth"  # the only correlated param
    assert view._content["runs"] == [] and "drag along an axis" in view._content["note"]
    view.selected = view.runs[:11]
    assert view._content["runs"] == [] and "11 runs selected" in view._content["note"]
    view.selected = view.runs[:3]
    assert len(view._content["runs"]) == 3
    html = view.to_html()
    assert html.index("r11") < html.index("r0")  # best f1 first
    view.render_in_kernel()
    image = re.search(r'base64,([^"]+)"', view.saved_bundle()[0]["text/html"])
    assert image and base64.b64decode(image.group(1)).startswith(PNG_MAGIC)


def test_compare_follows_a_tables_selection(sweep: list[str]) -> None:
    table = nbtrack.table(experiment="sweep")
    view = nbtrack.compare(table)
    assert view.runs == [] and view._content["note"] == "select runs in the table to compare them"
    table.selected = [sweep[0], sweep[2]]
    assert view.runs == [sweep[0], sweep[2]] and view._sweep == {}
    assert len(view._content["runs"]) == 2
    table.selected = sweep[:3]
    assert len(view._sweep["runs"]) == 3


def test_a_saved_notebooks_sweep_is_bounded(
    sweep: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbtrack.widgets import sweep as sweep_module

    with nbtrack.run("other", experiment="sweep", params={"lr": 0.2, "depth": 3}) as run:
        run.log(acc=0.99)
    view = Compare(experiment="sweep", metric="acc", live=False)
    monkeypatch.setattr(sweep_module, "STATIC_RUNS", 2)
    monkeypatch.setattr(sweep_module, "STATIC_AXES", 1)
    small, note = sweep_module.bounded(view._sweep, "acc")
    assert [r["name"] for r in small["runs"]] == ["run-3", "other"]  # the best two, in order
    assert [p["key"] for p in small["params"]] == ["lr"]  # the most related to acc
    assert note == "the best 2 of 5 runs by acc, and the 1 of 2 varying params most related to it"
    assert "Showing the best 2 of 5 runs" in view.to_html()


def test_curves_come_in_natural_order_and_one_metric_names_the_axis(tmp_store: Path) -> None:
    ids = []
    for name in ("long-10", "long-2", "long-1"):
        with nbtrack.run(name) as run:
            run.log(loss=1.0)
            run.log(loss=0.5)
        ids.append(run.id)
    one = nbtrack.plot("loss", runs=ids)
    assert [s["name"] for s in one._series] == ["long-1", "long-2", "long-10"]

    def y_titles(plot) -> list[str]:
        return [
            a["title"] for a in plot._spec["axes"] if a.get("orient") == "left" and "title" in a
        ]

    assert y_titles(one) == ["loss"]
    assert y_titles(nbtrack.plot(["loss", "acc"], runs=ids)) == ["value"]
