"""Runs in threads and asyncio tasks: each has its own active run, nothing leaks between them."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import nbtrack
from nbtrack.widgets import Compare, MetricPlot, RunTable


def _parents() -> dict[str, str | None]:
    frame = nbtrack.search()
    parents = frame["parent_run_id"].astype(object).where(frame["parent_run_id"].notna(), None)
    return dict(zip(frame["name"], parents, strict=True))


def test_two_threads_with_interleaved_runs_do_not_touch_each_other(tmp_store: Path) -> None:
    """The interleaving that used to mix them up: b starts while a runs, a ends while b runs."""
    b_started, a_ended = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def a() -> None:
        with nbtrack.run("a"):
            b_started.wait(30)
            nbtrack.log(x=1.0)
        a_ended.set()

    def b() -> None:
        try:
            with nbtrack.run("b") as rb:
                b_started.set()
                a_ended.wait(30)
                rb.log(y=2.0)
                nbtrack.log(z=3.0)
        except BaseException as err:  # an InactiveRunError here was the bug
            errors.append(err)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    runs = {row["name"]: row for _, row in nbtrack.search().iterrows()}
    assert runs["a"]["metrics.x"] == 1.0 and pd_isna(runs["a"], "y") and pd_isna(runs["a"], "z")
    assert runs["b"]["metrics.y"] == 2.0 and runs["b"]["metrics.z"] == 3.0
    assert pd_isna(runs["b"], "x")
    assert {runs["a"]["status"], runs["b"]["status"]} == {"finished"}
    assert _parents() == {"a": None, "b": None}


def pd_isna(row, key: str) -> bool:
    value = row.get(f"metrics.{key}")
    return value is None or value != value


def test_a_thread_pool_sweep_keeps_every_run_apart(tmp_store: Path) -> None:
    def trial(i: int) -> str:
        with nbtrack.run(f"trial-{i}", params={"i": i}) as run:
            for step in range(1000):
                nbtrack.log(value=float(i * 10_000 + step))
        return run.id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(trial, range(8)))
    assert len(set(ids)) == 8
    points = nbtrack.history(ids, "value")
    for i, run_id in enumerate(ids):
        mine = points[points["run_id"] == run_id]
        assert mine["value"].tolist() == [float(i * 10_000 + s) for s in range(1000)]
        assert mine["step"].tolist() == list(range(1000))
    frame = nbtrack.search()
    assert set(frame["status"]) == {"finished"} and frame["parent_run_id"].isna().all()


def test_gathered_tasks_nest_under_the_run_they_started_in(tmp_store: Path) -> None:
    async def trial(i: int) -> str:
        with nbtrack.run(f"task-{i}") as run:
            for step in range(50):
                nbtrack.log(value=float(i), step=step)
                await asyncio.sleep(0)  # hand over to the other tasks mid-run
        return run.id

    async def sweep() -> list[str]:
        return await asyncio.gather(*(trial(i) for i in range(4)))

    with nbtrack.run("sweep") as outer:
        ids = asyncio.run(sweep())
        assert nbtrack.active_run() is outer
    assert _parents() == {"sweep": None, **{f"task-{i}": outer.id for i in range(4)}}
    points = nbtrack.history(ids, "value")
    for i, run_id in enumerate(ids):
        assert set(points[points["run_id"] == run_id]["value"]) == {float(i)}


def test_a_thread_without_a_run_logs_to_the_main_threads_run(tmp_store: Path) -> None:
    with nbtrack.run("training") as run:
        worker = threading.Thread(target=lambda: nbtrack.log(loss=0.5))
        worker.start()
        worker.join(30)
        inner = threading.Thread(target=lambda: nbtrack.run("in-thread").__enter__().end())
        inner.start()
        inner.join(30)
    assert nbtrack.get_run(run.id).metrics == {"loss": 0.5}
    assert _parents() == {"training": None, "in-thread": run.id}


def test_top_level_starts_a_run_without_a_parent(tmp_store: Path) -> None:
    with nbtrack.run("outer"), nbtrack.run("separate", parent=nbtrack.TOP_LEVEL) as separate:
        assert nbtrack.active_run() is separate
    assert _parents() == {"outer": None, "separate": None}
    assert repr(nbtrack.TOP_LEVEL) == "nbtrack.TOP_LEVEL"


def test_a_run_ended_from_another_thread_is_no_longer_active(tmp_store: Path) -> None:
    run = nbtrack.start_run("ended-elsewhere")
    other = threading.Thread(target=run.end, args=("killed",))
    other.start()
    other.join(30)
    assert nbtrack.active_run() is None
    assert nbtrack.get_run(run.id).status == "killed"
    with pytest.raises(nbtrack.InactiveRunError):
        nbtrack.log(x=1.0)


def test_sql_and_live_widgets_from_many_threads_at_once(tmp_store: Path) -> None:
    seeds = []
    for name in ("seed-1", "seed-2"):
        with nbtrack.run(name) as seed:
            seed.log(x=1.0)
        seeds.append(seed.id)
    widgets = [RunTable(), MetricPlot("x", runs=seeds), Compare(*seeds)]
    stop = threading.Event()
    problems: list[BaseException] = []

    def writer() -> None:
        with nbtrack.run("writing") as run:
            for i in range(200):
                run.log(x=float(i))
                nbtrack.flush()

    def reader(n: int) -> None:
        try:
            while not stop.is_set():
                total = nbtrack.sql("SELECT count(*) FROM runs").fetchall()[0][0]
                assert total in (2, 3), total
                rows = nbtrack.sql(f"SELECT {n} AS n, count(*) FROM metrics").fetchall()
                assert rows[0][0] == n  # each caller gets its own answer back
                for widget in widgets:
                    widget.refresh()
        except BaseException as err:
            problems.append(err)

    readers = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
    for thread in readers:
        thread.start()
    writer()
    stop.set()
    for thread in readers:
        thread.join(60)
    assert problems == []
    assert nbtrack.sql("SELECT count(*) FROM metrics WHERE key = 'x'").fetchall() == [(202,)]
