"""Benchmarks of nbtrack's performance targets, optionally against MLflow.

Usage::

    python bench/run.py [--quick] [--json PATH] [--vs-mlflow] [--s3] [--only GROUP[,GROUP...]]

Groups: ``nbtrack`` (logging, search, history), ``exchange``, ``widgets``, ``curves`` (zoom and
live refresh of metric plots), ``display``, ``side_by_side``, ``scale`` (a million runs: about
10 minutes); ``--vs-mlflow`` adds MLflow's figures and their ratios to the ``nbtrack`` group's;
``--s3`` adds a store in moto's S3 server.

Every workload runs in a fresh Python process on a fresh store folder under /tmp. A workload is
a ``child_*`` function (here, or in ``mlflow_side.py``) that the parent calls in a subprocess
through :func:`call`; it returns a JSON-ready dict. This module imports only the standard
library at the top, so importing it in a child costs next to nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import autolog as autolog_bench  # (these nine import the standard library only, too)
import labextension as lab_bench
import models as models_bench
import projects as projects_bench
import s3 as s3_bench
import scale as scale_bench
import serve as serve_bench
import system_metrics as system_bench
import tb_import as tb_bench
from display import TARGETS as DISPLAY_TARGETS

BENCH_DIR = Path(__file__).resolve().parent
RESULT_PREFIX = "BENCH-RESULT "
SEED = 1234
# Workloads cycle through this many pre-built metric dicts, so building them is not timed.
POOL_SIZE = 1000
TEN_KEYS = tuple(f"m{i}" for i in range(10))
ORDER_BY = ["metrics.acc DESC"]
# A filter touching params, metrics and tags that MLflow parses too (it compares params as text).
FILTER = "params.optimizer = 'adam' and metrics.acc > 0.5 and tags.model = 'cnn'"
# The same, plus a typed comparison of a numeric param (MLflow cannot express it).
FILTER_TYPED = FILTER + " and params.depth >= 6"
SEARCH_LIMIT = 100
VISIBLE_INTERVAL_S = 0.05
# Longest a single child process may take (the 10k-run MLflow builds are the slowest).
CHILD_TIMEOUT_S = 900.0
MLFLOW_STORES = ("sqlite", "file")

# key -> (comparison, target); keys without a target are reported for information.
TARGETS: dict[str, tuple[str, float]] = {
    "log_us": ("<=", 3),
    "log10_us": ("<=", 10),
    "runs_per_s": (">=", 1000),
    "search_10k_ms": ("<=", 100),
    "search_10k_cold_ms": ("<=", 150),
    "cli_ls_10k_ms": ("<=", 400),
    "history_1m_ms": ("<=", 150),
    "visible_p95_ms": ("<=", 1500),
    "import_ms": ("<=", 250),
    "peak_rss_mb_10m": ("<=", 400),
    "ratio_log": (">=", 100),
    "ratio_runs": (">=", 20),
    "ratio_search": (">=", 10),
    "search_filter_100k_ms": ("<=", 250),
    "export_10k_s": ("<=", 3),
    "import_10k_s": ("<=", 5),
    "ratio_search_filter": (">=", 10),
    "table_10k_first_page_ms": ("<=", 100),
    "plot_20x100k_payload_kb": ("<=", 500),
    "plot_20x100k_ms": ("<=", 300),
    "plot_zoom_10m_ms": ("<=", 150),
    "plot_zoom_10m_payload_kb": ("<=", 100),
    "plot_live_refresh_ms": ("<=", 30),
    **{key: ("<=", target) for key, target in DISPLAY_TARGETS.items()},
    **models_bench.TARGETS,
    **serve_bench.TARGETS,
    **tb_bench.TARGETS,
    **autolog_bench.TARGETS,
    **system_bench.TARGETS,
    **projects_bench.TARGETS,
    **lab_bench.TARGETS,
    **scale_bench.TARGETS,
}
UNITS = {"_us": "µs", "_ms": "ms", "_per_s": "runs/s", "_mb_10m": "MB", "_s": "s", "_kb": "KB"}


@dataclass(frozen=True)
class Sizes:
    """How much work each figure does; --quick shrinks counts, never the unit of work."""

    repeats: int
    log_calls: int
    log10_calls: int
    runs: int
    search_runs: int
    search_processes: int
    history_points: int
    visible_s: float
    import_repeats: int
    rss_points: int
    mlflow_repeats: int
    mlflow_log_calls: int
    mlflow_log10_calls: int
    mlflow_runs: int
    mlflow_search_runs: int
    # MLflow's file store lists every run folder to find a run, so building it is quadratic:
    # it is searched at this size, and the sqlite store at this size too, to pick the faster.
    mlflow_file_search_runs: int
    mlflow_history_points: int
    filter_runs: int
    exchange_runs: int
    exchange_points: int
    mlflow_filter_runs: int
    # Stop repeating a slow call (MLflow's file-store search) once this much time is spent.
    mlflow_call_budget_s: float


# fmt: off
#                              full        quick
_SIZES: dict[str, tuple[float, float]] = {
    "repeats":                 (5,          3),
    "log_calls":               (1_000_000,  200_000),
    "log10_calls":             (200_000,    50_000),
    "runs":                    (2_000,      500),
    "search_runs":             (10_000,     10_000),
    "search_processes":        (3,          2),
    "history_points":          (1_000_000,  1_000_000),
    "visible_s":               (6.0,        3.0),
    "import_repeats":          (10,         5),
    "rss_points":              (10_000_000, 10_000_000),
    "mlflow_repeats":          (3,          1),
    "mlflow_log_calls":        (2_000,      300),
    "mlflow_log10_calls":      (500,        100),
    "mlflow_runs":             (200,        50),
    "mlflow_search_runs":      (10_000,     1_000),
    "mlflow_file_search_runs": (2_000,      1_000),
    "mlflow_history_points":   (100_000,    20_000),
    "filter_runs":             (100_000,    100_000),
    "exchange_runs":           (10_000,     10_000),
    "exchange_points":         (100,        100),
    "mlflow_filter_runs":      (1_000,      1_000),
    "mlflow_call_budget_s":    (15.0,       5.0),
}
# fmt: on
FULL = Sizes(**{name: full for name, (full, _) in _SIZES.items()})
QUICK = Sizes(**{name: quick for name, (_, quick) in _SIZES.items()})


@dataclass
class Figure:
    """One measured number; ``in_json`` is False for context rows shown only in the table."""

    key: str
    value: float
    note: str = ""
    in_json: bool = True

    @property
    def unit(self) -> str:
        if self.key.startswith("ratio_"):
            return "x"
        return next((u for suffix, u in UNITS.items() if self.key.endswith(suffix)), "")

    @property
    def target(self) -> str:
        rule = TARGETS.get(self.key)
        return f"{rule[0]} {rule[1]:g}" if rule else ""

    @property
    def ok(self) -> bool | None:
        rule = TARGETS.get(self.key)
        if rule is None:
            return None
        return self.value <= rule[1] if rule[0] == "<=" else self.value >= rule[1]


@dataclass
class Report:
    """The figures measured so far, printed as a table and written as JSON."""

    figures: list[Figure] = field(default_factory=list)

    def add(self, key: str, value: float, note: str = "", in_json: bool = True) -> float:
        self.figures.append(Figure(key, value, note, in_json))
        progress(f"{key} = {fmt(value)}  {note}")
        return value

    def json(self) -> dict[str, float]:
        return {f.key: round(f.value, 3) for f in self.figures if f.in_json}

    def table(self) -> str:
        header = ("figure", "value", "unit", "target", "ok?", "note")
        rows = [
            (
                f.key,
                fmt(f.value),
                f.unit,
                f.target,
                {True: "ok", False: "MISS"}.get(f.ok, ""),
                f.note,
            )
            for f in self.figures
        ]
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
        lines = []
        for row in [header, *rows]:
            cells = [
                str(c).rjust(w) if i == 1 else str(c).ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=False))
            ]
            lines.append("  ".join([*cells, row[-1]]).rstrip())
        lines.insert(1, "-" * len(lines[0]))
        return "\n".join(lines)


def fmt(value: float) -> str:
    """About three significant digits, with thousands separators."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


