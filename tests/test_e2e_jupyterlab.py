"""End to end: the widgets in a real JupyterLab, driven by Playwright in Debian's Chromium.

Every request the browser makes beyond localhost is aborted, so this also proves the widgets
work offline. Screenshots of each widget in the light and dark themes land in tests/artifacts/.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import nbformat
import pytest
from helpers import ROOT
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"
CELLS = [
    "%load_ext nbtrack\nimport time\nimport nbtrack",
    "for i, (lr, model) in enumerate([(0.1, 'rf'), (0.01, 'svm'), (0.001, 'rf'), (0.05, 'mlp')]):\n"
    "    with nbtrack.run(f'run-{i}', experiment='e2e', params={'lr': lr},\n"
    "                     tags={'model': model}) as run:\n"
    "        for step in range(50):\n"
    "            run.log(loss=1 / (step + 1 + i), acc=0.6 + i / 10)",
    "table = nbtrack.table(experiment='e2e')\ntable",
    "plot = nbtrack.plot('loss', runs=table)\nplot",
    "print('STATE', json.dumps({'selected': sorted(table.selected), 'series': len(plot._series)}))",
    "%%track live-run -e live --live loss\nfor i in range(60):\n"
    "    nbtrack.log(loss=1 / (i + 1))\n    time.sleep(0.25)",
    "ids = nbtrack.search(experiment='e2e', order_by='name')['run_id'].tolist()\n"
    "nbtrack.compare(ids[0], ids[1])",
]
CELLS[0] += "\nimport json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A JupyterLab server on a free port over a folder holding the test notebook."""
    root = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / "widgets.ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    env["NBTRACK_STORE"] = str(root / "store")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False",
         "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        raise RuntimeError("JupyterLab did not start within 90 s")
    yield f"{base}/lab/tree/widgets.ipynb?token={token}"
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def page(lab: str) -> Iterator[Page]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        outside = []

        def only_local(route) -> None:
            if re.match(r"^(https?|wss?)://(127\.0\.0\.1|localhost)[:/]", route.request.url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_local)
        tab = context.new_page()
        tab.goto(lab)
        tab.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget",
                              timeout=60_000)  # fmt: skip
        tab.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        tab.wait_for_function(_KERNEL_IDLE, timeout=60_000)
        # JupyterLab asks about news on first start; the toast would cover the screenshots
        news = tab.get_by_role("button", name="No", exact=True)
        with contextlib.suppress(PlaywrightTimeout):
            news.click(timeout=5_000)
        yield tab
        # the widgets never asked the internet for anything
        assert not [u for u in outside if "nbtrack" in u or "vega" in u or "jsdelivr" in u], outside
        browser.close()


_KERNEL_IDLE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return panel && panel.sessionContext && panel.sessionContext.session &&
         panel.sessionContext.session.kernel &&
         panel.sessionContext.session.kernel.status === 'idle';
}"""


_CELL = "window.jupyterapp.shell.currentWidget.content.widgets[{index}].model"


def run_cell(page: Page, index: int, wait: bool = True) -> None:
    """Run cell ``index``; with ``wait``, until it has finished, else until it has started."""
    before = page.evaluate(f"{_CELL.format(index=index)}.executionCount")
    page.evaluate(  # not awaited in the page: the command resolves only when the cell ends
        """(index) => {
          const panel = window.jupyterapp.shell.currentWidget;
          panel.content.activeCellIndex = index;
          window.jupyterapp.commands.execute('notebook:run-cell');
        }""",
        index,
    )
    model = _CELL.format(index=index)
    if wait:
        page.wait_for_function(
            f"{model}.executionState === 'idle' && {model}.executionCount !== {before or 'null'}",
            timeout=120_000,
        )
    else:
        page.wait_for_function(f"{model}.executionState === 'running'", timeout=30_000)


def cell(page: Page, index: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def state(page: Page) -> dict:
    run_cell(page, 4)
    text = cell(page, 4).locator(".jp-OutputArea-output").inner_text()
    return json.loads(text.split("STATE", 1)[1])


def shot(page: Page, locator, name: str) -> None:
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_table_sort_select_filter_and_linked_plot(page: Page) -> None:
    for index in range(4):
        run_cell(page, index)
    table = cell(page, 2).locator(".nbt-grid")
    rows = table.locator("tbody .nbt-row")
    rows.first.wait_for(timeout=30_000)
    assert rows.count() == 4

    table.locator('[data-nbt-key="sort:metrics.acc"]').click()  # sorts, best first
    page.wait_for_timeout(500)
    first = rows.nth(0).get_attribute("data-run-id")
    table.locator('[data-nbt-key="sort:metrics.acc"]').click()
    page.wait_for_timeout(500)
    assert rows.nth(0).get_attribute("data-run-id") != first  # the order flipped

    rows.nth(0).locator('input[type="checkbox"]').check()
    rows.nth(1).locator('input[type="checkbox"]').check()
    page.wait_for_timeout(500)
    assert state(page) == {"selected": sorted([rows.nth(0).get_attribute("data-run-id"),
                                               rows.nth(1).get_attribute("data-run-id")]),
                           "series": 2}  # fmt: skip
    shot(page, cell(page, 2), "table-light")
    shot(page, cell(page, 3), "plot-light")

    box = cell(page, 2).locator("input.nbt-filter")
    box.fill("tags.model = 'rf'")
    box.press("Enter")
    page.wait_for_function("document.querySelectorAll('.nbt-grid tbody .nbt-row').length === 2")
    box.fill("param.lr < 1")
    box.press("Enter")
    error = cell(page, 2).locator(".nbt-error")
    error.wait_for(state="visible", timeout=10_000)
    assert "did you mean 'params'" in error.inner_text()
    shot(page, cell(page, 2), "table-filter-error-light")


def test_live_curve_grows_while_the_cell_runs(page: Page) -> None:
    run_cell(page, 5, wait=False)
    canvas = cell(page, 5).locator(".nbt-chart canvas")
    canvas.wait_for(timeout=30_000)
    drawn = []  # what the canvas showed, sampled while the cell is still running
    running = f"{_CELL.format(index=5)}.executionState === 'running'"
    while page.evaluate(running):
        drawn.append(canvas.evaluate("c => c.toDataURL()"))
        if len(drawn) == 2:
            shot(page, cell(page, 5), "live-running")
        page.wait_for_timeout(700)
    assert len(set(drawn[:-1])) >= 3, len(drawn)  # redrawn again and again as points came in
    page.wait_for_function(_KERNEL_IDLE, timeout=60_000)
    shot(page, cell(page, 5), "live-plot-light")


def test_compare_and_dark_theme(page: Page) -> None:
    run_cell(page, 6)
    view = cell(page, 6)
    view.locator(".nbt-chart canvas").wait_for(timeout=30_000)
    assert "lr" in view.inner_text() and "run-0" in view.inner_text()
    shot(page, view, "compare-light")
    page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', "
                  "{theme: 'JupyterLab Dark'})")  # fmt: skip
    page.wait_for_timeout(2000)
    for index, name in ((2, "table"), (3, "plot"), (5, "live-plot"), (6, "compare")):
        shot(page, cell(page, index), f"{name}-dark")
