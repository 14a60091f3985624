"""Run snapshots: after compaction a new process answers queries from one set of files, with the
same answers as from the segments, and goes back to the segments as soon as the store moves on."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import run_python, start_python, wait_for

import nbtrack
import nbtrack.store
from nbtrack.locations import parse_location
from nbtrack.query.browse import runs_page
from nbtrack.query.search import RunQuery, column_keys
from nbtrack.store import Store, autosnapshot, get_store
from nbtrack.store.reader import Reader
from nbtrack.store.snapshots import new_id, published

FILTER = "params.depth >= 2 and metrics.acc > 0.1 and tags.model = 'rf'"


def new_process_view(monkeypatch: pytest.MonkeyPatch, root: object) -> Store:
    """The store as a new process opens it: a Store with a reader of its own."""
    location = parse_location(root)
    store = Store(location)
    monkeypatch.setitem(nbtrack.store._stores, location, store)
    return store


def answers() -> dict[str, object]:
    """What users ask of a store, as comparable values."""
    ids = sorted(nbtrack.search(include_deleted=True)["run_id"])
    total, _, page = RunQuery(FILTER, order_by=["metrics.acc DESC"]).read_page(
        50, 0, ["params.depth", "metrics.acc", "tags.model"]
    )
    return {
        "all": nbtrack.search(include_deleted=True).sort_values("run_id", ignore_index=True),
        "filtered": nbtrack.search(FILTER, order_by=["metrics.acc DESC", "name"]),
        "page": (total, page),
        "datasets page": RunQuery(experiment="big").read_page(5, 0, ["datasets", "metrics.acc"]),
        "records": [nbtrack.get_run(i) for i in ids],
        "history": nbtrack.history(ids).sort_values(["run_id", "key", "step"], ignore_index=True),
        "experiments": nbtrack.search(experiment="b*")["name"].tolist(),
        "keys": (column_keys(), column_keys("big")),
        "sidebar": runs_page(FILTER, order_by="metrics.acc DESC", limit=3),
        **{
            f"search {filter} by {order}": nbtrack.search(filter, order_by=[order, "name"])
            for filter, order in [
                ("params.kind = 'a' and params.flag = true", "params.lr"),
                ("metrics.loss IS NULL or params.missing = 1", "min(metrics.acc) DESC"),
                ("tags.model LIKE 'r%' and params.lr < 0.05", "max(metrics.acc)"),
                ("params.layers = '[2, 2]' or metrics.acc >= 0.5", "params.kind DESC"),
                ("status = 'crashed' or name IN ('parent', 'broken')", "tags.model"),
            ]
        },
    }


def assert_same(got: dict[str, object], expected: dict[str, object]) -> None:
    for key, value in expected.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(got[key], value)
        else:
            assert got[key] == value, key


def log_runs(n: int, experiment: str = "base") -> list[str]:
    ids = []
    for i in range(n):
        with nbtrack.run(f"r-{i}", experiment=experiment) as run:
            run.log_params({"depth": i, "lr": 0.1 / (i + 1), "kind": ["a", "b"][i % 2],
                            "flag": i % 2 == 0, "layers": [i, i]})  # fmt: skip
            run.set_tags({"model": "rf" if i % 3 else "mlp"})
            for step in range(5):
                run.log(acc=i / n + step / 100, loss=1 / (step + 1))
            ids.append(run.id)
    return ids


@pytest.fixture
def varied_store(tmp_store: Path, tmp_path: Path) -> Path:
    """Finished, failed, nested and deleted runs, typed params, a re-logged param and a tag,
    and a run whose process was killed while it ran."""
    ids = log_runs(6)
    with nbtrack.run("parent", experiment="big") as parent:
        with nbtrack.run("child", experiment="big") as child:
            child.log(acc=0.5)
            child.log_input(np.eye(2), name="grid", context="train")
        parent.log_param("depth", 3)
        parent.log_param("depth", 4)
        parent.set_tag("model", "rf")
        parent.set_tag("model", "gbm")
    with pytest.raises(ZeroDivisionError), nbtrack.run("broken", experiment="big") as run:
        run.log(acc=0.2)
        1 / 0  # noqa: B018
    nbtrack.delete_run(ids[0])
    nbtrack.flush()
    proc = start_python(
        "import nbtrack, signal\nrun = nbtrack.start_run('killed', params={'depth': 9})\n"
        "run.log(acc=0.9)\nnbtrack.flush()\nprint(run.id, flush=True)\nsignal.pause()\n",
        tmp_store, tmp_path, "killed.py",
    )  # fmt: skip
    proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    return tmp_store


@pytest.mark.parametrize(
    ("wide_keys", "chunk_runs"),
    [(1000, 200_000), (1000, 3), (1, 3)],
    ids=["a column per key", "runs written 3 at a time", "too many keys"],
)
def test_a_new_process_answers_from_the_snapshot_as_from_the_segments(
    varied_store: Path, monkeypatch: pytest.MonkeyPatch, wide_keys: int, chunk_runs: int
) -> None:
    monkeypatch.setattr(nbtrack.store.reader, "WIDE_KEYS", wide_keys)
    monkeypatch.setattr(nbtrack.store.reader, "WIDE_CHUNK_RUNS", chunk_runs)
    new_process_view(monkeypatch, varied_store)
    expected = answers()
    assert get_store().reader.snapshot_id is None
    assert "crashed" in set(expected["all"]["status"])
    nbtrack.compact()
    layout = get_store().layout
    assert len(published(layout)) == 1
    assert not [p for p in layout.segments.iterdir() if p.is_dir() and p.name.startswith(".")]
    runs = pd.read_parquet(layout.fetch(f"snapshots/{published(layout)[0]}.runs.parquet"))
    in_order = runs.sort_values(["start_time", "run_id"], ascending=[False, True])
    assert runs["run_id"].tolist() == in_order["run_id"].tolist()

    store = new_process_view(monkeypatch, varied_store)
    nbtrack.search(limit=1)
    assert store.reader.snapshot_id == published(store.layout)[0]
    with store.reader.snapshot() as snap:  # a filter reads one table, or joins the views
        assert (snap.wide_columns is not None) == (wide_keys > 1)
    assert_same(answers(), expected)
    assert store.reader.snapshot_id is not None  # history read the segments it names
    view = nbtrack.compare(experiment="base")  # a sweep view, and its check for changes
    assert len(view.runs) == 5 and view._sweep["params"]
    assert store.reader.snapshot_id is not None

    nbtrack.sql("SELECT count(*) FROM events").fetchall()  # raw rows: from the segments
    assert store.reader.snapshot_id is None
    assert_same(answers(), expected)


def test_a_readers_first_queries_read_the_snapshot_file_then_its_copy_in_memory(
    varied_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbtrack.compact()
    expected = answers()
    store = new_process_view(monkeypatch, varied_store)
    with store.reader.snapshot() as snap:  # (a page is read by position: runs are in a file)
        assert store.reader.snapshot_id is not None and snap.pages_by_position
        total, _, page = RunQuery(FILTER, order_by=["metrics.acc DESC"]).read_page(
            50, 0, ["params.depth", "metrics.acc", "tags.model"], snap
        )
    assert (total, page) == expected["page"]
    with store.reader.snapshot() as snap:  # the second read
        assert store.reader.snapshot_id is not None and not snap.pages_by_position
    assert_same(answers(), expected)


def from_segments(monkeypatch: pytest.MonkeyPatch, root: Path) -> dict[str, object]:
    """answers() as a new process that reads every segment gives them."""
    store = new_process_view(monkeypatch, root)
    nbtrack.sql("SELECT count(*) FROM events").fetchall()
    assert store.reader.snapshot_id is None
    return answers()


def test_newer_segments_apply_on_top_of_the_snapshot(
    varied_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = nbtrack.search(include_deleted=True).sort_values("start_time")["run_id"].tolist()
    nbtrack.compact()
    store = new_process_view(monkeypatch, varied_store)
    snapshot = published(store.layout)[0]
    before = nbtrack.search()
    assert store.reader.snapshot_id == snapshot

    # another process adds a run, changes older ones (params, tags, metrics, deletion) ...
    run_python(
        f"""import nbtrack
