"""The tracking API of DESIGN section 3, checked through the read side on real store files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from s3 import stored

import nbtrack


def test_context_manager_records_params_metrics_tags(tmp_store: Path) -> None:
    with nbtrack.run("baseline", experiment="wine", params={"lr": 0.01}, tags={"m": "rf"}) as run:
        run.log(loss=0.5, acc=0.7)
        run.log(loss=0.25, acc=0.8)
    assert run.status == "finished"
    record = nbtrack.get_run(run.id)
    assert (record.name, record.experiment, record.status) == ("baseline", "wine", "finished")
    assert record.params == {"lr": 0.01}
    assert record.metrics == {"loss": 0.25, "acc": 0.8}
    assert record.tags == {"m": "rf"}
    assert record.end_time >= record.start_time
    assert record.context["pid"] > 0 and record.context["python"]


def test_failed_run_keeps_the_users_exception_and_traceback(tmp_store: Path) -> None:
    error = ValueError("bad data")
    with pytest.raises(ValueError) as caught, nbtrack.run() as run:
        run.log(loss=1.0)
        raise error
    assert caught.value is error
    record = nbtrack.get_run(run.id)
    assert record.status == "failed"
    assert "ValueError: bad data" in record.error
    assert record.metrics == {"loss": 1.0}


def test_keyboard_interrupt_marks_interrupted(tmp_store: Path) -> None:
    with pytest.raises(KeyboardInterrupt), nbtrack.run() as run:
        raise KeyboardInterrupt
    assert nbtrack.get_run(run.id).status == "interrupted"


def test_nested_runs_link_to_their_parent(tmp_store: Path) -> None:
    with nbtrack.run("parent") as parent:
        with nbtrack.run("child") as child:
            assert nbtrack.active_run() is child
        assert nbtrack.active_run() is parent
        explicit = nbtrack.start_run("orphan", parent=None)
        assert explicit.parent_id == parent.id
        explicit.end()
    assert nbtrack.active_run() is None
    assert nbtrack.get_run(child.id).parent_id == parent.id
    assert nbtrack.get_run(parent.id).parent_id is None


def test_ending_a_parent_ends_its_active_children(tmp_store: Path) -> None:
    parent = nbtrack.start_run()
    child = nbtrack.start_run()
    nbtrack.end_run()  # ends the child
    grandchild_parent = nbtrack.start_run()
    parent.end("failed")
    assert child.status == "finished"
    assert grandchild_parent.status == "failed"
    assert nbtrack.active_run() is None


def test_module_level_api_acts_on_the_active_run(tmp_store: Path, tmp_path: Path) -> None:
    artifact = tmp_path / "model.txt"
    artifact.write_text("weights")
    run = nbtrack.start_run("fluent")
    nbtrack.log(loss=0.3)
    nbtrack.log_metric("acc", 0.9, step=10)
    nbtrack.log_metrics({"f1": 0.8, "acc": 0.95})
    nbtrack.log_param("depth", 4)
    nbtrack.log_params({"trees": 100})
    nbtrack.set_tag("team", "ml")
    nbtrack.set_tags({"stage": "dev"})
    nbtrack.log_artifact(artifact)
    nbtrack.end_run()
    record = nbtrack.get_run(run.id)
    assert record.metrics == {"loss": 0.3, "acc": 0.95, "f1": 0.8}
    assert record.params == {"depth": 4, "trees": 100}
    assert record.tags == {"team": "ml", "stage": "dev"}
    assert [a["path"] for a in record.artifacts] == ["model.txt"]
    assert nbtrack.history(run.id, "acc")["step"].tolist() == [10, 11]


def test_without_an_active_run_logging_says_what_to_do(tmp_store: Path) -> None:
    with pytest.raises(nbtrack.InactiveRunError, match="no active run"):
        nbtrack.log(loss=1)
    with pytest.raises(nbtrack.InactiveRunError):
        nbtrack.end_run()


def test_logging_to_an_ended_run_is_refused(tmp_store: Path) -> None:
    with nbtrack.run() as run:
        pass
    with pytest.raises(nbtrack.InactiveRunError, match="has ended"):
        run.log(loss=1)


def test_steps_count_per_key_and_follow_explicit_steps(tmp_store: Path) -> None:
    with nbtrack.run() as run:
        run.log(loss=1.0)
        run.log(loss=0.9, acc=0.1)
        run.log(step=10, loss=0.5)
        run.log(loss=0.4)
        run.log(acc=0.2)
    points = nbtrack.history(run.id)
    steps = points.groupby("key")["step"].apply(list).to_dict()
    assert steps == {"loss": [0, 1, 10, 11], "acc": [0, 1]}
    assert points["timestamp"].notna().all()


def test_typed_params_round_trip(tmp_store: Path) -> None:
    params = {
        "int": 3, "float": 0.1, "str": "rf", "bool": True, "none": None,
        "list": [64, 64], "dict": {"a": 1, "b": [True, "x"]}, "tuple": (1, 2.5),
        "big": 2**62, "neg": -1e-5, "np_int": np.int64(7), "np_float": np.float32(0.5),
    }  # fmt: skip
    with nbtrack.run(params=params) as run:
        pass
    got = nbtrack.get_run(run.id).params
    assert got["int"] == 3 and type(got["int"]) is int
    assert got["float"] == 0.1 and type(got["float"]) is float
    assert got["str"] == "rf" and got["bool"] is True and got["none"] is None
    assert got["list"] == [64, 64] and got["dict"] == {"a": 1, "b": [True, "x"]}
    assert got["tuple"] == [1, 2.5]
    assert got["big"] == 2**62 and got["neg"] == -1e-5
    assert got["np_int"] == 7 and type(got["np_int"]) is int
    assert got["np_float"] == 0.5 and type(got["np_float"]) is float


def test_search_columns_keep_param_types(tmp_store: Path) -> None:
    with nbtrack.run(params={"n": 1, "lr": 0.1, "model": "rf"}):
        pass
    with nbtrack.run(params={"n": 2}):
        pass
    frame = nbtrack.search(order_by="params.n")
    assert frame["params.n"].tolist() == [1, 2]
    assert str(frame["params.n"].dtype) == "int64"
    assert frame["params.lr"].iloc[0] == 0.1 and math.isnan(frame["params.lr"].iloc[1])
    assert frame["params.model"].iloc[0] == "rf" and pd.isna(frame["params.model"].iloc[1])


def test_later_param_and_tag_values_win(tmp_store: Path) -> None:
    with nbtrack.run(tags={"stage": "dev"}) as run:
        run.log_param("lr", 0.1)
        run.log_param("lr", 0.2)
        run.set_tag("stage", "prod")
    record = nbtrack.get_run(run.id)
    assert record.params["lr"] == 0.2 and record.tags["stage"] == "prod"


def test_metric_values_accept_numbers_and_keep_nan_and_inf(tmp_store: Path) -> None:
    with nbtrack.run() as run:
        run.log(a=1, b=True, c=np.float32(0.5), d=np.int64(3), e=float("nan"), f=-math.inf)
    metrics = nbtrack.get_run(run.id).metrics
    assert (metrics["a"], metrics["b"], metrics["c"], metrics["d"]) == (1.0, 1.0, 0.5, 3.0)
    assert math.isnan(metrics["e"]) and metrics["f"] == -math.inf


def test_non_numeric_metric_names_the_key_and_logs_nothing_of_the_call(tmp_store: Path) -> None:
    with nbtrack.run() as run:
        run.log(loss=1.0)
        with pytest.raises(TypeError, match="'acc'"):
            run.log(loss=0.5, acc="high")
        with pytest.raises(TypeError, match="'vec'"):
            run.log(vec=np.array([1.0, 2.0]))
        run.log(loss=0.25)
    points = nbtrack.history(run.id)
    assert points["key"].tolist() == ["loss", "loss"]
    assert points["value"].tolist() == [1.0, 0.25]
    assert points["step"].tolist() == [0, 1]


def test_bad_step_is_a_type_error(tmp_store: Path) -> None:
    with nbtrack.run() as run, pytest.raises(TypeError, match="step"):
        run.log(step=1.5, loss=1)


def test_artifact_folders_are_copied_with_size_and_hash(tmp_store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("hello")
    (folder / "sub" / "b.bin").write_bytes(b"\x00" * 10)
    with nbtrack.run() as run:
        run.log_artifact(folder)
        with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
            run.log_artifact(tmp_path / "missing.txt")
    artifacts = nbtrack.get_run(run.id).artifacts
    assert [(a["path"], a["size"]) for a in artifacts] == [
        ("plots/a.txt", 5),
        ("plots/sub/b.bin", 10),
    ]
    assert artifacts[0]["sha256"] == (
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    )
    assert f"artifacts/{run.id}/plots/sub/b.bin" in stored(tmp_store, "artifacts")


def test_own_unflushed_rows_are_visible_at_once(tmp_store: Path) -> None:
    with nbtrack.run() as run:
        run.log(loss=0.1)
        assert not stored(tmp_store, "segments/metrics")
        assert nbtrack.get_run(run.id).metrics == {"loss": 0.1}
        assert nbtrack.search()["status"].tolist() == ["running"]
    nbtrack.flush()
    assert stored(tmp_store, "segments/metrics")
    frame = nbtrack.search()
    assert frame["status"].tolist() == ["finished"] and frame["metrics.loss"].tolist() == [0.1]
