"""What only a bucket store has: many machines' processes on one bucket, errors of the network
and the credentials, the local cache of segments, leases; the behaviour shared with a folder is
tested on both kinds of store by the other store tests (see conftest.ON_BOTH_STORES)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from helpers import run_python, start_python, wait_for
from s3 import S3Server, read_stored, stored, strict_server

import nbtrack
from nbtrack.config import settings
from nbtrack.locations import StoreURL
from nbtrack.store import get_store
from nbtrack.store.cache import FileCache

POINTS = 5000

WRITER = f"""
import os, sys, time
from pathlib import Path
import nbtrack
Path(os.environ["READY"], str(os.getpid())).touch()
while not Path(os.environ["GO"]).exists():  # all start together, once all are ready
    time.sleep(0.01)
with nbtrack.run(f"writer-{{sys.argv[0][-4]}}") as run:
    for i in range({POINTS}):
        run.log(x=float(i))
        if i % 500 == 0:
            time.sleep(0.05)  # spread the logging over several flushes
print(run.id)
"""

READER = """
import os, time
from pathlib import Path
import nbtrack
Path(os.environ["READY"], str(os.getpid())).touch()
while not Path(os.environ["GO"]).exists():  # all start together, once all are ready
    time.sleep(0.01)
checks = 0
while not Path(os.environ["DONE"]).exists():
    for run_id in nbtrack.search()["run_id"]:
        steps = nbtrack.history(run_id, "x")["step"].tolist()
        assert steps == list(range(len(steps))), f"gap or double in {run_id}"
        checks += 1
print(checks)
"""


@pytest.fixture
def bucket_store(s3_server: S3Server) -> StoreURL:
    store = s3_server.store()
    nbtrack.set_store(store)
    return store


def test_four_writers_and_two_readers_share_one_bucket(
    bucket_store: StoreURL, tmp_path: Path
) -> None:
    ready, go, done = tmp_path / "ready", tmp_path / "go", tmp_path / "done"
    ready.mkdir()
    sync = {"READY": str(ready), "GO": str(go)}
    writers = [start_python(WRITER, bucket_store, tmp_path, f"w{i}.py", **sync)
               for i in range(4)]  # fmt: skip
    readers = [start_python(READER, bucket_store, tmp_path, f"r{i}.py", DONE=str(done), **sync)
               for i in range(2)]  # fmt: skip
    wait_for(lambda: len(list(ready.iterdir())) == 6, "the writers and readers to be ready")
    go.touch()
    ids = []
    for proc in writers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and "Warning" not in err, err
        ids.append(out.strip())
    done.touch()
    for proc in readers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and "Warning" not in err, err
        assert int(out) > 0
    frame = nbtrack.search()
    assert sorted(frame["run_id"]) == sorted(ids) and set(frame["status"]) == {"finished"}
    points = nbtrack.history(ids)
    assert len(points) == 4 * POINTS  # none lost, none doubled
    for _, series in points.groupby("run_id"):
        assert series["step"].tolist() == list(range(POINTS))


LOGGER = """
import time
import nbtrack, nbtrack.store.writer
nbtrack.store.writer.HOSTNAME = "another-machine"  # its pid means nothing to the reader here
with nbtrack.run("far away") as run:
    print(run.id, flush=True)
    while True:
        run.log(t=time.time())
        time.sleep(0.01)
