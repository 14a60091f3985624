"""Compaction merges segments while others read and write: nothing lost, nothing doubled."""

from __future__ import annotations

import io
import json
import os
import time
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import start_python
from s3 import read_stored, stored, write_stored

import nbtrack
from nbtrack.store import get_store
from nbtrack.store.compaction import compact_table
from nbtrack.store.layout import FORMAT_KEY, REPLACES_KEY
from nbtrack.store.schema import arrow_schema

POINTS = 30000

# Logs, then stays alive (its run open) until the test has merged segments at least once, so
# that compaction overlaps the writers however slow the machine.
WRITER = f"""
import os, time
from pathlib import Path
import nbtrack
with nbtrack.run() as run:
    for i in range({POINTS}):
        run.log(x=float(i))
        if i % 1000 == 0:
            time.sleep(0.1)  # about 3 s of logging: several flushes to merge
    while not Path(os.environ["MERGED"]).exists():  # (a poll; the test has the deadline)
        time.sleep(0.05)
print(run.id)
"""

# Checks every answer it gets: steps strictly increasing (a doubled row would repeat a step)
# and never fewer points than it saw before (a row seen must not vanish).
READER = """
import os
from pathlib import Path
import nbtrack
seen = {}
checks = 0
while not Path(os.environ["DONE"]).exists():
    for run_id in nbtrack.search()["run_id"]:
        steps = nbtrack.history(run_id, "x")["step"].tolist()
        assert steps == list(range(len(steps))), f"gap or double in {run_id}"
        assert len(steps) >= seen.get(run_id, 0), f"points vanished from {run_id}"
        seen[run_id] = len(steps)
        checks += 1
print(checks)
"""


def test_compaction_while_writers_and_readers_run(tmp_store: Path, tmp_path: Path) -> None:
    released = tmp_path / "merged"
    writers = [start_python(WRITER, tmp_store, tmp_path, f"w{i}.py", MERGED=str(released))
               for i in range(3)]  # fmt: skip
    done = tmp_path / "done"
    reader = start_python(READER, tmp_store, tmp_path, "reader.py", DONE=str(done))
    merged, deadline = 0, time.monotonic() + 120
    while any(w.poll() is None for w in writers):
        merged += nbtrack.compact()["metrics"]
        if merged or time.monotonic() > deadline:
            released.touch()
        time.sleep(0.2)
    ids = []
    for proc in writers:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        ids.append(out.strip())
    done.touch()
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    assert int(out) > 0
    assert merged > 0
    nbtrack.compact()
    assert len(stored(tmp_store, "segments/metrics")) == 1
    points = nbtrack.history(ids)
    assert len(points) == 3 * POINTS
    for _, series in points.groupby("run_id"):
        assert series["step"].tolist() == list(range(POINTS))


def test_leftovers_of_an_interrupted_compaction_are_never_counted_twice(
    tmp_store: Path, tmp_path: Path
) -> None:
    with nbtrack.run() as run:
        for i in range(3):
            run.log(x=float(i))
            nbtrack.flush()
    inputs = stored(tmp_store, "segments/metrics")
    backup = {name: read_stored(tmp_store, name) for name in inputs}
    layout = get_store().layout
    compact_table(layout, "metrics", layout.list_segments("metrics"))
    for name, data in backup.items():  # as if the compacting process died before deleting them
        write_stored(tmp_store, name, data)
    assert nbtrack.history(run.id, "x")["value"].tolist() == [0.0, 1.0, 2.0]
    nbtrack.compact()
    assert [Path(n).name[:2] for n in stored(tmp_store, "segments/metrics")] == ["c-"]
    assert nbtrack.history(run.id, "x")["value"].tolist() == [0.0, 1.0, 2.0]
    assert nbtrack.get_run(run.id).metrics == {"x": 2.0}


