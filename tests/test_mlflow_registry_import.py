"""import_mlflow's model registry part, against real MLflow stores (sqlite and file) whose
models MLflow itself logged, registered, staged and aliased in a separate process (so no MLflow
state is left in the test process)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_wine

import nbtrack
from nbtrack import registry
from nbtrack.errors import NbtrackWarning
from nbtrack.exchange import mlflow_registry
from nbtrack.exchange.mlflow_registry import import_mlflow_registry, read_registry, run_artifact

# MLflow's sqlite store warns about its own use of SQLAlchemy, and about stages; not ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore:.*noload.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]

BUILD = """
import json, os, sys, warnings
warnings.simplefilter("ignore")
import mlflow, mlflow.sklearn
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

# cloudpickle: skops is not installed; requirements given, so MLflow does not infer them in
# a subprocess of its own
KEEP = {"serialization_format": "cloudpickle", "pip_requirements": ["scikit-learn"]}
X, y = load_wine(return_X_y=True)
linear = LogisticRegression(max_iter=200).fit(X / X.max(axis=0), y)
tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)


def build(uri, folder):
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri)
    wine = client.create_experiment("wine", artifact_location=os.path.join(folder, "art"))
    other = client.create_experiment("other", artifact_location=os.path.join(folder, "other-art"))
    ids = {}
    with mlflow.start_run(experiment_id=wine, run_name="linear") as run:
        # MLflow 3: a logged model (source models:/m-<id>, files under art/models/)
        mlflow.sklearn.log_model(linear, name="model", registered_model_name="wine", **KEEP)
        ids["linear"] = run.info.run_id
    with mlflow.start_run(experiment_id=wine, run_name="tree") as run:
        # MLflow 2 style: the model folder among the run's artifacts
        saved = os.path.join(folder, "saved-tree")
        mlflow.sklearn.save_model(tree, saved, **KEEP)
        mlflow.log_artifacts(saved, "model")
        ids["tree"] = run.info.run_id
    client.create_model_version("wine", f"runs:/{ids['tree']}/model", run_id=ids["tree"],
                                tags={"validated": "yes"}, description="a shallow tree")
    mlflow.register_model(f"runs:/{ids['tree']}/model", "wine")  # source: the artifact folder
    client.transition_model_version_stage("wine", "1", "Production")
    client.transition_model_version_stage("wine", "3", "Staging")
    client.set_registered_model_alias("wine", "champion", "1")
    client.set_registered_model_alias("wine", "challenger", "3")
    client.set_registered_model_tag("wine", "team", "a")
    client.update_registered_model("wine", description="wine classifiers")
    client.set_model_version_tag("wine", "1", "framework", "sklearn")
    client.update_model_version("wine", "1", description="logistic regression")
    with mlflow.start_run(experiment_id=other, run_name="other") as run:
        mlflow.sklearn.log_model(tree, name="model", registered_model_name="tree", **KEEP)
        ids["other"] = run.info.run_id
    client.set_registered_model_alias("tree", "prod", "1")
    client.create_registered_model("empty", tags={"k": "v"}, description="nothing yet")
    return ids


built = {folder: build(uri, folder) for uri, folder in zip(sys.argv[1::2], sys.argv[2::2])}
print(json.dumps({"ids": built, "linear": linear.predict(X[:20] / X.max(axis=0)).tolist(),
                  "tree": tree.predict(X[:20]).tolist()}))
