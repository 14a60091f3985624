"""import_trackio on projects written by the real trackio package, in a separate process that
may not touch the network (a connect or bind on an internet socket is recorded and fails the
test): local trackio logs to SQLite and starts no server."""

from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nbtrack
from nbtrack.errors import NbtrackError
from nbtrack.exchange.trackio import import_trackio

WRITE = """
import json, socket, sys
blocked = []

def guard(original):
    def call(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            blocked.append(repr(address))
            raise OSError(f"network use: {address}")
        return original(self, address)
    return call

socket.socket.connect = guard(socket.socket.connect)
socket.socket.bind = guard(socket.socket.bind)

import trackio

def start(project, name, **kw):
    return trackio.init(project=project, name=name, embed=False, auto_log_cpu=False,
                        auto_log_gpu=False, **kw)

ids = {}
run = start("wine", "base", group="sweep",
            config={"lr": 0.01, "layers": [64, 64], "optimizer": "adam", "epochs": 3})
for i in range(50):
    trackio.log({"loss": 1 / (i + 1), "acc": i / 50, "note": "text is left out"})
trackio.log({"loss": float("nan"), "step": 7, "flag": True}, step=60)
trackio.log({"loss": float("inf")}, step=61)
trackio.finish()
ids["base"] = run.id
run = start("wine", "base", config={"lr": 0.1})
trackio.log({"loss": 3.0})
trackio.finish()
ids["base-again"] = run.id
run = start("wine", "tiny")
trackio.log({"acc": 0.25}, step=5)
trackio.finish()
ids["tiny"] = run.id
run = start("mnist", "cnn")
trackio.log({"loss": 0.5})
trackio.finish()
ids["cnn"] = run.id
print(json.dumps({"ids": ids, "blocked": blocked}))
"""


@pytest.fixture(scope="module")
def trackio_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """trackio's folder with projects 'wine' (3 runs, two named 'base') and 'mnist'."""
    folder = tmp_path_factory.mktemp("trackio")
    env = {"TRACKIO_DIR": str(folder), "HF_HUB_OFFLINE": "1", "HF_HOME": str(folder / "hf"),
           "PATH": "/usr/bin:/bin"}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(WRITE)], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["blocked"] == [], "trackio reached for the network"
    return folder, report["ids"]


def _by_tag(original: str) -> nbtrack.RunRecord:
    found = nbtrack.search(f"tags.`trackio.run` = '{original}'")
    assert len(found) == 1
    return nbtrack.get_run(found.run_id[0])


def test_runs_config_and_histories(tmp_store: Path, trackio_dir) -> None:
    folder, ids = trackio_dir
    assert import_trackio(folder / "wine.db") == 3
    runs = nbtrack.search()
    assert sorted(runs.name) == ["base", "base", "tiny"]
    assert set(runs.experiment) == {"wine"} and set(runs.status) == {"finished"}

    base = _by_tag(ids["base"])
    assert base.params == {"lr": 0.01, "layers": [64, 64], "optimizer": "adam", "epochs": 3}
    assert base.tags["group"] == "sweep"
    assert base.context.get("writer") == "import-trackio"
    loss = nbtrack.history(base.id, "loss")
    assert loss.step.tolist() == [*range(50), 60, 61]
    assert loss.value[:50].tolist() == [1 / (i + 1) for i in range(50)]
    assert math.isnan(loss.value[50]) and loss.value[51] == math.inf
    # a key trackio renamed because it is reserved ("step" -> "__step") gets its name back
    assert nbtrack.history(base.id, "step").value.tolist() == [7.0]
    assert nbtrack.history(base.id, "flag").value.tolist() == [1.0]
    assert "note" not in set(nbtrack.history(base.id).key)

    with sqlite3.connect(folder / "wine.db") as db:
        query = "SELECT timestamp FROM metrics WHERE run_id = ? ORDER BY id"
        stamps = [row[0] for row in db.execute(query, (ids["base"],))]
    times = loss.timestamp.map(lambda t: t.isoformat())
    assert times.tolist() == stamps
    assert base.start_time <= loss.timestamp.min() and base.end_time >= loss.timestamp.max()

    again = _by_tag(ids["base-again"])
    assert again.params == {"lr": 0.1} and again.metrics == {"loss": 3.0}
    assert "group" not in again.tags
    assert nbtrack.history(_by_tag(ids["tiny"]).id).step.tolist() == [5]


def test_importing_twice_adds_nothing(tmp_store: Path, trackio_dir) -> None:
    folder, _ = trackio_dir
    assert import_trackio(str(folder / "wine.db")) == 3
    points = len(nbtrack.history(nbtrack.search().run_id))
    assert import_trackio(folder / "wine.db") == 0
    assert len(nbtrack.search()) == 3
    assert len(nbtrack.history(nbtrack.search().run_id)) == points


def test_project_name_in_trackio_dir(tmp_store: Path, trackio_dir, monkeypatch) -> None:
    folder, ids = trackio_dir
    monkeypatch.setenv("TRACKIO_DIR", str(folder))
    assert import_trackio("mnist", experiment="digits") == 1
    cnn = _by_tag(ids["cnn"])
    assert (cnn.name, cnn.experiment, cnn.metrics) == ("cnn", "digits", {"loss": 0.5})
    with pytest.raises(NbtrackError, match=r"no trackio project 'cifar'.*mnist, wine"):
        import_trackio("cifar")


def test_not_a_trackio_database(tmp_store: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("not a database at all " * 100)
    with pytest.raises(NbtrackError, match=r"notes.db is not a trackio database"):
        import_trackio(text)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(NbtrackError, match=r"other.db is not a trackio database.*'metrics'"):
        import_trackio(other)
    with pytest.raises(NbtrackError, match=r"no trackio database at .*missing.db"):
        import_trackio(tmp_path / "missing.db")
    assert not tmp_store.exists()  # nothing was written
