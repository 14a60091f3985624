"""Turning long (run, key, value) rows into the wide, MLflow-style DataFrame columns."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..values import decode_param

if TYPE_CHECKING:
    import pandas as pd


def typed_column(values: list[Any]) -> Any:
    """A column that keeps the values' type: ints stay ints even with missing values."""
    import pandas as pd  # (here: widgets need no pandas)

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
    run_ids: list[str], rows: list[tuple[str, str, Any]], prefix: str, typed: bool
) -> pd.DataFrame:
    """Columns ``<prefix>.<key>`` (sorted by key) from (run_id, key, value) rows, one row per
    id of ``run_ids``: typed (see :func:`typed_column`), floats (``metrics``) or objects.

    Floats and objects are filled into one 2-D array, so that thousands of keys (a column per
    metric) cost no more than their values."""
    import numpy as np
    import pandas as pd

    position = {rid: i for i, rid in enumerate(run_ids)}
    keys = sorted({key for _, key, _ in rows})
    names = [f"{prefix}.{key}" for key in keys]
    if typed:
        columns: dict[str, list[Any]] = {key: [None] * len(run_ids) for key in keys}
        for run_id, key, value in rows:
            columns[key][position[run_id]] = value
        return pd.DataFrame(
            {name: typed_column(columns[key]) for name, key in zip(names, keys, strict=True)},
            index=range(len(run_ids)),
        )
    column = {key: j for j, key in enumerate(keys)}
    at = (
        np.fromiter((position[r] for r, _, _ in rows), np.int64, len(rows)),
        np.fromiter((column[k] for _, k, _ in rows), np.int64, len(rows)),
    )
    if prefix == "metrics":
        grid = np.full((len(run_ids), len(keys)), np.nan)
        grid[at] = np.array([value for _, _, value in rows], dtype=np.float64)
    else:
        grid = np.full((len(run_ids), len(keys)), None, dtype=object)
        grid[at] = [value for _, _, value in rows]
    return pd.DataFrame(grid, columns=names, index=range(len(run_ids)))


def decoded_params(rows: Iterable[tuple[Any, ...]]) -> Iterable[tuple[str, str, Any]]:
    """(run_id, key, type, num, text) rows -> (run_id, key, python value)."""
    for run_id, key, kind, num, text in rows:
        yield run_id, key, decode_param(kind, num, text)


def as_text(value: Any) -> str | None:
    """One value of a mixed-type column, as text (None and NaN stay missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, list, tuple, dict)):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _arrow_column(series: pd.Series) -> Any:  # pyarrow.Array
    import pyarrow as pa

    if series.dtype == object:
        values = series.tolist()
        if all(v is None or isinstance(v, str) for v in values):
            return pa.array(values, type=pa.string())
        return pa.array([as_text(v) for v in values], type=pa.string())
    array = pa.array(series, from_pandas=True)
    # pandas 3's strings arrive as large_string (or string_view); an empty column as null
    if str(array.type) in ("large_string", "string_view", "null"):
        array = array.cast(pa.string())
    return array


def to_arrow(frame: pd.DataFrame) -> Any:  # pyarrow.Table
    """A search result as an Arrow table of plain Parquet types.

    Numbers stay numbers, times are UTC timestamps, missing values are NULL. A column whose
    values share no single type (a param that is an int in some runs and text in others, or
    lists) becomes text: strings as they are, numbers as Python writes them, ``true``/``false``
    for bools, lists and dicts as JSON.
    """
    import pyarrow as pa

    return pa.table([_arrow_column(frame[c]) for c in frame.columns],
                    names=[str(c) for c in frame.columns])  # fmt: skip
