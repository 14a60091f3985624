"""Sweeps: real trials in this process, forked workers, scripts and notebooks in parallel,
Optuna's pruning, interruption and resumption, on a real store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter

import nbformat
import pytest

import nbtrack
from nbtrack.sweeps import Sweep
from tests.helpers import run_cli, script_env, wait_for, write_script

TRIAL_SCRIPT = """
    import os, nbtrack
    p = nbtrack.params()
    for step in range(3):
        nbtrack.log(val_loss=(p["lr"] - 0.01) ** 2 + p["depth"] / 100 + 0.1 / (step + 1), step=step)
    if p["depth"] == 4 and p["lr"] == 0.1:
        raise RuntimeError("diverged")
"""


def trials_of(sweep_run_id: str) -> list[dict]:
    frame = nbtrack.search(f"parent_run_id = '{sweep_run_id}'", order_by="start_time")
    return frame.to_dict("records")


def test_a_grid_sweep_of_a_function_runs_every_combination_as_child_runs(tmp_store):
    def train(lr, depth):
        for step in range(3):
            nbtrack.log(val_loss=lr * depth + 1 / (step + 1), step=step)
        if depth == 3 and lr == 0.1:
            raise ValueError("diverged")
        return lr * depth  # returned, not logged: it becomes the trial's value

    result = nbtrack.sweep(train, {"lr": [0.1, 0.01], "depth": "2:3"}, metric="score",
                           name="grid")  # fmt: skip
    assert isinstance(result, Sweep) and result.run.status == "finished"
    assert [(t.number, t.state) for t in result.trials] == [
        (0, "complete"), (1, "failed"), (2, "complete"), (3, "complete"),
    ]  # fmt: skip
    assert result.best.params == {"lr": 0.01, "depth": 2} and result.best.value == 0.02
    rows = trials_of(result.run.id)
    assert [r["name"] for r in rows] == ["trial-0", "trial-1", "trial-2", "trial-3"]
    assert [r["status"] for r in rows] == ["finished", "failed", "finished", "finished"]
    assert [r["params.depth"] for r in rows] == [2, 3, 2, 3]
    assert "diverged" in nbtrack.get_run(rows[1]["run_id"]).error
    assert rows[2]["metrics.score"] == 0.02
    parent = nbtrack.get_run(result.run.id)
    assert parent.tags["nbtrack.kind"] == "sweep"
    assert parent.tags["nbtrack.sweep.best_run"] == rows[2]["run_id"]
    assert parent.metrics["score"] == 0.02  # the best so far, one step per trial
    best_so_far = nbtrack.history(result.run.id, "score")
    assert best_so_far["value"].tolist() == [0.2, 0.02]


def test_random_sweeps_draw_the_same_params_for_the_same_seed(tmp_store):
    seen: list[list[dict]] = [[], []]
    for name, draws in zip(("a", "b"), seen, strict=True):
        nbtrack.sweep(lambda lr, opt, draws=draws: draws.append({"lr": lr, "opt": opt}),
                      {"lr": "loguniform(1e-4,1e-1)", "opt": "adam,sgd"}, method="random",
                      n_trials=5, seed=7, name=name)  # fmt: skip
    assert seen[0] == seen[1] and len({d["lr"] for d in seen[0]}) == 5
    assert all(1e-4 <= d["lr"] <= 1e-1 and d["opt"] in ("adam", "sgd") for d in seen[0])


def test_forked_workers_run_trials_in_parallel_processes(tmp_store, tmp_path):
    nbtrack.search()  # the parent has a DuckDB connection open when it forks

    def train(x):
        (tmp_path / f"started-{x}").touch()
        # a trial waits for another to run beside it: run one at a time, they would never end
        wait_for(lambda: len(list(tmp_path.glob("started-*"))) >= 2, "a trial in parallel")
        nbtrack.log(value=x * 2)
        nbtrack.log_param("pid", os.getpid())
        return x * 2

    result = nbtrack.sweep(train, {"x": "1:8"}, metric="value", goal="max", n_jobs=4)
    rows = trials_of(result.run.id)
    pids = {r["params.pid"] for r in rows}
    assert sorted(r["params.x"] for r in rows) == list(range(1, 9))
    assert Counter(r["status"] for r in rows) == {"finished": 8}
    assert os.getpid() not in pids and 2 <= len(pids) <= 4  # the trials ran in the 4 workers
    assert result.best.value == 16 and nbtrack.get_run(result.run.id).metrics["value"] == 16


def test_an_optuna_sweep_in_parallel_workers_prunes_and_finishes(tmp_store):
    def objective(x):
        for step in range(5):
            nbtrack.log(loss=(x - 2) ** 2 + 1 / (step + 1), step=step)

    result = nbtrack.sweep(objective, {"x": "uniform(-10,10)"}, method="optuna", n_trials=16,
                           metric="loss", n_jobs=2, seed=0)  # fmt: skip
    assert len(result.trials) == 16 and result.run.status == "finished"
    assert {t.state for t in result.trials} <= {"complete", "pruned"}
    assert len(trials_of(result.run.id)) == 16


def test_optuna_prunes_trials_that_log_a_poor_intermediate_metric(tmp_store):
    def objective(x):
        for step in range(10):
            nbtrack.log(loss=(x - 2) ** 2 + 1 / (step + 1), step=step)

    result = nbtrack.sweep(objective, {"x": "uniform(-10,10)"}, method="optuna", n_trials=25,
                           metric="loss", seed=1, name="tpe")  # fmt: skip
    states = Counter(t.state for t in result.trials)
    assert states["pruned"] > 0 and states["complete"] >= 5 and sum(states.values()) == 25
    pruned = next(t for t in result.trials if t.state == "pruned")
    record = nbtrack.get_run(pruned.run_id)
    assert record.status == "interrupted" and record.error.startswith("pruned at step")
    assert len(nbtrack.history(pruned.run_id, "loss")) < 10  # stopped early
    assert abs(result.best.params["x"] - 2) < 3
    study = tmp_store / "sweeps" / result.run.id / "optuna.journal"
    assert study.exists()


def test_script_trials_run_in_four_parallel_workers_with_no_run_lost_or_doubled(
    tmp_store, tmp_path
):
    write_script(tmp_path / "train.py", TRIAL_SCRIPT)
    done = run_cli(tmp_store, "sweep", "train.py", "-p", "lr=0.001,0.01,0.1", "-p", "depth=2:4",
               "--metric", "val_loss", "-j", "4", "--name", "par", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "9 trials: " in done.stdout and "best val_loss=0.05" in done.stdout
    assert done.stderr.count("trial ") == 9  # one line per trial as it ends
    [sweep_id] = nbtrack.search("tags.`nbtrack.kind` = 'sweep'")["run_id"]
    rows = trials_of(sweep_id)
    combos = Counter((r["params.lr"], r["params.depth"]) for r in rows)
    assert len(combos) == 9 and set(combos.values()) == {1}
    assert Counter(r["status"] for r in rows) == {"finished": 8, "failed": 1}
    assert all(r["tags.nbtrack.kind"] == "script" for r in rows)


def test_a_killed_sweep_resumes_without_running_finished_trials_again(tmp_store, tmp_path):
    write_script(tmp_path / "train.py", """
        import os, signal, nbtrack
        x = nbtrack.params()["x"]
        nbtrack.log(score=x)
        if x == 3 and not os.path.exists("resumed"):
            nbtrack.flush()
            signal.pause()  # the sweep is killed while this trial runs
    """)  # fmt: skip
    sweeping = subprocess.Popen(
        [sys.executable, "-m", "nbtrack.cli", "--store", str(tmp_store), "sweep", "train.py",
         "-p", "x=1:5", "--metric", "score", "--name", "long"],
        env=script_env(tmp_store), cwd=tmp_path, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: len(nbtrack.search("metrics.score = 3")) == 1, "trial 3 to be running")
    finally:
        os.killpg(sweeping.pid, signal.SIGKILL)  # the sweep and the trial it runs
        sweeping.wait()
    (tmp_path / "resumed").touch()
    [sweep_id] = nbtrack.search("tags.`nbtrack.kind` = 'sweep'")["run_id"]
    wait_for(lambda: nbtrack.get_run(sweep_id).status == "crashed", "the sweep to be crashed")
    done = run_cli(tmp_store, "sweep", "--resume", "long", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = trials_of(sweep_id)
    by_x = Counter(r["params.x"] for r in rows)
    assert by_x == {1: 1, 2: 1, 3: 2, 4: 1, 5: 1}  # only the killed trial ran again
    assert sorted(r["status"] for r in rows if r["params.x"] == 3) == ["crashed", "finished"]
    record = nbtrack.get_run(sweep_id)
    assert record.status == "finished" and record.metrics["score"] == 1


def test_ctrl_c_stops_parallel_trials_and_marks_them_interrupted(tmp_store, tmp_path):
    script = write_script(tmp_path / "driver.py", """
        import signal, nbtrack
        def train(x):
            nbtrack.log(started=x)
            nbtrack.flush()
            signal.pause()  # a long training, until Ctrl-C reaches it
        nbtrack.sweep(train, {"x": "1:6"}, n_jobs=2, name="stopped")
    """)  # fmt: skip
    driver = subprocess.Popen([sys.executable, str(script)], env=script_env(tmp_store),
                              cwd=tmp_path, stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_for(lambda: len(nbtrack.search("metrics.started > 0")) == 2, "two trials running")
    driver.send_signal(signal.SIGINT)
    _, err = driver.communicate(timeout=60)
    assert driver.returncode != 0 and "KeyboardInterrupt" in err
    [sweep_id] = nbtrack.search("tags.`nbtrack.kind` = 'sweep'")["run_id"]
    assert nbtrack.get_run(sweep_id).status == "interrupted"
    rows = trials_of(sweep_id)
    assert [r["status"] for r in rows] == ["interrupted", "interrupted"]


def test_a_notebook_sweep_runs_each_trial_in_its_own_kernel(tmp_store, tmp_path):
    cells = [nbformat.v4.new_code_cell(c) for c in (
        "alpha = 1.0", "import os, nbtrack\nnbtrack.log(loss=alpha ** 2, pid=os.getpid())",
    )]  # fmt: skip
    cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "fit.ipynb")
    result = nbtrack.sweep(tmp_path / "fit.ipynb", {"alpha": [0.5, 2.0]}, metric="loss",
                           n_jobs=2)  # fmt: skip
    assert [t.state for t in result.trials] == ["complete", "complete"]
    assert result.best.params == {"alpha": 0.5} and result.best.value == 0.25
    rows = trials_of(result.run.id)
    assert len({r["metrics.pid"] for r in rows}) == 2
    assert all(r["tags.nbtrack.kind"] == "notebook" for r in rows)


def test_bad_sweeps_are_clear_errors_before_any_trial(tmp_store):
    def fn(x):
        return x

    for kwargs, message in [
        ({"space": {"x": "uniform(0,1)"}}, "continuous"),
        ({"space": {"x": [1]}, "method": "random"}, "needs a number of trials"),
        ({"space": {"x": [1]}, "method": "optuna", "n_trials": 3}, "optimises a metric"),
        ({"space": {"x": [1]}, "method": "bayes"}, "unknown sweep method 'bayes'"),
        ({"space": {"x": [1]}, "goal": "up"}, "goal is 'min' or 'max'"),
        ({"space": {"x": [1]}, "name": "nope", "resume": True}, "no sweep named 'nope'"),
    ]:
        with pytest.raises(nbtrack.SweepError, match=message):
            nbtrack.sweep(fn, **kwargs)
    nbtrack.sweep(fn, {"x": [1]}, name="taken")
    with pytest.raises(nbtrack.SweepError, match="already in the store; continue it"):
        nbtrack.sweep(fn, {"x": [1]}, name="taken")
    assert len(nbtrack.search("tags.`nbtrack.kind` = 'sweep'")) == 1


def test_compare_of_a_sweep_shows_its_trials_as_they_finish(tmp_store):
    with nbtrack.run(
        "sweep", tags={"nbtrack.kind": "sweep", "nbtrack.sweep.metric": "loss"}
    ) as sweep:
        view = nbtrack.compare(sweep)
        assert view.runs == [] and view.metric == "loss"
        for depth in (1, 2, 3):
            with nbtrack.run(f"trial-{depth}", params={"depth": depth}):
                nbtrack.log(loss=1 / depth)
        nbtrack.flush()
        wait_for(lambda: len(view.runs) == 3, "the view to pick up the three trials")
        wait_for(lambda: view._sweep, "the sweep view to be drawn")
    assert {p["key"] for p in view._sweep["params"]} == {"depth"}


def test_trials_go_to_the_sweep_s_experiment(tmp_store, tmp_path):
    write_script(tmp_path / "fit.py", "import nbtrack\nnbtrack.log(score=nbtrack.params()['x'])\n")
    nbtrack.set_experiment("elsewhere")
    try:
        nbtrack.sweep(lambda x: x, {"x": [1, 2]}, metric="score", experiment="tuning")
        nbtrack.sweep(tmp_path / "fit.py", {"x": [3]}, metric="score", experiment="tuning")
    finally:
        nbtrack.set_experiment("default")
    assert set(nbtrack.search()["experiment"]) == {"tuning"}