with nbtrack.run('later', experiment='big', params={{'depth': 1}}) as run:
    run.log(acc=0.99)
nbtrack.delete_run({ids[2]!r})
nbtrack.restore_run({ids[0]!r})
from nbtrack.tracking import resume_run
with resume_run({ids[1]!r}) as old:
    old.log_param('depth', 40)
    old.set_tag('model', 'changed')
    old.log(acc=-1.0, step=100)
""", varied_store, tmp_path)  # fmt: skip
    after = nbtrack.search()
    assert store.reader.snapshot_id == snapshot  # its rows, with the newer segments on top
    assert after["name"].iloc[0] == "later" and len(after) == len(before) + 1
    changed = nbtrack.get_run(ids[1])
    assert changed.params["depth"] == 40 and changed.tags["model"] == "changed"
    assert changed.metrics["acc"] == -1.0
    assert_same(answers(), from_segments(monkeypatch, varied_store))

    monkeypatch.setitem(nbtrack.store._stores, parse_location(varied_store), store)
    with nbtrack.run("mine") as run:  # this process's own rows, unflushed
        run.log(acc=0.01)
    assert nbtrack.search(limit=1)["name"].tolist() == ["mine"]
    assert store.reader.snapshot_id == snapshot
    nbtrack.flush()
    assert_same(answers(), from_segments(monkeypatch, varied_store))


def test_a_compaction_of_what_it_covers_leaves_the_snapshot(
    varied_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbtrack.compact()
    store = new_process_view(monkeypatch, varied_store)
    count = len(nbtrack.search())
    run_python("import nbtrack\nwith nbtrack.run('later'):\n    pass\n", varied_store, tmp_path)
    assert len(nbtrack.search()) == count + 1 and store.reader.snapshot_id is not None
    # merging the segments it covers with newer ones, with no new snapshot (a writer's own
    # merge does that): the reader reads the segments again, and sees each run once
    from nbtrack.store.compaction import compact_segments

    compact_segments(store.layout)
    assert len(nbtrack.search()) == count + 1
    assert store.reader.snapshot_id is None


def test_a_run_whose_writer_dies_after_the_snapshot_shows_crashed(
    tmp_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_runs(2)
    proc = start_python(
        "import nbtrack, signal\nrun = nbtrack.start_run('live')\nrun.log(acc=0.5)\n"
        "nbtrack.flush()\nprint(run.id, flush=True)\nsignal.pause()\n",
        tmp_store, tmp_path, "live.py",
    )  # fmt: skip
    run_id = proc.stdout.readline().strip()
    nbtrack.compact()
    store = new_process_view(monkeypatch, tmp_store)
    try:
        assert nbtrack.get_run(run_id).status == "running"
        assert store.reader.snapshot_id is not None
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    wait_for(lambda: nbtrack.get_run(run_id).status == "crashed", "the run to show crashed")
    assert store.reader.snapshot_id is not None  # its state is derived as it is read


def test_newer_compactions_replace_snapshots_under_a_reader(
    tmp_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_runs(3)
    nbtrack.flush()
    nbtrack.compact()
    store = new_process_view(monkeypatch, tmp_store)
    assert len(nbtrack.search()) == 3 and store.reader.snapshot_id is not None
    for i in range(3):  # each adds a run (from this process) and a snapshot; two are kept
        new_process_view(monkeypatch, tmp_store)
        log_runs(1, experiment=f"more-{i}")
        nbtrack.flush()
        nbtrack.compact()
    assert len(published(store.layout)) == 2
    monkeypatch.setitem(nbtrack.store._stores, parse_location(tmp_store), store)
    assert len(nbtrack.search()) == 6  # its snapshot is gone: it reads the newest one
    assert store.reader.snapshot_id == published(store.layout)[-1]


def test_a_damaged_snapshot_is_passed_over(
    tmp_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_runs(3)
    nbtrack.flush()
    expected = nbtrack.search()
    nbtrack.compact()
    layout = get_store().layout
    (layout.snapshots / f"{published(layout)[0]}.runs.parquet").write_bytes(b"not parquet")
    store = new_process_view(monkeypatch, tmp_store)
    pd.testing.assert_frame_equal(nbtrack.search(), expected)
    assert store.reader.snapshot_id is None


def test_an_unchanged_store_gets_no_new_snapshot(tmp_store: Path) -> None:
    log_runs(2)
    nbtrack.flush()
    nbtrack.compact()
    nbtrack.compact()
    assert len(published(get_store().layout)) == 1


def test_a_snapshot_is_built_from_the_previous_one_and_the_newer_segments(
    varied_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbtrack.compact()
    layout = get_store().layout
    first = published(layout)[-1]
    ids = nbtrack.search(include_deleted=True).sort_values("start_time")["run_id"].tolist()
    run_python(
        f"""import nbtrack
