"""import_wandb on offline runs written by the real W&B client, in separate processes so no W&B
state (or service) is left in the test process."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nbtrack
from nbtrack.errors import NbtrackError
from nbtrack.exchange.wandb import import_wandb
from nbtrack.names import stable_run_id

FINISHED = """
import wandb
run = wandb.init(project="wine", name="baseline", config={"lr": 0.01, "epochs": 3,
                 "layers": [64, 64], "opt": {"name": "adam"}, "bn": True},
                 tags=["baseline", "cpu"], notes="first try", group="sweep-1")
for i in range(1000):
    run.log({"loss": 1 / (i + 1), "acc": i / 1000})
run.log({"sample": wandb.Image(__import__("numpy").zeros((4, 4, 3), dtype="uint8"))})
run.summary["best_acc"] = 0.999
with open("model.txt", "w") as f:
    f.write("weights")
run.save("model.txt", policy="now")
run.finish()
"""

FAILING = """
import wandb
run = wandb.init(project="wine", name="broken", config={"lr": 0.1})
run.log({"loss": 5.0}, step=3)
raise RuntimeError("out of memory")
"""


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "NBTRACK_"))}
    env.update(WANDB_MODE="offline", WANDB_SILENT="true", WANDB_DIR=str(tmp),
               WANDB_CONFIG_DIR=str(tmp / "config"), WANDB_CACHE_DIR=str(tmp / "cache"),
               WANDB_DATA_DIR=str(tmp / "data"), WANDB_ARTIFACT_DIR=str(tmp / "artifacts"),
               WANDB_ERROR_REPORTING="false", WANDB_DISABLE_GIT="true",
               # any attempt to reach a server fails at once instead of leaving the machine
               HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")  # fmt: skip
    return env


@pytest.fixture(scope="module")
def wandb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wandb/ folder with one finished and one failed offline run, written by W&B."""
    tmp = tmp_path_factory.mktemp("wandb-runs")
    procs = []
    for name, code in (("finished.py", FINISHED), ("failing.py", FAILING)):
        (tmp / name).write_text(textwrap.dedent(code))
        procs.append(subprocess.Popen([sys.executable, name], cwd=tmp, env=_env(tmp),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))  # fmt: skip
    finished, failing = (p.communicate(timeout=120) for p in procs)
    assert procs[0].returncode == 0, finished[1]
    assert procs[1].returncode == 1 and "out of memory" in failing[1], failing[1]
    return tmp / "wandb"


def _by_name(wandb_dir: Path) -> dict[str, nbtrack.RunRecord]:
    runs = nbtrack.search(experiment="wine")
    return {name: nbtrack.get_run(rid) for name, rid in zip(runs.name, runs.run_id, strict=True)}


