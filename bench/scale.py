"""Scale: a million runs in one store, and ten thousand metric keys over a thousand runs.

- ``search_filter_1m_ms``: ``search`` with bench/run.py's typed filter on params, metrics and
  tags and its order, over 1,000,000 runs (10 params, 5 metrics, 2 tags each; compacted, so
  read from its run snapshot), warm, in a new process; ``search_filter_1m_first_ms`` is its
  first call. ``table_1m_first_page_ms``: the run table widget and its first page there, warm.
  ``peak_rss_1m_mb``: that process's peak RSS. ``build_1m_s`` and ``compact_1m_s``: logging the
  runs and compacting them.
- ``search_10k_keys_ms``: ``search()`` of 1,000 runs that logged 10,000 distinct metric keys
  (100 each), warm; ``table_10k_keys_ms``: the run table and its first page there, warm.

    python bench/scale.py [--quick] [--json PATH]     (--quick: 100,000 runs)
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import side_by_side_main

TARGETS = {
    "search_filter_1m_ms": ("<=", 1000),
    "table_1m_first_page_ms": ("<=", 300),
    "peak_rss_1m_mb": ("<=", 2048),
    "search_10k_keys_ms": ("<=", 1000),
    "table_10k_keys_ms": ("<=", 300),
}
REPEATS = 5
FILTER = (
    "params.optimizer = 'adam' and params.depth >= 6 and metrics.acc > 0.5 and tags.model = 'cnn'"
)
KEYS, KEY_RUNS, KEYS_PER_RUN = 10_000, 1_000, 100


def _open(folder: str):  # -> the nbtrack module, on the store in ``folder``
    import nbtrack

    nbtrack.set_store(Path(folder, "store"))
    return nbtrack


def _timed(call, repeats: int) -> tuple[float, list[float]]:
    """The first call's time and the warm calls' times (ms)."""
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return times[0], times[1:]


def _first_page(nbtrack) -> int:
    table = nbtrack.table()
    table.close()
    return len(table._rows)


def child_build(folder: str, n_runs: int) -> dict[str, float]:
    """``n_runs`` runs as bench/run.py logs them, flushed, then compacted."""
    from run import run_specs

    nbtrack = _open(folder)
    start = time.perf_counter()
    for params, metrics, tags in run_specs(n_runs):
        with nbtrack.run(params=params, tags=tags) as run:
            run.log_metrics(metrics)
    nbtrack.flush()
    built = time.perf_counter()
    nbtrack.compact()
    return {"build_s": built - start, "compact_s": time.perf_counter() - built}


def child_query(folder: str, repeats: int) -> dict[str, float]:
    """A new process's filtered search and run table over the store, and its peak RSS."""
    from run import FILTER_TYPED, ORDER_BY, SEARCH_LIMIT

    nbtrack = _open(folder)
    first, warm = _timed(
        lambda: nbtrack.search(FILTER_TYPED, order_by=ORDER_BY, limit=SEARCH_LIMIT), repeats
    )
    _, table = _timed(lambda: _first_page(nbtrack), repeats)
    return {
        "first_ms": first,
        "warm_ms": statistics.median(warm),
        "table_ms": statistics.median(table),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child_keys(folder: str, repeats: int) -> dict[str, float]:
    """KEY_RUNS runs logging KEYS_PER_RUN of KEYS distinct metric keys each; then ``search()``
    and the run table, warm."""
    nbtrack = _open(folder)
    for i in range(KEY_RUNS):
        with nbtrack.run(params={"i": i}) as run:
            run.log_metrics({f"m{(i * 10 + j) % KEYS:05d}": j / 100 for j in range(KEYS_PER_RUN)})
    nbtrack.flush()
    _, search = _timed(lambda: nbtrack.search(), repeats)
    _, table = _timed(lambda: _first_page(nbtrack), repeats)
    assert len(nbtrack.search().columns) > KEYS
    return {"search_ms": statistics.median(search), "table_ms": statistics.median(table)}


def _child(name: str, folder: str, repeats: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, "--folder", folder, "--repeats", str(repeats)],
        check=True, capture_output=True, text=True, timeout=3600, cwd=Path(__file__).parent,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def figures(quick: bool = False) -> dict[str, float]:
    runs = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="nbtrack-bench-scale-") as folder:
        built = _child("build", folder, runs)
        query = _child("query", folder, REPEATS)
    with tempfile.TemporaryDirectory(prefix="nbtrack-bench-keys-") as folder:
        keys = _child("keys", folder, REPEATS)
    size = "1m" if runs == 1_000_000 else "100k"
    return {
        f"build_{size}_s": built["build_s"],
        f"compact_{size}_s": built["compact_s"],
        f"search_filter_{size}_first_ms": query["first_ms"],
        f"search_filter_{size}_ms": query["warm_ms"],
        f"table_{size}_first_page_ms": query["table_ms"],
        f"peak_rss_{size}_mb": query["rss_mb"],
        "search_10k_keys_ms": keys["search_ms"],
        "table_10k_keys_ms": keys["table_ms"],
    }


if __name__ == "__main__":
    side_by_side_main(
        __doc__,
        figures,
        TARGETS,
        {"build": child_build, "query": child_query, "keys": child_keys},
        REPEATS,
    )
