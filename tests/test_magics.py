"""%%track and %track in real kernels (nbclient + ipykernel), checked through the store."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest
from helpers import wait_for
from jupyter_client.manager import start_new_kernel
from kernels import ANSI, errors, run_cells, text

import nbtrack

LOAD = "%load_ext nbtrack\nimport nbtrack"


def runs_by_name() -> dict[str, nbtrack.RunRecord]:
    return {name: nbtrack.get_run(rid) for rid, name in nbtrack.search()[["run_id", "name"]].values}


def test_a_tracked_cell_runs_like_a_plain_cell(tmp_store: Path, tmp_path: Path) -> None:
    cells = run_cells(
        [
            LOAD,
            "%%track first -e wine -t model=rf -t stage=dev -p rows,table\n"
            "lr = 0.01\nlayers = [64, 64]\nimport pandas as pd\nrows = 3\n"
            "table = pd.DataFrame({'a': [1, 2]})\n"
            "for i in range(3):\n    nbtrack.log(loss=1 / (i + 1))\n"
            "from IPython.display import display, HTML\ndisplay(HTML('<b>rich</b>'))\n"
            "lr * 2",
            "print(lr, layers, rows)",
            "%%track awaiting --no-capture\nimport asyncio\nwait = 0.01\n"
            "await asyncio.sleep(wait)\n'awaited'",
        ],
        tmp_store, tmp_path, NBTRACK_NOTEBOOK=str(tmp_path / "analysis.ipynb"),
    )  # fmt: skip
    assert not any(errors(c) for c in cells), [text(c) for c in cells]
    tracked = cells[1]
    assert [o.data for o in tracked.outputs if o.output_type == "execute_result"] == [
        {"text/plain": "0.02"}
    ]
    assert any("text/html" in o.get("data", {}) for o in tracked.outputs)
    assert "'table' is a DataFrame" in text(tracked)  # summarised, with a warning
    assert text(cells[2]).strip() == "0.01 [64, 64] 3"
    assert "'awaited'" in text(cells[3])

    runs = runs_by_name()
    first = runs["first"]
    assert (first.experiment, first.status) == ("wine", "finished")
    assert first.params == {
        "lr": 0.01, "layers": [64, 64], "rows": 3, "table": "DataFrame(shape=(2, 1))",
    }  # fmt: skip
    assert first.tags == {"model": "rf", "stage": "dev"}
    assert first.metrics == {"loss": 1 / 3}
    assert first.context["code"].startswith("%%track first -e wine")
    assert first.context["execution_count"] == tracked.execution_count
    assert first.context["notebook"] == str(tmp_path / "analysis.ipynb")
    assert runs["awaiting"].params == {} and runs["awaiting"].status == "finished"


def test_a_failing_cell_fails_exactly_as_without_the_magic(tmp_store: Path, tmp_path: Path) -> None:
    body = "x = 1\nprint('before')\nraise ValueError('boom')"
    cells = run_cells(
        [LOAD, f"%%track broken\n{body}", f"# plain\n{body}", "print(x)"], tmp_store, tmp_path
    )
    (tracked,), (plain,) = errors(cells[1]), errors(cells[2])
    assert (tracked.ename, tracked.evalue) == (plain.ename, plain.evalue) == ("ValueError", "boom")

    def shown(error) -> list[str]:  # the traceback, minus the cell's number and first line
        lines = ANSI.sub("", "\n".join(error.traceback)).splitlines()
        return [ln for ln in lines if "Cell In[" not in ln and not ln.startswith("      1 ")]

    assert shown(tracked) == shown(plain)
    assert [o.text for o in cells[1].outputs if o.output_type == "stream"] == ["before\n"]
    assert "%%track broken" in ANSI.sub("", "\n".join(tracked.traceback))
    assert text(cells[3]).strip() == "1"  # the namespace kept what ran before the error
    run = runs_by_name()["broken"]
    assert run.status == "failed" and "ValueError: boom" in run.error
    assert run.params == {"x": 1}


def test_bad_input_is_a_usage_error_and_the_body_does_not_run(
    tmp_store: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cells = run_cells(
        [
            LOAD,
            "%%track -t novalue\nprint('BODY RAN')",
            "%%track --bogus\nprint('BODY RAN')",
            f"%track store {blocker / 'store'}",
            "%track frobnicate",
            "%track compare onlyone",
        ],
        tmp_store, tmp_path,
    )  # fmt: skip
    assert "UsageError: -t takes KEY=VALUE, got 'novalue'" in text(cells[1])
    assert "unrecognized arguments: --bogus" in text(cells[2])
    assert "cannot create the nbtrack store" in text(cells[3]) and "UsageError" in text(cells[3])
    assert "unknown %track command 'frobnicate'" in text(cells[4])
    assert "usage: %track compare RUN RUN" in text(cells[5])
    assert all("BODY RAN" not in text(c) for c in cells)
    assert all("Traceback" not in text(c) for c in cells)
    assert not tmp_store.exists()  # nothing was tracked half-way


def test_reruns_of_a_cell_share_a_lineage_and_runs_nest(tmp_store: Path, tmp_path: Path) -> None:
    cell = "%%track\ndepth = 3\nwith nbtrack.run('inner') as inner:\n    inner.log(acc=0.5)"
    cells = run_cells(
        [
            LOAD, cell, cell,
            "get_ipython().run_cell('%%track by-id\\nk = 1', cell_id='cell-abc')",
            "get_ipython().run_cell('%%track by-id\\nk = 2', cell_id='cell-abc')",
            "%reload_ext nbtrack",
            "%%track after-reload\nz = 0",
        ],
        tmp_store, tmp_path,
    )  # fmt: skip
    assert not any(errors(c) for c in cells)
    columns = ["run_id", "name", "parent_run_id", "lineage", "cell_id"]
    frame = pd.DataFrame(
        nbtrack.sql(f"SELECT {', '.join(columns)} FROM runs ORDER BY start_time").fetchall(),
        columns=columns,
    )
    outer = frame[frame["name"].str.contains("-") & frame["parent_run_id"].isna()
                  & ~frame["name"].isin(["by-id", "after-reload"])]  # fmt: skip
    inner = frame[frame["name"] == "inner"]
    assert len(outer) == 2 and outer["lineage"].nunique() == 1
    assert sorted(inner["parent_run_id"]) == sorted(outer["run_id"])
    by_id = frame[frame["name"] == "by-id"]
    assert by_id["cell_id"].tolist() == ["cell-abc", "cell-abc"]
    assert by_id["lineage"].nunique() == 1 and by_id["lineage"].iloc[0] != outer["lineage"].iloc[0]
    history = nbtrack.cell_runs(outer["run_id"].iloc[1])
    assert history["run_id"].tolist() == outer["run_id"].tolist()  # oldest first
    assert len(frame[frame["name"] == "after-reload"]) == 1  # %reload_ext did not double it


def test_line_magic_commands(tmp_store: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-store"
    cells = run_cells(
        [
            LOAD,
            "%track start manual -e lab",
            "nbtrack.log(acc=0.7)\nnbtrack.log_param('k', 5)",
            "%track end",
            "%track ls",
            "%track store",
            f"%track store {other}",
            "%%track elsewhere\nq = 1",
            "print(get_ipython().find_cell_magic('track').__doc__)",
            f"%track export {tmp_path / 'out.parquet'}",
        ],
        tmp_store, tmp_path,
    )  # fmt: skip
    assert not any(errors(c) for c in cells), [text(c) for c in cells]
    assert "started run 'manual'" in text(cells[1])
    assert "ended run 'manual'" in text(cells[3]) and "finished" in text(cells[3])
    listing = text(cells[4]).splitlines()
    assert listing[0].split()[:4] == ["run_id", "name", "experiment", "status"]
    assert "manual" in listing[1] and "lab" in listing[1]
    assert str(tmp_store) in text(cells[5]) and str(other) in text(cells[6])
    help_text = text(cells[8])  # what %%track? shows
    assert "Run the cell as an nbtrack run" in help_text
    assert "--live KEY[,KEY…]" in help_text and "-t KEY=VALUE" in help_text
    assert f"exported runs to {tmp_path / 'out.parquet'}" in text(cells[9])
    assert pd.read_parquet(tmp_path / "out.parquet")["name"].tolist() == ["elsewhere"]
    manual = runs_by_name()["manual"]
    assert manual.metrics == {"acc": 0.7} and manual.params == {"k": 5}
    nbtrack.set_store(other)
    assert nbtrack.search()["name"].tolist() == ["elsewhere"]


WIDGET = "application/vnd.jupyter.widget-view+json"


def test_live_plot_and_widget_commands(tmp_store: Path, tmp_path: Path) -> None:
    cells = run_cells(
        [
            LOAD,
            "%%track live-one --live loss\nimport time\n"
            "for i in range(8):\n    nbtrack.log(loss=1 / (i + 1))\n    time.sleep(0.3)",
            "%track table -f \"name = 'live-one'\"",
            "%track plot loss",
            "with nbtrack.run('other') as other:\n    other.log(loss=2.0)\n"
            "first = nbtrack.search(\"name = 'live-one'\")['run_id'][0]\n"
            "get_ipython().run_line_magic('track', f'compare {first} {other.id}')",
        ],
        tmp_store, tmp_path,
    )  # fmt: skip
    assert not any(errors(c) for c in cells), [text(c) for c in cells]
    live = [o for o in cells[1].outputs if o.output_type == "display_data"]
    # the plot, and its static twin, drawn when the cell ended: it shows the finished curve
    assert len(live) == 2 and WIDGET in live[0].data and live[1].data["image/png"]
    for cell in cells[2:]:
        assert any(WIDGET in o.get("data", {}) for o in cell.outputs), text(cell)
    assert "live-one" in next(o.data["text/html"] for o in cells[2].outputs
                              if "text/html" in o.get("data", {}))  # fmt: skip


def test_a_kernel_interrupt_marks_the_run_interrupted(tmp_store: Path, tmp_path: Path) -> None:
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=_kernel_env(tmp_store))
    try:
        kc.execute_interactive(LOAD, timeout=60)
        kc.execute("%%track stopped\nimport time\nnbtrack.log(loss=1.0)\ntime.sleep(60)")
        wait_for(lambda: runs_by_name()["stopped"].metrics, "the cell's run to log")
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=30)
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        # the kernel lives on; its writer flushes within a second
        run = wait_for(lambda: (r := runs_by_name()["stopped"]).status != "running" and r, "end")
        assert run.status == "interrupted" and run.metrics == {"loss": 1.0}
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_threads_started_in_a_notebook_log_to_its_active_run(
    tmp_store: Path, tmp_path: Path
) -> None:
    cells = run_cells(
        [
            LOAD,
            "%%track threaded\nimport threading\n"
            "def train():\n    for i in range(100):\n        nbtrack.log(loss=1 / (i + 1))\n"
            "worker = threading.Thread(target=train)\nworker.start()\nworker.join()",
            "%track start spanning\nimport asyncio\nawait asyncio.sleep(0)",  # a task of its own
            "t = threading.Thread(target=lambda: nbtrack.log(b=1.0))\nt.start()\nt.join()",
            "%track end",
        ],
        tmp_store, tmp_path,
    )  # fmt: skip
    assert not any(errors(c) for c in cells), [text(c) for c in cells]
    runs = runs_by_name()
    assert runs["threaded"].metrics == {"loss": 0.01}
    assert len(nbtrack.history(runs["threaded"].id, "loss")) == 100
    assert runs["spanning"].metrics == {"b": 1.0} and runs["spanning"].status == "finished"


TRAINING = """%%track training
import time
progress = open("progress.txt", "w")
for i in range(10**6):
    try:
        nbtrack.log(i=float(i))
        progress.write(f"{i}\\n")
        progress.flush()
        time.sleep(0.005)
    except KeyboardInterrupt:
        if not STUBBORN:
            raise
