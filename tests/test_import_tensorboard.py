"""import_tensorboard on logs written by tensorboardX's SummaryWriter and TensorBoard's own
writer: scalars (one run of 100k points), hparams, text, images, nested run folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tensorboard.summary import Writer
from tensorboardX import SummaryWriter

import nbtrack
from nbtrack.exchange import tensorboard as tb
from nbtrack.exchange.tensorboard import import_tensorboard

T0 = 1_700_000_000.25  # seconds; the writers keep wall times as doubles
BIG = 100_000
LONG_TEXT = "# Report\n\n" + "accuracy went up. " * 40


def us(seconds: float) -> int:
    return round(seconds * 1e6)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log folder: big/, sweep/lr-*/ (with add_hparams), media/, tb/ and no-events/."""
    root = tmp_path_factory.mktemp("tb") / "logs"
    with SummaryWriter(str(root / "big")) as w:
        for step in range(BIG):
            w.add_scalar("loss", 1 / (step + 1), step, walltime=T0 + step / 1000)
    for lr, acc in ((0.1, 0.8), (0.01, 0.9)):
        with SummaryWriter(str(root / "sweep" / f"lr-{lr}")) as w:
            for step in range(5):
                w.add_scalar("train/loss", lr * (5 - step), step, walltime=T0 + step)
            params = {"lr": lr, "layers": 2, "optimizer": "adam", "batchnorm": True}
            w.add_hparams(params, {"hparam/accuracy": acc}, name="session")
    with SummaryWriter(str(root / "media")) as w:
        w.add_text("note", "baseline run", 0, walltime=T0)
        w.add_text("report", LONG_TEXT, 7, walltime=T0 + 7)
        image = np.zeros((3, 8, 16), dtype=np.uint8)
        image[0] = 255  # red
        w.add_image("samples/red", image, 3, walltime=T0 + 3)
    writer = Writer(str(root / "tb"))  # TensorBoard's own writer: tensor scalars
    for step in range(4):
        writer.add_scalar("acc", step / 4, step, wall_time=T0 + step)
    writer.close()
    (root / "no-events").mkdir()
    (root / "no-events" / "notes.txt").write_text("not a log")
    return root


@pytest.fixture(scope="module")
def imported(logs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The logs imported once into a store; run name -> run id."""
    store = tmp_path_factory.mktemp("store")
    nbtrack.set_store(store)
    assert import_tensorboard(logs) == 5
    runs = nbtrack.search()
    assert set(runs["experiment"]) == {"logs"}
    return {"store": str(store), **dict(zip(runs["name"], runs["run_id"], strict=True))}


@pytest.fixture
def store(imported: dict[str, str]) -> dict[str, str]:
    nbtrack.set_store(imported["store"])
    return imported


def test_every_run_folder_is_a_run_named_by_its_path(store: dict[str, str], logs: Path) -> None:
    assert sorted(store) == ["big", "media", "store", "sweep/lr-0.01", "sweep/lr-0.1", "tb"]
    run = nbtrack.get_run(store["sweep/lr-0.1"])
    assert run.tags["tensorboard.path"] == str(logs / "sweep" / "lr-0.1")
    assert run.status == "finished"


def test_scalars_keep_steps_and_wall_times(store: dict[str, str]) -> None:
    points = nbtrack.history(store["big"], "loss")
    assert len(points) == BIG
    assert points["step"].tolist() == list(range(BIG))
    stamps = points["timestamp"].dt.as_unit("us").astype("int64")
    expected = [us(np.float64(T0 + step / 1000)) for step in range(BIG)]
    assert (stamps.to_numpy() == np.array(expected)).all()
    assert points["value"].iloc[3] == pytest.approx(0.25)
    tensor_scalars = nbtrack.history(store["tb"], "acc")
    assert tensor_scalars["value"].tolist() == [0, 0.25, 0.5, 0.75]
    run = nbtrack.get_run(store["big"])
    assert run.start_time.timestamp() == pytest.approx(T0, abs=1e-3)
    assert run.end_time.timestamp() >= T0 + (BIG - 1) / 1000 - 1e-3


def test_hparams_become_typed_params_and_session_metrics(store: dict[str, str]) -> None:
    run = nbtrack.get_run(store["sweep/lr-0.01"])
    assert run.params == {"lr": 0.01, "layers": 2, "optimizer": "adam", "batchnorm": True}
    assert run.metrics["hparam/accuracy"] == pytest.approx(0.9)
    assert len(nbtrack.history(run.id, "train/loss")) == 5  # the writer's curves, same run
    found = nbtrack.search("params.lr < 0.05 and params.layers = 2")
    assert found["name"].tolist() == ["sweep/lr-0.01"]


def test_text_becomes_tags_or_artifacts_and_images_png(store: dict[str, str]) -> None:
    run = nbtrack.get_run(store["media"])
    assert run.tags["note"] == "baseline run"
    assert "report" not in run.tags
    files = {a["path"]: a for a in run.artifacts}
    assert set(files) == {"text/report/7.md", "images/samples/red/3.png"}
    folder = Path(store["store"]) / "artifacts" / run.id
    assert (folder / "text/report/7.md").read_text() == LONG_TEXT
    png = (folder / "images/samples/red/3.png").read_bytes()
    assert png.startswith(b"\x89PNG") and files["images/samples/red/3.png"]["size"] == len(png)
    from PIL import Image

    with Image.open(folder / "images/samples/red/3.png") as image:
        assert image.size == (16, 8)
        assert image.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


def test_importing_twice_adds_nothing(store: dict[str, str], logs: Path) -> None:
    before = len(nbtrack.history(list(store.values())[1:]))
    assert import_tensorboard(logs) == 0
    assert len(nbtrack.search()) == 5
    assert len(nbtrack.history(list(store.values())[1:])) == before


def test_experiment_argument_and_one_run_folder(tmp_store: Path, logs: Path) -> None:
    assert import_tensorboard(logs / "sweep" / "lr-0.1", experiment="lr") == 1
    run = nbtrack.search(output="pandas").iloc[0]
    assert (run["experiment"], run["name"]) == ("lr", "lr-0.1")
    assert run["params.optimizer"] == "adam"


def test_serial_and_parallel_reads_agree(
    tmp_store: Path, logs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tb, "PARALLEL_BYTES", 0)  # even the small sweep is shared out
    assert import_tensorboard(logs / "sweep") == 2
    parallel = nbtrack.history(nbtrack.search()["run_id"].tolist())
    nbtrack.set_store(tmp_store.parent / "serial")
    monkeypatch.setattr(tb, "PARALLEL_BYTES", 10**15)
    assert import_tensorboard(logs / "sweep") == 2
    serial = nbtrack.history(nbtrack.search()["run_id"].tolist())
    assert parallel.equals(serial)


def test_not_a_log_folder(tmp_store: Path, logs: Path) -> None:
    with pytest.raises(nbtrack.NbtrackError, match=r"no-events holds no TensorBoard event files"):
        import_tensorboard(logs / "no-events")
    with pytest.raises(nbtrack.NbtrackError, match="no folder at"):
        import_tensorboard(logs / "missing")
    assert not (tmp_store / "segments").exists() or nbtrack.search().empty
