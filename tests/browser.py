"""A real Jupyter front end (JupyterLab 4 or Notebook 7) driven by Playwright in Debian's
Chromium, for the end-to-end tests of the widgets.

Every request the browser makes beyond localhost is aborted, so the tests also prove that the
widgets work offline. Screenshots land in tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from helpers import ROOT
from playwright.sync_api import Locator, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"
# The URL path that opens a notebook, per front end.
APPS = {"lab": "lab/tree", "notebook": "notebooks"}

KERNEL_IDLE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return panel && panel.sessionContext && panel.sessionContext.session &&
         panel.sessionContext.session.kernel &&
         panel.sessionContext.session.kernel.status === 'idle';
}"""
CELL_MODEL = "window.jupyterapp.shell.currentWidget.content.widgets[{index}].model"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyter(app: str, root: Path, notebook: str) -> Iterator[str]:
    """Serve ``root`` with ``jupyter lab`` or ``jupyter notebook`` on a free port with a token;
    yields the URL that opens ``notebook``. Kernels write to ``root / "store"``."""
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    env["NBTRACK_STORE"] = str(root / "store")
    # settings of its own: a theme chosen in an earlier run must not carry over
    env["JUPYTERLAB_SETTINGS_DIR"] = str(root / ".settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(root / ".workspaces")
    app_class = "LabApp" if app == "lab" else "JupyterNotebookApp"
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", app, "--no-browser", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         f"--{app_class}.expose_app_in_browser=True", "--ServerApp.open_browser=False",
         "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"jupyter {app} did not start within 90 s") from None
                time.sleep(0.5)
        yield f"{base}/{APPS[app]}/{notebook}?token={token}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextlib.contextmanager
def browser_page(url: str) -> Iterator[Page]:
    """A Chromium tab on ``url`` once its notebook has a live, idle kernel; non-local requests
    are aborted, and the widgets must not have attempted any."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        outside: list[str] = []

        def only_local(route) -> None:
            if re.match(r"^(https?|wss?)://(127\.0\.0\.1|localhost)[:/]", route.request.url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_local)
        tab = context.new_page()
        tab.goto(url)
        tab.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget",
                              timeout=60_000)  # fmt: skip
        tab.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        tab.wait_for_function(KERNEL_IDLE, timeout=60_000)
        # JupyterLab asks about news on first start; the toast would cover the screenshots
        news = tab.get_by_role("button", name="No", exact=True)
        with contextlib.suppress(PlaywrightTimeout):
            news.click(timeout=5_000)
        yield tab
        assert not [u for u in outside if "nbtrack" in u or "vega" in u or "jsdelivr" in u], outside
        browser.close()


def run_cell(page: Page, index: int, wait: bool = True) -> None:
    """Run cell ``index``; with ``wait``, until it has finished, else until it has started."""
    model = CELL_MODEL.format(index=index)
    before = page.evaluate(f"{model}.executionCount")
    page.evaluate(  # not awaited in the page: the command resolves only when the cell ends
        """(index) => {
          const panel = window.jupyterapp.shell.currentWidget;
          panel.content.activeCellIndex = index;
          window.jupyterapp.commands.execute('notebook:run-cell');
        }""",
        index,
    )
    if wait:
        page.wait_for_function(
            f"{model}.executionState === 'idle' && {model}.executionCount !== {before or 'null'}",
            timeout=120_000,
        )
    else:
        page.wait_for_function(f"{model}.executionState === 'running'", timeout=30_000)


def run_all(page: Page) -> None:
    """Start running every cell (returns at once)."""
    # (a function returning nothing: Playwright would await the command's promise)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


def add_cell(page: Page, source: str) -> int:
    """Append a code cell holding ``source``; returns its index."""
    return page.evaluate(
        """(source) => {
          const notebook = window.jupyterapp.shell.currentWidget.content;
          const index = notebook.model.cells.length;
          notebook.model.sharedModel.insertCell(index, {cell_type: 'code', source});
          return index;
        }""",
        source,
    )


def cell(page: Page, index: int) -> Locator:
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def cell_index(page: Page, text: str) -> int:
    """The index of the first code cell whose source contains ``text``."""
    index = page.evaluate(
        """(text) => window.jupyterapp.shell.currentWidget.content.widgets.findIndex(
             (c) => c.model.type === 'code' && c.model.sharedModel.getSource().includes(text))""",
        text,
    )
    assert index >= 0, f"no cell contains {text!r}"
    return index


def printed(page: Page, index: int) -> str:
    return cell(page, index).locator(".jp-OutputArea-output").first.inner_text()


def shot(locator: Locator, name: str) -> None:
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def tooltip_over(page: Page, canvas: Locator) -> str | None:
    """Move the mouse down the middle of a chart's canvas; the text of the first tooltip shown
    (Vega's tooltip element), or None."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    for dy in range(int(box["height"])):
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + dy)
        page.wait_for_timeout(15)
        shown = page.evaluate("""() => {
          const tip = document.getElementById('vg-tooltip-element');
          return tip && tip.classList.contains('visible') ? tip.innerText : null;
        }""")
        if shown:
            return shown
    return None


def dark_theme(page: Page) -> None:
    page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', "
                  "{theme: 'JupyterLab Dark'})")  # fmt: skip
    page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    page.wait_for_timeout(1500)
