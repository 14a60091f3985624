"""System metrics: the CPU the sampler thread costs an idle run at a 1 s interval.

- ``system_metrics_cpu_pct``: the process's CPU time over wall time while a run sits idle
  with ``system_metrics=1.0``, minus the same for a run without (both in %, medians of fresh
  processes that alternate). The clock starts once the run has started and written its first
  rows (psutil's import and the first write's imports are not counted); the writer's flushes
  of the sampled points are. ``idle_run_cpu_pct`` is the run without sampling.
- ``system_sample_ms``: process CPU time of one sample (read the counters, log ~10 metrics).

    python bench/system_metrics.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from figures import show

TARGETS = {"system_metrics_cpu_pct": ("<=", 1.0)}
INTERVAL_S = 1.0


def child(folder: str, sampling: bool, seconds: float) -> dict[str, float]:
    import nbtrack
    from nbtrack.system_metrics import _Probe, load_psutil

    nbtrack.set_store(folder)
    with nbtrack.run("idle", system_metrics=INTERVAL_S if sampling else False) as run:
        run.log(warm_up=1.0)
        nbtrack.flush()  # the first write imports the Parquet machinery: not the sampler's cost
        wall, cpu = time.monotonic(), time.process_time()
        threading.Event().wait(seconds)  # idle: what the sampler adds is all there is
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        result = {"cpu_pct": 100 * cpu / wall}
        if sampling:
            probe, n = _Probe(load_psutil()), 200
            start = time.process_time()
            for step in range(n):
                run._log(probe.sample(), 10_000 + step)
            result["sample_ms"] = (time.process_time() - start) * 1000 / n
    return result


def _run_child(sampling: bool, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="nbtrack-bench-system-") as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
        out = subprocess.run(
            [sys.executable, __file__, "--child", "on" if sampling else "off",
             "--folder", folder, "--seconds", str(seconds)],
            check=True, capture_output=True, text=True, env=env, cwd=folder, timeout=600,
        )  # fmt: skip
        return json.loads(out.stdout.strip().splitlines()[-1])


def figures(quick: bool = False) -> dict[str, float]:
    """The sampler's CPU cost at a 1 s interval, and what one sample costs."""
    rounds, seconds = (2, 5.0) if quick else (3, 20.0)
    on, off = [], []
    for _ in range(rounds):
        off.append(_run_child(False, seconds))
        on.append(_run_child(True, seconds))
    idle = statistics.median(r["cpu_pct"] for r in off)
    return {
        "system_metrics_cpu_pct": statistics.median(r["cpu_pct"] for r in on) - idle,
        "idle_run_cpu_pct": idle,
        "system_sample_ms": statistics.median(r["sample_ms"] for r in on),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", choices=("on", "off"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=20.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.folder, args.child == "on", args.seconds)))
        return
    show(figures(args.quick), TARGETS, args.json)


if __name__ == "__main__":
    main()
