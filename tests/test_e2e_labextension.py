"""The JupyterLab extension in real JupyterLab 4 and Notebook 7 (Chromium): the Runs sidebar
with no kernel running, its filter, a run page and "go to cell", a comparison, a cell badge,
and a run another process logs showing up (the sidebar asks every second). Screenshots, light
and dark, go to tests/artifacts/.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import nbformat
from browser import ARTIFACTS, DARK, LIGHT, browser_page, drag_across, jupyter, run_cell, shot
from helpers import run_python
from playwright.sync_api import Page, expect

import nbtrack

CELL_ID = "train-cell"


def png(width: int, height: int) -> bytes:
    """A red PNG image of that size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))  # fmt: skip


def notebook(root: Path) -> Path:
    first = "%load_ext nbtrack\nimport nbtrack"
    tracked = "%%track from-lab\nlr = 0.5\nnbtrack.log(loss=lr)"
    cells = [nbformat.v4.new_code_cell(source) for source in (first, tracked)]
    cells[1].id = CELL_ID
    path = root / "work" / "train.ipynb"
    path.parent.mkdir(parents=True)
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernelspec}), path)
    return path


def store(root: Path, path: Path) -> list[str]:
    """Three runs in the store the server reads (its $NBTRACK_STORE), one made by the cell."""
    nbtrack.set_store(root / "store")
    (root / "plot.png").write_bytes(png(2, 2))
    ids = []
    for lr in (0.01, 0.1, 0.3):
        context = {"notebook": str(path), "cell_id": CELL_ID, "code": f"lr = {lr}\nfit(lr)"}
        with nbtrack.start_run(f"lr-{lr}", params={"lr": lr, "depth": 3}, tags={"team": "a"},
                               context=context) as run:  # fmt: skip
            for step in range(30):
                run.log(loss=lr + 1 / (step + 1), acc=0.5 + step / 100)
            run.log_artifact(root / "plot.png")
        ids.append(run.id)
    nbtrack.flush()
    return ids


def open_sidebar(page: Page) -> None:
    page.evaluate("() => { window.jupyterapp.commands.execute('nbtrack:open-runs'); }")
    expect(page.locator(".nbt-run-row").first).to_be_visible()


def set_theme(page: Page, theme: str) -> None:
    page.evaluate(
        "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme
    )
    page.wait_for_function(f"document.body.dataset.jpThemeName === '{theme}'")


def test_runs_sidebar_run_page_compare_and_badges_in_jupyterlab(tmp_path: Path) -> None:
    path = notebook(tmp_path)
    ids = store(tmp_path, path)
    with (
        jupyter("lab", tmp_path, "work/train.ipynb") as url,
        browser_page(url.replace("/lab/tree/work/train.ipynb", "/lab"), notebook=False) as page,
    ):
        running = "Array.from(window.jupyterapp.serviceManager.kernels.running()).length"
        assert page.evaluate(running) == 0  # the sidebar needs no kernel
        open_sidebar(page)
        sidebar = page.locator("#nbtrack-runs")
        expect(sidebar.locator(".nbt-run-row")).to_have_count(3)
        shot(sidebar, "lab-sidebar-light")
        # the typed filter, and its error with a caret under the problem
        box = sidebar.locator("input.nbt-run-filter")
        box.fill("params.lr >= 0.1")
        box.press("Enter")
        expect(sidebar.locator(".nbt-run-row")).to_have_count(2)
        box.fill("params.lr >")
        box.press("Enter")
        expect(sidebar.locator("pre.nbt-error")).to_contain_text("^")
        box.fill("")
        box.press("Enter")
        expect(sidebar.locator(".nbt-run-row")).to_have_count(3)
        # a run page: params, metrics, the artifact image, curves
        sidebar.locator(f"[data-run-id='{ids[2]}'] .nbt-run-link").click()
        run_page = page.locator(f"#nbtrack-run-{ids[2]}")
        expect(run_page.locator(".nbt-kv").first).to_contain_text("lr")
        expect(run_page).to_contain_text("0.3")
        expect(run_page.locator("img.nbt-artifact-image")).to_be_visible()
        page.wait_for_function(
            "el => el.querySelector('canvas') !== null", arg=run_page.element_handle(),
        )  # fmt: skip
        image = run_page.locator("img.nbt-artifact-image")
        page.wait_for_function("img => img.complete && img.naturalWidth === 2",
                               arg=image.element_handle())  # fmt: skip
        shot(run_page, "lab-run-page-light")
        page.screenshot(path=str(ARTIFACTS / "lab-extension-light.png"))  # README's picture
        # zooming its curves asks the server for the points of the range dragged across
        with page.expect_response(lambda answer: "/views/plot" in answer.url) as answer:
            drag_across(page, run_page.locator(".nbt-chart canvas").first, 0.3, 0.7)
        zoomed = answer.value.json()
        low, high = zoomed["x_range"]
        assert 0 < low < high < 29 and all(s["count"] < 30 for s in zoomed["_series"])
        expect(run_page.locator(".nbt-zoom-reset").first).to_be_visible()
        # the page may tag the run, and delete (hide) and restore it
        run_page.locator("input.nbt-tag-key").fill("reviewed")
        run_page.locator("input.nbt-tag-value").fill("yes")
        run_page.get_by_role("button", name="Set tag").click()
        expect(run_page.locator("[data-section='Tags']")).to_contain_text("reviewed")
        run_page.get_by_role("button", name="Delete run").click()
        expect(sidebar.locator(".nbt-run-row")).to_have_count(2)
        run_page.get_by_role("button", name="Restore run").click()
        expect(sidebar.locator(".nbt-run-row")).to_have_count(3)
        assert nbtrack.get_run(ids[2]).tags["reviewed"] == "yes"
        # "go to cell" opens the notebook at the cell that made the run
        run_page.locator(".nbt-go-to-cell").click()
        page.wait_for_function(
            """(id) => { const w = window.jupyterapp.shell.currentWidget;
                   return w && w.content && w.content.activeCell &&
                          w.content.activeCell.model.id === id; }""", arg=CELL_ID,
        )  # fmt: skip
        # compare three runs: the widgets' compare view, sweep included
        open_sidebar(page)
        for run_id in ids:
            sidebar.locator(f"[data-run-id='{run_id}'] input[type=checkbox]").check()
        sidebar.get_by_role("button", name="Compare 3").click()
        compare = page.locator(".nbt-compare-page")
        expect(compare.locator(".nbt-compare")).to_be_visible()
        expect(compare).to_contain_text("lr-0.3")
        shot(compare, "lab-compare-light")
        # a run another process logs shows up
        run_python("import nbtrack\nwith nbtrack.run('from-script'):\n    nbtrack.log(x=1)\n",
                   tmp_path / "store", tmp_path)  # fmt: skip
        expect(sidebar.locator(".nbt-run-row")).to_have_count(4)  # (polled every second)
        set_theme(page, DARK)
        shot(sidebar, "lab-sidebar-dark")
        set_theme(page, LIGHT)


