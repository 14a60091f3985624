"""nbtrack.wandb runs W&B notebook code with only its import changed.

The same loop runs once on nbtrack.wandb and once on the real wandb package in offline mode;
what nbtrack recorded is compared with the history W&B wrote to its ``.wandb`` files.
"""

from __future__ import annotations

import glob
import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers import ROOT

import nbtrack
import nbtrack.wandb as nbwandb
from nbtrack.wandb.errors import ConfigError, MissingAttributeError, NotSupportedError, UsageError

LOOP = textwrap.dedent("""
    import wandb
    import numpy as np
    import pandas as pd

    wandb.login()
    run = wandb.init(project="mnist", name="baseline", tags=["baseline", "cnn"],
                     config={"lr": 0.01, "epochs": 3, "arch": {"layers": [64, 32]}},
                     group="sweep-a", notes="first try", job_type="train")
    config = wandb.config
    config.batch_size = 16
    wandb.config.update({"lr": 0.02}, allow_val_change=True)
    wandb.define_metric("epoch")
    wandb.define_metric("val/*", step_metric="epoch", summary="max")
    rng = np.random.default_rng(0)
    for epoch in range(config.epochs):
        for batch in range(4):
            loss = 1.0 / (1 + epoch * 4 + batch)
            wandb.log({"train/loss": loss, "train/lr": config.lr}, commit=False)
            wandb.log({"batch": batch, "grad": {"norm": loss * 2}})
        wandb.log({"epoch": epoch, "val/acc": 0.5 + epoch / 10})
        wandb.log({"samples": wandb.Image(rng.random((8, 8, 3)), caption=f"epoch {epoch}")})
    wandb.log({"late": 1.0}, step=100)
    wandb.log({"late": 2.0}, step=50)
    wandb.log({"late": 3.0})
    frame = pd.DataFrame({"epoch": [0, 1, 2], "acc": [0.5, 0.6, 0.7]})
    wandb.log({"predictions": wandb.Table(dataframe=frame)})
    wandb.summary["best_acc"] = 0.7
    wandb.run.summary.update({"verdict": "ok"})
    wandb.finish()

    run2 = wandb.init(project="mnist", name="second", config={"lr": 0.1})
    for step in range(5):
        wandb.log({"loss": 1 / (step + 1)}, step=step * 2)
    run3 = wandb.init(project="mnist", name="third", reinit="finish_previous")
    wandb.log({"loss": 0.5})
    try:
        with wandb.init(project="mnist", name="broken", reinit="finish_previous") as run4:
            wandb.log({"loss": 0.9})
            raise ValueError("diverged")
    except ValueError:
        pass
""")
NAMES = ("baseline", "second", "third", "broken")


@pytest.fixture(scope="module")
def nbtrack_loop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The loop run on nbtrack.wandb: the W&B runs by name, and the warnings it gave."""
    store = tmp_path_factory.mktemp("wandb") / "store"
    nbtrack.set_store(store)
    code = LOOP.replace("import wandb\n", "import nbtrack.wandb as wandb\n", 1)
    namespace: dict[str, Any] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, "loop.py", "exec"), namespace)
    nbtrack.flush()
    runs = {namespace[v].name: namespace[v] for v in ("run", "run2", "run3", "run4")}
    return {"runs": runs, "warnings": [str(w.message) for w in caught], "store": store}


@pytest.fixture
def loop(nbtrack_loop: dict[str, Any]) -> dict[str, Any]:
    """The loop's results, with its store as the current one (other tests change it)."""
    nbtrack.set_store(nbtrack_loop["store"])
    return nbtrack_loop


def _records(path: Path) -> Any:
    """The protobuf records of a W&B transaction log (``run-<id>.wandb``)."""
    from wandb.proto import wandb_internal_pb2

    data, pos, chunks = path.read_bytes(), 7, b""  # 7: the file header (":W&B", magic, version)
    while pos + 7 <= len(data):
        room = 32768 - pos % 32768  # records never cross 32 KiB blocks; a short tail is padding
        if room < 7:
            pos += room
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if kind == 0 and length == 0:
            pos += room
            continue
        chunks += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a full record, or the last part of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(chunks)
            chunks = b""
            yield record


