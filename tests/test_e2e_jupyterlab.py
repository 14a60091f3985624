"""End to end: the quickstart notebook run in a real JupyterLab, its widgets driven by
Playwright in Debian's Chromium, offline (see browser.py). Screenshots of each widget in the
light and dark themes land in tests/artifacts/."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator

import pytest
from browser import (
    ARTIFACTS,
    CELL_MODEL,
    KERNEL_IDLE,
    add_cell,
    browser_page,
    cell,
    cell_index,
    dark_theme,
    jupyter,
    printed,
    run_all,
    run_cell,
    shot,
    tooltip_over,
)
from helpers import ROOT, wait_for
from playwright.sync_api import Page

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


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(QUICKSTART, root / QUICKSTART.name)
    with jupyter("lab", root, QUICKSTART.name) as url, browser_page(url) as tab:
        yield tab


def state(page: Page) -> dict:
    index = cell_index(page, "linked_plot = ")
    run_cell(page, index)
    return ast.literal_eval(printed(page, index))


def test_run_all_draws_the_live_curve_as_it_grows(page: Page) -> None:
    live = cell_index(page, "--live")
    run_all(page)
    model = CELL_MODEL.format(index=live)
    canvas = cell(page, live).locator(".nbt-chart canvas")
    canvas.wait_for(timeout=180_000)  # the live plot shows up as the cell starts
    drawn = []  # what the canvas showed, sampled while the cell is still running
    while page.evaluate(f"{model}.executionState === 'running'"):
        drawn.append(canvas.evaluate("c => c.toDataURL()"))
        if len(drawn) == 2:
            shot(cell(page, live), "live-running")
        page.wait_for_timeout(400)
    assert len(set(drawn[:-1])) >= 2, len(drawn)  # redrawn as points came in
    last = cell_index(page, "%track ls")
    page.wait_for_function(f"{CELL_MODEL.format(index=last)}.executionCount !== null",
                           timeout=120_000)  # fmt: skip
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert "Traceback" not in " ".join(errors.all_inner_texts())
    shot(cell(page, live), "live-plot-light")


def test_table_sorts_selects_and_filters(page: Page) -> None:
    table = cell(page, cell_index(page, "nbtrack.table("))
    rows = table.locator("tbody .nbt-row")
    rows.first.wait_for(timeout=30_000)
    assert rows.count() == 20  # the baseline, the sweep's cell run and its 18 runs

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

    picked = [rows.nth(i).get_attribute("data-run-id") for i in (0, 1)]
    for i in (0, 1):
        rows.nth(i).locator('input[type="checkbox"]').check()
    plot = cell(page, cell_index(page, 'nbtrack.plot("acc_by_trees"'))
    compare = cell(page, cell_index(page, "nbtrack.compare(table)"))
    compare.locator(".nbt-compare-grid thead th[scope='col']").nth(1).wait_for(timeout=30_000)
    plot.locator(".nbt-chart canvas").wait_for(timeout=30_000)
    add_cell(page, STATE)
    seen = state(page)
    assert seen["selected"] == sorted(picked)
    assert seen["plot_series"] == sorted(picked) and seen["compared"] == sorted(picked)
    assert compare.locator(".nbt-compare-grid thead th[scope='col']").count() == 2
    tip = tooltip_over(page, plot.locator(".nbt-chart canvas"))  # hover: run, step, value
    names = table.locator("tbody .nbt-row[aria-selected='true'] td[data-column='name']")
    assert tip is not None and "step" in tip
    plot.screenshot(path=str(ARTIFACTS / "plot-hover-light.png"))  # (no scrolling: keep the hover)
    assert any(name in tip for name in names.all_inner_texts()), (tip, names.all_inner_texts())
    shot(table, "table-light")
    shot(plot, "plot-light")
    shot(compare, "compare-light")

    box = table.locator("input.nbt-filter")
    box.fill("params.max_depth = 2")
    box.press("Enter")
    page.wait_for_function("document.querySelectorAll('.nbt-grid tbody .nbt-row').length === 6")
    box.fill("parms.max_depth < 3")
    box.press("Enter")
    error = table.locator(".nbt-error")
    error.wait_for(state="visible", timeout=10_000)
    assert "did you mean 'params'" in error.inner_text()
    shot(table, "table-filter-error-light")
    box.fill("")
    box.press("Enter")


def test_sweep_brushing_selects_runs(page: Page) -> None:
    view = cell(page, cell_index(page, "sweep = nbtrack.compare("))
    parallel = view.locator("svg.nbt-parallel")
    parallel.wait_for(timeout=30_000)
    titles = parallel.locator(".nbt-axis-title").evaluate_all(
        "els => els.map(e => e.firstChild.nodeValue)"  # (the text, not its tooltip)
    )
    assert titles == ["max_depth", "max_features", "n_estimators", "f1 ↑"]
    assert parallel.locator("path.nbt-line").count() == 19
    assert view.locator(".nbt-sweep-count").inner_text() == "0 of 19 runs selected"

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
    page.wait_for_function("([el, text]) => el.textContent !== text",
                           arg=[count.element_handle(), "0 of 19 runs selected"])  # fmt: skip
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


def test_dark_theme(page: Page) -> None:
    dark_theme(page)
    for text, name in (("nbtrack.table(", "table"), ('nbtrack.plot("acc_by_trees"', "plot"),
                       ("nbtrack.compare(table)", "compare"), ("sweep = nbtrack.compare(", "sweep"),
                       ("--live", "live-plot")):  # fmt: skip
        view = cell(page, cell_index(page, text))
        assert view.locator(".nbt-root").count() == 1
        shot(view, f"{name}-dark")