def test_a_tracked_cell_gets_a_badge_that_opens_its_run(tmp_path: Path) -> None:
    notebook(tmp_path)
    nbtrack.set_store(tmp_path / "store")
    with jupyter("lab", tmp_path, "work/train.ipynb") as url, browser_page(url) as page:
        run_cell(page, 0)
        run_cell(page, 1)
        badge = page.locator(".jp-Cell").nth(1).locator(".nbt-cell-badge")
        expect(badge).to_contain_text("finished")
        expect(badge).to_contain_text("loss 0.5")
        shot(page.locator(".jp-Cell").nth(1), "lab-cell-badge-light")
        badge.click()
        run_id = badge.get_attribute("data-run-id")
        expect(page.locator(f"#nbtrack-run-{run_id}")).to_contain_text("from-lab")


def test_the_runs_sidebar_run_page_compare_and_badges_in_notebook_7(tmp_path: Path) -> None:
    path = notebook(tmp_path)
    ids = store(tmp_path, path)
    with jupyter("notebook", tmp_path, "work/train.ipynb") as url, browser_page(url) as page:
        open_sidebar(page)
        sidebar = page.locator("#nbtrack-runs")
        rows = sidebar.locator(".nbt-run-row")
        expect(rows).to_have_count(3)
        shot(sidebar, "notebook7-sidebar-light")
        # the tracked cell gets its badge; its run and one from another process join the list
        run_cell(page, 0)
        run_cell(page, 1)
        badge = page.locator(".jp-Cell").nth(1).locator(".nbt-cell-badge")
        expect(badge).to_contain_text("loss 0.5")
        shot(page.locator(".jp-Cell").nth(1), "notebook7-cell-badge-light")
        expect(rows).to_have_count(4)
        run_python("import nbtrack\nwith nbtrack.run('from-script'):\n    nbtrack.log(x=1)\n",
                   tmp_path / "store", tmp_path)  # fmt: skip
        expect(rows).to_have_count(5)  # (polled every second)
        # a run page (in the right-hand panel: Notebook 7 has one main widget) and its cell
        sidebar.locator(f"[data-run-id='{ids[0]}'] .nbt-run-link").click()
        run_page = page.locator(f"#nbtrack-run-{ids[0]}")
        expect(run_page).to_contain_text("lr-0.01")
        shot(run_page, "notebook7-run-page-light")
        run_page.locator(".nbt-go-to-cell").click()
        page.wait_for_function(
            """(id) => { const w = window.jupyterapp.shell.currentWidget;
               return w && w.content && w.content.activeCell &&
                      w.content.activeCell.model.id === id; }""", arg=CELL_ID,
        )  # fmt: skip
        for run_id in ids:
            sidebar.locator(f"[data-run-id='{run_id}'] input[type=checkbox]").check()
        sidebar.get_by_role("button", name="Compare 3").click()
        expect(page.locator(".nbt-compare-page .nbt-compare")).to_contain_text("lr-0.3")
