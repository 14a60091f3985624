"""End to end: the model registry widget in a real JupyterLab, driven by Playwright in Debian's
Chromium (see browser.py), on a notebook that logs and registers two models. Its own module:
the quickstart's module keeps one browser open for all of its tests, and Playwright's sync API
runs one browser per thread at a time."""

from __future__ import annotations

from pathlib import Path

from browser import (
    CELL_MODEL,
    browser_page,
    cell,
    check_dark_theme,
    jupyter,
    printed,
    run_cell,
    shot,
    write_notebook,
)
from playwright.sync_api import expect

# The registry notebook: two wine classifiers logged and registered (v2 promoted, @champion),
# the registry widget, and what its kernel side holds.
REGISTRY_CELLS = [
    """\
import nbtrack
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

X, y = load_wine(return_X_y=True, as_frame=True)
for name, C in [("lr-small", 0.01), ("lr-big", 1.0)]:
    with nbtrack.run(name, experiment="wine", params={"C": C}) as run:
        model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=500)).fit(X, y)
        run.log(acc=model.score(X, y))
        info = run.log_model(model, "model", input_example=X.head(3))
    nbtrack.register_model(info.model_uri, "wine")
nbtrack.set_alias("wine", "champion", 2)
nbtrack.transition_stage("wine", 2, "Production")
nbtrack.update_description("wine", "classifies wines")""",
    "registry = nbtrack.models()\nregistry",
    "print(repr(registry.selected))",
]


def test_model_registry_shows_versions_and_the_selected_versions_run(tmp_path: Path) -> None:
    write_notebook(tmp_path / "registry.ipynb", REGISTRY_CELLS)
    with jupyter("lab", tmp_path, "registry.ipynb") as url, browser_page(url) as page:
        run_cell(page, 0)
        outputs = page.evaluate(f"() => {CELL_MODEL.format(index=0)}.outputs.toJSON()")
        assert not [o for o in outputs if o["output_type"] == "error"], outputs
        run_cell(page, 1)
        view = cell(page, 1)
        model = view.locator('tr[data-model="wine"]')
        expect(model).to_contain_text("v2")
        expect(model.locator(".nbt-alias")).to_have_text("@champion v2")
        model.click()  # its versions, newest first
        versions = view.locator("tr.nbt-reg-version")
        expect(versions).to_have_count(2)
        expect(versions.first.locator(".nbt-stage")).to_have_text("Production")
        expect(versions.nth(1)).to_contain_text("lr-small")
        versions.nth(1).click()  # v1: its run's params and metrics below
        detail = view.locator(".nbt-reg-detail")
        expect(detail).to_be_visible()
        expect(detail.locator("h3")).to_have_text("wine v1")
        expect(detail.locator('td[data-column="params.C"]')).to_have_text("0.01")
        expect(detail.locator('td[data-column="metrics.acc"]')).to_have_count(1)
        expect(detail.locator(".nbt-uri")).to_have_text(["models:/wine/1"])
        expect(detail.locator(".nbt-reg-fields li").first).to_contain_text("alcohol")
        run_cell(page, 2)
        assert printed(page, 2).strip() == "'wine/1'"  # the selection reached the kernel
        versions.first.click()  # v2: its alias' URI too
        expect(detail.locator(".nbt-uri")).to_have_text(["models:/wine/2", "models:/wine@champion"])
        shot(view, "registry-light")
        check_dark_theme(page, {"registry": view}, prefix="")