def test_a_writer_compacts_its_own_segments(tmp_store: Path) -> None:
    with nbtrack.run() as run:
        for i in range(5):
            run.log(x=float(i))
            nbtrack.flush()
    writer = get_store().writer
    writer.compact_own()
    names = [Path(n).name for n in stored(tmp_store, "segments/metrics")]
    assert len(names) == 1 and names[0].startswith("c-")
    assert nbtrack.history(run.id, "x")["value"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def _log_in_flushes(steps: int) -> list[str]:
    """Two runs logging ``b`` then ``a`` at each step (step 0 twice), a segment per flush."""
    with nbtrack.run() as one, nbtrack.run() as two:
        for i, step in enumerate([0, *range(steps)]):
            for run in (two, one):
                run.log(b=i + 0.5, a=float(i), step=step)
            nbtrack.flush()
    return [one.id, two.id]


def test_a_merged_segment_keeps_schema_order_and_the_names_it_replaces(tmp_store: Path) -> None:
    _log_in_flushes(4)
    layout = get_store().layout
    inputs = layout.list_segments("metrics")
    rows = pa.concat_tables(pq.read_table(p) for p in layout.local(inputs)).to_pylist()
    merged = Path(compact_table(layout, "metrics", inputs) or "")
    assert stored(tmp_store, "segments/metrics") == [f"segments/metrics/{merged.name}"]
    data = pq.read_table(io.BytesIO(read_stored(tmp_store, f"segments/metrics/{merged.name}")))
    assert data.schema.remove_metadata() == arrow_schema("metrics")
    # sorted by run, key and step; points of the same step in the order they were logged
    assert data.to_pylist() == sorted(rows, key=lambda r: (r["run_id"], r["key"], r["step"]))
    meta = data.schema.metadata
    assert json.loads(meta[REPLACES_KEY]) == sorted(Path(p).name for p in inputs)
    assert meta[FORMAT_KEY] == b"1"
    assert pq.read_metadata(merged).row_group(0).column(0).compression == "ZSTD"


def test_compaction_skips_corrupt_and_foreign_segments_and_loses_no_rows(
    tmp_store: Path,
) -> None:
    ids = _log_in_flushes(3)
    good = read_stored(tmp_store, stored(tmp_store, "segments/metrics")[0])
    write_stored(tmp_store, "segments/metrics/truncated.parquet", good[: len(good) // 2])
    foreign = io.BytesIO()  # a footer that reads, rows that cannot be metric points
    pq.write_table(pa.table({"run_id": [ids[0]], "key": ["a"], "value": ["n/a"]}), foreign)
    write_stored(tmp_store, "segments/metrics/foreign.parquet", foreign.getvalue())
    with pytest.warns(nbtrack.StoreWarning) as caught:
        nbtrack.compact()
    skipped = [str(w.message) for w in caught if "compaction skips" in str(w.message)]
    assert len(skipped) == 2 and "truncated" in skipped[0] and "foreign" in skipped[1]
    names = [Path(n).name for n in stored(tmp_store, "segments/metrics")]
    assert names[0].startswith("c-") and names[1:] == ["foreign.parquet", "truncated.parquet"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nbtrack.StoreWarning)  # (the reader skips them too)
        points = nbtrack.history(ids, "a")
    for run_id in ids:
        assert points[points["run_id"] == run_id]["value"].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_a_scratch_folder_a_killed_compaction_left_is_removed_by_the_next(
    tmp_store: Path,
) -> None:
    with nbtrack.run() as run:
        run.log(x=1.0)
    nbtrack.flush()
    layout = get_store().layout
    old, recent = layout.segments / ".compact-left", layout.segments / ".compact-busy"
    for folder in (old, recent):
        folder.mkdir(parents=True)
        (folder / "spill.tmp").write_bytes(b"x" * 1000)
    os.utime(old, (time.time() - 2 * 3600, time.time() - 2 * 3600))
    nbtrack.compact()
    assert not old.exists() and recent.exists()