_START = time.perf_counter()


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - _START:6.1f}s] {message}", file=sys.stderr, flush=True)


# ---- running workloads in fresh processes ------------------------------------------------------
_BOOT = """\
import json, sys
sys.path.insert(0, {bench!r})
from {module} import {func} as workload
print({prefix!r} + json.dumps(workload(**json.loads(sys.argv[1]))), flush=True)
"""


def child_env() -> dict[str, str]:
    """The environment of a child: no NBTRACK_/MLFLOW_ settings leak in, no telemetry, and no
    background snapshots (each figure measures the store it built; those have a figure)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "MLFLOW_"))}
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", NBTRACK_AUTO_SNAPSHOT="0")
    return env


def start_child(func: str, folder: str, module: str = "run", **kwargs: Any) -> subprocess.Popen:
    """Start ``module.func(folder=folder, **kwargs)`` in a fresh interpreter, in ``folder``."""
    code = _BOOT.format(bench=str(BENCH_DIR), module=module, func=func, prefix=RESULT_PREFIX)
    return subprocess.Popen(
        [sys.executable, "-c", code, json.dumps({"folder": folder, **kwargs})],
        cwd=folder,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def child_result(proc: subprocess.Popen, timeout: float = CHILD_TIMEOUT_S) -> dict[str, Any]:
    """Wait for a child started by :func:`start_child` and return the dict it printed."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise RuntimeError(f"child timed out after {timeout:.0f}s: {proc.args[-1]}") from None
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {proc.args[-1]}\n{err[-3000:]}")
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError(f"child printed no result: {proc.args[-1]}\n{out[-2000:]}\n{err[-2000:]}")


def call(func: str, folder: str, module: str = "run", **kwargs: Any) -> dict[str, Any]:
    """Run ``module.func(folder=folder, **kwargs)`` in a fresh interpreter; return its dict."""
    return child_result(start_child(func, folder, module, **kwargs))


@contextmanager
def fresh_dir() -> Iterator[str]:
    """A new empty folder under /tmp for one workload, removed afterwards."""
    path = tempfile.mkdtemp(prefix="nbtrack-bench-", dir="/tmp")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def median_call(repeats: int, func: str, module: str = "run", **kwargs: Any) -> dict[str, float]:
    """Per-key medians of a workload's results over ``repeats`` runs, each on a fresh folder."""
    results = []
    for _ in range(repeats):
        with fresh_dir() as folder:
            results.append(call(func, folder, module, **kwargs))
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


# ---- workload data shared by the nbtrack and MLflow sides -------------------------------------
def run_specs(n: int) -> list[tuple[dict[str, Any], dict[str, float], dict[str, str]]]:
    """(params, metrics, tags) of ``n`` runs: 10 params, 5 metrics (one is ``acc``), 2 tags."""
    rng = random.Random(SEED)
    specs = []
    for i in range(n):
        params = {
            "lr": rng.choice([1e-4, 3e-4, 1e-3, 3e-3]),
            "depth": rng.randint(2, 12),
            "optimizer": rng.choice(["adam", "sgd", "rmsprop"]),
            "batch_size": 32 * (i % 8 + 1),
            "dropout": round(rng.random() / 2, 3),
            "seed": i,
            "layers": rng.randint(1, 6),
            "momentum": 0.9,
            "warmup": rng.randint(0, 1000),
            "activation": "relu",
        }
        metrics = {k: rng.random() for k in ("acc", "loss", "f1", "precision", "recall")}
        tags = {"model": rng.choice(["mlp", "cnn", "rf"]), "stage": "sweep"}
        specs.append((params, metrics, tags))
    return specs


def metric_pool(n_keys: int) -> list[dict[str, float]]:
    """POOL_SIZE dicts of ``n_keys`` random metric values (keys m0, m1, ...)."""
    rng = random.Random(SEED)
    return [{k: rng.random() for k in TEN_KEYS[:n_keys]} for _ in range(POOL_SIZE)]


def timed_calls(fn: Callable[[], int], repeats: int, budget_s: float = math.inf) -> dict:
    """Time a first call, then up to ``repeats`` warm calls (fewer past ``budget_s``), in ms.

    ``fn`` returns the size of its result, checked to be the same every time.
    """
    times, sizes = [], []
    while len(times) < 1 + max(1, repeats) and (len(times) < 2 or sum(times) < budget_s * 1e3):
        start = time.perf_counter()
        sizes.append(fn())
        times.append((time.perf_counter() - start) * 1e3)
    if len(set(sizes)) != 1:
        raise RuntimeError(f"the result size changed between calls: {sizes}")
    return {"first_ms": times[0], "warm_ms": times[1:], "size": sizes[0]}


# ---- nbtrack workloads (each runs in a child, on the store in its folder) ---------------------
def _open(folder: str):  # -> the nbtrack module, using the store in ``folder``
    import nbtrack

    nbtrack.set_store(Path(folder, "store"))
    return nbtrack


def _warmed_up(folder: str) -> tuple[Any, float]:
    """nbtrack after one tiny run in a scratch store, and that run's time (ms).

    The first run of a process also starts the writer and imports pyarrow for the first
    flush; throughput figures leave that one-time cost out and report it separately.
    """
    start = time.perf_counter()
    import nbtrack

    nbtrack.set_store(Path(folder, "warm-up"))
    with nbtrack.run(name="warm-up") as run:
        run.log(loss=0.0)
    nbtrack.flush()
    first_run_ms = (time.perf_counter() - start) * 1e3
    return _open(folder), first_run_ms


