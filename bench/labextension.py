"""The JupyterLab extension: what its pages cost the Jupyter server, and what the browser loads.

- ``sidebar_10k_ms``: the sidebar's first page (``GET /nbtrack/api/store`` then
  ``/nbtrack/api/runs?limit=50``) on a store of 10,000 runs (10 params, 5 metrics, 2 tags),
  as a client of a running ``jupyter server`` waits for it, warm (median of 20);
  ``sidebar_10k_first_ms`` is the first request of the server process (the store loaded).
- ``run_page_ms``: a run page of a run with 5 metrics × 100,000 points: ``GET /runs/ID`` and
  ``POST /views/plot`` of its 5 metrics (the curves), warm (median of 10).
- ``labextension_kb``: the extension's JavaScript (``nbtrack/labextension/static/*.js``); its
  pages draw charts with the widgets' bundle, served from the package (``charts_kb``).

    python bench/labextension.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from figures import show

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    "sidebar_10k_ms": ("<=", 100),
    "run_page_ms": ("<=", 300),
    "labextension_kb": ("<=", 600),
}


def build(folder: Path, runs: int, points: int) -> str:
    """The two stores' runs, written by a child process; returns the long run's id."""
    code = f"""
import nbtrack, random
nbtrack.set_store({str(folder / "store")!r})
rng = random.Random(0)
for i in range({runs}):
    with nbtrack.run(f"run-{{i}}", params={{f"p{{k}}": rng.random() for k in range(10)}},
                     tags={{"model": "cnn", "team": "a"}}) as run:
        run.log(**{{f"m{{k}}": rng.random() for k in range(5)}})
with nbtrack.run("long") as run:
    for step in range({points}):
        run.log(**{{f"curve{{k}}": step * (k + 1) * 1e-3 for k in range(5)}})
nbtrack.flush()
print(run.id)
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(base: str, token: str, path: str, body: dict | None = None) -> float:
    """Milliseconds until the whole answer of one request has arrived."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{base}/nbtrack/api/{path}", data=data, method="GET" if body is None else "POST",
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as answer:
        answer.read()
    return (time.perf_counter() - start) * 1000


def figures(quick: bool = False) -> dict[str, float]:
    runs, points = (2_000, 20_000) if quick else (10_000, 100_000)
    with tempfile.TemporaryDirectory(prefix="nbtrack-bench-lab-") as tmp:
        folder = Path(tmp)
        long_run = build(folder, runs, points)
        port, token = _free_port(), secrets.token_hex(8)
        env = {**os.environ, "NBTRACK_STORE": str(folder / "store")}
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "server", "--no-browser", f"--port={port}",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}", "--allow-root"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)

            def sidebar() -> float:
                return _call(base, token, "store") + _call(base, token, "runs?limit=50")

            first = sidebar()
            warm = [sidebar() for _ in range(20)]
            keys = [f"curve{k}" for k in range(5)]

            def page() -> float:
                return _call(base, token, f"runs/{long_run}") + _call(
                    base, token, "views/plot", {"runs": [long_run], "keys": keys}
                )

            page()
            pages = [page() for _ in range(10)]
        finally:
            server.terminate()
            server.wait(timeout=30)
    lab = sum(p.stat().st_size for p in (ROOT / "nbtrack" / "labextension").rglob("*.js"))
    charts = (ROOT / "nbtrack" / "static" / "charts.js").stat().st_size
    return {
        "sidebar_10k_ms": statistics.median(warm),
        "sidebar_10k_first_ms": first,
        "run_page_ms": statistics.median(pages),
        "labextension_kb": lab / 1024,
        "charts_kb": charts / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    show(figures(args.quick), TARGETS, args.json)


if __name__ == "__main__":
    main()
