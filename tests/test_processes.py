"""Real processes on one store: exits, crashes, stalls and many concurrent writers and readers."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time
from pathlib import Path

import pytest
from helpers import run_python, start_python, wait_for
from s3 import read_stored, stored

import nbtrack
from nbtrack.config import settings


def test_a_run_is_readable_after_its_process_exited(tmp_store: Path, tmp_path: Path) -> None:
    out = run_python(
        """
        import nbtrack
        with nbtrack.run("script", params={"lr": 0.1}) as run:
            for i in range(100):
                run.log(loss=1 / (i + 1))
        print(run.id)
        """,
        tmp_store, tmp_path,
    )  # fmt: skip
    run_id = out.strip()
    for _ in range(2):  # and again, from the cache
        record = nbtrack.get_run(run_id)
        assert record.status == "finished" and record.params == {"lr": 0.1}
        assert record.metrics == {"loss": 0.01}
    assert len(nbtrack.history(run_id, "loss")) == 100


def test_runs_left_open_end_at_exit(tmp_store: Path, tmp_path: Path) -> None:
    run_python(
        """
        import nbtrack
        nbtrack.start_run("open")
        nbtrack.log(acc=1)
        """,
        tmp_store, tmp_path, name="open.py",
    )  # fmt: skip
    script = tmp_path / "boom.py"
    script.write_text("import nbtrack\nnbtrack.start_run('boom')\nraise RuntimeError('boom')\n")
    proc = start_python(script.read_text(), tmp_store, tmp_path, "boom.py")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "RuntimeError: boom" in err
    frame = nbtrack.search(order_by="name")
    assert frame[["name", "status"]].values.tolist() == [["boom", "failed"], ["open", "finished"]]
    assert "RuntimeError: boom" in nbtrack.get_run(frame["run_id"][0]).error


WRITER = """
import os, sys, time
import nbtrack
start = float(os.environ["START_AT"])
time.sleep(max(0.0, start - time.time()))
with nbtrack.run(f"writer-{sys.argv[0][-4]}", params={"points": 20000}) as run:
    for i in range(20000):
        run.log(x=float(i))
        if i % 2000 == 0:
            time.sleep(0.05)  # spread the logging over several flushes
print(run.id)
"""

READER = """
import os, time
from pathlib import Path
import nbtrack
start = float(os.environ["START_AT"])
time.sleep(max(0.0, start - time.time()))
queries = 0
while not Path(os.environ["DONE"]).exists():
    try:
        frame = nbtrack.search(order_by=["metrics.x DESC"])
        for run_id in frame["run_id"][:2]:
            nbtrack.history(run_id, "x")
    except nbtrack.RunNotFoundError:
        pass
    queries += 1
print(queries)
"""


def test_eight_writers_and_two_readers_race_on_a_new_store(tmp_path: Path) -> None:
    store = tmp_path / "shared"  # does not exist yet: the writers race to create it
    nbtrack.set_store(store)
    start = str(time.time() + 3.0)
    done = tmp_path / "done"
    writers = [start_python(WRITER, store, tmp_path, f"w{i}.py", START_AT=start) for i in range(8)]
    readers = [
        start_python(READER, store, tmp_path, f"r{i}.py", START_AT=start, DONE=str(done))
        for i in range(2)
    ]
    ids = []
    for proc in writers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "Warning" not in err, err
        ids.append(out.strip())
    done.touch()
    for proc in readers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "Warning" not in err, err
        assert int(out) > 0
    frame = nbtrack.search()
    assert sorted(frame["run_id"]) == sorted(ids)
    assert set(frame["status"]) == {"finished"}
    points = nbtrack.history(ids)
    assert len(points) == 8 * 20000
    for _, series in points.groupby("run_id"):
        assert series["step"].tolist() == list(range(20000))
        assert series["value"].tolist() == [float(i) for i in range(20000)]


LOGGER = """
import time
import nbtrack
progress = open("progress.txt", "w")
with nbtrack.run("doomed") as run:
    print(run.id, flush=True)
    i = 0
    while True:
        run.log(i=float(i), t=time.time())
        progress.write(f"{i}\\n")  # written once logged: the store must hold at least this much
        progress.flush()
        i += 1
        time.sleep(0.001)
"""


def _logged_points(run_id: str, at_least: int = 1) -> None:
    """Wait until another process's run shows ``at_least`` points."""
    wait_for(lambda: len(nbtrack.history(run_id, "i")) >= at_least, f"points of run {run_id}")


def _last_logged(folder: Path) -> int:
    return int((folder / "progress.txt").read_text().split()[-1])