"""


def test_a_killed_writer_on_another_machine_shows_crashed_after_the_timeout(
    bucket_store: StoreURL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "heartbeat_timeout", 3.0)
    proc = start_python(LOGGER, bucket_store, tmp_path, "far.py", NBTRACK_HEARTBEAT_TIMEOUT="3")
    run_id = proc.stdout.readline().strip()
    try:
        wait_for(lambda: len(nbtrack.history(run_id, "t")) > 10, "points of the far run")
        writer = Path(stored(bucket_store, "writers")[0]).stem
        later = time.time() + settings.heartbeat_timeout
        layout = get_store().layout
        wait_for(lambda: (layout.last_beat(writer) or 0) > later, "a beat after a timeout")
        assert nbtrack.get_run(run_id).status == "running"  # it beats on
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    killed_at = time.monotonic()
    wait_for(lambda: nbtrack.get_run(run_id).status == "crashed", "the far run to crash")
    assert time.monotonic() - killed_at > 1.0  # by its heartbeat's age, not its pid


def _start_fails(store: StoreURL | str, *fragments: str) -> None:
    nbtrack.set_store(store)
    with pytest.raises(nbtrack.StoreError) as caught:
        nbtrack.start_run()
    message = str(caught.value)
    assert all(f in message for f in fragments), message
    assert nbtrack.active_run() is None


def test_a_missing_bucket_says_to_create_it(s3_server: S3Server) -> None:
    _start_fails(StoreURL("no-such-bucket", "runs", s3_server.url),
                 "bucket 'no-such-bucket' does not exist", "aws s3 mb")  # fmt: skip


def test_refused_credentials_say_which_variables_to_set(s3_server: S3Server) -> None:
    with strict_server() as url:
        _start_fails(StoreURL("bucket", "runs", url), "credentials were refused",
                     "AWS_ACCESS_KEY_ID")  # fmt: skip


def test_an_unreachable_endpoint_says_to_check_it() -> None:
    from s3 import free_port

    url = f"http://127.0.0.1:{free_port()}"
    _start_fails(f"s3://bucket/runs?endpoint_url={url}", f"cannot reach {url}", "AWS_ENDPOINT_URL")


def test_rows_logged_while_the_bucket_is_unreachable_are_kept_and_sent_later(
    s3_server: S3Server, bucket_store: StoreURL
) -> None:
    with nbtrack.run() as run:
        run.log(x=0.0)
        nbtrack.flush()
        s3_server.stop()
        try:
            for i in range(1, 50):
                run.log(x=float(i))
            with pytest.raises(nbtrack.StoreError, match="cannot reach"):
                nbtrack.flush()
            assert len(nbtrack.history(run.id, "x")) == 50  # still here, in memory
        finally:
            s3_server.start()
    nbtrack.flush()
    get_store().layout._listed_at = 0.0  # (a new process would list afresh)
    assert nbtrack.history(run.id, "x")["value"].tolist() == [float(i) for i in range(50)]
    out = run_python(f"import nbtrack\nprint(len(nbtrack.history({run.id!r}, 'x')))",
                     bucket_store, Path(get_store().root).parent)  # fmt: skip
    assert out.strip() == "50"  # once each, seen from another process too


def test_a_second_process_reads_segments_from_the_cache(
    bucket_store: StoreURL, tmp_path: Path
) -> None:
    with nbtrack.run() as run:
        for i in range(100):
            run.log(x=float(i))
    nbtrack.flush()
    code = f"import nbtrack\nprint(len(nbtrack.history({run.id!r}, 'x')))"
    assert run_python(code, bucket_store, tmp_path).strip() == "100"  # downloads
    cached = {p: p.stat().st_ino for p in get_store().root.rglob("*.parquet")}
    assert cached
    assert run_python(code, bucket_store, tmp_path, name="again.py").strip() == "100"
    assert {p: p.stat().st_ino for p in cached} == cached  # nothing downloaded again


def test_the_cache_evicts_the_least_recently_used_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("nbtrack.store.cache.IN_USE_S", 0.0)
    cache = FileCache(tmp_path, limit=10_000)
    for i in range(30):
        cache.fetch(tmp_path / "t" / f"{i}.bin", lambda: b"x" * 1000)
        os.utime(tmp_path / "t" / f"{i}.bin", (i, i))  # used in this order
    assert cache.usage() <= 10_000
    kept = sorted(int(p.stem) for p in (tmp_path / "t").iterdir())
    assert kept == list(range(30 - len(kept), 30))  # the newest stayed


def test_one_compaction_at_a_time_holds_the_lease(bucket_store: StoreURL) -> None:
    with nbtrack.run() as run:
        run.log(x=1.0)
    nbtrack.flush()
    layout = get_store().layout
    with layout.lock(".compact.lock", "compact") as mine:
        assert mine
        assert nbtrack.compact(wait=False)["metrics"] == 0  # another holds it: skipped
    with nbtrack.run() as run:
        run.log(x=2.0)
    nbtrack.flush()
    assert nbtrack.compact(wait=False)["metrics"] == 2


def test_cli_and_environment_take_a_bucket_url(bucket_store: StoreURL, tmp_path: Path) -> None:
    from helpers import run_cli

    run_python("import nbtrack\nwith nbtrack.run('from-env') as r: r.log(acc=0.5)",
               bucket_store, tmp_path)  # fmt: skip
    done = run_cli(bucket_store, "ls", "--json", cwd=tmp_path)
    assert done.returncode == 0 and "from-env" in done.stdout, done.stderr


def _log_runs(n: int, start: int = 0) -> list[str]:
    ids = []
    for i in range(start, start + n):
        with nbtrack.run(f"r{i}", params={"i": i}) as run:
            for step in range(10):
                run.log(x=float(step))
        nbtrack.flush()
        ids.append(run.id)
    return ids


def _points(store: Path | StoreURL) -> dict[str, list[float]]:
    nbtrack.set_store(store)
    return {rid: nbtrack.history(rid, "x")["value"].tolist() for rid in nbtrack.search()["run_id"]}


def test_sync_publishes_a_folder_to_a_bucket_and_back(s3_server: S3Server, tmp_path: Path) -> None:
    from helpers import run_cli

    mine = tmp_path / "mine"
    nbtrack.set_store(mine)
    ids = _log_runs(3)
    (tmp_path / "notes.txt").write_text("hello")
    with nbtrack.run("with a file") as run:
        run.log_artifact(tmp_path / "notes.txt")
    nbtrack.flush()
    shared = s3_server.store()
    done = run_cli(mine, "sync", str(mine), str(shared), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"files": 1' in done.stdout
    assert nbtrack.sync(mine, shared) == {"segments": 0, "files": 0}  # nothing new
    expected = {rid: [float(s) for s in range(10)] for rid in ids}
    assert {k: v for k, v in _points(shared).items() if k in ids} == expected
    from nbtrack.mlflow import artifacts

    # this machine never had the bucket's copy: MLflow's download reads the bucket
    copied = artifacts.download_artifacts(run_id=run.id, artifact_path="notes.txt",
                                          dst_path=str(tmp_path / "copied"))  # fmt: skip
    assert Path(copied).read_text() == "hello"
    folder = get_store().layout.artifact_dir(run.id)
    assert (folder / "notes.txt").read_text() == "hello"
    back = tmp_path / "back"
    assert nbtrack.sync(shared, back)["segments"] > 0
    assert {k: v for k, v in _points(back).items() if k in ids} == expected


def test_sync_after_both_sides_compacted_copies_each_row_once(
    s3_server: S3Server, tmp_path: Path
) -> None:
    mine, shared = tmp_path / "mine", s3_server.store()
    nbtrack.set_store(mine)
    first = _log_runs(2)
    nbtrack.sync(mine, shared)
    nbtrack.compact(shared)  # the bucket merges what it got...
    nbtrack.set_store(mine)
    second = _log_runs(2, start=2)
    nbtrack.compact(mine)  # ...and the folder merges the same segments with new ones
    nbtrack.sync(mine, shared)
    names = [Path(n).name for n in stored(shared, "segments/metrics")]
    assert any(n.startswith("s-c-") for n in names)  # the folder's merge, less what was there
    points = _points(shared)
    assert sorted(points) == sorted(first + second)
    assert all(values == [float(s) for s in range(10)] for values in points.values())


MODEL = """
import nbtrack
from nbtrack.mlmodel import PythonModel