def child_log(folder: str, n_calls: int, n_keys: int) -> dict[str, float]:
    """µs per ``run.log(...)`` call with ``n_keys`` keys, the final flush included."""
    nbtrack, _ = _warmed_up(folder)
    with nbtrack.run(name="log") as run:
        if n_keys == 1:
            values = [random.random() for _ in range(n_calls)]
            start = time.perf_counter()
            for value in values:
                run.log(loss=value)
        else:
            pool = metric_pool(n_keys)
            start = time.perf_counter()
            for i in range(n_calls):
                run.log(**pool[i % POOL_SIZE])
        nbtrack.flush()
        elapsed = time.perf_counter() - start
    return {"us": elapsed / n_calls * 1e6}


def child_runs(folder: str, n_runs: int) -> dict[str, float]:
    """Runs per second: each run with 10 params, 5 metrics and 2 tags, the flush included.

    Also the time of the process's first (tiny) run, import and first flush included.
    """
    nbtrack, first_run_ms = _warmed_up(folder)
    specs = run_specs(n_runs)
    start = time.perf_counter()
    for params, metrics, tags in specs:
        with nbtrack.run(params=params, tags=tags) as run:
            run.log_metrics(metrics)
    nbtrack.flush()
    return {"per_s": n_runs / (time.perf_counter() - start), "first_run_ms": first_run_ms}


def child_search(folder: str, repeats: int) -> dict[str, Any]:
    """First (cold) and warm times of the search call, and the time to import nbtrack and the
    libraries a search needs (DuckDB, pyarrow, pandas) before them."""
    start = time.perf_counter()
    nbtrack = _open(folder)
    import duckdb  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    import_ms = (time.perf_counter() - start) * 1e3
    result = timed_calls(
        lambda: len(nbtrack.search(order_by=ORDER_BY, limit=SEARCH_LIMIT)), repeats
    )
    return {**result, "import_ms": import_ms}


def child_compact(folder: str) -> dict[str, Any]:
    """``nbtrack.compact()`` of the store (which writes its run snapshot)."""
    nbtrack = _open(folder)
    start = time.perf_counter()
    merged = nbtrack.compact()
    return {"s": time.perf_counter() - start, "merged": sum(merged.values())}


def child_more_runs(folder: str, n_runs: int) -> dict[str, Any]:
    """``n_runs`` more runs, as another process logs them while others start."""
    nbtrack = _open(folder)
    for params, metrics, tags in run_specs(n_runs):
        with nbtrack.run(params=params, tags=tags) as run:
            run.log_metrics(metrics)
    nbtrack.flush()
    return {"runs": n_runs}


def child_build_history(folder: str, n_points: int) -> dict[str, str]:
    """One run with an ``n_points`` long ``loss`` series; returns its id."""
    nbtrack = _open(folder)
    with nbtrack.run(name="history") as run:
        for i in range(n_points):
            run.log(loss=1.0 / (i + 1))
    nbtrack.flush()
    return {"run_id": run.id}


def child_history(folder: str, run_id: str, repeats: int) -> dict[str, Any]:
    nbtrack = _open(folder)
    return timed_calls(lambda: len(nbtrack.history(run_id, "loss")), repeats)


def child_visible_writer(folder: str, points: int) -> dict[str, int]:
    """Log the wall-clock time every VISIBLE_INTERVAL_S, starting once the reader is ready."""
    nbtrack = _open(folder)
    with nbtrack.run(name="visible") as run:
        Path(folder, ".run_id").write_text(run.id)
        Path(folder, ".run_id").replace(Path(folder, "run_id"))
        _wait_for(Path(folder, "ready"))
        due = time.perf_counter()
        for _ in range(points):
            run.log(t=time.time())
            due += VISIBLE_INTERVAL_S
            time.sleep(max(0.0, due - time.perf_counter()))
    return {"points": points}


def child_visible_reader(folder: str, points: int, timeout_s: float) -> dict[str, list]:
    """Poll ``history`` and record how long ago each newly seen point was logged (ms)."""
    nbtrack = _open(folder)
    run_id = _wait_for(Path(folder, "run_id")).read_text()
    nbtrack.history(run_id, "t")  # loads DuckDB and the store before the writer starts
    Path(folder, "ready").touch()
    delays: list[float] = []
    deadline = time.monotonic() + timeout_s
    while len(delays) < points and time.monotonic() < deadline:
        values = nbtrack.history(run_id, "t")["value"].tolist()
        now = time.time()
        delays += [(now - v) * 1e3 for v in values[len(delays) :]]
    return {"delays_ms": delays}


def _wait_for(path: Path, timeout_s: float = 60.0) -> Path:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout_s:.0f}s")
        time.sleep(0.005)
    return path


def child_peak_rss(folder: str, n_points: int) -> dict[str, float]:
    """Peak RSS (MB) of logging ``n_points`` into one run and flushing.

    Values are computed in the loop, so the only memory that grows is nbtrack's.
    """
    import resource

    nbtrack = _open(folder)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    start = time.perf_counter()
    with nbtrack.run(name="rss") as run:
        for i in range(n_points):
            run.log(loss=i * 1e-7)
    nbtrack.flush()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"peak_mb": peak, "before_mb": before, "seconds": time.perf_counter() - start}


def child_search_filter(folder: str, repeats: int, filter: str) -> dict[str, Any]:
    """First and warm times of a filtered, ordered search (ms)."""
    nbtrack = _open(folder)
    return timed_calls(
        lambda: len(nbtrack.search(filter, order_by=ORDER_BY, limit=SEARCH_LIMIT)), repeats
    )


def child_build_points(folder: str, n_runs: int, n_points: int) -> dict[str, float]:
    """``n_runs`` runs of ``run_specs``, each with an ``n_points`` long ``loss`` series."""
    nbtrack = _open(folder)
    for params, metrics, tags in run_specs(n_runs):
        with nbtrack.run(params=params, tags=tags) as run:
            run.log_metrics(metrics)
            for i in range(n_points):
                run.log(loss=1.0 / (i + 1))
    nbtrack.flush()
    return {"runs": n_runs}


def child_export(folder: str) -> dict[str, float]:
    """Seconds to export the store as a bundle (``folder/bundle``)."""
    nbtrack = _open(folder)
    start = time.perf_counter()
    count = nbtrack.export(Path(folder, "bundle"))
    return {"seconds": time.perf_counter() - start, "runs": count}


