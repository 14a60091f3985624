"""What a sweep view reads of its runs, in one snapshot of the store whatever their number:
names and states, and every param and last metric as a column of values in the runs' order.
The columns come out of DuckDB as numpy arrays: thousands of runs by dozens of params cost
a few vectorised steps per key, not Python work per value."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..store import get_store
from ..values import decode_param

# Each asked-for run with its position; the placeholder is the list of run ids.
_IDS = (
    "ids AS (SELECT unnest(l) AS run_id, unnest(range(len(l))) AS i FROM (SELECT ?::VARCHAR[] l))"
)
# Param types whose values are numbers (a 'none' param is missing, as in an unlogged one).
_NUMERIC = frozenset({"int", "float", "none"})


@dataclass
class Column:
    """One param or metric across the runs: ``values``, one per run (None where it has none),
    and when every value present is a number (bools are not), ``numbers``: the same as
    floats, NaN where a run has none or a value is not finite."""

    values: list[Any]
    numbers: np.ndarray | None


@dataclass
class SweepRows:
    """``runs`` as dicts (run_id, name, status); ``params`` and ``metrics`` by key."""

    runs: list[dict[str, Any]]
    params: dict[str, Column]
    metrics: dict[str, Column]


def sweep_rows(run_ids: Sequence[str]) -> SweepRows:
    """The names, states, params and last metrics of ``run_ids`` (three queries).

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run("a", params={"lr": 0.1, "opt": "sgd"}) as a, nbtrack.run("b") as b:
    ...     a.log(acc=0.9)
    >>> rows = sweep_rows([a.id, b.id])
    >>> rows.runs[0]["name"], rows.params["lr"].values, rows.params["opt"].numbers
    ('a', [0.1, None], None)
    >>> rows.metrics["acc"].numbers.tolist()
    [0.9, nan]
    """
    ids = list(run_ids)
    with get_store().reader.snapshot() as snap:
        runs = snap.records(
            "SELECT run_id, name, status FROM runs WHERE run_id IN (SELECT unnest(?))", [ids]
        )
        params = snap.numpy(
            f"WITH {_IDS} SELECT p.key, ids.i, p.type, p.num, p.value FROM params p "
            "JOIN ids USING (run_id) ORDER BY p.key, ids.i",
            [ids],
        )
        metrics = snap.numpy(
            f"WITH {_IDS} SELECT m.key, ids.i, 'float' AS type, m.value AS num, NULL AS value "
            "FROM latest_metrics m JOIN ids USING (run_id) ORDER BY m.key, ids.i",
            [ids],
        )
    return SweepRows(runs, _columns(len(ids), params), _columns(len(ids), metrics))


def _columns(count: int, read: dict[str, np.ndarray]) -> dict[str, Column]:
    """Rows ``key, i, type, num, value`` ordered by key (see :func:`sweep_rows`) as a column
    of ``count`` values per key."""
    keys = read["key"]
    if len(keys) == 0:
        return {}
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    num = np.ma.filled(np.ma.asarray(read["num"], dtype=np.float64), math.nan)
    at, types, text = read["i"], read["type"], read["value"]
    return {
        str(keys[a]): _column(count, at[a:b], types[a:b], num[a:b], text[a:b])
        for a, b in zip(starts, ends, strict=True)
    }


def _column(
    count: int, at: np.ndarray, types: np.ndarray, num: np.ndarray, text: np.ndarray
) -> Column:
    kinds = set(types.tolist())
    values = np.full(count, None, dtype=object)
    if kinds <= _NUMERIC:
        numbers = np.full(count, math.nan)
        numbers[at] = np.where(np.isfinite(num), num, math.nan)
        floats = types == "float"
        values[at[floats]] = num[floats]  # (a float param's number is its value)
        ints = types == "int"
        values[at[ints]] = [int(t) for t in text[ints]]  # (exact, where a float may not be)
        return Column(values.tolist(), numbers)
    out = values.tolist()  # (values such as lists must not meet numpy's broadcasting)
    for i, kind, number, value in zip(at.tolist(), types, num.tolist(), text, strict=True):
        out[i] = decode_param(kind, number, value)
    return Column(out, None)
