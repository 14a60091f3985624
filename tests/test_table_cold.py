"""A run table opened first in a process reads its page straight from the store's segments,
without loading every run's params, metrics and tags (see nbtrack/store/reader.py): what it
shows must be what it shows once everything is loaded."""

from __future__ import annotations

import threading
from pathlib import Path

from helpers import start_python

import nbtrack
from nbtrack.store import get_store
from nbtrack.store.reader import Reader
from nbtrack.widgets import RunTable

SHOWN = ["name", "status", "params.lr", "params.opt", "metrics.acc", "metrics.loss", "tags.t"]
# Many small segments: one per table for every run.
WRITER = """
import nbtrack
for k in range(300):
    with nbtrack.run(f"r{k}", params={"i": k, "half": k / 2}, tags={"t": str(k)}) as run:
        run.log(m=float(k))
    nbtrack.flush()
"""


def test_a_first_page_read_from_the_segments_is_the_loaded_stores(tmp_store: Path) -> None:
    with nbtrack.run("a", experiment="e", params={"lr": 0.1, "opt": "adam"}, tags={"t": "x"}) as a:
        a.log(acc=0.5, loss=2.0)
        nbtrack.flush()  # what follows goes to later segments
        a.log(acc=0.7)
        a.log_param("lr", 0.01)
        a.set_tag("t", "y")
    with nbtrack.run("b", experiment="e", params={"lr": 3, "opt": "sgd"}) as b:
        b.log(acc=1.0)
    nbtrack.flush()
    running = nbtrack.start_run("c", experiment="e", params={"lr": 0.5})
    running.log(loss=0.25)  # not flushed: this process's own rows
    with nbtrack.run("other", experiment="elsewhere", params={"depth": 4}):
        pass

    cold = RunTable(experiment="e", columns=SHOWN, live=False)
    reader = get_store().reader
    assert not reader._built & {"params", "tags", "latest_metrics"}  # read from the segments
    get_store().reader.refresh()  # loads and builds everything, as live widgets do
    assert {"params", "tags", "latest_metrics"} <= reader._built
    warm = RunTable(experiment="e", columns=SHOWN, live=False)

    assert cold._all_columns == warm._all_columns
    assert "params.depth" not in {c["name"] for c in cold._all_columns}
    assert cold._rows == warm._rows
    values = {row["values"]["name"]: row["values"] for row in cold._rows}
    assert values["a"]["params.lr"] == 0.01 and values["a"]["tags.t"] == "y"
    assert values["a"]["metrics.acc"] == 0.7 and values["a"]["metrics.loss"] == 2.0
    assert values["b"]["params.lr"] == 3 and values["c"]["metrics.loss"] == 0.25
    running.end()


def test_cold_reads_while_compactions_replace_the_segments(tmp_store: Path, tmp_path: Path) -> None:
    writer = start_python(WRITER, tmp_store, tmp_path, "writer.py")
    stop = threading.Event()

    def compact() -> None:
        while not stop.is_set():
            nbtrack.compact()

    compactor = threading.Thread(target=compact)
    compactor.start()
    reads = 0
    try:
        while writer.poll() is None or reads == 0:
            with Reader(get_store().layout, lambda: None).snapshot() as snap:  # cold each time
                keys = snap.rows(f"SELECT DISTINCT key FROM {snap.source('params', keys=True)}")
                values = snap.rows(f"SELECT r.name, p.key, p.num FROM runs r "
                                   f"JOIN {snap.source('params')} p USING (run_id)")  # fmt: skip
            assert {key for (key,) in keys} <= {"i", "half"}
            assert all(num == int(name[1:]) / (2 if key == "half" else 1)
                       for name, key, num in values)  # fmt: skip
            reads += 1
    finally:
        stop.set()
        compactor.join()
    _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
