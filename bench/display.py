"""What a person waits for when a cell shows a widget, on a realistic store: 3,000 runs of 41
params (one of them text), 20 metrics and 2 tags, and 20 runs of 100,000 steps.

- ``display_*_ms``: a real kernel (jupyter_client), executing the cell as JupyterLab sends it,
  from the execute request to the kernel being idle. The cell is the first to query the store
  after ``import nbtrack`` in a new kernel.
- ``display_*_nobrowser_ms`` (for information): the same where no browser draws widgets
  (nbclient, papermill), so the kernel renders the saved image when the cell ends.
- ``display_*_after_pause_ms``: the same cell run a second after ``import nbtrack``'s, as a
  person writes it: meanwhile the kernel imports what widgets need (``nbtrack.kernel``).
- ``display_*_snapshot_ms``: ``display_*_ms`` once the store has the run snapshot that the
  writer of a script logging this much leaves behind (see ``nbtrack.store.autosnapshot``),
  which a new kernel reads instead of the segments: what a user gets after a sweep.
- ``display_*_compacted_ms`` (for information): the same once ``nbtrack compact`` has also
  merged the segments.
- ``draw_*_ms``: a real JupyterLab in Chromium (the e2e tests' driver), from the cell being
  idle to the widget's first draw on screen; ``lab_cell_*_ms`` is the cell's time seen there.

    python bench/display.py [--quick | --repeats N] [--json PATH]     (bench/run.py reports these)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
N_RUNS, N_PARAMS, N_METRICS = 3_000, 40, 20
LONG_RUNS, LONG_STEPS = 20, 100_000
# The cells timed, each after SETUP[name] in a new kernel; and what shows it was drawn.
CELLS = {
    "table_3000x63": 'nbtrack.table(experiment="scale")',
    "plot_20x100k": 'nbtrack.plot("loss", runs=LONG, log_y=True)',
    "compare_1500x41": (
        'nbtrack.compare(experiment="scale", filter="params.p00 >= 0.1", metric="m00")'
    ),
}
SETUP = {
    "table_3000x63": "import nbtrack",
    "plot_20x100k": 'import nbtrack\nLONG = list(nbtrack.search(experiment="long")["run_id"])',
    "compare_1500x41": "import nbtrack",
}
DRAWN = {
    "table_3000x63": ".nbt-table tbody .nbt-row",
    "plot_20x100k": ".nbt-chart canvas",
    "compare_1500x41": ".nbt-parallel path.nbt-line, .nbt-parallel-box canvas",
}
TARGETS = {"display_plot_20x100k_ms": 500, "display_compare_1500x41_ms": 1500,
           "display_table_3000x63_ms": 300, "draw_table_3000x63_ms": 1000,
           "draw_plot_20x100k_ms": 1000, "draw_compare_1500x41_ms": 1000}  # fmt: skip
# What JupyterLab and Notebook 7 put in an execute request's metadata.
LAB_METADATA = {"deletedCells": [], "recordTiming": False}


def build_store(store: Path) -> None:
    """The benchmark's store (in this process)."""
    import nbtrack

    nbtrack.set_store(store)
    rng = random.Random(1234)
    for i in range(N_RUNS):
        params: dict[str, Any] = {f"p{k:02d}": rng.random() * 0.2 for k in range(N_PARAMS)}
        params["optimizer"] = rng.choice(["adam", "sgd", "rmsprop"])
        tags = {"model": rng.choice(["mlp", "cnn"]), "stage": "sweep"}
        with nbtrack.run(name=f"run-{i}", experiment="scale", params=params, tags=tags) as run:
            run.log_metrics({f"m{k:02d}": rng.random() for k in range(N_METRICS)})
    for i in range(LONG_RUNS):
        with nbtrack.run(name=f"long-{i}", experiment="long") as run:
            for step in range(LONG_STEPS):
                run.log(loss=(1 + i) / (step + 1))
    nbtrack.flush()


def compact(store: Path) -> None:
    """``nbtrack compact`` of the store, from the command line."""
    _command(["-m", "nbtrack", "--store", str(store), "compact"])


def snapshot(store: Path) -> None:
    """What a writer starts in the background: a run snapshot of the store."""
    _command(["-m", "nbtrack.store.autosnapshot", str(store)])


def _command(args: list[str]) -> None:
    import subprocess

    subprocess.run([sys.executable, *args], check=True, capture_output=True)