"""
# The stores: the two kinds, and one the tests may break.
KINDS = {"sqlite": "sqlite", "file": "file", "disposable": "sqlite"}


@pytest.fixture(scope="module")
def mlflow_stores(tmp_path_factory) -> dict[str, tuple[str, dict]]:
    """MLflow stores built by MLflow (in one process: most of the time is importing it), by
    name: (tracking URI, run ids and predictions)."""
    base = tmp_path_factory.mktemp("mlflow")
    args = []
    for name, kind in KINDS.items():
        folder = base / name
        folder.mkdir()
        uri = f"sqlite:///{folder}/mlflow.db" if kind == "sqlite" else (folder / "mlruns").as_uri()
        args += [uri, str(folder)]
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(BUILD), *args],
        cwd=base,  # anything MLflow puts in ./mlruns stays in the folder
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    built = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        name: (uri, {**built, "ids": built["ids"][folder]})
        for name, uri, folder in zip(KINDS, args[::2], args[1::2], strict=True)
    }


@pytest.fixture(params=["sqlite", "file"])
def mlflow_store(request, mlflow_stores) -> tuple[str, dict]:
    return mlflow_stores[request.param]


@pytest.fixture
def client(mlflow_store, monkeypatch, tmp_path) -> MlflowClient:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # restored after the test
    monkeypatch.chdir(tmp_path)  # MLflow's defaults (./mlruns, ./mlflow.db) land in tmp_path
    return MlflowClient(tracking_uri=mlflow_store[0])


def features() -> np.ndarray:
    return load_wine(return_X_y=True)[0][:20]


def versions() -> dict[tuple[str, int], registry.ModelVersion]:
    return {(v.name, v.version): v for v in registry.search_model_versions()}


def registry_counts(store: Path) -> tuple[int, int, list[str]]:
    rows = nbtrack.sql("SELECT count(*) FROM model_versions").fetchall()[0][0]
    events = nbtrack.sql("SELECT count(*) FROM registry_events").fetchall()[0][0]
    folder = store / "registry"
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
    return rows, events, files


def test_models_versions_stages_aliases_tags_and_files_arrive(
    tmp_store: Path, mlflow_store, client
) -> None:
    uri, built = mlflow_store
    ids = built["ids"]
    assert nbtrack.import_mlflow(uri) == 3  # the return value still counts runs
    found = versions()
    assert sorted(found) == [("tree", 1), ("wine", 1), ("wine", 2), ("wine", 3)]
    for (name, number), version in found.items():
        theirs = client.get_model_version(name, str(number))
        assert version.source == theirs.source
        assert version.run_id == theirs.run_id
        assert version.stage == theirs.current_stage
        assert version.tags == theirs.tags
        assert version.description == (theirs.description or None)
        assert sorted(version.aliases) == sorted(theirs.aliases)
        assert version.creation_timestamp == theirs.creation_timestamp
        # every model file is in the store: copied, as no run artifacts were imported
        assert version.path == tmp_store / "registry" / name / str(number)
        assert (version.path / "MLmodel").is_file()
        assert "sklearn" in version.flavors
    assert found["wine", 1].source.startswith("models:/m-")  # MLflow 3's logged model
    assert found["wine", 2].source == f"runs:/{ids['tree']}/model"
    assert (found["wine", 1].stage, found["wine", 3].stage) == ("Production", "Staging")
    assert found["wine", 1].tags == {"framework": "sklearn"}
    assert found["wine", 2].tags == {"validated": "yes"}
    assert found["wine", 1].description == "logistic regression"
    # versions link to the imported runs (MLflow's run ids are nbtrack's)
    assert nbtrack.get_run(found["wine", 1].run_id).name == "linear"
    assert nbtrack.get_run(found["wine", 3].run_id).name == "tree"
    assert nbtrack.get_run(found["tree", 1].run_id).experiment == "other"

    wine = registry.get_registered_model("wine")
    theirs = client.get_registered_model("wine")
    assert wine.aliases == {"champion": 1, "challenger": 3}
    assert (wine.description, wine.tags) == ("wine classifiers", {"team": "a"})
    assert wine.creation_timestamp == theirs.creation_timestamp
    assert registry.get_registered_model("tree").aliases == {"prod": 1}
    empty = registry.get_registered_model("empty")
    assert (empty.description, empty.tags, empty.latest_versions) == ("nothing yet", {"k": "v"}, [])

    x = features()
    assert (
        nbtrack.load_model("models:/wine@champion")
        .predict(x / load_wine().data.max(axis=0))
        .tolist()
        == built["linear"]
    )
    assert nbtrack.load_model("models:/wine/Staging").predict(x).tolist() == built["tree"]
    assert nbtrack.load_model("models:/tree@prod").predict(x).tolist() == built["tree"]


def test_reimporting_adds_nothing(tmp_store: Path, mlflow_store, client) -> None:
    uri, _ = mlflow_store
    nbtrack.import_mlflow(uri)
    before = registry_counts(tmp_store)
    assert before[0] == 4 and not any(".incoming" in f for f in before[2])
    with warnings.catch_warnings():
        warnings.simplefilter("error", NbtrackWarning)
        assert nbtrack.import_mlflow(uri) == 0
        assert import_mlflow_registry(uri) == 0
    assert registry_counts(tmp_store) == before


def test_models_in_imported_run_artifacts_are_referenced(
    tmp_store: Path, mlflow_store, client
) -> None:
    uri, built = mlflow_store
    tree_run = built["ids"]["tree"]
    nbtrack.import_mlflow(uri, artifacts=True)
    found = versions()
    in_run = tmp_store / "artifacts" / tree_run / "model"
    assert found["wine", 2].path == in_run  # runs:/<run>/model
    assert found["wine", 3].path == in_run  # the run's artifact location
    assert not (tmp_store / "registry" / "wine" / "2").exists()
    # MLflow 3's logged models are not among the run's artifacts: copied
    assert found["wine", 1].path == tmp_store / "registry" / "wine" / "1"
    assert nbtrack.load_model("models:/wine/2").predict(features()).tolist() == built["tree"]


def test_registry_only_and_one_experiment(tmp_store: Path, mlflow_store, client) -> None:
    uri, _ = mlflow_store
    assert nbtrack.import_mlflow(uri, experiment="other", registry=False) == 1
    assert versions() == {}
    assert import_mlflow_registry(uri, experiment="other") == 1
    assert sorted(versions()) == [("tree", 1)]
    assert import_mlflow_registry(uri) == 3  # the rest
    assert sorted(versions()) == [("tree", 1), ("wine", 1), ("wine", 2), ("wine", 3)]


def test_a_model_the_store_has_keeps_its_history(
    tmp_store: Path, mlflow_store, client, tmp_path: Path
) -> None:
    uri, built = mlflow_store
    from sklearn.dummy import DummyClassifier

    x, y = load_wine(return_X_y=True)
    folder = tmp_path / "dummy"
    nbtrack.save_model(DummyClassifier(strategy="most_frequent").fit(x, y), folder)
    mine = registry.register_model(str(folder), "wine", tags={"mine": "yes"})
    registry.set_alias("wine", "champion", 1)
    with pytest.warns(NbtrackWarning, match=r"'wine' has another history.*versions 1 are other"):
        nbtrack.import_mlflow(uri)
    found = versions()
    assert found["wine", 1].source == mine.source and found["wine", 1].tags == {"mine": "yes"}
    assert found["wine", 3].source == client.get_model_version("wine", "3").source
    assert found["wine", 3].stage == "Staging"
    wine = registry.get_registered_model("wine")
    assert wine.aliases == {"champion": 1, "challenger": 3}  # the store's champion stays
    assert wine.tags == {} and wine.description is None  # the store's model, not MLflow's
    assert nbtrack.load_model("models:/wine@challenger").predict(x[:20]).tolist() == built["tree"]
    before = registry_counts(tmp_store)
    with pytest.warns(NbtrackWarning, match="another history"):
        assert import_mlflow_registry(uri) == 0
    assert registry_counts(tmp_store) == before


def test_loads_after_the_mlflow_store_is_gone(
    tmp_store: Path, tmp_path: Path, monkeypatch, mlflow_stores
) -> None:
    monkeypatch.chdir(tmp_path)
    uri, built = mlflow_stores["disposable"]
    folder = Path(uri[len("sqlite:///") :]).parent
    shutil.rmtree(folder / "other-art")  # the files of model 'tree'
    with pytest.warns(NbtrackWarning, match="version 1 of MLflow's model 'tree' was not imp"):
        nbtrack.import_mlflow(uri, artifacts=True)
    assert sorted(versions()) == [("wine", 1), ("wine", 2), ("wine", 3)]
    assert registry.get_registered_model("tree").aliases == {}  # its version is not there

    shutil.rmtree(folder)
    x = features()
    scaled = x / load_wine().data.max(axis=0)
    assert nbtrack.load_model("models:/wine@champion").predict(scaled).tolist() == built["linear"]
    assert nbtrack.load_model("models:/wine@challenger").predict(x).tolist() == built["tree"]
    assert nbtrack.load_model("models:/wine/2").predict(x).tolist() == built["tree"]


def test_the_registry_is_read_page_by_page(mlflow_store, client, monkeypatch) -> None:
    whole = read_registry(client)
    assert [(m.name, [v.number for v in m.versions]) for m in whole] == [
        ("empty", []), ("tree", [1]), ("wine", [1, 2, 3]),
    ]  # fmt: skip
    monkeypatch.setattr(mlflow_registry, "PAGE_SIZE", 1)  # one model, one version a request
    assert read_registry(client) == whole


def test_run_artifact_paths() -> None:
    class Info:
        run_id = "r1"
        artifact_uri = "file:///data/art/r1/artifacts"

    assert run_artifact("file:///data/art/r1/artifacts/model", Info) == ("r1", "model")
    assert run_artifact("/data/art/r1/artifacts/deep/model/", Info) == ("r1", "deep/model")
    assert run_artifact("/data/art/r2/artifacts/model", Info) is None
    assert run_artifact("runs:/r9/nested/model", None) == ("r9", "nested/model")
    assert run_artifact("runs:/r9", None) is None
    assert run_artifact("s3://bucket/r1/model", Info) is None


def test_the_command_line_reports_runs_and_versions(tmp_path: Path, mlflow_stores) -> None:
    uri, built = mlflow_stores["sqlite"]
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"}
    command = [sys.executable, "-m", "nbtrack.cli", "--store", str(tmp_path / "s"),
               "import-mlflow", uri]  # fmt: skip
    first = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    runs = len(built["ids"])
    assert first.stdout.strip() == f"imported {runs} runs and 4 model versions from {uri}"
    again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert again.stdout.strip() == f"imported 0 runs and 0 model versions from {uri}"