def child_import(folder: str) -> dict[str, float]:
    """Seconds to import ``folder/bundle`` into a new store."""
    import nbtrack

    nbtrack.set_store(Path(folder, "imported"))
    start = time.perf_counter()
    count = nbtrack.import_runs(Path(folder, "bundle"))
    return {"seconds": time.perf_counter() - start, "runs": count}


def child_table_page(folder: str, repeats: int) -> dict[str, Any]:
    """Python side of the run table: build the widget and its first page (ms)."""
    nbtrack = _open(folder)
    nbtrack.search(limit=1)  # loads DuckDB and the store, as any earlier call in a notebook would

    def first_page() -> int:
        table = nbtrack.table()
        table.close()  # stops its live thread
        return len(table._rows)

    return timed_calls(first_page, repeats)


def child_build_curves(folder: str, n_runs: int, n_points: int) -> dict[str, Any]:
    """``n_runs`` runs, each with an ``n_points`` long ``loss`` series; returns their ids."""
    nbtrack = _open(folder)
    ids = []
    for _ in range(n_runs):
        with nbtrack.run() as run:
            for i in range(n_points):
                run.log(loss=1.0 / (i + 1))
        ids.append(run.id)
    nbtrack.flush()
    return {"ids": ids}


def _running_runs(nbtrack: Any, n_runs: int, n_points: int) -> list[Any]:
    """``n_runs`` runs left running, each with an ``n_points`` long ``loss`` series, flushed."""
    runs = [nbtrack.start_run(parent=None) for _ in range(n_runs)]
    for run in runs:
        for i in range(n_points):
            run.log(loss=1.0 / (i + 1))
    nbtrack.flush()
    return runs


def child_live_patch(folder: str, n_runs: int, n_points: int, new_points: int) -> dict[str, Any]:
    """Bytes a live chart of ``n_runs`` running runs is sent when each logs ``new_points``
    more: the patch message (JSON and buffer) against the full state."""
    from nbtrack.query.curves import curves
    from nbtrack.widgets.curves import curve_patch

    nbtrack = _open(folder)
    runs = _running_runs(nbtrack, n_runs, n_points)
    ids = [run.id for run in runs]
    before = curves(ids, ["loss"])
    for run in runs:
        for i in range(n_points, n_points + new_points):
            run.log(loss=1.0 / (i + 1))
    nbtrack.flush()
    after = curves(ids, ["loss"])
    changes, added = curve_patch(before, after)
    message = {"type": "curves_patch", "base": 1, "version": 2, "changes": changes}
    full = len(json.dumps({"_series": after.series})) + len(after.to_bytes())
    return {"patch_bytes": len(json.dumps(message)) + len(added.to_bytes()), "full_bytes": full}


def child_sweep(folder: str, n_runs: int, repeats: int) -> dict[str, Any]:
    """A compare of ``n_runs`` runs (4 params, 3 metrics): the sweep view's Python side (ms)."""
    from nbtrack.widgets.comparison import Compare

    nbtrack = _open(folder)
    for i in range(n_runs):
        params = {"lr": 10 ** -(1 + i % 4), "depth": i % 7, "opt": ["adam", "sgd"][i % 2],
                  "seed": i}  # fmt: skip
        with nbtrack.run(experiment="sweep", params=params) as run:
            run.log(loss=1 / (1 + i), acc=i / n_runs, f1=(i % 13) / 13)
    nbtrack.flush()
    nbtrack.search(limit=1)

    def sweep() -> int:
        view = Compare(experiment="sweep", live=False)
        view.close()
        return len(view._sweep["runs"])

    return timed_calls(sweep, repeats)


def child_plot(folder: str, ids: list[str], repeats: int) -> dict[str, Any]:
    """Query, downsample and serialise the curves of ``ids`` (ms), and the bytes sent."""
    from nbtrack.charts import curve_vega
    from nbtrack.query.curves import curves

    _open(folder)
    curve_vega()  # reads the compiled spec once, as the first plot of a session does
    sizes = []

    def payload() -> int:
        found = curves(ids, ["loss"])
        message = json.dumps({"_spec": curve_vega(), "_series": found.series})
        sizes.append(len(message) + len(found.to_bytes()))
        return found.points

    result = timed_calls(payload, repeats)
    return {**result, "payload_bytes": sizes[-1]}


