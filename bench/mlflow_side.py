"""MLflow versions of the benchmark workloads, each run in a child process by ``run.py``.

``kind`` selects MLflow's store: ``sqlite`` (a database file in ``folder``) or ``file`` (the
``mlruns`` folder layout, allowed through MLFLOW_ALLOW_FILE_STORE).
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from run import ORDER_BY, POOL_SIZE, SEARCH_LIMIT, metric_pool, run_specs, timed_calls

# MLflow refuses batches of more than 1,000 metrics.
BATCH_METRICS = 1000


def connect(kind: str, folder: str):  # -> (mlflow module, MlflowClient)
    """Point MLflow at a new store of ``kind`` in ``folder`` and create it (untimed)."""
    if kind == "file":
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        uri = f"file://{folder}/mlruns"
    elif kind == "sqlite":
        uri = f"sqlite:///{folder}/mlflow.db"
    else:
        raise ValueError(f"unknown MLflow store kind {kind!r}")
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    client.search_experiments()  # creates the store; sqlite runs its schema migrations here
    return mlflow, client


def _warm_up(mlflow) -> None:
    """One tiny run before timing, as on the nbtrack side: first-call costs stay out."""
    with mlflow.start_run(run_name="warm-up"):
        mlflow.log_metric("warm_up", 0.0)


def log(kind: str, folder: str, n_calls: int, n_keys: int) -> dict[str, float]:
    """µs per ``mlflow.log_metric`` (1 key) or ``mlflow.log_metrics`` (``n_keys``) call."""
    mlflow, _ = connect(kind, folder)
    _warm_up(mlflow)
    with mlflow.start_run():
        if n_keys == 1:
            values = [random.random() for _ in range(n_calls)]
            start = time.perf_counter()
            for step, value in enumerate(values):
                mlflow.log_metric("loss", value, step=step)
        else:
            pool = metric_pool(n_keys)
            start = time.perf_counter()
            for step in range(n_calls):
                mlflow.log_metrics(pool[step % POOL_SIZE], step=step)
        elapsed = time.perf_counter() - start
    return {"us": elapsed / n_calls * 1e6}


def runs(kind: str, folder: str, n_runs: int) -> dict[str, float]:
    """Runs per second: start_run + log_params + log_metrics + set_tags, then end."""
    mlflow, _ = connect(kind, folder)
    _warm_up(mlflow)
    specs = run_specs(n_runs)
    start = time.perf_counter()
    for params, metrics, tags in specs:
        with mlflow.start_run():
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            mlflow.set_tags(tags)
    return {"per_s": n_runs / (time.perf_counter() - start)}


def build_search_store(kind: str, folder: str, first: int, n_runs: int) -> dict[str, float]:
    """Grow the store from ``first`` to ``n_runs`` finished runs with the client's batch API.

    Three calls a run: create_run (with the tags), log_batch (params, metrics), set_terminated.
    """
    from mlflow.entities import Metric, Param

    _, client = connect(kind, folder)
    start = time.perf_counter()
    for params, metrics, tags in run_specs(n_runs)[first:]:
        run_id = client.create_run("0", tags=tags).info.run_id
        now = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)) for k, v in params.items()],
        )
        client.set_terminated(run_id)
    return {"seconds": time.perf_counter() - start}


def search(kind: str, folder: str, repeats: int, budget_s: float) -> dict[str, Any]:
    """First and warm times of ``search_runs`` ordered by ``metrics.acc`` (ms)."""
    mlflow, _ = connect(kind, folder)
    return timed_calls(
        lambda: len(mlflow.search_runs(order_by=ORDER_BY, max_results=SEARCH_LIMIT)),
        repeats,
        budget_s,
    )


def search_filter(kind: str, folder: str, repeats: int, budget_s: float, filter: str) -> dict:
    """First and warm times of a filtered ``search_runs`` ordered by ``metrics.acc`` (ms)."""
    mlflow, _ = connect(kind, folder)
    return timed_calls(
        lambda: len(
            mlflow.search_runs(filter_string=filter, order_by=ORDER_BY, max_results=SEARCH_LIMIT)
        ),
        repeats,
        budget_s,
    )


def history(kind: str, folder: str, n_points: int, repeats: int, budget_s: float) -> dict:
    """Log an ``n_points`` series with ``log_batch``, then time ``get_metric_history`` (ms)."""
    from mlflow.entities import Metric

    _, client = connect(kind, folder)
    run_id = client.create_run("0").info.run_id
    now = int(time.time() * 1000)
    for first in range(0, n_points, BATCH_METRICS):
        steps = range(first, min(n_points, first + BATCH_METRICS))
        client.log_batch(run_id, metrics=[Metric("loss", 1.0 / (i + 1), now, i) for i in steps])
    client.set_terminated(run_id)
    return timed_calls(lambda: len(client.get_metric_history(run_id, "loss")), repeats, budget_s)