class Double(PythonModel):
    def predict(self, context, model_input, params=None):
        return [2 * x for x in model_input]

with nbtrack.run() as run:
    nbtrack.log_model(Double(), "double", registered_model_name="doubler")
print(run.id)
"""


def test_a_model_logged_on_one_machine_loads_on_another(
    bucket_store: StoreURL, tmp_path: Path
) -> None:
    run_id = run_python(MODEL, bucket_store, tmp_path).strip()
    settings.cache_dir = tmp_path / "another-machine"  # nothing of it cached here
    try:
        nbtrack.set_store(bucket_store)
        for uri in (f"runs:/{run_id}/double", "models:/doubler/1"):
            assert list(nbtrack.load_model(uri).predict([1, 2])) == [2, 4]
    finally:
        settings.cache_dir = None


def test_a_lease_held_too_long_is_taken_over_and_its_holder_publishes_nothing(
    bucket_store: StoreURL, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbtrack.store.layout import write_hidden
    from nbtrack.store.objects import ObjectLayout

    layout = get_store().layout
    layout.create()
    final = layout.table_dir("runs") / "c-late.parquet"
    with layout.lock(".compact.lock", "compact") as mine:
        assert mine
        monkeypatch.setattr("nbtrack.store.objects.LEASE_S", 0.0)  # ours is now too old
        with ObjectLayout(bucket_store).lock(".compact.lock", "compact", wait=False) as theirs:
            assert theirs
            hidden = write_hidden(final, lambda f: f.write(b"late"))
            with pytest.raises(nbtrack.StoreError, match="taken over"):
                layout.publish([(hidden, final)])
    assert "segments/runs/c-late.parquet" not in stored(bucket_store, "segments/runs")


def test_a_lease_is_renewed_while_it_is_held(
    bucket_store: StoreURL, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbtrack.store.objects import ObjectLayout

    monkeypatch.setattr("nbtrack.store.objects.LEASE_S", 2.0)
    layout = get_store().layout
    layout.create()
    taken = time.time()
    with layout.lock(".compact.lock", "compact") as mine:
        assert mine
        wait_for(lambda: time.time() - taken > 3 * 2.0, "three terms of the lease to pass")
        with ObjectLayout(bucket_store).lock(".compact.lock", "compact", wait=False) as theirs:
            assert not theirs  # renewed, so not abandoned
    with ObjectLayout(bucket_store).lock(".compact.lock", "compact", wait=False) as theirs:
        assert theirs  # released


def test_listing_is_incremental_and_a_full_listing_catches_what_it_skips(
    bucket_store: StoreURL, monkeypatch: pytest.MonkeyPatch
) -> None:
    from s3 import write_stored

    with nbtrack.run() as run:
        run.log(x=1.0)
    nbtrack.flush()
    layout = get_store().layout
    layout.list_segments("runs")
    old = read_stored(bucket_store, stored(bucket_store, "segments/runs")[0])
    # a segment written long ago (copied in, say) sorts before what the reader has seen
    write_stored(bucket_store, "segments/runs/0000000000001-old-000001.parquet", old)
    monkeypatch.setattr("nbtrack.store.objects.LIST_EVERY_S", 0.0)
    assert not any("-old-" in p for p in layout.list_segments("runs"))  # listed after the newest
    monkeypatch.setattr("nbtrack.store.objects.FULL_LIST_S", 0.0)
    assert any("-old-" in p for p in layout.list_segments("runs"))


def test_a_bundle_exported_from_a_folder_imports_into_a_bucket(
    bucket_store: StoreURL, tmp_path: Path
) -> None:
    nbtrack.set_store(tmp_path / "mine")
    (tmp_path / "notes.txt").write_text("hello")
    with nbtrack.run("exported", params={"lr": 0.1}) as run:
        run.log(loss=0.5)
        run.log_artifact(tmp_path / "notes.txt")
    nbtrack.export(tmp_path / "bundle", artifacts=True)
    nbtrack.set_store(bucket_store)
    nbtrack.import_runs(tmp_path / "bundle")
    assert nbtrack.get_run(run.id).params == {"lr": 0.1}
    assert f"artifacts/{run.id}/notes.txt" in stored(bucket_store, "artifacts")


def test_track_magics_in_a_kernel_log_to_a_bucket(bucket_store: StoreURL, tmp_path: Path) -> None:
    from kernels import run_cells, text

    cells = run_cells(
        ["%load_ext nbtrack\nimport nbtrack", f"%track store {bucket_store}",
         "%%track in-the-bucket\nlr = 0.1\nnbtrack.log(loss=0.5)", "%track ls"],
        tmp_path / "elsewhere", tmp_path,
    )  # fmt: skip
    assert f"nbtrack store: {bucket_store}" in text(cells[1])
    assert "in-the-bucket" in text(cells[3]), text(cells[3])
    record = nbtrack.get_run(nbtrack.search()["run_id"][0])
    assert (record.name, record.params, record.metrics) == ("in-the-bucket", {"lr": 0.1},
                                                           {"loss": 0.5})  # fmt: skip
