"""The read side: search, get_run, history, sql, delete/restore."""

from __future__ import annotations

from pathlib import Path

import pytest

import nbtrack


@pytest.fixture
def three_runs(tmp_store: Path) -> list[str]:
    ids = []
    for i, (acc, model) in enumerate([(0.7, "rf"), (0.9, "svm"), (0.8, None)]):
        tags = {"model": model} if model else {}
        with nbtrack.run(f"run-{i}", experiment="a" if i < 2 else "b", tags=tags,
                         params={"depth": i + 1}) as run:  # fmt: skip
            run.log(acc=acc - 0.1)
            run.log(acc=acc)
        ids.append(run.id)
    return ids


def test_search_has_mlflow_style_columns(three_runs: list[str]) -> None:
    frame = nbtrack.search()
    assert list(frame.columns[:8]) == [
        "run_id", "experiment", "name", "status", "start_time", "end_time", "duration",
        "parent_run_id",
    ]  # fmt: skip
    assert {"params.depth", "metrics.acc", "tags.model"} <= set(frame.columns)
    assert frame["run_id"].tolist() == three_runs[::-1]  # newest first by default
    assert str(frame["start_time"].dtype).startswith("datetime64")


def test_search_orders_limits_and_picks_an_experiment(three_runs: list[str]) -> None:
    by_acc = nbtrack.search(order_by=["metrics.acc DESC"])
    assert by_acc["metrics.acc"].tolist() == [0.9, 0.8, 0.7]
    assert nbtrack.search(order_by="metrics.acc", limit=1)["run_id"].tolist() == [three_runs[0]]
    assert nbtrack.search(experiment="b")["run_id"].tolist() == [three_runs[2]]
    assert nbtrack.search(order_by=["tags.model DESC"])["tags.model"].tolist()[:2] == ["svm", "rf"]
    by_name = nbtrack.search(order_by=["experiment DESC", "name"])
    assert by_name["name"].tolist() == ["run-2", "run-0", "run-1"]


def test_search_puts_missing_values_last_in_both_directions(three_runs: list[str]) -> None:
    for direction in ("ASC", "DESC"):
        frame = nbtrack.search(order_by=f"tags.model {direction}")
        assert frame["run_id"].iloc[-1] == three_runs[2]


def test_params_order_as_numbers_not_text(tmp_store: Path) -> None:
    for lr in (0.1, 0.02, 0.003):
        with nbtrack.run(params={"lr": lr}):
            pass
    assert nbtrack.search(order_by="params.lr")["params.lr"].tolist() == [0.003, 0.02, 0.1]


def test_bad_order_by_says_what_is_wrong(three_runs: list[str]) -> None:
    with pytest.raises(ValueError, match="did you mean 'params'"):
        nbtrack.search(order_by="parms.depth")
    with pytest.raises(ValueError, match="unknown column 'colour'"):
        nbtrack.search(order_by="colour")


def test_backticked_keys_with_odd_characters(tmp_store: Path) -> None:
    with nbtrack.run() as run:
        run.log_metric("val/loss", 0.5)
    frame = nbtrack.search(order_by="metrics.`val/loss` DESC")
    assert frame["metrics.val/loss"].tolist() == [0.5]
    assert nbtrack.get_run(run.id).metrics == {"val/loss": 0.5}


def test_delete_and_restore(three_runs: list[str]) -> None:
    nbtrack.delete_run(three_runs[0])
    assert three_runs[0] not in nbtrack.search()["run_id"].tolist()
    assert three_runs[0] in nbtrack.search(include_deleted=True)["run_id"].tolist()
    assert nbtrack.get_run(three_runs[0]).deleted
    nbtrack.restore_run(three_runs[0])
    assert three_runs[0] in nbtrack.search()["run_id"].tolist()
    with pytest.raises(nbtrack.RunNotFoundError):
        nbtrack.delete_run("nosuchrun0")


def test_get_run_takes_a_unique_prefix(three_runs: list[str]) -> None:
    run_id = three_runs[1]
    assert nbtrack.get_run(run_id[:6]).id == run_id
    with pytest.raises(nbtrack.RunNotFoundError, match="no run 'zzzzzzzz'"):
        nbtrack.get_run("zzzzzzzz")
    with pytest.raises(nbtrack.RunNotFoundError):
        nbtrack.get_run(run_id[:2])  # too short to stand for an id


def test_history_of_several_runs_and_keys(three_runs: list[str]) -> None:
    points = nbtrack.history(three_runs[:2], keys=["acc"])
    assert list(points.columns) == ["run_id", "key", "step", "timestamp", "value"]
    assert points.groupby("run_id")["value"].apply(list).to_dict() == {
        three_runs[0]: [pytest.approx(0.6), 0.7],
        three_runs[1]: [pytest.approx(0.8), 0.9],
    }
    assert nbtrack.history(three_runs[0], keys="nothing").empty


def test_sql_views(three_runs: list[str]) -> None:
    nbtrack.flush()
    tables = {"runs", "params", "metrics", "tags", "latest_metrics", "events", "artifacts"}
    for view in tables:
        nbtrack.sql(f"SELECT * FROM {view} LIMIT 1").fetchall()
    assert nbtrack.sql("SELECT count(*) FROM metrics").fetchall()[0][0] == 6
    best = nbtrack.sql(
        "SELECT r.name FROM runs r JOIN latest_metrics m USING (run_id) "
        "WHERE m.key = 'acc' ORDER BY m.value DESC LIMIT 1"
    ).fetchall()[0]
    assert best == ("run-1",)
    row = nbtrack.sql(
        f"SELECT min, max, count FROM latest_metrics WHERE run_id = '{three_runs[0]}'"
    ).fetchall()[0]
    assert row == (pytest.approx(0.6), 0.7, 2)


def test_history_is_in_step_order_whatever_the_logging_order(tmp_store: Path) -> None:
    with nbtrack.run() as a, nbtrack.run() as b:
        for step in (5, 1, 3):
            a.log(step=step, x=float(step))
            b.log(step=step, x=-float(step))
            nbtrack.flush()
        a.log(step=0, y=1.0)
    points = nbtrack.history([b.id, a.id])
    expected = sorted([(a.id, "x", s) for s in (1, 3, 5)] + [(a.id, "y", 0)]
                      + [(b.id, "x", s) for s in (1, 3, 5)])  # fmt: skip
    assert list(zip(points["run_id"], points["key"], points["step"], strict=True)) == expected
