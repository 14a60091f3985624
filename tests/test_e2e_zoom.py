"""End to end: zooming a metric plot in JupyterLab (the browser harness of browser.py). A drag
across the chart zooms to that range and the kernel answers with every point inside it; a
double-click shows all of it again; the wheel zooms around the pointer."""

from __future__ import annotations

import ast
import base64
import math
from collections.abc import Iterator

import pytest
from browser import (
    browser_page,
    cell,
    drag_across,
    image_difference,
    jupyter,
    printed,
    run_cell,
    saved_image,
    shot,
    write_notebook,
)
from helpers import wait_for
from playwright.sync_api import Page, expect

STEPS = 20_000
CELLS = [
    "import math\nimport nbtrack\n"
    "with nbtrack.run('long') as run:\n"
    f"    for i in range({STEPS}):\n"
    "        run.log(loss=math.sin(i / 300) + (3 if i % 1000 == 0 else 0))\n"
    "plot = nbtrack.plot('loss', runs=[run.id])\nplot",
    "xs = plot._last_curves.x\n"
    "print(repr({'x_range': plot.x_range, 'count': plot._series[0]['count'],\n"
    "            'gaps': sorted({float(b - a) for a, b in zip(xs, xs[1:])})[-3:]}))",
]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    root = tmp_path_factory.mktemp("zoom")
    write_notebook(root / "zoom.ipynb", CELLS)
    with jupyter("lab", root, "zoom.ipynb") as url, browser_page(url) as tab:
        yield tab


def kernel_view(page: Page) -> dict:
    """The plot as the kernel holds it: its range, its points, the widest gaps between them."""
    run_cell(page, 1)
    shown = printed(page, 1)
    assert shown.startswith("{"), shown
    return ast.literal_eval(shown)


def test_dragging_a_range_zooms_to_every_point_and_a_double_click_shows_all(page: Page) -> None:
    run_cell(page, 0)
    view = cell(page, 0)
    canvas = view.locator(".nbt-chart canvas")
    canvas.wait_for(timeout=60_000)
    reset = view.locator(".nbt-zoom-reset")
    expect(reset).to_be_hidden()
    whole = kernel_view(page)
    assert whole["x_range"] is None and whole["count"] <= 1602 and whole["gaps"][-1] > 1
    before = canvas.evaluate("c => c.toDataURL()")
    canvas.scroll_into_view_if_needed()

    drag_across(page, canvas, 0.45, 0.5)
    page.mouse.move(0, 0)  # (no hover ring in the pictures compared below)
    expect(reset).to_be_visible()

    def zoomed() -> dict | None:
        seen = kernel_view(page)
        return seen if seen["x_range"] is not None else None

    seen = wait_for(zoomed, "the kernel to get the range dragged across")
    low, high = seen["x_range"]
    assert 0 < low < high < STEPS and high - low < STEPS / 5
    inside = math.floor(high) - math.ceil(low) + 1
    # every step inside, and the nearest one outside each end: the finer points are drawn
    assert inside <= seen["count"] <= inside + 2 and seen["gaps"] == [1.0]
    redrawn = "([c, before]) => c.toDataURL() !== before"
    page.wait_for_function(redrawn, arg=[canvas.element_handle(), before])
    shot(view, "plot-zoomed-light")
    # the image a saved notebook keeps is the zoomed chart, as on screen
    chart = view.locator(".nbt-chart")

    def saved_as_shown() -> bool:
        shown = base64.b64encode(chart.screenshot()).decode()
        return image_difference(page, saved_image(page, 0) or "", shown) < 0.001

    wait_for(saved_as_shown, "the saved image to show the zoomed chart")

    box = canvas.bounding_box()
    assert box is not None
    page.mouse.dblclick(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.4)
    expect(reset).to_be_hidden()
    back = wait_for(lambda: (v := kernel_view(page))["x_range"] is None and v, "the whole range")
    assert back["count"] == whole["count"]

    # scrolling up over the chart zooms in around the pointer, once the scrolling pauses
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.4)
    for _ in range(3):
        page.mouse.wheel(0, -300)
    expect(reset).to_be_visible()
    wheeled = wait_for(zoomed, "the kernel to get the range scrolled into")
    low, high = wheeled["x_range"]
    assert high - low < STEPS / 2 and low < 0.75 * STEPS < high
