"""import_csv on wide and long CSV files (written by pandas and by hand), and its errors."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import nbtrack
from nbtrack.errors import NbtrackError
from nbtrack.exchange.csv_import import import_csv

T0 = pd.Timestamp("2024-05-01T12:00:00Z")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of CSV files: a wide sweep (3 runs x 100 steps), a long file, a single run."""
    folder = tmp_path_factory.mktemp("csv")
    rows = []
    for r, (name, lr) in enumerate([("a", 0.1), ("b", 0.01), ("c", 0.001)]):
        for step in range(0, 200, 2):
            rows.append({
                "run": name, "step": step, "time": T0 + pd.Timedelta(seconds=r * 1000 + step),
                "lr": lr, "optimizer": "adam", "loss": 1 / (step + 1) + r,
                "acc": step / 200 if step % 10 == 0 else None,
            })  # fmt: skip
    pd.DataFrame(rows).to_csv(folder / "sweep.csv", index=False)
    (folder / "long.csv").write_text(
        "run,epoch_time,metric,value\n"
        "x,1714564800,loss,0.9\nx,1714564801,acc,0.5\nx,1714564802,loss,0.7\n"
        "y,1714564900,loss,0.8\nx,1714564903,loss,nan\n"
    )
    (folder / "baseline.csv").write_text("loss,acc\n0.9,0.1\n0.5,\n0.25,0.8\n")
    return folder


def test_wide_sweep(tmp_store: Path, files: Path) -> None:
    sweep = files / "sweep.csv"
    added = import_csv(sweep, run_column="run", step_column="step", experiment="sweep",
                       time_column="time", param_columns=["lr", "optimizer"])  # fmt: skip
    assert added == 3
    runs = nbtrack.search(order_by="name")
    assert runs.name.tolist() == ["a", "b", "c"]
    assert set(runs.experiment) == {"sweep"} and set(runs.status) == {"finished"}
    b = nbtrack.get_run(runs.run_id[1])
    assert b.params == {"lr": 0.01, "optimizer": "adam"}
    assert b.tags["csv.path"] == str(sweep.resolve())
    assert set(nbtrack.history(b.id).key) == {"loss", "acc"}  # params and time are not metrics
    loss = nbtrack.history(b.id, "loss")
    assert loss.step.tolist() == list(range(0, 200, 2))
    assert loss.value.tolist() == pytest.approx([1 / (s + 1) + 1 for s in range(0, 200, 2)])
    assert loss.timestamp[0] == T0 + pd.Timedelta(seconds=1000)
    assert (b.start_time, b.end_time) == (loss.timestamp.min(), loss.timestamp.max())
    acc = nbtrack.history(b.id, "acc")  # empty cells are no points
    assert acc.step.tolist() == list(range(0, 200, 10))
    assert b.metrics == {"loss": pytest.approx(1 / 199 + 1), "acc": 0.95}


def test_importing_twice_adds_nothing(tmp_store: Path, files: Path, tmp_path: Path) -> None:
    copy = tmp_path / "sweep.csv"
    copy.write_bytes((files / "sweep.csv").read_bytes())
    roles = {"run_column": "run", "step_column": "step", "time_column": "time",
             "param_columns": ["lr", "optimizer"]}  # fmt: skip
    assert import_csv(copy, **roles) == 3
    points = len(nbtrack.history(nbtrack.search().run_id))
    assert import_csv(copy, **roles) == 0
    # a changed file at the same path holds the same runs: they are skipped; new runs are added
    copy.write_text(copy.read_text() + "a,400,2024-05-01 13:00:00+00:00,0.1,adam,9,9\n"
                    "d,400,2024-05-01 13:00:00+00:00,0.5,sgd,0.1,0.1\n")  # fmt: skip
    assert import_csv(copy, **roles) == 1
    assert len(nbtrack.search()) == 4
    assert len(nbtrack.history(nbtrack.search().run_id)) == points + 2


def test_one_run_per_file(tmp_store: Path, files: Path) -> None:
    nbtrack.set_experiment("baselines")
    try:
        assert import_csv(files / "baseline.csv") == 1
    finally:
        nbtrack.set_experiment("default")
    run = nbtrack.get_run(nbtrack.search().run_id[0])
    assert (run.name, run.experiment) == ("baseline", "baselines")
    assert nbtrack.history(run.id, "loss").step.tolist() == [0, 1, 2]  # row order
    assert nbtrack.history(run.id, "acc").step.tolist() == [0, 2]
    modified = pd.Timestamp((files / "baseline.csv").stat().st_mtime, unit="s", tz="UTC")
    assert abs(run.start_time - modified) < pd.Timedelta(milliseconds=1)


def test_long_layout(tmp_store: Path, files: Path) -> None:
    added = import_csv(files / "long.csv", run_column="run", key_column="metric",
                       time_column="epoch_time")  # fmt: skip
    assert added == 2
    x = nbtrack.get_run(nbtrack.search("name = 'x'").run_id[0])
    loss = nbtrack.history(x.id, "loss")
    assert loss.step.tolist() == [0, 1, 2]  # rows of (run, metric) in file order
    assert loss.value[:2].tolist() == [0.9, 0.7] and math.isnan(loss.value[2])
    assert loss.timestamp[0] == pd.Timestamp(1714564800, unit="s", tz="UTC")
    assert nbtrack.history(x.id, "acc").to_dict("list")["value"] == [0.5]
    assert x.end_time == pd.Timestamp(1714564903, unit="s", tz="UTC")


@pytest.mark.parametrize(
    ("text", "arguments", "message"),
    [
        ("", {}, r"empty\.csv is empty: expected a header row"),
        ("run,loss\n", {"run_column": "run"}, r"has a header but no rows"),
        ("run,,loss\na,1,2\n", {}, r"column 2 has no name in the header row"),
        ("run,loss\na,0.5\n", {"run_column": "name"},
         r"has no column 'name' \(run_column\); its columns: run, loss"),
        ("run,loss\na,0.5\n", {"run_column": "run", "param_columns": ["lr"]},
         r"no column 'lr' \(param_columns\)"),
        ("run,opt,note,loss\na,adam,x,0.5\n", {"run_column": "run"},
         r"'opt' \(string\), 'note' \(string\) do not: .*param_columns=\['opt', 'note'\]"),
        ("run,lr,loss\na,0.1,1\na,0.2,2\n", {"run_column": "run", "param_columns": ["lr"]},
         r"param column 'lr' changes within run 'a' \(0.1, then 0.2\)"),
        ("run,step,loss\na,0.5,1\n", {"run_column": "run", "step_column": "step"},
         r"step column 'step' must hold whole numbers"),
        ("run,loss\na,1\n,2\n", {"run_column": "run"}, r"column 'run' is empty in rows 3"),
        ("run,metric,value,extra\na,loss,1,x\n", {"run_column": "run", "key_column": "metric"},
         r"columns extra have no role in the long layout"),
        ("run,t,loss\na,yesterday,1\n", {"run_column": "run", "time_column": "t"},
         r"time column 't' must hold ISO times"),
    ],
)  # fmt: skip
def test_clear_errors(tmp_store: Path, tmp_path: Path, text: str, arguments, message) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(text)
    with pytest.raises(NbtrackError, match=message):
        import_csv(path, **arguments)
    assert not tmp_store.exists()  # nothing was written


def test_no_such_file(tmp_store: Path, tmp_path: Path) -> None:
    with pytest.raises(NbtrackError, match=r"no CSV file at .*nothing\.csv"):
        import_csv(tmp_path / "nothing.csv")
