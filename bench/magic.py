"""Added wall time of ``%%track`` on a trivial cell, in a real kernel.

    python bench/magic.py [--quick] [--json PATH]

Times the same trivial cell with and without the magic, interleaved, from the client's side
(execute request to idle), and prints the median difference as ``magic_overhead_ms``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

TARGET_MS = 15.0
PLAIN = "x = 1"
TRACKED = "%%track\nx = 1"


def _time_cell(client, code: str) -> float:
    start = time.perf_counter()
    reply = client.execute_interactive(code, timeout=60, output_hook=lambda msg: None)
    assert reply["content"]["status"] == "ok", reply["content"]
    return (time.perf_counter() - start) * 1000


def measure(repeats: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="nbtrack-magic-"))
    km, client = start_new_kernel(
        kernel_name="python3", cwd=str(folder), env={"NBTRACK_STORE": str(folder / "store")}
    )
    try:
        _time_cell(client, "%load_ext nbtrack")
        for _ in range(20):  # warm up both paths (imports, first run, reader)
            _time_cell(client, PLAIN), _time_cell(client, TRACKED)
        plain, tracked = [], []
        for _ in range(repeats):
            plain.append(_time_cell(client, PLAIN))
            tracked.append(_time_cell(client, TRACKED))
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)
    return {
        "magic_plain_cell_ms": statistics.median(plain),
        "magic_tracked_cell_ms": statistics.median(tracked),
        "magic_overhead_ms": statistics.median(tracked) - statistics.median(plain),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    figures = measure(repeats=50 if args.quick else 300)
    for key, value in figures.items():
        print(f"{key:24s} {value:8.2f} ms")
    ok = figures["magic_overhead_ms"] <= TARGET_MS
    print(f"target magic_overhead_ms <= {TARGET_MS:g}: {'met' if ok else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
