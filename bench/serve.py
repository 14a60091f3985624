"""The scoring server, side by side with MLflow's: a logistic regression on the wine data, saved
once by nbtrack, served by ``python -m nbtrack.serving`` and by ``mlflow models serve
--env-manager local`` (MLflow's FastAPI app on uvicorn, one worker) from the same folder.

- ``serve_p50_ms``: median of 1,000 one-row ``/invocations`` (``dataframe_split``) on one
  keep-alive connection to a warm server (after 100 untimed requests).
- ``serve_rps``: requests per second of 8 concurrent clients (threads of this process, each on
  its own keep-alive connection), one-row requests.
- ``mlflow_serve_*``: the same against MLflow's server; ``ratio_serve_p50`` is MLflow's p50
  over nbtrack's, ``ratio_serve_rps`` nbtrack's rate over MLflow's.

The client is this process (standard library only), the same for both servers; on a small
machine client and server share the CPUs, so the rates are lower than a remote client sees.

    python bench/serve.py [--quick] [--json PATH]     (bench/run.py can report these too)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from figures import show

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
TARGETS = {"serve_p50_ms": ("<=", 5.0)}
CLIENTS = 8
WARM_UP = 100
# How long a server may take to load the model and answer /ping.
START_TIMEOUT_S = 120.0


def build_model(folder: str) -> None:
    """(child) Save the wine logistic regression and a one-row request body into ``folder``."""
    import warnings

    warnings.filterwarnings("ignore")
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression

    import nbtrack

    x, y = load_wine(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(x, y)
    nbtrack.save_model(model, Path(folder, "model"), input_example=x.head(2))
    body = {"dataframe_split": x.head(1).to_dict(orient="split")}
    Path(folder, "request.json").write_text(json.dumps(body))


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "MLFLOW_"))}
    # `mlflow models serve` runs `uvicorn` from PATH: the one beside this interpreter.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(PYTHONPATH=str(ROOT), MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    """A server process (its own process group, so its workers stop with it)."""

    def __init__(self, command: list[str], port: int, cwd: str) -> None:
        self.port = port
        # Output goes to a file: a server logging every request to an unread pipe would block.
        self.log = Path(cwd, f"server-{port}.log")
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(command, cwd=cwd, env=_env(), stdout=log, stderr=log,
                                         start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = self.log.read_text()[-2000:]
                raise RuntimeError(f"{' '.join(command[:4])} did not start:\n{tail}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            connection.request("GET", "/ping")
            return connection.getresponse().status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _requests(port: int, body: bytes, n: int, times: list[float] | None = None) -> None:
    """``n`` POSTs of ``body`` on one keep-alive connection (their seconds into ``times``)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    for _ in range(n):
        start = time.perf_counter()
        connection.request("POST", "/invocations", body, headers)
        response = connection.getresponse()
        payload = response.read()
        if times is not None:
            times.append(time.perf_counter() - start)
        if response.status != 200:
            raise RuntimeError(f"/invocations answered {response.status}: {payload[:500]!r}")
    connection.close()


def measure(port: int, body: bytes, n_latency: int, n_per_client: int) -> dict[str, float]:
    """p50 (ms) of ``n_latency`` sequential requests; requests/s of CLIENTS concurrent ones."""
    _requests(port, body, WARM_UP)
    times: list[float] = []
    _requests(port, body, n_latency, times)
    threads = [
        threading.Thread(target=_requests, args=(port, body, n_per_client)) for _ in range(CLIENTS)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return {"p50_ms": statistics.median(times) * 1e3, "rps": CLIENTS * n_per_client / elapsed}


def figures(quick: bool = False) -> dict[str, float]:
    """Every figure of this benchmark (nbtrack's, MLflow's where it runs, and their ratios)."""
    n_latency, n_per_client = 1000, (100 if quick else 250)
    with tempfile.TemporaryDirectory(prefix="nbtrack-bench-serve-") as folder:
        subprocess.run([sys.executable, __file__, "--build", folder], check=True, env=_env(),
                       cwd=folder, timeout=600)  # fmt: skip
        body = Path(folder, "request.json").read_bytes()
        model = str(Path(folder, "model"))
        port = _free_port()
        ours = Served([sys.executable, "-m", "nbtrack.serving", model, "--port", str(port)],
                      port, folder)  # fmt: skip
        try:
            nb = measure(port, body, n_latency, n_per_client)
        finally:
            ours.stop()
        result = {"serve_p50_ms": nb["p50_ms"], "serve_rps": nb["rps"]}
        port = _free_port()
        command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model, "--env-manager",
                   "local", "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
        try:
            theirs = Served(command, port, folder)
        except RuntimeError as err:
            print(f"MLflow's scoring server did not start, no ratio: {err}", file=sys.stderr)
            return result
        try:
            ml = measure(port, body, n_latency, n_per_client)
        finally:
            theirs.stop()
    return {
        **result,
        "mlflow_serve_p50_ms": ml["p50_ms"],
        "mlflow_serve_rps": ml["rps"],
        "ratio_serve_p50": ml["p50_ms"] / nb["p50_ms"],
        "ratio_serve_rps": nb["rps"] / ml["rps"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer concurrent requests")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--build", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build_model(args.build)
        return
    show(figures(args.quick), TARGETS, args.json)


if __name__ == "__main__":
    main()
