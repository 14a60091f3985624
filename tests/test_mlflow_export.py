"""export_mlflow into real MLflow targets: a sqlite tracking store, and an MLflow tracking
server (``mlflow server``, a separate process on 127.0.0.1) with proxied artifacts."""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.request import urlopen

import pytest
from helpers import run_python, wait_for
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

import nbtrack
from nbtrack.errors import NbtrackError, NbtrackWarning
from nbtrack.exchange.mlflow_export import export_mlflow

# MLflow's sqlite store warns about its own use of SQLAlchemy; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*noload.*")

STATUS = {"base": "FINISHED", "search": "FINISHED", "trial-1": "FINISHED",
          "trial-2": "FINISHED", "broken": "FAILED", "stopped": "KILLED", "ctrl-c": "KILLED",
          "died": "FAILED"}  # fmt: skip
PARAMS = {"n": 100, "lr": 0.01, "tiny": 1e-05, "use_bn": True, "layers": [64, 64],
          "opt": "adam", "none": None, "conf": {"a": 1}}  # fmt: skip
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
CRASH = """
import os, nbtrack
from nbtrack.tracking import flush
run = nbtrack.start_run("died", experiment="other")
run.log(loss=1.0)
flush()
os._exit(0)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of 8 ended runs in two experiments: many params, tags and points (more than
    one log_batch holds), a parent and two children, artifacts, every end state."""
    folder = tmp_path_factory.mktemp("source")
    store = folder / "store"
    nbtrack.set_store(store)
    weights = folder / "weights.bin"
    weights.write_bytes(os.urandom(3000))
    (folder / "plots").mkdir()
    (folder / "plots" / "roc.txt").write_text("roc " * 100)
    params = {**PARAMS, **{f"p{i:03d}": i for i in range(150)}}
    tags = {**{f"t{i:03d}": f"v{i}" for i in range(120)}, "model": "rf"}
    with nbtrack.run("base", experiment="sweep", params=params, tags=tags) as base:
        for step in range(2500):
            base.log(step=2 * step, loss=1 / (step + 1))
        base.log(step=5000, loss=float("nan"))
        for step in range(3):
            base.log(step=step, acc=0.5 + step / 10)
        base.log_artifact(weights)
        base.log_artifact(folder / "plots", "plots")
    with nbtrack.run("search", experiment="sweep", params={"kind": "grid"}) as parent:
        for i in (1, 2):
            with nbtrack.run(f"trial-{i}", experiment="sweep", parent=parent,
                             params={"depth": i}) as trial:  # fmt: skip
                trial.log(acc=0.7 + i / 100)
    with pytest.raises(ValueError), nbtrack.run("broken", experiment="other"):
        raise ValueError("diverged")
    nbtrack.start_run("stopped", experiment="other").end("killed")
    nbtrack.start_run("ctrl-c", experiment="other").end("interrupted")
    run_python(CRASH, store, folder)
    ended = ["crashed", "failed", "interrupted", "killed"] + ["finished"] * 4
    assert sorted(nbtrack.search()["status"]) == sorted(ended)
    return store


@pytest.fixture
def store(source: Path) -> Path:
    nbtrack.set_store(source)
    return source


@pytest.fixture(scope="module")
def sqlite_target(source: Path, tmp_path_factory: pytest.TempPathFactory):
    """The runs exported to a sqlite store (experiments created by the export, their artifacts
    in the default place: ./mlruns of the working folder, here a temporary one)."""
    folder = tmp_path_factory.mktemp("sqlite")
    uri = f"sqlite:///{folder}/mlflow.db"
    nbtrack.set_store(source)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        started = time.perf_counter()
        count = export_mlflow(uri)
        print(f"export to sqlite: {time.perf_counter() - started:.1f} s")
    return uri, count


@pytest.fixture(scope="module")
def server_target(source: Path, tmp_path_factory: pytest.TempPathFactory):
    """The runs exported to a tracking server started for this module (stopped after)."""
    folder = tmp_path_factory.mktemp("server")
    port = _free_port()
    uri = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "mlflow"), "server", "--host", "127.0.0.1",
         "--port", str(port), "--backend-store-uri", f"sqlite:///{folder}/mlflow.db",
         "--artifacts-destination", str(folder / "artifacts"), "--workers", "1"],
        cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        started = time.perf_counter()
        wait_for(
            lambda: server.poll() is None and urlopen(f"{uri}/health", timeout=5).status == 200,
            f"the MLflow server on port {port} (log: {folder / 'server.log'})",
            timeout=180,
        )
        print(f"mlflow server up in {time.perf_counter() - started:.1f} s")
        nbtrack.set_store(source)
        started = time.perf_counter()
        count = export_mlflow(uri)
        print(f"export to the server: {time.perf_counter() - started:.1f} s")
        yield uri, count
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the workers it started
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.fixture(params=["sqlite", "server"])
def target(request: pytest.FixtureRequest, store: Path) -> tuple[str, int]:
    return request.getfixturevalue(f"{request.param}_target")


def _exported(uri: str) -> dict[str, object]:
    """The target's runs (deleted ones too) by name."""
    client = MlflowClient(uri)
    ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    runs = client.search_runs(ids, run_view_type=ViewType.ALL, max_results=1000)
    return {run.info.run_name: run for run in runs}


