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
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from helpers import DEADLINE_S, ROOT, wait_for
from playwright.sync_api import Locator, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

T = TypeVar("T")
RGB = tuple[float, float, float]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"
# The URL path that opens a notebook, per front end.
APPS = {"lab": "lab/tree", "notebook": "notebooks"}
LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"
# A live chart is sampled this often while its cell runs: it takes new points about once a
# second, so sampling faster only repeats pictures.
LIVE_SAMPLE_MS = 400
# WCAG 2 level AA: the least contrast between body text and its background.
WCAG_AA_CONTRAST = 4.5
# Playwright's expect() gives up after 5 s by default; a loaded 2-core machine needs the
# suite's deadline (see helpers.py).
expect.set_options(timeout=DEADLINE_S * 1000)

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
        wait_for(lambda: urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2),
                 f"jupyter {app} to start", timeout=90)  # fmt: skip
        yield f"{base}/{APPS[app]}/{notebook}?token={token}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextlib.contextmanager
def browser_page(url: str, notebook: bool = True) -> Iterator[Page]:
    """A Chromium tab on ``url`` once its notebook has a live, idle kernel (``notebook=False``:
    once the app has started); non-local requests are aborted, and the widgets must not have
    attempted any."""
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
        if notebook:
            tab.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget",
                                  timeout=60_000)  # fmt: skip
            tab.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            tab.wait_for_function(KERNEL_IDLE, timeout=60_000)
        else:
            tab.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
        # JupyterLab asks about news on first start; the toast would cover the screenshots
        news = tab.get_by_role("button", name="No", exact=True)
        with contextlib.suppress(PlaywrightTimeout):
            news.click(timeout=5_000)
        yield tab
        assert not [u for u in outside if "nbtrack" in u or "vega" in u or "jsdelivr" in u], outside
        browser.close()


def write_notebook(path: Path, cells: list[str]) -> Path:
    """A notebook of code ``cells`` at ``path``, for the Python 3 kernel; returns ``path``."""
    import nbformat

    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells_ = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nbformat.v4.new_notebook(cells=cells_, metadata={"kernelspec": kernelspec}),
                   str(path))  # fmt: skip
    return path


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


def live_pictures(page: Page, index: int, running_shot: str | None = None) -> list[str]:
    """What the chart in cell ``index`` showed, sampled while the cell runs (from when its
    chart shows up); with ``running_shot``, the cell's screenshot of that name, taken at the
    second sample."""
    view = cell(page, index)
    canvas = view.locator(".nbt-chart canvas")
    canvas.wait_for(timeout=180_000)  # (after every cell above it, in a Run All)
    running = f"{CELL_MODEL.format(index=index)}.executionState === 'running'"
    pictures = []
    while page.evaluate(running):
        pictures.append(canvas.evaluate("c => c.toDataURL()"))
        if len(pictures) == 2 and running_shot:
            shot(view, running_shot)
        page.wait_for_timeout(LIVE_SAMPLE_MS)
    return pictures