@pytest.fixture(scope="module")
def wandb_loop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The loop run on the real wandb package, offline: per run name, its history rows,
    summary and exit code."""
    folder = tmp_path_factory.mktemp("real-wandb")
    (folder / "loop.py").write_text(LOOP)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "NBTRACK_"))}
    env.update(WANDB_MODE="offline", WANDB_DIR=str(folder), WANDB_SILENT="true",
               HOME=str(folder), WANDB_CONFIG_DIR=str(folder / "config"))  # fmt: skip
    done = subprocess.run([sys.executable, "loop.py"], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)  # fmt: skip
    assert done.returncode == 0, done.stderr
    runs: dict[str, dict[str, Any]] = {}
    for path in glob.glob(str(folder / "wandb" / "offline-run-*" / "run-*.wandb")):
        run: dict[str, Any] = {"rows": [], "summary": {}, "exit_code": None}
        for record in _records(Path(path)):
            kind = record.WhichOneof("record_type")
            if kind == "run":
                run["name"] = record.run.display_name
            elif kind == "history":
                run["rows"].append(_items(record.history.item))
            elif kind == "summary":
                run["summary"].update(_items(record.summary.update))
            elif kind == "exit":
                run["exit_code"] = record.exit.exit_code
        runs[run["name"]] = run
    return runs


def _items(items: Any) -> dict[str, Any]:
    return {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items}


def _points(run_id: str) -> dict[str, list[tuple[int, float]]]:
    frame = nbtrack.history(run_id)
    return {key: list(zip(g["step"].tolist(), g["value"].tolist(), strict=True))
            for key, g in frame.groupby("key")}  # fmt: skip


def _wandb_points(rows: list[dict[str, Any]], key: str, x: str = "_step") -> list[tuple]:
    return [(row[x], row[key]) for row in rows if isinstance(row.get(key), (int, float))]


# ---- the loop on nbtrack --------------------------------------------------------------------
def test_the_loop_lands_in_nbtrack(loop: dict[str, Any]) -> None:
    runs = loop["runs"]
    found = nbtrack.search(experiment="mnist")
    assert sorted(found["name"]) == sorted(NAMES)
    status = dict(zip(found["name"], found["status"], strict=True))
    assert status == {"baseline": "finished", "second": "finished", "third": "finished",
                      "broken": "failed"}  # fmt: skip
    record = nbtrack.get_run(runs["baseline"].id)
    assert record.params == {"lr": 0.02, "epochs": 3, "arch": {"layers": [64, 32]},
                             "batch_size": 16}  # fmt: skip
    tags = record.tags
    assert tags["wandb.tags"] == "baseline,cnn" and tags["baseline"] == tags["cnn"] == "true"
    assert (tags["wandb.group"], tags["wandb.notes"], tags["wandb.job_type"]) == (
        "sweep-a", "first try", "train")  # fmt: skip
    assert tags["wandb.metric.val/*"] == "step_metric=epoch summary=max"
    assert tags["wandb.summary.val/acc.max"] == "0.7"
    assert tags["wandb.summary.best_acc"] == "0.7" and tags["wandb.summary.verdict"] == "ok"
    assert nbtrack.search("tags.`wandb.summary.best_acc` > 0.5", experiment="mnist")[
        "name"
    ].tolist() == ["baseline"]


def test_steps_follow_wandb_rules(loop: dict[str, Any]) -> None:
    runs = loop["runs"]
    points = _points(runs["baseline"].id)
    assert [s for s, _ in points["train/loss"]] == [0, 1, 2, 3, 6, 7, 8, 9, 12, 13, 14, 15]
    assert [s for s, _ in points["batch"]] == [s for s, _ in points["train/loss"]]
    assert [s for s, _ in points["grad/norm"]] == [s for s, _ in points["train/loss"]]
    assert points["val/acc"] == [(0, 0.5), (1, 0.6), (2, 0.7)]  # on its step metric, epoch
    assert [s for s, _ in points["epoch"]] == [4, 10, 16]
    assert points["late"] == [(100, 3.0)]  # step 50 went backwards: dropped
    assert any("less than the current step 100" in w for w in loop["warnings"])
    assert _points(runs["second"].id)["loss"] == [(0, 1.0), (2, 0.5), (4, 1 / 3), (6, 0.25),
                                                  (8, 0.2)]  # fmt: skip
    assert runs["baseline"].step == 102
    assert runs["baseline"].summary["val/acc"] == {"max": 0.7}  # as W&B's summary has it


def test_images_and_tables_are_artifacts(loop: dict[str, Any]) -> None:
    from PIL import Image

    record = nbtrack.get_run(loop["runs"]["baseline"].id)
    paths = [a["path"] for a in record.artifacts]
    images = [f"media/images/samples_{step}.png" for step in (11, 17, 5)]
    assert paths == [*images, "media/tables/predictions_101.parquet"]
    base = _artifact_root(record.id)
    with Image.open(base / "media/images/samples_5.png") as image:
        assert image.size == (8, 8) and image.text["caption"] == "epoch 0"
    table = pd.read_parquet(base / "media/tables/predictions_101.parquet")
    assert table.to_dict("list") == {"epoch": [0, 1, 2], "acc": [0.5, 0.6, 0.7]}


def _artifact_root(run_id: str) -> Path:
    from nbtrack.store import get_store

    return get_store().root / "artifacts" / run_id


# ---- the same loop on the real wandb package ------------------------------------------------
def test_same_history_as_wandb(loop: dict[str, Any], wandb_loop: dict[str, Any]) -> None:
    assert set(wandb_loop) == set(NAMES)
    for name in NAMES:
        ours, theirs = _points(loop["runs"][name].id), wandb_loop[name]["rows"]
        media = {k.removesuffix("/_type") for row in theirs for k in row if k.endswith("/_type")}
        keys = {k for row in theirs for k, v in row.items() if not k.startswith("_")
                and isinstance(v, (int, float)) and k.split("/")[0] not in media}  # fmt: skip
        assert keys == set(ours), name
        for key in keys:
            x = "epoch" if key.startswith("val/") else "_step"
            assert ours[key] == _wandb_points(theirs, key, x), (name, key)
    rows = wandb_loop["baseline"]["rows"]
    image_steps = sorted(row["_step"] for row in rows if "samples/path" in row)
    table_steps = [row["_step"] for row in rows if "predictions/path" in row]
    paths = [a["path"] for a in nbtrack.get_run(loop["runs"]["baseline"].id).artifacts]
    assert [f"media/images/samples_{s}.png" for s in image_steps] == sorted(
        (p for p in paths if "images" in p), key=lambda p: int(p.split("_")[-1][:-4])
    )
    assert [f"media/tables/predictions_{s}.parquet" for s in table_steps] == [
        p for p in paths if "tables" in p]  # fmt: skip
    summary = wandb_loop["baseline"]["summary"]
    assert summary["best_acc"] == 0.7 and summary["val/acc"] == {"max": 0.7}
    ours = nbtrack.get_run(loop["runs"]["baseline"].id).tags
    assert float(ours["wandb.summary.val/acc.max"]) == summary["val/acc"]["max"]
    assert float(ours["wandb.summary.best_acc"]) == summary["best_acc"]
    exits = {name: wandb_loop[name]["exit_code"] for name in NAMES}
    assert exits == {"baseline": 0, "second": 0, "third": 0, "broken": 1}


# ---- the rest of the API --------------------------------------------------------------------
def test_import_is_light() -> None:
    code = (
        "import sys, nbtrack.wandb\n"
        "print(sorted(m for m in ('wandb', 'pandas', 'duckdb') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)  # fmt: skip
    assert done.stdout.strip() == "[]"


def test_before_init(tmp_store: Path) -> None:
    assert nbwandb.run is None
    with pytest.raises(UsageError, match=r"wandb.init\(\) before wandb.log"):
        nbwandb.log({"a": 1})
    with pytest.raises(UsageError, match=r"wandb.init\(\) before using wandb.config"):
        nbwandb.config.lr  # noqa: B018
    nbwandb.finish()  # nothing to finish: nothing happens, as in W&B
    assert nbwandb.login() is True


def test_reinit_rules(tmp_store: Path) -> None:
    first = nbwandb.init(name="first")
    with pytest.warns(nbtrack.NbtrackWarning, match="returning it"):
        assert nbwandb.init(name="again") is first  # a script's default: return_previous
    other = nbwandb.init(name="other", reinit="create_new")
    assert nbwandb.run is first and nbtrack.active_run() is first.nbtrack_run
    other.log({"x": 1})
    first.finish()
    assert other.nbtrack_run.status == "running"  # create_new runs are independent
    third = nbwandb.init(name="third", reinit=True)
    assert other.nbtrack_run.status == "finished" and nbwandb.run is third
    third.finish(exit_code=2)
    assert nbwandb.run is None
    nbtrack.flush()
    found = nbtrack.search()
    assert dict(zip(found["name"], found["status"], strict=True)) == {
        "first": "finished", "other": "finished", "third": "failed"}  # fmt: skip
    assert found["parent_run_id"].isna().all()  # W&B runs do not nest in each other


def test_bad_values_log_nothing(tmp_store: Path) -> None:
    with nbwandb.init() as run:
        with pytest.raises(TypeError, match="'note' is str"):
            nbwandb.log({"loss": 0.5, "note": "text"})
        with pytest.raises(ConfigError, match="allow_val_change=True"):
            nbwandb.config.update({"lr": 1})
            nbwandb.config.update({"lr": 2})
        nbwandb.log({"loss": 0.25})
    assert _points(run.id) == {"loss": [(0, 0.25)]}
    with pytest.raises(UsageError, match="is finished"):
        run.log({"loss": 0.1})


def test_files(tmp_store: Path, tmp_path: Path) -> None:
    (tmp_path / "weights.pt").write_bytes(b"w")
    (tmp_path / "later.txt").write_text("x")
    with nbwandb.init() as run:
        assert nbwandb.save(str(tmp_path / "*.pt")) == [str(tmp_path / "weights.pt")]
        nbwandb.save(str(tmp_path / "later.txt"), policy="end")
        Path(run.dir, "notes.md").write_text("hi")
        artifact = nbwandb.Artifact("data", type="dataset", metadata={"rows": 3})
        with artifact.new_file("rows.csv", mode="w") as file:
            file.write("a\n1\n")
        nbwandb.log_artifact(artifact)
        nbwandb.log_artifact(str(tmp_path / "weights.pt"), name="model/weights.pt", type="model")
        assert "local nbtrack run" in run.url
    record = nbtrack.get_run(run.id)
    assert sorted(a["path"] for a in record.artifacts) == [
        "data/rows.csv", "later.txt", "model/weights.pt", "notes.md", "weights.pt"]  # fmt: skip
    assert json.loads(record.tags["wandb.artifact.data"])["metadata"] == {"rows": 3}


def test_unsupported_names_say_the_nbtrack_way(tmp_store: Path) -> None:
    with pytest.raises(NotSupportedError, match=r"nbtrack\.log"):
        nbwandb.watch(object())
    for name, hint in [("sweep", "loop over"), ("Api", "nbtrack.search"),
                       ("Histogram", "summary statistics"), ("Audio", "wandb.save")]:  # fmt: skip
        with pytest.raises(MissingAttributeError, match=hint):
            getattr(nbwandb, name)
        assert not hasattr(nbwandb, name)
    with pytest.raises(NotSupportedError, match="mode='disabled'"):
        nbwandb.init(mode="disabled")
    with pytest.raises(NotSupportedError, match="cannot reopen"):
        nbwandb.init(id="abc", resume="must")
    with nbwandb.init() as run, pytest.raises(NotSupportedError, match=r"Run\.alert"):
        run.alert(title="x", text="y")


def test_image_inputs(tmp_store: Path, tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    path = tmp_path / "x.png"
    Image.new("RGB", (3, 2)).save(path)
    sources = [np.zeros((3, 4, 2), "float32"), np.full((2, 3), 255, "uint8"), str(path),
               Image.new("L", (5, 5))]  # fmt: skip
    for source in sources:
        assert Image.open(io.BytesIO(nbwandb.Image(source).png)).format == "PNG"
    assert Image.open(io.BytesIO(nbwandb.Image(np.zeros((3, 4, 2))).png)).size == (2, 4)
