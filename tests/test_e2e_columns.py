"""End to end: the run table of a store with thousands of metric keys, in a real JupyterLab
driven by Playwright in Debian's Chromium (see browser.py): the column chooser lists a page of
columns per group, finds any column by name, and shows the one picked."""

from __future__ import annotations

from pathlib import Path

from browser import browser_page, cell, jupyter, printed, run_cell, shot, write_notebook
from playwright.sync_api import expect

KEYS = 3_000
CELLS = [
    f"""\
import random
import nbtrack

nbtrack.set_store("wide-store")
for i in range(300):
    with nbtrack.run(f"run-{{i}}", params={{"i": i}}) as run:
        run.log_metrics({{f"m{{(i * 10 + j) % {KEYS}:04d}}": random.random() for j in range(50)}})
nbtrack.flush()
table = nbtrack.table()
table""",
    "print(sorted(c for c in table.columns if c.startswith('metrics.')))",
]


def test_the_column_chooser_finds_one_of_thousands_of_metrics(tmp_path: Path) -> None:
    write_notebook(tmp_path / "wide.ipynb", CELLS)
    with jupyter("lab", tmp_path, "wide.ipynb") as url, browser_page(url) as page:
        run_cell(page, 0)
        view = cell(page, 0)
        expect(view.locator("tbody tr")).not_to_have_count(0)
        view.get_by_role("button", name="Columns").click()
        panel = view.locator(".nbt-columns-panel")
        metrics = panel.locator("fieldset", has_text="metrics")
        expect(metrics.locator("label")).to_have_count(100)  # a page of 3,000
        expect(metrics.locator(".nbt-link")).to_have_text("2,900 more…")
        metrics.locator(".nbt-link").click()
        expect(metrics.locator("label")).to_have_count(200)

        panel.get_by_role("searchbox").fill("m2999")
        expect(metrics.locator("label")).to_have_count(1)
        expect(panel.locator("fieldset")).to_have_count(1)  # no other group has it
        shot(view, "table-columns-search")
        metrics.locator("input").check()
        expect(view.locator('td[data-column="metrics.m2999"]').first).to_be_visible()
        run_cell(page, 1)
        assert "metrics.m2999" in printed(page, 1)  # the choice reached the kernel
