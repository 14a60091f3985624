"""End to end: the quickstart notebook run in a real JupyterLab, its widgets driven by
Playwright in Debian's Chromium, offline (see browser.py). Screenshots of each widget in the
light and dark themes land in tests/artifacts/.

The notebook is run once per module (Run All, in the ``ran_all`` fixture) and each test sets
the widgets up as it needs them, so that the tests run alone and in any order."""

from __future__ import annotations

import ast
import base64
import shutil
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser import (
    ARTIFACTS,
    CELL_MODEL,
    KERNEL_IDLE,
    SAVED_IMAGE,
    add_cell,
    browser_page,
    cell,
    cell_index,
    check_dark_theme,
    image_difference,
    jupyter,
    live_pictures,
    printed,
    run_all,
    run_cell,
    save_notebook,
    saved_image,
    shot,
    tooltip_over,
)
from helpers import ROOT, wait_for
from playwright.sync_api import Locator, Page, expect

QUICKSTART = ROOT / "example_notebooks" / "quickstart.ipynb"
# The kernel's view of the widgets: what the table, the linked plot and comparison, and the
# sweep hold (the displayed widgets are found in IPython's output history).
STATE = """\
from nbtrack.widgets import Compare, MetricPlot
shown = [o for o in Out.values() if isinstance(o, (Compare, MetricPlot))]
linked_plot = next(o for o in shown if isinstance(o, MetricPlot))
linked_compare = next(o for o in shown if isinstance(o, Compare) and not o._sweep)
f1 = dict(zip(runs["run_id"], runs["metrics.f1"]))
print(repr({
    "selected": sorted(table.selected),
    "plot_series": sorted(s["run_id"] for s in linked_plot._series),
    "compared": sorted(r["run_id"] for r in linked_compare._content["runs"]),
    "sweep_selected": sorted(sweep.selected),
    "sweep_f1": {run_id: f1[run_id] for run_id in sweep.runs},
}))"""


# The quickstart's widgets: the text of the cell that shows each one.
WIDGETS = {"table": "nbtrack.table(", "plot": 'nbtrack.plot("acc_by_trees"',
           "compare": "nbtrack.compare(table)", "sweep": "sweep = nbtrack.compare(",
           "live-plot": "--live"}  # fmt: skip


@dataclass(frozen=True)
class RunAll:
    """What Run All showed: the live plot's pictures while its cell ran, and the stderr text."""

    live_pictures: list[str]
    stderr: str


@pytest.fixture(scope="module")
def lab_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder JupyterLab serves: a copy of the quickstart (and the store, once run)."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(QUICKSTART, root / QUICKSTART.name)
    return root


@pytest.fixture(scope="module")
def lab(lab_root: Path) -> Iterator[Page]:
    """JupyterLab on the quickstart, its cells not run yet."""
    with jupyter("lab", lab_root, QUICKSTART.name) as url, browser_page(url) as tab:
        yield tab


@pytest.fixture(scope="module")
def ran_all(lab: Page) -> RunAll:
    """Run All, once: waits until every cell ran, sampling the live plot while its cell runs."""
    run_all(lab)
    pictures = live_pictures(lab, cell_index(lab, "--live"), running_shot="live-running")
    last = cell_index(lab, "%track ls")
    lab.wait_for_function(f"{CELL_MODEL.format(index=last)}.executionCount !== null",
                          timeout=120_000)  # fmt: skip
    lab.wait_for_function(KERNEL_IDLE, timeout=60_000)
    errors = lab.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    stderr = " ".join(errors.all_inner_texts())
    add_cell(lab, STATE)  # (after Run All: it reads what the cells above made)
    return RunAll(pictures, stderr)


@pytest.fixture
def page(lab: Page, ran_all: RunAll) -> Page:
    """The quickstart in JupyterLab, every cell run."""
    return lab


def state(page: Page) -> dict:
    """The kernel's view of the widgets (STATE, run again)."""
    index = cell_index(page, "linked_plot = ")
    run_cell(page, index)
    return ast.literal_eval(printed(page, index))