def tooltip_over(page: Page, canvas: Locator) -> str:
    """Hover the middle of a chart's canvas; the text of the tooltip that Vega shows there (the
    charts hover the nearest point, so anywhere over the curves shows one)."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)
    shown = page.wait_for_function("""() => {
      const tip = document.getElementById('vg-tooltip-element');
      return tip && tip.classList.contains('visible') && tip.innerText;
    }""")
    return shown.json_value()


def drag_across(page: Page, target: Locator, start: float, end: float) -> None:
    """Drag with the mouse across ``target`` (a chart's canvas), at 40% of its height, from
    ``start`` to ``end`` (shares of its width)."""
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] * 0.4
    page.mouse.move(box["x"] + box["width"] * start, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end, y, steps=8)
    page.mouse.up()


# ---- what a saved notebook keeps ----------------------------------------------------------

SAVED_IMAGE = re.compile(r'data:image/png;base64,([A-Za-z0-9+/=]+)"')


def saved_image(page: Page, index: int) -> str | None:
    """The PNG (base64) that cell ``index``'s output holds for a saved notebook: its image, or
    the image inside its HTML; None when it holds none (yet)."""
    outputs = page.evaluate(f"() => {CELL_MODEL.format(index=index)}.outputs.toJSON()")
    for output in outputs:
        data = output.get("data", {})
        if "image/png" in data:
            return data["image/png"]
        found = SAVED_IMAGE.search(data.get("text/html", ""))
        if found:
            return found.group(1)
    return None


def save_notebook(page: Page) -> None:
    """Save the notebook shown, and wait until it is written."""
    page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:save'); }")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")


# The share of pixels, in the top left corners as large as the smaller of two PNG images
# given in base64, whose red, green or blue differ by more than CLEARLY (0-255); the least over
# shifts of one image by up to a pixel each way (an element's screenshot rounds its position).
CLEARLY = 64
IMAGE_DIFFERENCE = """async ([a, b, clearly]) => {
  const load = async (data) => {
    const image = new Image();
    image.src = 'data:image/png;base64,' + data;
    await image.decode();
    return image;
  };
  const [one, two] = await Promise.all([load(a), load(b)]);
  const width = Math.min(one.naturalWidth, two.naturalWidth);
  const height = Math.min(one.naturalHeight, two.naturalHeight);
  const pixels = (image) => {
    const canvas = document.createElement('canvas');
    [canvas.width, canvas.height] = [width, height];
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    return context.getImageData(0, 0, width, height).data;
  };
  const [p, q] = [pixels(one), pixels(two)];
  let least = 1;
  for (const dy of [-1, 0, 1]) {
    for (const dx of [-1, 0, 1]) {
      let differ = 0;
      for (let y = 1; y < height - 1; y++) {
        for (let x = 1; x < width - 1; x++) {
          const i = 4 * (y * width + x);
          const j = 4 * ((y + dy) * width + x + dx);
          const most = Math.max(Math.abs(p[i] - q[j]), Math.abs(p[i + 1] - q[j + 1]),
                                Math.abs(p[i + 2] - q[j + 2]));
          if (most > clearly) differ += 1;
        }
      }
      least = Math.min(least, differ / ((width - 2) * (height - 2)));
    }
  }
  return least;
}"""


def image_difference(page: Page, a: str, b: str) -> float:
    """How much two PNG images (base64) differ where they overlap from their top left corner,
    give or take a pixel: the share (0 to 1) of their pixels whose colour clearly differs
    (anti-aliasing seldom does)."""
    return page.evaluate(IMAGE_DIFFERENCE, [a, b, CLEARLY])


# ---- themes -----------------------------------------------------------------------------------

# What a widget's root shows: its text colour, the background colour of it and of each of its
# ancestors (mostly transparent), and its chart's pixels, or null when it shows none (a hidden
# chart keeps the canvas of its last embed, unchanged by a new theme).
LOOK = """(root) => {
  const backgrounds = [];
  for (let el = root; el; el = el.parentElement) {
    backgrounds.push(getComputedStyle(el).backgroundColor);
  }
  const canvas = root.querySelector('.nbt-chart canvas');
  let chart = null;
  if (canvas && canvas.checkVisibility() && canvas.width > 0 && canvas.height > 0) {
    const blank = document.createElement('canvas');
    [blank.width, blank.height] = [canvas.width, canvas.height];
    chart = canvas.toDataURL();
    if (chart === blank.toDataURL()) chart = null;
  }
  return {color: getComputedStyle(root).color, backgrounds, chart};
}"""
CSS_RGBA = re.compile(r"rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)")


def css_rgba(value: str) -> tuple[RGB, float]:
    """A computed CSS colour (``rgb(…)`` or ``rgba(…)``) as its channels and its alpha."""
    match = CSS_RGBA.fullmatch(value)
    assert match is not None, f"not a computed rgb() colour: {value!r}"
    red, green, blue, alpha = match.groups()
    return (float(red), float(green), float(blue)), float(alpha or 1)


def over(colour: str, below: RGB) -> RGB:
    """What CSS ``colour`` shows painted over ``below`` (alpha compositing).

    >>> over("rgba(255, 255, 255, 0.5)", (0.0, 0.0, 0.0))
    (127.5, 127.5, 127.5)
    """
    channels, alpha = css_rgba(colour)
    red, green, blue = (alpha * c + (1 - alpha) * b for c, b in zip(channels, below, strict=True))
    return red, green, blue


def relative_luminance(rgb: RGB) -> float:
    """WCAG 2's relative luminance of an sRGB colour (channels 0..255)."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
              for c in (channel / 255 for channel in rgb)]  # fmt: skip
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: RGB, b: RGB) -> float:
    """WCAG 2's contrast ratio of two colours, 1 (none) to 21 (black on white).

    >>> round(contrast_ratio((0, 0, 0), (255, 255, 255)), 2)
    21.0
    >>> round(contrast_ratio((118, 118, 118), (255, 255, 255)), 2)  # #767676, AA's palest grey
    4.54
    """
    lighter, darker = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@dataclass(frozen=True)