def _ms(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def test_every_run_arrives_whole(target: tuple[str, int]) -> None:
    uri, count = target
    assert count == 8
    client = MlflowClient(uri)
    runs = _exported(uri)
    assert sorted(runs) == sorted(STATUS)
    experiments = {e.experiment_id: e.name for e in client.search_experiments()}
    for record in nbtrack.search().itertuples():
        run = runs[record.name]
        full = nbtrack.get_run(record.run_id)
        assert run.info.lifecycle_stage == "active"
        assert experiments[run.info.experiment_id] == full.experiment
        assert run.info.status == STATUS[record.name]
        assert run.info.start_time == _ms(full.start_time)
        if record.name == "died":  # crashed: ended at its last point
            assert run.info.end_time == _ms(nbtrack.history(record.run_id)["timestamp"].max())
        else:
            assert run.info.end_time == _ms(full.end_time)
        assert run.data.params == {k: str(v) for k, v in full.params.items()}
        assert run.data.tags["nbtrack.run_id"] == record.run_id
        assert run.data.tags["mlflow.runName"] == record.name
        assert run.data.tags["mlflow.user"] == full.context["user"]
        assert {k: v for k, v in run.data.tags.items() if k in full.tags} == full.tags
        points = nbtrack.history(record.run_id)
        assert sorted(run.data.metrics) == sorted(set(points["key"]))
        for key, wanted in points.groupby("key"):
            got = client.get_metric_history(run.info.run_id, key)
            assert [m.step for m in got] == wanted["step"].tolist()
            assert [m.timestamp for m in got] == [_ms(t) for t in wanted["timestamp"]]
            values = [m.value for m in got]
            assert [v for v in values if not math.isnan(v)] == [
                v for v in wanted["value"] if not math.isnan(v)
            ]
    base = runs["base"]
    assert len(base.data.params) == len(PARAMS) + 150 and len(base.data.tags) > 120
    assert base.data.params["layers"] == "[64, 64]" and base.data.params["use_bn"] == "True"
    assert len(client.get_metric_history(base.info.run_id, "loss")) == 2501
    assert math.isnan(base.data.metrics["loss"])  # the last point, at step 5000
    assert runs["died"].data.tags["nbtrack.status"] == "crashed"
    assert runs["ctrl-c"].data.tags["nbtrack.status"] == "interrupted"
    assert "nbtrack.status" not in runs["broken"].data.tags


def test_children_point_at_their_parent(target: tuple[str, int]) -> None:
    runs = _exported(target[0])
    parent = runs["search"]
    for name in ("trial-1", "trial-2"):
        tags = runs[name].data.tags
        assert tags["mlflow.parentRunId"] == parent.info.run_id
        assert tags["nbtrack.parent_run_id"] == parent.data.tags["nbtrack.run_id"]
    assert "mlflow.parentRunId" not in runs["base"].data.tags


def test_artifacts_arrive(target: tuple[str, int], store: Path, tmp_path: Path) -> None:
    uri = target[0]
    base = _exported(uri)["base"]
    local = Path(MlflowClient(uri).download_artifacts(base.info.run_id, "", str(tmp_path)))
    files = sorted(str(p.relative_to(local)) for p in local.rglob("*") if p.is_file())
    mine = store / "artifacts" / base.data.tags["nbtrack.run_id"]
    assert files == sorted(str(p.relative_to(mine)) for p in mine.rglob("*") if p.is_file())
    assert files == ["plots/roc.txt", "weights.bin"]
    for name in files:
        assert (local / name).read_bytes() == (mine / name).read_bytes()


def test_exporting_again_adds_nothing(target: tuple[str, int]) -> None:
    uri = target[0]
    assert export_mlflow(uri) == 0
    assert len(_exported(uri)) == 8


def test_filter_and_experiment_choose_runs(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.chdir(tmp_path)  # new experiments' artifacts go to ./mlruns
    assert export_mlflow(uri, experiment="other", artifacts=False) == 4
    assert export_mlflow(uri, filter="params.depth >= 2") == 1
    assert sorted(_exported(uri)) == ["broken", "ctrl-c", "died", "stopped", "trial-2"]
    # the parent was not exported: the child keeps its nbtrack parent only
    assert "mlflow.parentRunId" not in _exported(uri)["trial-2"].data.tags
    assert export_mlflow(uri, filter="params.kind = 'grid'") == 1
    assert export_mlflow(uri, experiment="sweep") == 2  # base and trial-1, linked now
    runs = _exported(uri)
    assert runs["trial-1"].data.tags["mlflow.parentRunId"] == runs["search"].info.run_id


def test_running_runs_wait_until_they_end(tmp_store: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    run = nbtrack.start_run("live")
    run.log(loss=0.5)
    with pytest.warns(NbtrackWarning, match=r"1 run\(s\) still running were not exported"):
        assert export_mlflow(uri) == 0
    run.end()
    assert export_mlflow(uri) == 1
    assert _exported(uri)["live"].info.status == "FINISHED"


def test_a_run_mlflow_refuses_leaves_nothing_half_done(
    tmp_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    with nbtrack.run("fine"):
        pass
    with nbtrack.run("top-k", params={"k": 1}) as run:
        run.log(**{"acc@1": 0.9})  # a metric name MLflow refuses
    with pytest.raises(NbtrackError, match=r"exporting run \w+ \(top-k\) to sqlite.*acc@1"):
        export_mlflow(uri)
    runs = _exported(uri)
    assert runs["fine"].data.tags["nbtrack.run_id"]
    assert runs["top-k"].info.lifecycle_stage == "deleted"
    assert "nbtrack.run_id" not in runs["top-k"].data.tags


def test_nothing_answering_is_a_clear_error(store: Path) -> None:
    uri = f"http://127.0.0.1:{_free_port()}"
    started = time.perf_counter()
    with pytest.raises(NbtrackError, match=r"no MLflow tracking server answers at http"):
        export_mlflow(uri)
    assert time.perf_counter() - started < 10
