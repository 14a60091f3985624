"""Importing TensorBoard logs, side by side with tbparse: 100 runs of 1,000 scalar points each,
written once by tensorboardX's SummaryWriter.

- ``import_tb_100k_s``: ``nbtrack.import_tensorboard(logdir)`` into a fresh store (reading,
  the store's segments and their publication; the lazy import of TensorBoard's reader too).
- ``tbparse_100k_s``: ``tbparse.SummaryReader(logdir, extra_columns={"dir_name",
  "wall_time"}).scalars``, the same points read into a pandas DataFrame (``import tbparse``
  included).

The logs are written, and each side runs, in a fresh process; the best of 3 runs (1 with
``--quick``).

    python bench/tb_import.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import show

TARGETS = {"import_tb_100k_s": ("<=", 3.0)}
RUNS, POINTS = 100, 1_000


def child_write(logdir: str, store: str) -> float:
    """RUNS run folders of POINTS ``loss`` points each."""
    from tensorboardX import SummaryWriter

    start = time.perf_counter()
    for run in range(RUNS):
        with SummaryWriter(str(Path(logdir) / f"run-{run:03d}")) as writer:
            for step in range(POINTS):
                writer.add_scalar("loss", 1 / (step + 1), step)
    return time.perf_counter() - start


def child_nbtrack(logdir: str, store: str) -> float:
    start = time.perf_counter()
    import nbtrack
    from nbtrack.exchange.tensorboard import import_tensorboard

    nbtrack.set_store(store)
    added = import_tensorboard(logdir)
    seconds = time.perf_counter() - start
    assert added == RUNS, added
    assert len(nbtrack.history(nbtrack.search()["run_id"].tolist())) == RUNS * POINTS
    return seconds


def child_tbparse(logdir: str, store: str) -> float:
    start = time.perf_counter()
    from tbparse import SummaryReader

    frame = SummaryReader(logdir, extra_columns={"dir_name", "wall_time"}).scalars
    seconds = time.perf_counter() - start
    assert len(frame) == RUNS * POINTS, len(frame)
    return seconds


CHILDREN = {"write": child_write, "nbtrack": child_nbtrack, "tbparse": child_tbparse}


def _run_child(side: str, logdir: Path) -> float:
    with tempfile.TemporaryDirectory(prefix=f"nbtrack-bench-{side}-") as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
        out = subprocess.run(
            [sys.executable, __file__, "--child", side, "--logdir", str(logdir),
             "--store", str(Path(folder) / "store")],
            check=True, capture_output=True, text=True, env=env, cwd=folder, timeout=900,
        )  # fmt: skip
        return float(json.loads(out.stdout.strip().splitlines()[-1]))


def figures(quick: bool = False) -> dict[str, float]:
    """Both figures (seconds), the logs written once for all of them."""
    repeats = 1 if quick else 3
    with tempfile.TemporaryDirectory(prefix="nbtrack-bench-tb-") as folder:
        logdir = Path(folder) / "logs"
        _run_child("write", logdir)
        ours = min(_run_child("nbtrack", logdir) for _ in range(repeats))
        theirs = min(_run_child("tbparse", logdir) for _ in range(repeats))
    return {"import_tb_100k_s": ours, "tbparse_100k_s": theirs, "ratio_tbparse": theirs / ours}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", choices=CHILDREN, help=argparse.SUPPRESS)
    parser.add_argument("--logdir", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.logdir, args.store)))
        return
    show(figures(args.quick), TARGETS, args.json)


if __name__ == "__main__":
    main()