with nbtrack.run('later', experiment='big', params={{'depth': 1}}) as run:
    for step in range(3):
        run.log(acc=0.9 + step / 100, step=step)
nbtrack.delete_run({ids[2]!r})
from nbtrack.tracking import resume_run
with resume_run({ids[1]!r}) as old:
    old.log_param('depth', 40)
    old.set_tag('model', 'changed')
    old.log(acc=-1.0, step=100)
""", varied_store, tmp_path)  # fmt: skip
    reader = Reader(layout, lambda: None)
    try:
        second = reader.write_snapshot(new_id())
        assert reader.snapshot_id == first  # (its rows, and only the newer segments read)
    finally:
        reader.close()
    assert second is not None and published(layout)[-1] == second
    store = new_process_view(monkeypatch, varied_store)
    got = answers()
    assert store.reader.snapshot_id == second
    assert_same(got, from_segments(monkeypatch, varied_store))
    # the segments of its points are named, as if built from the segments
    store = new_process_view(monkeypatch, varied_store)
    assert len(nbtrack.history(ids[1], "acc")) == 6


def test_writing_a_snapshot_in_the_background_is_due_and_bounded(
    tmp_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = get_store().layout
    assert autosnapshot.due(layout)  # none yet
    log_runs(2)
    nbtrack.flush()
    with layout.lock(".compact.lock", "compact", wait=True):  # another process compacts
        assert autosnapshot.refresh(layout) is None
    monkeypatch.setattr(autosnapshot, "MAX_BYTES", 100)
    assert autosnapshot.refresh(layout) is None  # too much to read: `nbtrack compact` it
    monkeypatch.undo()
    written = autosnapshot.refresh(layout)
    assert written is not None and published(layout) == [written]
    assert not autosnapshot.due(layout)
    assert autosnapshot.due(layout, now=time.time() + autosnapshot.EVERY_S + 1)
    assert autosnapshot.refresh(layout) is None  # current

    writer = get_store().writer  # a writer with it turned off starts none
    writer._unsnapshotted = 100
    monkeypatch.setattr(autosnapshot, "EVERY_S", 0.0)
    writer.refresh_snapshot()
    assert writer._snapshotter is None
    monkeypatch.setenv("NBTRACK_AUTO_SNAPSHOT", "maybe")
    with pytest.raises(ValueError, match="NBTRACK_AUTO_SNAPSHOT must be 1 or 0"):
        writer.refresh_snapshot()


# A script whose writer flushes `flushes` times, 100 points each (a bounded store, however
# slow the machine: a background snapshot skips stores past autosnapshot.MAX_BYTES).
LOGGING_FOR_A_WHILE = """import time
import nbtrack, nbtrack.store
writer = nbtrack.store.get_store().writer
with nbtrack.run('long', params={{'lr': 0.1}}) as run:
    step = 0
    while writer._flushes < {flushes}:
        seen = writer._flushes
        for _ in range(100):
            run.log(loss=1 / (step + 1), step=step)
            step += 1
        while writer._flushes == seen:  # until the writer has flushed them
            time.sleep(0.001)