"""


@pytest.mark.parametrize(
    ("stubborn", "stop"),
    [(False, "restart"), (True, "shutdown")],
    ids=["busy-restart", "busy-ignoring-interrupts-shutdown"],
)
def test_stopping_a_busy_kernel_ends_its_run_killed(
    tmp_store: Path, tmp_path: Path, stubborn: bool, stop: str
) -> None:
    """ipykernel interrupts a busy cell on shutdown; a cell that ignores the interrupt gets
    SIGTERM from jupyter_client a few seconds later. Either way the run ends killed, with every
    point logged before."""
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=_kernel_env(tmp_store))
    try:
        kc.execute_interactive(f"{LOAD}\nSTUBBORN = {stubborn}", timeout=60)
        kc.execute(TRAINING)
        wait_for(lambda: len(nbtrack.history(runs_by_name()["training"].id)) >= 10, "training")
        km.restart_kernel() if stop == "restart" else km.shutdown_kernel()
        run = runs_by_name()["training"]
        assert (run.status, run.error) == ("killed", "kernel shutdown")
        points = nbtrack.history(run.id, "i")["value"].tolist()
        last = int((tmp_path / "progress.txt").read_text().split()[-1])
        assert points[: last + 1] == [float(i) for i in range(last + 1)]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_restarting_an_idle_kernel_ends_its_open_run_killed(
    tmp_store: Path, tmp_path: Path
) -> None:
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=_kernel_env(tmp_store))
    try:
        kc.execute_interactive(f"{LOAD}\n%track start spanning\nnbtrack.log(a=1.0)", timeout=60)
        km.restart_kernel()
        run = runs_by_name()["spanning"]
        assert (run.status, run.error, run.metrics) == ("killed", "kernel shutdown", {"a": 1.0})
        kc.wait_for_ready(timeout=60)  # the client reconnects to the new kernel
        reply = kc.execute_interactive(
            "import nbtrack\nassert nbtrack.active_run() is None", timeout=60
        )
        assert reply["content"]["status"] == "ok"  # the restarted kernel starts afresh
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _kernel_env(store: Path) -> dict[str, str]:
    return {"NBTRACK_STORE": str(store)}


def test_git_commit_and_dirty_flag_are_recorded(tmp_store: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "train.py").write_text("print(1)\n")
    subprocess.run([*git, "add", "train.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    cells = run_cells(
        [LOAD, "%%track clean\na = 1",
         "import time\nopen('train.py', 'a').write('x')\ntime.sleep(1.2)",
         "%%track dirty\na = 2"],
        tmp_store, repo,
    )  # fmt: skip
    assert not any(errors(c) for c in cells)
    runs = runs_by_name()
    assert runs["clean"].context["git_commit"] == head.strip()
    assert runs["clean"].context["git_dirty"] is False
    assert runs["dirty"].context["git_commit"] == head.strip()
    assert runs["dirty"].context["git_dirty"] is True


def test_two_kernels_track_into_one_store_at_once(tmp_store: Path, tmp_path: Path) -> None:
    import threading

    cells = [LOAD] + [
        f"%%track k-{{who}}-{i}\nfor s in range(500):\n    nbtrack.log(x=s)" for i in range(5)
    ]
    results = {}

    def kernel(who: str) -> None:
        results[who] = run_cells([c.replace("{who}", who) for c in cells], tmp_store, tmp_path)

    threads = [threading.Thread(target=kernel, args=(w,)) for w in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for who, executed in results.items():
        assert not any(errors(c) for c in executed), who
    frame = nbtrack.search()
    assert len(frame) == 10 and set(frame["status"]) == {"finished"}
    counts = nbtrack.history(frame["run_id"].tolist()).groupby("run_id").size()
    assert (counts == 500).all()
