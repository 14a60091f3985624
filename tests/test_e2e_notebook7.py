"""End to end in Notebook 7: the widgets render, link and update live there as in JupyterLab
(the same browser harness, see browser.py)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

import pytest
from browser import (
    browser_page,
    cell,
    check_dark_theme,
    jupyter,
    live_pictures,
    printed,
    run_cell,
    saved_image,
    shot,
    write_notebook,
)
from helpers import wait_for
from playwright.sync_api import Page, expect

CELLS = [
    "%load_ext nbtrack\nimport time\nimport nbtrack",
    "for i, lr in enumerate([0.1, 0.03, 0.01, 0.003]):\n"
    "    with nbtrack.run(f'run-{i}', experiment='nb7', params={'lr': lr}) as run:\n"
    "        for step in range(40):\n"
    "            run.log(loss=1 / (step + 1 + i))",
    "table = nbtrack.table(experiment='nb7')\ntable",
    "plot = nbtrack.plot('loss', runs=table)\nplot",
    "compare = nbtrack.compare(table)\ncompare",
    "%%track live -e nb7-live --live loss\nfor i in range(40):\n"
    "    nbtrack.log(loss=1 / (i + 1))\n    time.sleep(0.15)",
    "print(repr({'selected': sorted(table.selected), 'plot': len(plot._series),\n"
    "            'compared': len(compare._content['runs'])}))",
]

# The cells that show a widget, by index, and the name of each one's screenshots.
WIDGETS = {2: "table", 3: "plot", 4: "compare", 5: "live"}


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    root = tmp_path_factory.mktemp("nb7")
    write_notebook(root / "widgets.ipynb", CELLS)
    with jupyter("notebook", root, "widgets.ipynb") as url, browser_page(url) as tab:
        yield tab


def test_widgets_link_and_update_live_in_notebook_7(page: Page) -> None:
    for index in range(5):
        run_cell(page, index)
    rows = cell(page, 2).locator("tbody .nbt-row")
    expect(rows).to_have_count(4)
    picked = sorted(rows.nth(i).get_attribute("data-run-id") for i in (0, 1))
    for i in (0, 1):
        rows.nth(i).locator('input[type="checkbox"]').check()
    cell(page, 3).locator(".nbt-chart canvas").wait_for(timeout=30_000)
    expect(cell(page, 4).locator(".nbt-compare-grid thead th[scope='col']")).to_have_count(2)
    run_cell(page, 6)
    assert ast.literal_eval(printed(page, 6)) == {"selected": picked, "plot": 2, "compared": 2}
    # the plot's image for the saved notebook arrives in its static twin, which stays hidden
    wait_for(lambda: saved_image(page, 3), "the plot's image from the browser")
    outputs = cell(page, 3).locator(".jp-OutputArea-output")
    expect(outputs).to_have_count(2)
    assert [o.is_visible() for o in outputs.all()] == [True, False]

    run_cell(page, 5, wait=False)
    drawn = live_pictures(page, 5)
    assert len(set(drawn[:-1])) >= 2, len(drawn)  # the curve grew while the cell ran

    views = {name: cell(page, index) for index, name in WIDGETS.items()}
    for name, view in views.items():
        shot(view, f"notebook7-{name}-light")
    check_dark_theme(page, views, prefix="notebook7-")