class Look:
    """A widget as seen on screen: its text colour and its effective background (each
    composited over what lies below it), and its chart's pixels (None without a chart)."""

    text: RGB
    background: RGB
    chart: str | None

    @property
    def contrast(self) -> float:
        return contrast_ratio(self.text, self.background)


def look(view: Locator) -> Look:
    """How the widget in ``view`` (a cell) looks now."""
    view.scroll_into_view_if_needed()
    seen = view.locator(".nbt-root").first.evaluate(LOOK)
    background: RGB = (255.0, 255.0, 255.0)  # the browser's canvas, under a transparent page
    for layer in reversed(seen["backgrounds"]):
        background = over(layer, background)
    return Look(over(seen["color"], background), background, seen["chart"])


def settled(read: Callable[[], T | None]) -> Callable[[], T | None]:
    """A condition for ``wait_for``: the value of ``read()`` once two reads in a row agree
    (a chart that Vega embeds again is drawn in more than one step)."""
    previous: list[T | None] = [None]

    def condition() -> T | None:
        value = read()
        agreed = value is not None and value == previous[0]
        previous[0] = value
        return value if agreed else None

    return condition


def redrawn(view: Locator, old: Look) -> Look | None:
    """How ``view`` looks now, once its chart (if it had one in ``old``) was drawn anew."""
    now = look(view)
    return now if old.chart is None or now.chart not in (None, old.chart) else None


def steady_look(view: Locator, what: str, since: Look | None = None) -> Look:
    """How ``view`` looks once two reads agree and, given ``since``, its chart was drawn anew."""
    read = partial(look, view) if since is None else partial(redrawn, view, since)
    return wait_for(settled(read), what)


def switch_theme(
    page: Page, views: Mapping[str, Locator], theme: str
) -> tuple[dict[str, Look], dict[str, Look]]:
    """Switch JupyterLab to ``theme``; each view's look before, and after once its chart (if it
    has one) has been drawn again (Vega's canvas takes the theme's colours when it embeds)."""
    before = {name: steady_look(view, f"the {name} drawn") for name, view in views.items()}
    page.evaluate("(theme) => { window.jupyterapp.commands.execute('apputils:change-theme', "
                  "{theme}); }", theme)  # fmt: skip
    # JupyterLab names the theme on <body> once its stylesheet has loaded
    page.wait_for_function("(theme) => document.body.dataset.jpThemeName === theme", arg=theme)
    after = {name: steady_look(view, f"the {name} drawn again in {theme}", since=before[name])
             for name, view in views.items()}  # fmt: skip
    return before, after


def check_dark_theme(page: Page, views: Mapping[str, Locator], prefix: str) -> None:
    """Switch to JupyterLab Dark and back, asserting that each widget's text and background
    colours change and that its text keeps a WCAG AA contrast in both themes; screenshots
    ``{prefix}{name}-dark.png``."""
    light, dark = switch_theme(page, views, DARK)
    try:
        for name, view in views.items():
            shot(view, f"{prefix}{name}-dark")
            assert dark[name].text != light[name].text, name
            assert dark[name].background != light[name].background, name
            contrasts = light[name].contrast, dark[name].contrast
            assert min(contrasts) >= WCAG_AA_CONTRAST, (name, contrasts)
    finally:
        switch_theme(page, views, LIGHT)  # the next test starts from the default theme
