"""What a sweep view reads of its runs, in one snapshot of the store whatever their number:
names and states, every param (decoded), every last metric value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..store import get_store
from .frames import decoded_params


@dataclass
class SweepRows:
    """Rows of a set of runs: ``runs`` as dicts (run_id, name, status), ``params`` and
    ``metrics`` as (run_id, key, value) tuples."""

    runs: list[dict[str, Any]]
    params: list[tuple[str, str, Any]]
    metrics: list[tuple[str, str, float]]


def sweep_rows(run_ids: Sequence[str]) -> SweepRows:
    """The names, states, params and last metrics of ``run_ids`` (three queries).

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run("a", params={"lr": 0.1}) as run:
    ...     run.log(acc=0.9)
    >>> rows = sweep_rows([run.id])
    >>> rows.runs[0]["name"], rows.params[0][1:], rows.metrics[0][1:]
    ('a', ('lr', 0.1), ('acc', 0.9))
    """
    ids = [list(run_ids)]
    among = "WHERE run_id IN (SELECT unnest(?))"
    with get_store().reader.snapshot() as snap:
        runs = snap.records(f"SELECT run_id, name, status FROM runs {among}", ids)
        params = snap.rows(f"SELECT run_id, key, type, num, value FROM params {among}", ids)
        metrics = snap.rows(f"SELECT run_id, key, value FROM latest_metrics {among}", ids)
    return SweepRows(runs, list(decoded_params(params)), metrics)