print(run.id, flush=True)
{after}
"""


def assert_left_a_snapshot(
    store_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flushes: int, after: str
) -> None:
    """A script logging until its writer flushed ``flushes`` times, then running ``after``,
    leaves a snapshot that a new process reads, with the same answers as the segments."""
    log_runs(3)
    nbtrack.flush()
    layout = get_store().layout
    proc = start_python(
        LOGGING_FOR_A_WHILE.format(flushes=flushes, after=after), store_root, tmp_path,
        "long.py", NBTRACK_FLUSH_INTERVAL="0.01",
    )  # fmt: skip
    try:
        run_id = proc.stdout.readline().strip()
        wait_for(lambda: published(layout), "a snapshot written in the background")
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    store = new_process_view(monkeypatch, store_root)
    assert nbtrack.get_run(run_id).params["lr"] == 0.1
    assert store.reader.snapshot_id == published(layout)[-1]
    assert_same(answers(), from_segments(monkeypatch, store_root))


@pytest.mark.folder_only  # (the bucket's case: the next test)
def test_a_writer_logging_for_a_while_refreshes_the_snapshot(
    tmp_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbtrack.store.writer import AUTO_COMPACT_EVERY

    after = "import signal\nsignal.pause()"
    assert_left_a_snapshot(tmp_store, tmp_path, monkeypatch, AUTO_COMPACT_EVERY, after)


def test_a_script_that_logged_for_a_while_leaves_a_snapshot_as_it_exits(
    tmp_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbtrack.store.writer import EXIT_SNAPSHOT_FLUSHES

    assert_left_a_snapshot(tmp_store, tmp_path, monkeypatch, EXIT_SNAPSHOT_FLUSHES, "")


def test_files_a_killed_snapshot_writer_left_are_removed_later(tmp_store: Path) -> None:
    log_runs(2)
    nbtrack.flush()
    layout = get_store().layout
    layout.snapshots.mkdir(parents=True, exist_ok=True)
    old, recent = layout.snapshots / ".s1.runs.parquet.tmp", layout.snapshots / ".s2.tmp"
    for path in (old, recent):
        path.write_bytes(b"partial")
    os.utime(old, (time.time() - 2 * 3600, time.time() - 2 * 3600))
    nbtrack.compact()
    assert not old.exists() and recent.exists()  # (one may still be being written)
