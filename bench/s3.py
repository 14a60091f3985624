"""A store in an S3 bucket, against moto's S3 server on 127.0.0.1 (so the figures show
nbtrack's own cost over a fast network, not a real region's latency).

- ``s3_log_us``: µs per ``run.log(loss=…)`` on a bucket store, the final flush (upload)
  included (compare ``log_us`` on a folder).
- ``s3_search_10k_cold_cache_ms``: the first ``search()`` in a new process over 10,000 runs
  (10 params, 5 metrics, 2 tags each, compacted), with an empty local cache: it lists the
  bucket and downloads the segments. ``s3_search_10k_warm_cache_ms``: the same in another new
  process once the cache holds them (lists, downloads nothing). ``s3_search_10k_ms``: a
  repeated search in a process (a listing, then DuckDB on the loaded tables).
- ``s3_history_1m_cold_cache_ms`` / ``s3_history_1m_warm_cache_ms``: ``history()`` of one
  run's 1,000,000 points in a new process, cache empty / filled; ``s3_history_1m_ms`` repeated.

    python bench/s3.py [--quick] [--json PATH]      (bench/run.py --s3 reports these too)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import show

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
TARGETS: dict[str, tuple[str, float]] = {}
KEYS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
RESULT = "S3-BENCH "


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(cache: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    env.update(KEYS, NBTRACK_CACHE_DIR=cache, PYTHONPATH=str(ROOT))
    return env


def _child(name: str, store: str, cache: str, **kwargs: object) -> dict:
    """Run ``child_<name>(store, **kwargs)`` of this file in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", name, "--store", store, json.dumps(kwargs)],
        env=_env(cache), capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    for line in done.stdout.splitlines():
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT) :])
    raise RuntimeError(f"{name} failed:\n{done.stderr[-3000:]}")


# ---- children (each in a new process, on the bucket store) ----------------------------------
def child_log(store: str, calls: int) -> dict:
    import random

    import nbtrack

    nbtrack.set_store(store)
    with nbtrack.run(name="warm-up") as run:
        run.log(loss=0.0)
    nbtrack.flush()
    values = [random.random() for _ in range(calls)]
    with nbtrack.run(name="log") as run:
        start = time.perf_counter()
        for value in values:
            run.log(loss=value)
        nbtrack.flush()
        elapsed = time.perf_counter() - start
    return {"us": elapsed / calls * 1e6}


def child_build_runs(store: str, runs: int) -> dict:
    import random

    import nbtrack

    nbtrack.set_store(store)
    rng = random.Random(1234)
    for _ in range(runs):
        params = {f"p{k}": rng.random() for k in range(9)} | {"optimizer": "adam"}
        with nbtrack.run(params=params, tags={"model": "cnn", "stage": "sweep"}) as run:
            run.log_metrics({k: rng.random() for k in ("acc", "loss", "f1", "precision", "re")})
    nbtrack.flush()
    nbtrack.compact()
    return {}


def child_build_history(store: str, points: int) -> dict:
    import numpy as np

    import nbtrack

    nbtrack.set_store(store)
    with nbtrack.run(name="history") as run:
        for value in np.linspace(1.0, 0.0, points).tolist():
            run.log(loss=value)
    nbtrack.flush()
    nbtrack.compact()
    return {"run_id": run.id}


def child_search(store: str, repeats: int) -> dict:
    import nbtrack

    nbtrack.set_store(store)
    return _timed(lambda: len(nbtrack.search(order_by=["metrics.acc DESC"], limit=100)), repeats)


def child_history(store: str, run_id: str, repeats: int) -> dict:
    import nbtrack

    nbtrack.set_store(store)
    return _timed(lambda: len(nbtrack.history(run_id, "loss")), repeats)


def _timed(call, repeats: int) -> dict:
    times = []
    for _ in range(1 + repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return {"first_ms": times[0], "warm_ms": statistics.median(times[1:])}


# ---- the parent ------------------------------------------------------------------------------
def figures(quick: bool) -> dict[str, float]:
    """Start moto's server, make a bucket, run each workload in new processes."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **KEYS}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    work = tempfile.mkdtemp(prefix="nbtrack-s3-bench-")
    try:
        _wait_for(port)
        import boto3  # (only in the parent, and only here: this module imports stdlib only)

        client = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                              aws_access_key_id="bench", aws_secret_access_key="bench")  # fmt: skip
        results: dict[str, float] = {}
        sizes = (50_000, 2_000, 100_000) if quick else (500_000, 10_000, 1_000_000)
        for bucket in ("log", "runs", "history"):
            client.create_bucket(Bucket=bucket)

        def store(bucket: str) -> str:
            return f"s3://{bucket}/store?endpoint_url={url}"

        def cache(name: str) -> str:
            return str(Path(work, name))

        results["s3_log_us"] = _child("log", store("log"), cache("log"), calls=sizes[0])["us"]
        _child("build_runs", store("runs"), cache("build"), runs=sizes[1])
        cold = _child("search", store("runs"), cache("search"), repeats=5)
        warm = _child("search", store("runs"), cache("search"), repeats=5)
        tag = "10k" if not quick else "2k"
        results[f"s3_search_{tag}_cold_cache_ms"] = cold["first_ms"]
        results[f"s3_search_{tag}_warm_cache_ms"] = warm["first_ms"]
        results[f"s3_search_{tag}_ms"] = warm["warm_ms"]
        run_id = _child("build_history", store("history"), cache("build"), points=sizes[2])
        cold = _child("history", store("history"), cache("history"), repeats=3, **run_id)
        warm = _child("history", store("history"), cache("history"), repeats=3, **run_id)
        tag = "1m" if not quick else "100k"
        results[f"s3_history_{tag}_cold_cache_ms"] = cold["first_ms"]
        results[f"s3_history_{tag}_warm_cache_ms"] = warm["first_ms"]
        results[f"s3_history_{tag}_ms"] = warm["warm_ms"]
        return results
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("kwargs", nargs="?", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = globals()[f"child_{args.child}"](args.store, **json.loads(args.kwargs))
        print(RESULT + json.dumps(result), flush=True)
        return
    show(figures(args.quick), TARGETS, args.json)


if __name__ == "__main__":
    main()
