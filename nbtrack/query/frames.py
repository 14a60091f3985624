"""Turning long (run, key, value) rows into the wide, MLflow-style DataFrame columns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..values import decode_param


def typed_column(values: list[Any]):
    """A column that keeps the values' type: ints stay ints even with missing values."""
    present = [v for v in values if v is not None]
    if not present:
        return pd.array(values, dtype=object)
    missing = len(present) < len(values)
    if all(type(v) is bool for v in present):
        return pd.array(values, dtype="boolean") if missing else pd.array(values, dtype=bool)
    if all(type(v) is int for v in present):
        return pd.array(values, dtype="Int64") if missing else pd.array(values, dtype="int64")
    if all(type(v) in (int, float) for v in present):
        return pd.array([float("nan") if v is None else float(v) for v in values], "float64")
    return pd.array(values, dtype=object)


def pivot(
    run_ids: list[str], rows: Iterable[tuple[str, str, Any]], prefix: str, typed: bool
) -> dict[str, Any]:
    """``{"<prefix>.<key>": column}`` from (run_id, key, value) rows, aligned to ``run_ids``."""
    position = {rid: i for i, rid in enumerate(run_ids)}
    columns: dict[str, list[Any]] = {}
    for run_id, key, value in rows:
        column = columns.get(key)
        if column is None:
            column = columns[key] = [None] * len(run_ids)
        column[position[run_id]] = value
    out = {}
    for key in sorted(columns):
        values = columns[key]
        if typed:
            out[f"{prefix}.{key}"] = typed_column(values)
        else:
            out[f"{prefix}.{key}"] = (
                pd.array([float("nan") if v is None else v for v in values], "float64")
                if prefix == "metrics"
                else pd.array(values, dtype=object)
            )
    return out


def decoded_params(rows: Iterable[tuple]) -> Iterable[tuple[str, str, Any]]:
    """(run_id, key, type, num, text) rows -> (run_id, key, python value)."""
    for run_id, key, kind, num, text in rows:
        yield run_id, key, decode_param(kind, num, text)