def select_only(table: Locator, run_ids: Collection[str | None]) -> None:
    """Tick exactly the table's rows of ``run_ids`` (on its page shown)."""
    for row in table.locator("tbody .nbt-row").all():
        checked = row.get_attribute("data-run-id") in run_ids
        row.locator('input[type="checkbox"]').set_checked(checked)


def linked_views(page: Page, rows: int) -> tuple[Locator, Locator, Locator, list[str | None]]:
    """Select the table's first ``rows`` rows, and only them; the table, plot and compare
    cells once the plot and the comparison show those runs, and the runs' ids."""
    table, plot, compare = (cell(page, cell_index(page, WIDGETS[name]))
                            for name in ("table", "plot", "compare"))  # fmt: skip
    picked = [table.locator("tbody .nbt-row").nth(i).get_attribute("data-run-id")
              for i in range(rows)]  # fmt: skip
    select_only(table, picked)
    expect(compare.locator(".nbt-compare-grid thead th[scope='col']")).to_have_count(rows)
    plot.locator(".nbt-chart canvas").wait_for(timeout=30_000)
    return table, plot, compare, picked


def test_run_all_draws_the_live_curve_as_it_grows(page: Page, ran_all: RunAll) -> None:
    assert len(set(ran_all.live_pictures[:-1])) >= 2, len(ran_all.live_pictures)  # redrawn
    assert "Traceback" not in ran_all.stderr
    shot(cell(page, cell_index(page, "--live")), "live-plot-light")


