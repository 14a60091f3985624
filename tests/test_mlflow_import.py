"""import_mlflow against real MLflow stores (sqlite and file), built by MLflow itself in a
separate process so no MLflow state is left in the test process."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import ROOT
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

import nbtrack

# MLflow's sqlite store warns about its own use of SQLAlchemy; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*noload.*")

T0 = 1_700_000_000_123  # ms; not a whole second, so millisecond precision is checked

BUILD = """
import json, os, sys
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from mlflow.tracking import MlflowClient

uri, folder = sys.argv[1], sys.argv[2]
T0 = {t0}
client = MlflowClient(tracking_uri=uri)
sweep = client.create_experiment("sweep", artifact_location=os.path.join(folder, "art"))
ids = {{}}

def run(name, experiment, start, tags=None):
    info = client.create_run(experiment, start_time=start, tags=tags or {{}}, run_name=name).info
    ids[name] = info.run_id
    return info.run_id

base = run("base", sweep, T0, {{"model": "rf", "mlflow.user": "ana"}})
client.log_batch(base, params=[
    Param("n_estimators", "100"), Param("lr", "0.01"), Param("optimizer", "adam"),
    Param("use_bn", "True"), Param("tiny", "1e-05"), Param("layers", "[64, 64]"),
    Param("zip", "007"), Param("flag", "false"),
])
client.log_batch(base, metrics=[Metric("loss", 1 / (i + 1), T0 + 1001 * i, 10 * i)
                                for i in range(6)]
                               + [Metric("acc", 0.5 + i / 10, T0 + 7 * i, i) for i in range(4)])
client.log_metric(base, "loss", float("nan"), timestamp=T0 + 9000, step=60)
client.log_metric(base, "loss", 0.01, timestamp=T0 + 9500, step=70)
model = os.path.join(folder, "model.txt")
with open(model, "w") as f:
    f.write("weights " * 50)
client.log_artifact(base, model, "models")
wine = Dataset(name="wine", digest="abc123", source_type="local",
               source='{{"uri": "/data/wine.csv"}}', schema='{{"x": "int"}}',
               profile='{{"num_rows": 178}}')
client.log_inputs(base, datasets=[DatasetInput(wine, [InputTag("mlflow.data.context", "train")])])
client.set_terminated(base, "FINISHED", end_time=T0 + 60_000)

child = run("child", sweep, T0 + 100, {{"mlflow.parentRunId": base}})
client.log_param(child, "depth", "3")
client.log_metric(child, "loss", 0.2, timestamp=T0 + 200, step=0)
client.set_terminated(child, "FINISHED", end_time=T0 + 300)

failed = run("failed", sweep, T0 + 1000)
client.set_tag(failed, "error", "out of memory")
client.set_terminated(failed, "FAILED", end_time=T0 + 2000)

killed = run("killed", sweep, T0 + 3000)
client.set_terminated(killed, "KILLED", end_time=T0 + 4000)

running = run("running", "0", T0 + 5000)
client.log_metric(running, "loss", 0.7, timestamp=T0 + 5001, step=1)