class _Sent:
    """The messages a widget sends (its comm's ``publish_msg``), and their bytes."""

    def __init__(self, widget: Any) -> None:
        self.bytes = 0
        widget.comm.publish_msg = self.record

    def record(self, msg_type: str, data: Any = None, metadata: Any = None,
               buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        self.bytes += len(json.dumps(data, default=str)) + sum(len(b) for b in buffers or [])


def child_zoom(folder: str, run_id: str, n_points: int, width: int, repeats: int) -> dict[str, Any]:
    """A plot of an ``n_points`` series zoomed to windows of ``width`` steps, each elsewhere:
    ms from setting ``x_range`` (as the browser does) to its answer sent, and its bytes."""
    from nbtrack.widgets.metric_plot import MetricPlot

    _open(folder)
    plot = MetricPlot("loss", runs=[run_id], live=False)  # drawn whole first, as a user sees it
    sent = _Sent(plot)
    rng = random.Random(SEED)
    sizes = []

    def zoom() -> int:
        low = rng.randrange(0, n_points - width)
        sent.bytes = 0
        plot.x_range = [low, low + width - 1]
        sizes.append(sent.bytes)
        return sum(s["count"] for s in plot._series)

    result = timed_calls(zoom, repeats)
    out_ms = []
    for _ in range(repeats):  # and back out to the whole series (double-click)
        zoom()
        start = time.perf_counter()
        plot.x_range = None
        out_ms.append((time.perf_counter() - start) * 1e3)
    return {**result, "payload_bytes": max(sizes), "out_ms": out_ms}


def child_live_refresh(
    folder: str, n_runs: int, n_points: int, new_points: int, repeats: int
) -> dict[str, Any]:
    """A live plot of ``n_runs`` running runs of ``n_points`` steps: ms of its refresh after
    each run logged ``new_points`` more (from the refresh's start to its patch sent), after the
    store's refresh that the live thread does first (timed apart)."""
    from nbtrack.store import get_store
    from nbtrack.widgets.metric_plot import MetricPlot

    nbtrack = _open(folder)
    runs = _running_runs(nbtrack, n_runs, n_points)
    plot = MetricPlot("loss", runs=[run.id for run in runs], live=False)
    sent = _Sent(plot)
    refresh_ms, store_ms, patch_bytes = [], [], []
    for repeat in range(repeats + 1):
        start = n_points + repeat * new_points
        for run in runs:
            for i in range(start, start + new_points):
                run.log(loss=1.0 / (i + 1))
        nbtrack.flush()
        began = time.perf_counter()
        get_store().reader.refresh()
        middle = time.perf_counter()
        sent.bytes = 0
        plot.refresh()
        refresh_ms.append((time.perf_counter() - middle) * 1e3)
        store_ms.append((middle - began) * 1e3)
        patch_bytes.append(sent.bytes)
    # (the first refresh reads the store's summaries into memory: left out, as in a notebook)
    return {"refresh_ms": refresh_ms[1:], "store_ms": store_ms[1:], "patch_bytes": patch_bytes}


# ---- nbtrack figures (measured from the parent) -----------------------------------------------
def import_ms(module: str, repeats: int) -> float:
    """Median wall time of ``python -c "import <module>"`` in fresh processes."""
    return cli_ms([sys.executable, "-c", f"import {module}"], repeats)


def search_figure(n_runs: int, processes: int, repeats: int) -> dict[str, float]:
    """Warm and cold (first call in a new process) search times over ``n_runs`` runs: cold
    before any compaction, after one (from its run snapshot), and after 100 more runs logged
    since; and ``nbtrack ls`` from the command line after compaction."""
    with fresh_dir() as folder:
        call("child_runs", folder, n_runs=n_runs)

        def cold(expected: int) -> list[dict[str, Any]]:
            found = [call("child_search", folder, repeats=repeats) for _ in range(processes)]
            assert all(r["size"] == min(expected, SEARCH_LIMIT) for r in found)
            return found

        uncompacted = cold(n_runs)
        refresh = [sys.executable, "-m", "nbtrack.store.autosnapshot", f"{folder}/store"]
        snapshot_ms = cli_ms(refresh, 1)  # what a writer starts in the background
        auto = cold(n_runs)
        call("child_compact", folder)
        results = cold(n_runs)
        ls_ms = cli_ms([sys.executable, "-m", "nbtrack", "--store", f"{folder}/store", "ls"], 5)
        call("child_more_runs", folder, n_runs=100)
        newer = cold(n_runs + 100)
        next_snapshot_ms = cli_ms(refresh, 1)
    return {
        "snapshot_ms": snapshot_ms,
        "next_snapshot_ms": next_snapshot_ms,
        "auto_ms": statistics.median(r["first_ms"] for r in auto),
        "warm_ms": statistics.median(ms for r in results for ms in r["warm_ms"]),
        "cold_ms": statistics.median(r["first_ms"] for r in results),
        "uncompacted_ms": statistics.median(r["first_ms"] for r in uncompacted),
        "newer_ms": statistics.median(r["first_ms"] for r in newer),
        "import_ms": statistics.median(r["import_ms"] for r in results),
        "ls_ms": ls_ms,
    }


def cli_ms(command: list[str], repeats: int) -> float:
    """Median wall time (ms) of ``command`` in fresh processes, Python's start included."""

    def once() -> float:
        start = time.perf_counter()
        subprocess.run(command, check=True, env=child_env(), stdout=subprocess.DEVNULL)
        return (time.perf_counter() - start) * 1e3

    return statistics.median(once() for _ in range(repeats))


def history_figure(n_points: int, repeats: int) -> float:
    """Warm ``history`` time of an ``n_points`` series, read by a process that did not log it."""
    with fresh_dir() as folder:
        run_id = call("child_build_history", folder, n_points=n_points)["run_id"]
        result = call("child_history", folder, run_id=run_id, repeats=repeats)
    assert result["size"] == n_points
    return statistics.median(result["warm_ms"])


def visible_figure(points: int, timeout_s: float) -> float:
    """p95 delay (ms) from ``log`` in a writer process to ``history`` in a reader process."""
    with fresh_dir() as folder:
        writer = start_child("child_visible_writer", folder, points=points)
        reader = start_child("child_visible_reader", folder, points=points, timeout_s=timeout_s)
        delays = child_result(reader)["delays_ms"]
        child_result(writer)
    if len(delays) < points:
        raise RuntimeError(f"the reader saw {len(delays)} of {points} points")
    return p95(delays)


def filter_figure(n_runs: int, repeats: int, filter: str) -> float:
    """Warm time (ms) of a filtered, ordered search over ``n_runs`` runs."""
    with fresh_dir() as folder:
        call("child_runs", folder, n_runs=n_runs)
        result = call("child_search_filter", folder, repeats=repeats, filter=filter)
    assert 0 < result["size"] <= SEARCH_LIMIT
    return statistics.median(result["warm_ms"])


def exchange_figures(sizes: Sizes, report: Report) -> None:
    """The query and exchange targets: filtered search at scale, bundle export and import."""
    r = sizes.repeats
    n = sizes.filter_runs
    ms = filter_figure(n, r, FILTER_TYPED)
    report.add("search_filter_100k_ms", ms, f"{n:,} runs, params+metrics+tags filter, warm, x{r}")
    n, points = sizes.exchange_runs, sizes.exchange_points
    exports, imports = [], []
    with fresh_dir() as folder:
        call("child_build_points", folder, n_runs=n, n_points=points)
        for _ in range(r):
            shutil.rmtree(Path(folder, "bundle"), ignore_errors=True)
            shutil.rmtree(Path(folder, "imported"), ignore_errors=True)
            exported = call("child_export", folder)
            imported = call("child_import", folder)
            assert exported["runs"] == imported["runs"] == n
            exports.append(exported["seconds"])
            imports.append(imported["seconds"])
    where = f"{n:,} runs x {points} points, bundle, x{r}"
    report.add("export_10k_s", statistics.median(exports), where)
    report.add("import_10k_s", statistics.median(imports), f"{where}, into a new store")


def widget_figures(sizes: Sizes, report: Report) -> None:
    """The widgets' targets: the table's first page, the plot's payload and time, the bundle."""
    r = sizes.repeats
    with fresh_dir() as folder:
        call("child_runs", folder, n_runs=sizes.search_runs)
        result = call("child_table_page", folder, repeats=r)
    note = f"{sizes.search_runs:,} runs, widget and first page, warm, x{r}"
    report.add("table_10k_first_page_ms", statistics.median(result["warm_ms"]), note)
    with fresh_dir() as folder:
        ids = call("child_build_curves", folder, n_runs=20, n_points=100_000)["ids"]
        result = call("child_plot", folder, ids=ids, repeats=r)
    note = f"20 runs x 100,000 steps, {result['size']:,} points sent"
    report.add("plot_20x100k_payload_kb", result["payload_bytes"] / 1024, note)
    report.add("plot_20x100k_ms", statistics.median(result["warm_ms"]), f"{note}, warm, x{r}")
    with fresh_dir() as folder:
        result = call("child_live_patch", folder, n_runs=20, n_points=100_000, new_points=100)
    note = f"20 running runs x 100,000 steps, 100 new each; full state {result['full_bytes']:,} B"
    report.add("plot_live_patch_kb", result["patch_bytes"] / 1024, note)
    with fresh_dir() as folder:
        result = call("child_sweep", folder, n_runs=500, repeats=r)
    note = f"500 runs, 4 params, 3 metrics: widget, sweep and side-by-side note, warm, x{r}"
    report.add("compare_sweep_500_ms", statistics.median(result["warm_ms"]), note)
    static = BENCH_DIR.parent / "nbtrack" / "static"
    kb = sum(f.stat().st_size for f in static.glob("*.*")) / 1024
    report.add("bundle_kb", kb, ", ".join(f"{f.name} {f.stat().st_size / 1024:.0f} KB"
                                          for f in sorted(static.glob("*.*"))))  # fmt: skip


def curve_figures(sizes: Sizes, report: Report) -> None:
    """Metric plots at scale: zooming into a 10,000,000-point series, and a live plot's
    refresh reading only the points logged since the last one."""
    r = max(sizes.repeats, 5)
    n, width = sizes.rss_points, 1000
    with fresh_dir() as folder:
        run_id = call("child_build_history", folder, n_points=n)["run_id"]
        result = call("child_zoom", folder, run_id=run_id, n_points=n, width=width, repeats=r)
    note = f"{n:,} points, {width:,}-step windows, {result['size']:,} points each, x{r}"
    report.add("plot_zoom_10m_ms", statistics.median(result["warm_ms"]), note)
    report.add("plot_zoom_10m_payload_kb", result["payload_bytes"] / 1024, "the answer sent")
    note = "from a window back to the whole series (its curves read once, then updated)"
    report.add("plot_zoom_out_10m_ms", statistics.median(result["out_ms"]), note)
    with fresh_dir() as folder:
        result = call("child_live_refresh", folder, n_runs=20, n_points=100_000,
                      new_points=100, repeats=r)  # fmt: skip
    note = (f"20 running runs x 100,000 steps, 100 new each, x{r}; the live thread's store "
            f"refresh before it {statistics.median(result['store_ms']):.0f} ms")  # fmt: skip
    report.add("plot_live_refresh_ms", statistics.median(result["refresh_ms"]), note)


def display_figures(quick: bool, report: Report) -> None:
    """What a user waits for, in a real kernel and a real JupyterLab (bench/display.py)."""
    with fresh_dir() as folder:
        out = Path(folder, "display.json")
        command = [sys.executable, str(BENCH_DIR / "display.py"), "--json", str(out)]
        subprocess.run(command + (["--quick"] if quick else []), check=True, env=child_env(),
                       timeout=CHILD_TIMEOUT_S, stdout=subprocess.DEVNULL)  # fmt: skip
        figures = json.loads(out.read_text())
    for key, value in figures.items():
        kind = "nobrowser" if "_nobrowser_" in key else key.split("_")[0]
        report.add(key, value, DISPLAY_NOTES[kind])


DISPLAY_NOTES = {
    "display": "execute to idle, a new kernel's first query, as JupyterLab sends the cell",
    "draw": "JupyterLab in Chromium: cell idle to the widget drawn (0: drawn before)",
    "lab": "JupyterLab in Chromium: the cell from execute to idle",
    "nobrowser": "the same run by nbclient: the kernel renders the saved image as the cell ends",
}


def side_by_side_figures(quick: bool, report: Report) -> None:
    """Models, the registry, the scoring server and autolog beside MLflow doing the same, the
    TensorBoard import beside tbparse, the system metrics sampler's cost, and what nbtrack run and
    sweeps add to papermill and Optuna, and the JupyterLab extension's server side
    (bench/models.py, serve.py, tb_import.py, autolog.py, system_metrics.py, projects.py and
    labextension.py, whose docstrings say what each figure times)."""
    benches = (models_bench, serve_bench, tb_bench, autolog_bench, system_bench, projects_bench,
               lab_bench)  # fmt: skip
    figures = {key: value for bench in benches for key, value in bench.figures(quick).items()}
    for key, value in figures.items():
        what = SIDE_NOTES.get(key.removeprefix("mlflow_").removeprefix("ratio_"), "")
        side = {"mlflow_": "MLflow: ", "ratio_": "how many times faster nbtrack is: "}
        report.add(key, value, side.get(key.split("_")[0] + "_", "") + what)


def s3_figures(quick: bool, report: Report) -> None:
    """A store in a bucket of moto's S3 server on this machine (bench/s3.py says what each
    figure times): logging, search and history with the local cache of segments empty and
    filled."""
    for key, value in s3_bench.figures(quick).items():
        cache = "cache empty" if "cold_cache" in key else "cache filled"
        what = "new process, " + cache if "_cache_" in key else "repeated in one process"
        note = "per run.log, upload included" if key == "s3_log_us" else what
        report.add(key, value, "bucket store: " + note)


def scale_figures(quick: bool, report: Report) -> None:
    """A million runs (100,000 with ``quick``) and 10,000 metric keys (bench/scale.py, whose
    docstring says what each figure times)."""
    for key, value in scale_bench.figures(quick).items():
        report.add(key, value, "see bench/scale.py")


SIDE_NOTES = {
    "log_model_ms": "log_model of a 100-tree forest with an input example, warm",
    "log_model": "log_model of a 100-tree forest",
    "load_model_ms": "load_model('models:/forest@champion'), warm",
    "load_model": "load_model by alias",
    "register_ms": "register_model + set_alias",
    "register": "register_model + set_alias",
    "serve_p50_ms": "one-row /invocations to a warm server, p50 of 1,000",
    "serve_rps": "one-row requests per second, 8 concurrent clients",
    "serve_p50": "p50 of one-row /invocations",
    "import_tb_100k_s": "import_tensorboard of 100 runs x 1,000 points, a fresh store",
    "tbparse_100k_s": "tbparse reading the same logs into pandas",
    "tbparse": "than tbparse on the same logs",
    "autolog_sklearn_overhead_ms": "added to LogisticRegression().fit on the wine data",
    "autolog": "added time of autolog on that fit",
    "system_metrics_cpu_pct": "CPU the sampler costs at a 1 s interval",
    "run_notebook_overhead_s": "nbtrack run of a 3-cell notebook minus papermill on it (CLIs)",
    "run_notebook_s": "nbtrack run of that notebook, from the command line",
    "papermill_s": "papermill on the same notebook, from the command line",
    "sweep_trial_overhead_ms": "per trial of a 200-trial Optuna sweep minus a bare Optuna loop",
    "optuna_trial_ms": "per trial of the bare Optuna loop",
    "sweep_grid_trial_ms": "per trial of a 200-trial grid sweep of a function",
    "sidebar_10k_ms": "the Runs sidebar's first page of 10,000 runs, server answers, warm",
    "sidebar_10k_first_ms": "the same, the server's first request",
    "run_page_ms": "a run page of 5 metrics x 100,000 points: the run and its curves",
    "labextension_kb": "the JupyterLab extension's JavaScript",
    "charts_kb": "the widgets' chart bundle its pages load when first needed",
}


def nbtrack_figures(sizes: Sizes, report: Report) -> None:
    r = sizes.repeats
    log = median_call(r, "child_log", n_calls=sizes.log_calls, n_keys=1)
    report.add("log_us", log["us"], f"{sizes.log_calls:,} calls, x{r}")
    log = median_call(r, "child_log", n_calls=sizes.log10_calls, n_keys=10)
    report.add("log10_us", log["us"], f"{sizes.log10_calls:,} calls, x{r}")
    runs = median_call(r, "child_runs", n_runs=sizes.runs)
    report.add("runs_per_s", runs["per_s"], f"{sizes.runs:,} runs, x{r}")
    note = "first run of a new process: writer start, pyarrow import, flush"
    report.add("first_run_ms", runs["first_run_ms"], note, in_json=False)

    search = search_figure(sizes.search_runs, sizes.search_processes, r)
    where = f"{sizes.search_runs:,} runs"
    report.add("search_10k_ms", search["warm_ms"], f"{where}, warm, {sizes.search_processes}x{r}")
    note = f"{where}, compacted, first call in a new process"
    report.add("search_10k_cold_ms", search["cold_ms"], note)
    note = "nbtrack, DuckDB, pyarrow and pandas imported before that call"
    report.add("search_import_ms", search["import_ms"], note, in_json=False)
    note = f"{where}, never compacted, first call in a new process"
    report.add("search_10k_uncompacted_cold_ms", search["uncompacted_ms"], note)
    note = "compacted, then 100 more runs logged by another process: first call"
    report.add("search_10k_newer_cold_ms", search["newer_ms"], note)
    report.add("cli_ls_10k_ms", search["ls_ms"], f"`nbtrack ls`, {where}, wall, Python start in")
    note = f"{where} never compacted, a writer's background snapshot since: first call"
    report.add("search_10k_auto_snapshot_cold_ms", search["auto_ms"], note)
    note = "python -m nbtrack.store.autosnapshot, wall: from the segments"
    report.add("auto_snapshot_10k_ms", search["snapshot_ms"], f"{where}, {note}")
    note = "the same, 100 runs after the last snapshot: from it and the newer segments"
    report.add("auto_snapshot_10k_next_ms", search["next_snapshot_ms"], note)
    history = history_figure(sizes.history_points, r)
    report.add("history_1m_ms", history, f"{sizes.history_points:,} points, warm, x{r}")

    points = round(sizes.visible_s / VISIBLE_INTERVAL_S)
    visible = visible_figure(points, timeout_s=sizes.visible_s + 30)
    report.add("visible_p95_ms", visible, f"{points} points, writer and reader processes")
    n = sizes.import_repeats
    report.add("import_ms", import_ms("nbtrack", n), f"python -c 'import nbtrack', x{n}")
    report.add("python_ms", import_ms("sys", n), "python -c 'import sys'", in_json=False)
    with fresh_dir() as folder:
        rss = call("child_peak_rss", folder, n_points=sizes.rss_points)
    note = (
        f"{sizes.rss_points:,} points in {rss['seconds']:.1f}s, {rss['before_mb']:.0f} MB at start"
    )
    report.add("peak_rss_mb_10m", rss["peak_mb"], note)


# ---- MLflow comparison ------------------------------------------------------------------------
def mlflow_search(sizes: Sizes) -> dict[str, dict[int, dict[str, Any]]]:
    """Search times of each MLflow store, by store size (number of runs).

    Both stores grow to ``mlflow_file_search_runs`` side by side (2 processes) and are searched;
    then the sqlite store grows on to ``mlflow_search_runs`` and is searched again.
    """
    plan = {
        "sqlite": {sizes.mlflow_file_search_runs, sizes.mlflow_search_runs},
        "file": {sizes.mlflow_file_search_runs},
    }
    results: dict[str, dict[int, dict[str, Any]]] = {kind: {} for kind in plan}
    built = dict.fromkeys(plan, 0)
    with fresh_dir() as sqlite_folder, fresh_dir() as file_folder:
        folders = {"sqlite": sqlite_folder, "file": file_folder}
        for n_runs in sorted(set.union(*plan.values())):
            kinds = [kind for kind, steps in plan.items() if n_runs in steps]
            builders = {
                kind: start_child(
                    "build_search_store",
                    folders[kind],
                    "mlflow_side",
                    kind=kind,
                    first=built[kind],
                    n_runs=n_runs,
                )
                for kind in kinds
            }
            for kind, builder in builders.items():
                seconds = child_result(builder)["seconds"]
                progress(f"mlflow {kind}: {built[kind]:,} -> {n_runs:,} runs in {seconds:.0f}s")
                built[kind] = n_runs
            for kind in kinds:

                def measure(func: str, kind: str = kind, **extra: Any) -> dict[str, Any]:
                    return call(func, folders[kind], "mlflow_side", kind=kind,
                                repeats=sizes.mlflow_repeats,
                                budget_s=sizes.mlflow_call_budget_s, **extra)  # fmt: skip

                result = measure("search")
                assert result["size"] == min(n_runs, SEARCH_LIMIT)
                result["filter"] = measure("search_filter", filter=FILTER)
                results[kind][n_runs] = result
    return results


def mlflow_figures(sizes: Sizes, report: Report, nb: dict[str, float]) -> None:
    """MLflow's figures on both stores, and the ratios against the faster store of each."""
    r, m = sizes.mlflow_repeats, "mlflow_side"
    log, runs, history = {}, {}, {}
    for kind in MLFLOW_STORES:
        n = sizes.mlflow_log_calls
        us = median_call(r, "log", m, kind=kind, n_calls=n, n_keys=1)["us"]
        log[kind] = report.add(f"mlflow_{kind}_log_us", us, f"{n:,} log_metric calls, x{r}")
        n = sizes.mlflow_log10_calls
        us = median_call(r, "log", m, kind=kind, n_calls=n, n_keys=10)["us"]
        report.add(f"mlflow_{kind}_log10_us", us, f"{n:,} log_metrics calls, x{r}")
        n = sizes.mlflow_runs
        per_s = median_call(r, "runs", m, kind=kind, n_runs=n)["per_s"]
        runs[kind] = report.add(f"mlflow_{kind}_runs_per_s", per_s, f"{n:,} runs, x{r}")
        n = sizes.mlflow_history_points
        with fresh_dir() as folder:
            result = call(
                "history",
                folder,
                m,
                kind=kind,
                n_points=n,
                repeats=r,
                budget_s=sizes.mlflow_call_budget_s,
            )
        assert result["size"] == n
        warm = result["warm_ms"]
        history[kind] = report.add(
            f"mlflow_{kind}_history_ms",
            statistics.median(warm),
            f"{n:,} points, warm, x{len(warm)}",
        )

    search = mlflow_search(sizes)
    for kind, by_size in search.items():
        for n_runs, result in sorted(by_size.items()):
            largest = n_runs == max(by_size)
            size = "10k" if largest else f"{n_runs / 1000:g}k"
            key = f"mlflow_{kind}_search_{size}_ms"
            warm, where = result["warm_ms"], f"{n_runs:,} runs"
            if n_runs != sizes.search_runs:
                where += " (scaled down)"
            report.add(key, statistics.median(warm), f"{where}, warm, x{len(warm)}", largest)
            if largest:
                report.add(
                    f"mlflow_{kind}_search_10k_cold_ms", result["first_ms"], f"{where}, cold"
                )
    report.add("mlflow_import_ms", import_ms("mlflow", r), f"python -c 'import mlflow', x{r}")

    def ratio(key: str, mlflow: dict[str, float], nbtrack: float, per: str) -> None:
        higher_is_faster = key == "ratio_runs"
        best = (max if higher_is_faster else min)(mlflow, key=mlflow.get)
        value = nbtrack / mlflow[best] if higher_is_faster else mlflow[best] / nbtrack
        report.add(key, value, f"MLflow {best} / nbtrack, {per}")

    # The same unit of work on both sides: nbtrack again at MLflow's sizes where they differ.
    ratio("ratio_log", log, nb["log_us"], "per log call")
    ratio("ratio_runs", runs, nb["runs_per_s"], "per run")
    # The faster store is the one faster where both were measured; compare at its largest size.
    common = sizes.mlflow_file_search_runs
    best = min(search, key=lambda kind: statistics.median(search[kind][common]["warm_ms"]))
    n_runs = max(search[best])
    nb_search = nb["search_10k_ms"]
    if n_runs != sizes.search_runs:
        nb_search = search_figure(n_runs, 1, sizes.repeats)["warm_ms"]
        report.add("nbtrack_search_ms", nb_search, f"{n_runs:,} runs, warm", in_json=False)
    best_ms = {best: statistics.median(search[best][n_runs]["warm_ms"])}
    ratio("ratio_search", best_ms, nb_search, f"per search over {n_runs:,} runs")
    filtered = {}
    n = sizes.mlflow_filter_runs
    for kind in MLFLOW_STORES:
        with fresh_dir() as folder:
            call("build_search_store", folder, m, kind=kind, first=0, n_runs=n)
            result = call("search_filter", folder, m, kind=kind, repeats=r, budget_s=30.0,
                          filter=FILTER)  # fmt: skip
        warm = result["warm_ms"]
        filtered[kind] = report.add(
            f"mlflow_{kind}_search_filter_ms", statistics.median(warm),
            f"{n:,} runs, the same filter, warm, x{len(warm)}",
        )  # fmt: skip
    nb_filter = filter_figure(n, sizes.repeats, FILTER)
    report.add("nbtrack_search_filter_ms", nb_filter, f"{n:,} runs, warm", in_json=False)
    ratio("ratio_search_filter", filtered, nb_filter, f"per filtered search over {n:,} runs")
    # The same filter where MLflow's stores are largest: the per-call cost of each at scale.
    n_runs = max(search[best])
    if n_runs != n:
        warm = search[best][n_runs]["filter"]["warm_ms"]
        mlflow_ms = report.add(
            f"mlflow_{best}_search_filter_large_ms", statistics.median(warm),
            f"{n_runs:,} runs, the same filter, warm, x{len(warm)}", in_json=False,
        )  # fmt: skip
        nb_large = filter_figure(n_runs, sizes.repeats, FILTER)
        report.add("nbtrack_search_filter_large_ms", nb_large, f"{n_runs:,} runs, warm",
                   in_json=False)  # fmt: skip
        ratio("ratio_search_filter_large", {best: mlflow_ms}, nb_large,
              f"per filtered search over {n_runs:,} runs")  # fmt: skip
    nb_history = history_figure(sizes.mlflow_history_points, sizes.repeats)
    points = f"{sizes.mlflow_history_points:,} points"
    report.add("nbtrack_history_ms", nb_history, f"{points}, warm", in_json=False)
    ratio("ratio_history", history, nb_history, f"per history call of {points}")


# The figures, by group (see --only), each measured by its function of (sizes, quick, report).
GROUPS: dict[str, Callable[[Sizes, bool, Report], None]] = {
    "nbtrack": lambda sizes, _, report: nbtrack_figures(sizes, report),
    "exchange": lambda sizes, _, report: exchange_figures(sizes, report),
    "widgets": lambda sizes, _, report: widget_figures(sizes, report),
    "curves": lambda sizes, _, report: curve_figures(sizes, report),
    "display": lambda _, quick, report: display_figures(quick, report),
    "side_by_side": lambda _, quick, report: side_by_side_figures(quick, report),
    "scale": lambda _, quick, report: scale_figures(quick, report),
}


def git_commit() -> str:
    """The repository's current commit (a read-only git lookup; empty outside git)."""
    return subprocess.run(
        ["git", "-C", str(BENCH_DIR), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--vs-mlflow", action="store_true", help="also measure MLflow")
    parser.add_argument("--s3", action="store_true", help="also a store in moto's S3 server")
    parser.add_argument("--only", metavar="GROUP[,GROUP...]",
                        help=f"measure only these groups: {', '.join(GROUPS)}")  # fmt: skip
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    groups = list(GROUPS) if args.only is None else args.only.split(",")
    if unknown := set(groups) - set(GROUPS):
        parser.error(f"no group {', '.join(sorted(unknown))}; groups: {', '.join(GROUPS)}")
    if args.vs_mlflow and "nbtrack" not in groups:
        parser.error("--vs-mlflow compares with the nbtrack group's figures: include it")
    commit = git_commit()
    report = Report()
    for group in groups:
        GROUPS[group](sizes, args.quick, report)
    if args.vs_mlflow:
        mlflow_figures(sizes, report, {f.key: f.value for f in report.figures})
    if args.s3:
        s3_figures(args.quick, report)
    mode = "quick" if args.quick else "full"
    elapsed = time.perf_counter() - _START
    if (now := git_commit()) != commit:
        commit += f" (HEAD moved to {now} during the run)"
    print(f"\nnbtrack at commit {commit}, {mode} mode, {os.cpu_count()} CPUs, {elapsed:.0f}s\n")
    print(report.table())
    if args.json:
        args.json.write_text(json.dumps(report.json(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