# ---- in a kernel --------------------------------------------------------------------------
def _execute(client: Any, code: str, metadata: dict[str, Any]) -> float:
    """Run ``code`` with ``metadata``; ms from the request to the kernel going idle."""
    content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
               "allow_stdin": False, "stop_on_error": True}  # fmt: skip
    msg = client.session.msg("execute_request", content, metadata=metadata)
    start = time.perf_counter()
    client.shell_channel.send(msg)
    while True:
        reply = client.get_iopub_msg(timeout=600)
        if reply["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
            continue
        if reply["msg_type"] == "error":
            raise RuntimeError("\n".join(reply["content"]["traceback"]))
        if reply["msg_type"] == "status" and reply["content"]["execution_state"] == "idle":
            return (time.perf_counter() - start) * 1e3


# A person's pause between running one cell and the next (writing it, or reading the output).
PAUSE_S = 1.0


def kernel_cell_ms(store: Path, name: str, metadata: dict[str, Any], pause: float = 0) -> float:
    """A new kernel runs SETUP[name], then ``pause`` seconds later CELLS[name] (timed)."""
    from jupyter_client.manager import start_new_kernel

    km, client = start_new_kernel(kernel_name="python3", cwd=str(store.parent),
                                  env={"NBTRACK_STORE": str(store)})  # fmt: skip
    try:
        _execute(client, SETUP[name], metadata)
        time.sleep(pause)
        return _execute(client, CELLS[name], metadata)
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)


# ---- in JupyterLab ------------------------------------------------------------------------
TIME_CELL = """async ([index, drawn]) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cell = panel.content.widgets[index];
  const before = cell.model.executionCount;
  panel.content.activeCellIndex = index;
  await panel.content.scrollToItem(index, 'start');  // the user looks at the cell they run
  const start = performance.now();
  window.jupyterapp.commands.execute('notebook:run-cell');
  let idle = null, shown = null;
  await new Promise((resolve, reject) => {
    const tick = () => {
      const now = performance.now();
      if (idle === null && cell.model.executionCount !== before &&
          cell.model.executionState === 'idle') idle = now;
      if (shown === null && cell.node.querySelector(drawn)) shown = now;
      if (idle !== null && shown !== null) resolve();
      else if (now - start > 600000) reject(new Error('no draw in 10 minutes'));
      else requestAnimationFrame(tick);
    };
    tick();
  });
  return {cell_ms: idle - start, draw_ms: Math.max(0, shown - idle)};
}"""


def lab_figures(store: Path) -> dict[str, float]:
    """draw_* and lab_cell_* of each cell, in one JupyterLab page (cells run in order)."""
    import nbformat

    sys.path.insert(0, str(ROOT / "tests"))
    from browser import KERNEL_IDLE, browser_page, jupyter, run_cell  # the e2e tests' driver

    folder = store.parent
    # the table first, as the first query; the plot's runs read in a cell of their own
    order = ["import nbtrack", CELLS["table_3000x63"], SETUP["plot_20x100k"],
             CELLS["plot_20x100k"], CELLS["compare_1500x41"]]  # fmt: skip
    timed = {1: "table_3000x63", 3: "plot_20x100k", 4: "compare_1500x41"}
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in order],
                                  metadata={"kernelspec": kernelspec})  # fmt: skip
    nbformat.write(nb, folder / "display.ipynb")
    figures: dict[str, float] = {}
    # (the server's kernels use folder / "store")
    with jupyter("lab", folder, "display.ipynb") as url, browser_page(url) as page:
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        for index in range(len(order)):
            if index not in timed:
                run_cell(page, index)
                continue
            name = timed[index]
            result = page.evaluate(TIME_CELL, [index, DRAWN[name]])
            figures[f"lab_cell_{name}_ms"] = result["cell_ms"]
            figures[f"draw_{name}_ms"] = result["draw_ms"]
    return figures


# ---- the figures --------------------------------------------------------------------------
def measure(repeats: int, browser: bool = True) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="nbtrack-display-"))
    store = folder / "store"
    os.environ["NBTRACK_AUTO_SNAPSHOT"] = "0"  # (the figures without a snapshot come first)
    try:
        build_store(store)
        figures: dict[str, float] = {}
        for name in CELLS:
            times = [kernel_cell_ms(store, name, LAB_METADATA) for _ in range(repeats)]
            figures[f"display_{name}_ms"] = statistics.median(times)
            times = [kernel_cell_ms(store, name, LAB_METADATA, PAUSE_S) for _ in range(repeats)]
            figures[f"display_{name}_after_pause_ms"] = statistics.median(times)
            figures[f"display_{name}_nobrowser_ms"] = kernel_cell_ms(store, name, {})
        if browser:
            figures.update(lab_figures(store))
        for step, suffix in ((snapshot, "snapshot"), (compact, "compacted")):
            step(store)  # then a new kernel reads the run snapshot
            for name in CELLS:
                times = [kernel_cell_ms(store, name, LAB_METADATA) for _ in range(repeats)]
                figures[f"display_{name}_{suffix}_ms"] = statistics.median(times)
        return figures
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one kernel per cell, not three")
    parser.add_argument("--repeats", type=int, default=3, help="new kernels per cell (median)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--no-browser", action="store_true", help="skip the JupyterLab figures")
    args = parser.parse_args()
    figures = measure(repeats=1 if args.quick else args.repeats, browser=not args.no_browser)
    for key, value in figures.items():
        target = TARGETS.get(key)
        verdict = "" if target is None else f"  target <= {target:,}: " + (
            "met" if value <= target else "MISSED")  # fmt: skip
        print(f"{key:36s} {value:9.0f} ms{verdict}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