gone = run("gone", "0", T0 + 6000)
client.set_terminated(gone, "FINISHED", end_time=T0 + 6500)
client.delete_run(gone)
print(json.dumps(ids))
"""


def build_store(kind: str, folder: Path) -> tuple[str, dict[str, str]]:
    folder.mkdir()
    uri = f"sqlite:///{folder}/mlflow.db" if kind == "sqlite" else (folder / "mlruns").as_uri()
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(BUILD.format(t0=T0)), uri, str(folder)],
        cwd=folder,  # the Default experiment's artifacts land in ./mlruns
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return uri, json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module", params=["sqlite", "file"])
def mlflow_store(request, tmp_path_factory) -> tuple[str, dict[str, str]]:
    """(tracking URI, run ids by name) of an MLflow store built by MLflow."""
    return build_store(request.param, tmp_path_factory.mktemp("mlflow") / request.param)


@pytest.fixture
def client(mlflow_store, monkeypatch) -> MlflowClient:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # restored after the test
    return MlflowClient(tracking_uri=mlflow_store[0])


def all_runs(client: MlflowClient) -> list:
    experiments = client.search_experiments()
    ids = [e.experiment_id for e in experiments]
    return client.search_runs(ids, run_view_type=ViewType.ALL, max_results=1000)


def row_counts() -> dict[str, int]:
    tables = ("runs", "params", "metrics", "tags", "events", "artifacts")
    return {t: nbtrack.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_every_param_tag_and_metric_point_arrives(tmp_store: Path, mlflow_store, client) -> None:
    uri, ids = mlflow_store
    assert nbtrack.import_mlflow(uri) == 6
    runs = all_runs(client)
    assert len(runs) == 6
    names = {e.experiment_id: e.name for e in client.search_experiments()}
    for run in runs:
        info, data = run.info, run.data
        record = nbtrack.get_run(info.run_id)  # MLflow's run id is the nbtrack run id
        assert record.experiment == names[info.experiment_id]
        assert record.name == info.run_name
        assert record.parent_id == data.tags.get("mlflow.parentRunId")
        assert record.start_time.timestamp() * 1000 == pytest.approx(info.start_time, abs=0.01)
        if info.end_time is not None and info.status != "RUNNING":
            assert record.end_time.timestamp() * 1000 == pytest.approx(info.end_time, abs=0.01)
        assert set(record.params) == set(data.params)
        for key, text in data.params.items():
            value = record.params[key]
            assert str(value).lower() == text.lower() or value == float(text), key
        assert record.tags == {**data.tags, "mlflow.artifact_uri": info.artifact_uri}
        assert set(record.metrics) == set(data.metrics)
        for key in data.metrics:
            expected = sorted(
                (m.step, m.timestamp, m.value) for m in client.get_metric_history(info.run_id, key)
            )
            history = nbtrack.history(info.run_id, key)
            got = list(
                zip(
                    history["step"].tolist(),
                    history["timestamp"].dt.as_unit("ms").astype("int64").tolist(),
                    history["value"].tolist(),
                    strict=True,
                )
            )
            assert len(got) == len(expected), key
            for (step, ms, value), (step2, ms2, value2) in zip(got, expected, strict=True):
                assert (step, ms) == (step2, ms2) and same(value, value2), key

    base = nbtrack.get_run(ids["base"])
    assert base.params == {
        "n_estimators": 100, "lr": 0.01, "optimizer": "adam", "use_bn": True, "tiny": 1e-05,
        "layers": "[64, 64]", "zip": "007", "flag": False,
    }  # fmt: skip
    assert type(base.params["n_estimators"]) is int and type(base.params["lr"]) is float
    assert base.context["user"] == "ana" and base.context["writer"] == "import-mlflow"
    assert nbtrack.history(ids["base"], "loss")["step"].tolist() == [0, 10, 20, 30, 40, 50, 60, 70]
    assert nbtrack.get_run(ids["child"]).parent_id == ids["base"]
    assert nbtrack.search(experiment="sweep", filter=None)["run_id"].size == 4
    statuses = {name: nbtrack.get_run(rid).status for name, rid in ids.items()}
    assert statuses == {
        "base": "finished", "child": "finished", "failed": "failed", "killed": "killed",
        "running": "crashed", "gone": "finished",
    }  # fmt: skip
    assert nbtrack.get_run(ids["gone"]).deleted
    assert ids["gone"] not in set(nbtrack.search()["run_id"])
    assert nbtrack.get_run(ids["killed"]).duration == pytest.approx(1.0)


def test_dataset_inputs_arrive(tmp_store: Path, mlflow_store) -> None:
    uri, ids = mlflow_store
    nbtrack.import_mlflow(uri)
    assert nbtrack.get_run(ids["base"]).inputs == [{
        "name": "wine", "digest": "abc123", "context": "train",
        "source": '{"uri": "/data/wine.csv"}', "schema": '{"x": "int"}', "num_rows": 178,
    }]  # fmt: skip
    assert nbtrack.search("datasets.name = 'wine'")["run_id"].tolist() == [ids["base"]]


def test_reimporting_adds_nothing(tmp_store: Path, mlflow_store) -> None:
    uri, _ = mlflow_store
    assert nbtrack.import_mlflow(uri) == 6
    counts = row_counts()
    assert nbtrack.import_mlflow(uri) == 0
    assert row_counts() == counts


def test_experiment_limits_the_import(tmp_store: Path, mlflow_store) -> None:
    uri, ids = mlflow_store
    assert nbtrack.import_mlflow(uri, experiment="sweep") == 4
    assert set(nbtrack.search(include_deleted=True)["experiment"]) == {"sweep"}
    assert nbtrack.import_mlflow(uri) == 2  # the rest: Default's runs
    assert set(nbtrack.search(include_deleted=True)["run_id"]) == set(ids.values())
    with pytest.raises(nbtrack.NbtrackError, match=r"no experiment 'nope'.*'sweep'"):
        nbtrack.import_mlflow(uri, experiment="nope")


def test_artifacts_are_downloaded_into_the_store(tmp_store: Path, mlflow_store, client) -> None:
    uri, ids = mlflow_store
    nbtrack.import_mlflow(uri, experiment="sweep", artifacts=True)
    base = nbtrack.get_run(ids["base"])
    assert [a["path"] for a in base.artifacts] == ["models/model.txt"]
    local = Path(client.download_artifacts(ids["base"], "models/model.txt", str(tmp_store.parent)))
    stored = tmp_store / "artifacts" / ids["base"] / "models" / "model.txt"
    assert stored.read_bytes() == local.read_bytes()
    assert base.artifacts[0]["sha256"] == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert nbtrack.get_run(ids["child"]).artifacts == []


def test_a_plain_path_to_a_file_store_works(tmp_store: Path, tmp_path: Path) -> None:
    _, ids = build_store("file", tmp_path / "plain")
    assert nbtrack.import_mlflow(tmp_path / "plain" / "mlruns") == len(ids)


def test_missing_stores_give_clear_errors(tmp_store: Path, tmp_path) -> None:
    with pytest.raises(nbtrack.NbtrackError, match="no MLflow database at"):
        nbtrack.import_mlflow(f"sqlite:///{tmp_path}/nothing.db")
    assert not (tmp_path / "nothing.db").exists()
    with pytest.raises(nbtrack.NbtrackError, match="no MLflow file store at"):
        nbtrack.import_mlflow(tmp_path / "no-mlruns")