def test_table_sorts_selects_and_filters(page: Page) -> None:
    table = cell(page, cell_index(page, "nbtrack.table("))
    rows = table.locator("tbody .nbt-row")
    expect(rows).to_have_count(20)  # the baseline, the sweep's cell run and its 18 runs

    def f1_column() -> list[float | None]:
        texts = table.locator('tbody td[data-column="metrics.f1"]').all_inner_texts()
        return [float(t) if t.strip() not in ("", "–") else None for t in texts]

    def sorted_by_f1(descending: bool) -> list[float | None] | None:
        values = f1_column()
        present = [v for v in values if v is not None]
        in_order = present == sorted(present, reverse=descending) and len(set(present)) > 1
        return values if in_order and values[-1] is None else None  # missing values last

    table.locator('[data-nbt-key="sort:metrics.f1"]').click()  # metrics sort best first
    wait_for(lambda: sorted_by_f1(descending=True), "rows sorted by f1, best first")
    table.locator('[data-nbt-key="sort:metrics.f1"]').click()
    wait_for(lambda: sorted_by_f1(descending=False), "rows sorted by f1, worst first")

    _, plot, compare, picked = linked_views(page, rows=2)  # the two worst
    seen = state(page)
    assert seen["selected"] == sorted(picked)
    assert seen["plot_series"] == sorted(picked) and seen["compared"] == sorted(picked)
    data = compare.locator("tbody:has(.nbt-section:has-text('data')) th[scope='row']")
    expect(data).to_have_text(["wine (test)", "wine (train)"])  # the split each run used
    tip = tooltip_over(page, plot.locator(".nbt-chart canvas"))  # hover: run, step, value
    names = table.locator("tbody .nbt-row[aria-selected='true'] td[data-column='name']")
    assert "step" in tip
    plot.screenshot(path=str(ARTIFACTS / "plot-hover-light.png"))  # (no scrolling: keep the hover)
    assert any(name in tip for name in names.all_inner_texts()), (tip, names.all_inner_texts())
    shot(table, "table-light")
    shot(plot, "plot-light")
    shot(compare, "compare-light")

    # scrolled sideways to the end, the selection and name columns stay in view, side by side
    scroll = table.locator(".nbt-scroll")
    scroll.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    expect(scroll).not_to_have_js_property("scrollLeft", 0)
    frame = scroll.bounding_box()
    select, name = (rows.first.locator(css).bounding_box()
                    for css in ("td.nbt-select", "td[data-column='name']"))  # fmt: skip
    assert frame is not None and select is not None and name is not None
    assert frame["x"] <= select["x"] and name["x"] + name["width"] <= frame["x"] + frame["width"]
    assert abs(select["x"] + select["width"] - name["x"]) < 1
    scroll.evaluate("el => { el.scrollLeft = 0; }")

    box = table.locator("input.nbt-filter")
    box.fill("params.max_depth = 2")
    box.press("Enter")
    expect(rows).to_have_count(6)
    box.fill("parms.max_depth < 3")
    box.press("Enter")
    error = table.locator(".nbt-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("did you mean 'params'")
    shot(table, "table-filter-error-light")

    box.fill("")  # every run again, for the tests that follow
    box.press("Enter")
    expect(rows).to_have_count(20)


def test_sweep_brushing_selects_runs(page: Page) -> None:
    view = cell(page, cell_index(page, "sweep = nbtrack.compare("))
    parallel = view.locator("svg.nbt-parallel")
    parallel.wait_for(timeout=30_000)
    titles = parallel.locator(".nbt-axis-title").evaluate_all(
        "els => els.map(e => e.firstChild.nodeValue)"  # (the text, not its tooltip)
    )
    assert titles == ["max_depth", "max_features", "n_estimators", "f1 ↑"]
    expect(parallel.locator("path.nbt-line")).to_have_count(19)
    expect(view.locator(".nbt-sweep-count")).to_have_text("0 of 19 runs selected")

    # drag down the f1 axis from its top to a third of the way: the best runs
    parallel.scroll_into_view_if_needed()
    zone = parallel.locator('[data-nbt-drag="metrics.f1"]').bounding_box()
    assert zone is not None
    x = zone["x"] + zone["width"] / 2
    page.mouse.move(x, zone["y"] + 2)  # just above the axis' top
    page.mouse.down()
    page.mouse.move(x, zone["y"] + zone["height"] * 0.2, steps=4)
    page.mouse.move(x, zone["y"] + zone["height"] * 0.35, steps=4)
    page.mouse.up()

    def brushed() -> tuple[int, dict] | None:
        count = int(view.locator(".nbt-sweep-count").inner_text().split()[0])
        seen = state(page)
        return (count, seen) if 0 < len(seen["sweep_selected"]) == count else None

    count, seen = wait_for(brushed, "the brushed runs to reach the kernel")
    chosen = seen["sweep_selected"]
    assert count < 19
    others = [f for run_id, f in seen["sweep_f1"].items() if run_id not in chosen]
    assert min(seen["sweep_f1"][r] for r in chosen) > max(others)  # exactly the best runs
    shown = view.locator(".nbt-compare-grid thead th[scope='col']")
    if count <= 10:  # side by side below the sweep
        shown.nth(count - 1).wait_for(timeout=30_000)
        assert shown.count() == count
    else:
        assert "narrow the selection" in view.locator(".nbt-compare-note").inner_text()
    shot(view, "sweep-light")

    # a box across the scatter brushes its two axes, which the parallel chart shows too
    view.locator("svg.nbt-scatter").scroll_into_view_if_needed()
    scatter = view.locator("svg.nbt-scatter").bounding_box()
    assert scatter is not None
    page.mouse.move(scatter["x"] + 60, scatter["y"] + 40)
    page.mouse.down()
    page.mouse.move(scatter["x"] + scatter["width"] - 20, scatter["y"] + scatter["height"] - 40,
                    steps=5)  # fmt: skip
    page.mouse.up()
    wait_for(lambda: parallel.locator(".nbt-brush").count() == 2, "two brushes on the axes")
    view.locator('[data-nbt-key="sweep:clear"]').click()
    wait_for(
        lambda: (
            view.locator(".nbt-sweep-count").inner_text() == "0 of 19 runs selected"
            and state(page)["sweep_selected"] == []
        ),
        "the cleared selection to reach the kernel",
    )

    # the keyboard brushes too: a focused axis takes the arrow keys, Escape clears
    count = view.locator(".nbt-sweep-count")
    parallel.locator('[data-nbt-key="axis:metrics.f1"]').focus()
    page.keyboard.press("ArrowDown")  # a range at the top of the axis: the best runs
    expect(count).not_to_have_text("0 of 19 runs selected")
    keyed = int(count.inner_text().split()[0])
    brush = parallel.locator("rect.nbt-brush")
    before = float(brush.get_attribute("height") or 0)
    page.keyboard.press("Shift+ArrowDown")  # the range grows downwards
    wait_for(lambda: float(brush.get_attribute("height") or 0) > before, "the range to grow")
    assert int(count.inner_text().split()[0]) >= keyed > 0
    focused = page.evaluate("document.activeElement.getAttribute('data-nbt-key')")
    assert focused == "axis:metrics.f1"  # redrawn, the axis keeps the focus
    page.keyboard.press("Escape")
    wait_for(lambda: count.inner_text() == "0 of 19 runs selected", "Escape to clear the range")


def test_the_saved_notebook_keeps_what_the_user_last_saw(page: Page, lab_root: Path) -> None:
    from nbconvert import HTMLExporter

    index = cell_index(page, WIDGETS["sweep"])
    view = cell(page, index)
    box = view.locator(".nbt-parallel-box")
    box.wait_for(timeout=30_000)
    box.scroll_into_view_if_needed()

    def matching() -> tuple[str, str] | None:
        """The saved image and a screenshot of the chart, once they agree (within
        anti-aliasing): the saved image follows the view."""
        image = saved_image(page, index)
        live = base64.b64encode(box.screenshot()).decode()
        return (image, live) if image and image_difference(page, image, live) < 0.001 else None

    # the image saved of the view as it is, no brush (an image sent while an earlier test
    # brushed it may still be there: wait for the one that follows)
    expect(view.locator(".nbt-sweep-count")).to_have_text("0 of 19 runs selected")
    before, _ = wait_for(matching, "the saved image to show the sweep without a brush")
    # brush the best runs on the f1 axis: the saved image follows, brush included
    view.locator('[data-nbt-key="axis:metrics.f1"]').focus()
    page.keyboard.press("ArrowDown")
    expect(view.locator(".nbt-sweep-count")).not_to_have_text("0 of 19 runs selected")
    box.scroll_into_view_if_needed()
    after, live = wait_for(matching, "the saved image to show the brushed sweep")
    assert view.locator(".nbt-parallel rect.nbt-brush").count() == 1  # (the view kept it)
    (ARTIFACTS / "saved-sweep-live.png").write_bytes(base64.b64decode(live))
    (ARTIFACTS / "saved-sweep-image.png").write_bytes(base64.b64decode(after))
    # ...the selection it shows included: the picture before differs
    assert image_difference(page, before, live) > 0.01
    # saved, and converted to HTML as GitHub and nbviewer show it: an image of the sweep is there
    save_notebook(page)
    html, _ = HTMLExporter().from_filename(str(lab_root / QUICKSTART.name))
    shown = SAVED_IMAGE.findall(html)
    assert shown and any(image_difference(page, image, after) < 0.001 for image in shown)
    page.keyboard.press("Escape")
    # a curve chart's image is its canvas as drawn (the live plot's, finished)
    index = cell_index(page, WIDGETS["live-plot"])
    chart = cell(page, index).locator(".nbt-chart")
    chart.scroll_into_view_if_needed()
    shown = base64.b64encode(chart.screenshot()).decode()
    assert image_difference(page, saved_image(page, index) or "", shown) < 0.001


def test_dark_theme_changes_the_widgets_colours_and_keeps_text_readable(page: Page) -> None:
    linked_views(page, rows=2)  # curves in the plot and the comparison
    views = {name: cell(page, cell_index(page, text)) for name, text in WIDGETS.items()}
    check_dark_theme(page, views, prefix="")