def test_sigkill_loses_at_most_the_last_second(tmp_store: Path, tmp_path: Path) -> None:
    proc = start_python(LOGGER, tmp_store, tmp_path, "logger.py")
    run_id = proc.stdout.readline().strip()
    _logged_points(run_id, at_least=1000)  # several flushes in
    killed_at = time.time()
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    points = nbtrack.history(run_id, "t")
    # A flush starts at most 1 s apart and takes a few ms; allow scheduling slack on top.
    assert points["value"].max() >= killed_at - 1.5
    assert points["step"].tolist() == list(range(len(points)))  # no gaps, no doubles
    assert (points["value"].diff().dropna() > 0).all()
    # a reader checks the liveness of writers again at most a second after it last looked
    wait_for(lambda: nbtrack.get_run(run_id).status == "crashed", "the run to show crashed")
    assert nbtrack.get_run(run_id).metrics["t"] == points["value"].iloc[-1]


def test_sigterm_ends_the_run_killed_with_everything_logged(
    tmp_store: Path, tmp_path: Path
) -> None:
    proc = start_python(LOGGER, tmp_store, tmp_path, "terminated.py")
    run_id = proc.stdout.readline().strip()
    _logged_points(run_id)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGTERM  # it died of the signal, as without nbtrack
    record = nbtrack.get_run(run_id)
    assert (record.status, record.error) == ("killed", "SIGTERM")
    points = nbtrack.history(run_id, "i")
    assert points["value"].tolist() == [float(i) for i in range(len(points))]
    assert len(points) > _last_logged(tmp_path)  # every point logged before the signal was kept
    assert nbtrack.search("status = 'killed'")["run_id"].tolist() == [run_id]


def test_sigterm_goes_on_to_the_programs_own_handler(tmp_store: Path, tmp_path: Path) -> None:
    own_handler = """
    import signal, sys
    def checkpoint_and_exit(signum, frame):
        print("checkpoint saved", flush=True)
        sys.exit(3)
    signal.signal(signal.SIGTERM, checkpoint_and_exit)
    """
    code = textwrap.dedent(own_handler) + LOGGER
    proc = start_python(code, tmp_store, tmp_path, "handled.py")
    run_id = proc.stdout.readline().strip()
    _logged_points(run_id)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3 and "checkpoint saved" in out, err
    assert "Traceback" not in err, err
    record = nbtrack.get_run(run_id)
    assert (record.status, record.error) == ("killed", "SIGTERM")
    assert len(nbtrack.history(run_id, "i")) > _last_logged(tmp_path)


def test_a_stalled_writer_shows_crashed_after_the_heartbeat_timeout(
    tmp_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "heartbeat_timeout", 2.0)
    proc = start_python(LOGGER, tmp_store, tmp_path, "stalled.py", NBTRACK_HEARTBEAT_TIMEOUT="2")
    run_id = proc.stdout.readline().strip()

    def status() -> str:
        return nbtrack.get_run(run_id).status

    try:
        wait_for(lambda: status() == "running", "the run to show running")
        os.kill(proc.pid, signal.SIGSTOP)  # alive, but its heartbeat stops
        wait_for(lambda: status() == "crashed", "the stalled run to show crashed")
        os.kill(proc.pid, signal.SIGCONT)
        wait_for(lambda: status() == "running", "the resumed run to show running again")
    finally:
        proc.kill()
        proc.communicate()


def test_heartbeat_file_names_its_process(tmp_store: Path) -> None:
    with nbtrack.run():
        pass
    beats = stored(tmp_store, "writers")
    assert [json.loads(read_stored(tmp_store, b))["pid"] for b in beats] == [os.getpid()]


def test_a_forked_child_neither_duplicates_nor_ends_its_parents_run(
    tmp_store: Path, tmp_path: Path
) -> None:
    out = run_python(
        """
        import os, sys
        import nbtrack
        with nbtrack.run("parent") as run:
            for i in range(10):
                run.log(x=float(i))
            pid = os.fork()
            if pid == 0:  # the child logs one point of its own, then exits normally
                run.log(child=1.0)
                sys.exit(0)
            os.waitpid(pid, 0)
            for i in range(10, 20):
                run.log(x=float(i))
        print(run.id)
        """,
        tmp_store, tmp_path, name="fork.py",
    )  # fmt: skip
    run_id = out.strip()
    assert nbtrack.history(run_id, "x")["value"].tolist() == [float(i) for i in range(20)]
    assert nbtrack.history(run_id, "child")["value"].tolist() == [1.0]
    assert nbtrack.search()["status"].tolist() == ["finished"]
    assert nbtrack.sql("SELECT count(*) FROM events WHERE kind = 'finished'").fetchall() == [(1,)]