def test_runs_come_with_everything(wandb_dir: Path, tmp_store: Path) -> None:
    assert import_wandb(wandb_dir) == 2
    runs = _by_name(wandb_dir)
    base, broken = runs["baseline"], runs["broken"]
    folder = next(wandb_dir.glob("offline-run-*"))
    wandb_id = base.tags["wandb.run_id"]
    assert base.id == stable_run_id("wandb", "wine", wandb_id)
    assert (base.experiment, base.status, broken.status) == ("wine", "finished", "failed")
    assert broken.error == "W&B exit code 1"
    assert base.params == {"lr": 0.01, "epochs": 3, "layers": [64, 64],
                           "opt": {"name": "adam"}, "bn": True}  # fmt: skip
    assert broken.params == {"lr": 0.1}
    assert {k: v for k, v in base.tags.items() if k != "wandb.path"} == {
        "baseline": "true", "cpu": "true", "wandb.notes": "first try",
        "wandb.group": "sweep-1", "wandb.project": "wine", "wandb.run_id": wandb_id,
    }  # fmt: skip
    assert Path(base.tags["wandb.path"]).parent == folder.parent
    # history: 1000 steps of two metrics with W&B's steps and times; the image is no metric
    assert base.metrics == {"loss": 0.001, "acc": 0.999, "best_acc": 0.999}
    points = nbtrack.history(base.id)
    loss = points[points.key == "loss"]
    assert list(loss.step) == list(range(1000))
    assert loss.value.tolist() == [1 / (i + 1) for i in range(1000)]
    times = loss.timestamp.astype("int64")
    assert times.is_monotonic_increasing
    assert base.start_time <= loss.timestamp.iloc[0] <= base.end_time
    assert len(points[points.key == "acc"]) == 1000
    assert points[points.key == "best_acc"].step.tolist() == [1000]  # summary only: one point
    assert broken.metrics == {"loss": 5.0}
    assert nbtrack.history(broken.id).step.tolist() == [3]
    # files/ -> artifacts: the saved file, the image, W&B's own files
    paths = {a["path"] for a in base.artifacts}
    assert "model.txt" in paths and any(p.startswith("media/images/") for p in paths)
    assert (tmp_store / "artifacts" / base.id / "model.txt").read_text() == "weights"
    assert "out of memory" in (tmp_store / "artifacts" / broken.id / "output.log").read_text()
    # again: nothing new, nothing doubled
    assert import_wandb(wandb_dir) == 0
    assert import_wandb(folder) == 0
    assert len(nbtrack.search()) == 2
    assert len(nbtrack.history(base.id, "loss")) == 1000


def test_one_run_folder_or_log_and_experiment(wandb_dir: Path, tmp_store: Path) -> None:
    folder = next(wandb_dir.glob("offline-run-*"))
    assert import_wandb(folder, experiment="moved") == 1
    assert import_wandb(next(folder.glob("*.wandb")), experiment="moved") == 0
    assert import_wandb(wandb_dir.parent, experiment="moved") == 1  # the folder holding wandb/
    assert set(nbtrack.search().experiment) == {"moved"}


def test_log_without_exit_is_crashed(wandb_dir: Path, tmp_store: Path, tmp_path: Path) -> None:
    """A log cut short (the process died mid-run) gives the steps it has, and no end."""
    source = next(log for log in wandb_dir.glob("*/*.wandb") if log.stat().st_size > 100_000)
    cut = tmp_path / "wandb" / source.parent.name / source.name
    cut.parent.mkdir(parents=True)
    cut.write_bytes(source.read_bytes()[:100_000])
    assert import_wandb(cut.parent) == 1
    run = nbtrack.get_run(nbtrack.search().run_id[0])
    assert run.status == "crashed" and run.name == "baseline"
    steps = nbtrack.history(run.id, "loss").step.tolist()
    assert 0 < len(steps) < 1000 and steps == list(range(len(steps)))
    assert not math.isnan(run.metrics["loss"])


def test_not_wandb(wandb_dir: Path, tmp_store: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(NbtrackError, match="holds no W&B runs: expected a wandb/ folder"):
        import_wandb(tmp_path)
    with pytest.raises(NbtrackError, match="is not a W&B transaction log"):
        import_wandb(tmp_path / "notes.txt")
    fake = tmp_path / "run-abc" / "run-abc.wandb"
    fake.parent.mkdir()
    fake.write_text("not a log")
    with pytest.raises(NbtrackError, match=r"is not a W&B transaction log W&B can read: .*header"):
        import_wandb(fake.parent)
    fake.write_text("")
    with pytest.raises(NbtrackError, match="not a W&B transaction log, or an empty one"):
        import_wandb(fake.parent)
    with pytest.raises(NbtrackError, match="no W&B run folder at"):
        import_wandb(tmp_path / "missing")
    with pytest.raises(NbtrackError, match=r"W&B server .* is not supported yet"):
        import_wandb("my-team/wine")
    assert not tmp_store.exists() or nbtrack.search().empty
    shutil.rmtree(fake.parent)
