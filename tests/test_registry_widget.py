"""The model registry widget's Python side (``nbtrack.widgets.registry``) on a real store with
real registered models: what it sends, what selecting a version fills in, filters, live
updates, the static HTML of a saved notebook, and ``%track models`` in a real kernel."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import traitlets as t
from helpers import wait_for
from kernels import errors, run_cells, text

import nbtrack
import nbtrack.mlmodel
import nbtrack.registry
from nbtrack.widgets.formatting import format_metric
from nbtrack.widgets.registry import ModelRegistry, models
from nbtrack.widgets.saved import WIDGET_VIEW

TRAIN = """
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

X, y = load_wine(return_X_y=True, as_frame=True)


def train(C):
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=500)).fit(X, y)
    return model, model.score(X, y), f1_score(y, model.predict(X), average="macro")
"""


def log_and_register(name: str, C: float, model_name: str = "wine") -> tuple[str, int]:
    """Train a wine classifier in a run, log it and register it; its run id and version."""
    scope: dict = {}
    exec(TRAIN, scope)
    model, acc, f1 = scope["train"](C)
    with nbtrack.run(name, experiment="wine", params={"C": C, "scaler": "standard"}) as run:
        run.log(acc=acc, f1=f1)
        info = nbtrack.mlmodel.log_model(model, "model", input_example=scope["X"].head(3), run=run)
    version = nbtrack.registry.register_model(info.model_uri, model_name)
    return run.id, version.version


@pytest.fixture
def wine(tmp_store: Path) -> dict[str, str]:
    """Two versions of "wine" (v2: Production, @champion) and one of "beer"; run ids by name."""
    first, _ = log_and_register("lr-small", 0.01)
    second, version = log_and_register("lr-big", 1.0)
    assert version == 2
    nbtrack.registry.set_alias("wine", "champion", 2)
    nbtrack.registry.transition_stage("wine", 2, "Production")
    nbtrack.registry.update_description("wine", "classifies wines")
    beer, _ = log_and_register("lr-beer", 0.5, model_name="beer")
    return {"lr-small": first, "lr-big": second, "lr-beer": beer}


def test_models_and_versions_with_their_runs_metrics(wine: dict[str, str]) -> None:
    widget = models()
    assert [entry["name"] for entry in widget._models] == ["beer", "wine"]
    entry = widget._models[1]
    assert entry["latest_version"] == 2 and entry["aliases"] == {"champion": 2}
    assert entry["description"] == "classifies wines"
    assert entry["metric_keys"] == ["acc", "f1"]
    assert isinstance(entry["updated_at"], str)  # ISO text, JSON-safe
    newest, oldest = entry["versions"]
    assert (newest["version"], newest["stage"], newest["aliases"]) == (
        2,
        "Production",
        ["champion"],
    )
    assert (oldest["version"], oldest["stage"], oldest["aliases"]) == (1, "None", [])
    assert newest["run_id"] == wine["lr-big"] and newest["run_name"] == "lr-big"
    run = nbtrack.get_run(wine["lr-small"])
    assert oldest["metrics"] == {"acc": run.metrics["acc"], "f1": run.metrics["f1"]}
    assert widget.selected == "" and widget._detail == {} and widget._filter_error == ""


def test_selecting_a_version_fills_the_detail_with_its_run(wine: dict[str, str]) -> None:
    widget = models()
    widget.selected = "wine/1"
    detail = widget._detail
    assert (detail["name"], detail["version"], detail["stage"]) == ("wine", 1, "None")
    assert detail["run"]["id"] == wine["lr-small"] and detail["run"]["name"] == "lr-small"
    assert detail["run"]["params"] == {"C": 0.01, "scaler": "standard"}
    assert set(detail["run"]["metrics"]) == {"acc", "f1"}
    assert {"sklearn", "python_function"} <= set(detail["flavors"])
    inputs = {field["name"]: field["type"] for field in detail["inputs"]}
    assert inputs["alcohol"] == "double" and len(inputs) == 13
    assert detail["source"].startswith("runs:/") and Path(detail["path"]).is_dir()
    assert widget.expanded == ["wine"]  # its model opens, to show the selected row

    widget.selected = "wine/2"
    assert widget._detail["aliases"] == ["champion"] and widget._detail["stage"] == "Production"
    widget.selected = ""
    assert widget._detail == {}


def test_selecting_what_is_not_there_is_a_clear_error(wine: dict[str, str]) -> None:
    widget = models()
    with pytest.raises(t.TraitError, match=r"wine.*\b9\b"):
        widget.selected = "wine/9"
    with pytest.raises(ValueError, match=re.escape("'name/version', e.g. 'wine/3'")):
        widget.selected = "wine"
    assert widget.selected == "" and widget._detail == {}


def test_the_filter_uses_the_registry_grammar_and_shows_errors(wine: dict[str, str]) -> None:
    widget = models("name LIKE 'wi%'")
    assert [entry["name"] for entry in widget._models] == ["wine"]
    widget.filter = "nmae = 'beer'"
    assert widget._filter_error != ""
    assert [entry["name"] for entry in widget._models] == ["wine"]  # the last good result stays
    widget.filter = "name = 'beer'"
    assert widget._filter_error == "" and [e["name"] for e in widget._models] == ["beer"]
    widget.filter = "name = 'nothing'"
    assert widget._models == [] and "no registered models" in widget.to_html()


def test_the_widget_follows_registry_changes(wine: dict[str, str]) -> None:
    widget = ModelRegistry()
    widget.selected = "wine/1"
    log_and_register("lr-mid", 0.1)
    nbtrack.registry.set_alias("wine", "challenger", 3)
    widget.refresh()  # what the live thread calls when the store changed
    entry = next(e for e in widget._models if e["name"] == "wine")
    assert [v["version"] for v in entry["versions"]] == [3, 2, 1]
    assert entry["aliases"] == {"challenger": 3, "champion": 2}
    nbtrack.registry.delete_model_version("wine", 1)
    widget.refresh()
    assert widget.selected == "" and widget._detail == {}  # the selected version went away


def test_a_live_widget_refreshes_by_itself(wine: dict[str, str]) -> None:
    widget = models()
    assert widget.comm is not None  # followed only while open
    nbtrack.registry.transition_stage("wine", 1, "Staging")

    def stage_of_v1() -> str:
        entry = next(e for e in widget._models if e["name"] == "wine")
        return entry["versions"][1]["stage"]

    wait_for(lambda: stage_of_v1() == "Staging", "the widget to show the new stage")
    widget.close()


def test_static_html_reads_like_the_widget(wine: dict[str, str]) -> None:
    widget = models()
    widget.selected = "wine/2"
    page = widget.to_html()
    assert page.count("<table>") == 4  # the models, each one's versions, the selection
    assert "<b>wine</b>" in page and "@champion v2" in page and "classifies wines" in page
    assert "Production" in page and "lr-big" in page
    acc = nbtrack.get_run(wine["lr-big"]).metrics["acc"]
    assert f">{format_metric(acc)}<" in page  # formatted as the live cells are
    assert "models:/wine/2" in page and "params.C" in page
    assert re.search(r"<td title=\"[^\"]+\">\d{4}-\d\d-\d\d \d\d:\d\d</td>", page)  # times
    data, _ = widget.saved_bundle()
    assert data[WIDGET_VIEW]["model_id"] == "" and data["text/html"] == page


def test_track_models_magic_in_a_real_kernel(wine: dict[str, str], tmp_store: Path,
                                             tmp_path: Path) -> None:  # fmt: skip
    cells = run_cells(
        [
            "%load_ext nbtrack\nimport nbtrack",
            "%track models",
            "%track models name LIKE 'be%'",
            "%track models \"name = 'wine'\"",
            "%track models nmae = 'x'",
        ],
        tmp_store,
        tmp_path,
    )
    assert not any(errors(cell) for cell in cells), [text(cell) for cell in cells]
    saved = []
    for cell in cells[1:]:
        outputs = [o for o in cell.outputs if o.output_type == "display_data"]
        assert any(o.data[WIDGET_VIEW]["model_id"] for o in outputs), text(cell)  # the widget
        saved.append(next(o.data["text/html"] for o in outputs if "text/html" in o.data))
    assert "<b>wine</b>" in saved[0] and "<b>beer</b>" in saved[0]
    assert "<b>beer</b>" in saved[1] and "<b>wine</b>" not in saved[1]
    assert "<b>wine</b>" in saved[2] and "<b>beer</b>" not in saved[2]
    assert "<pre>" in saved[3] and "nmae" in saved[3]  # the filter's error, as the widget shows it
