"""The wide export: ``search``'s table as one Parquet file that any engine reads.

Column types follow the values: numbers stay numbers, times are UTC timestamps, missing values
are NULL. A ``params.<k>`` column whose values share no single type (say an int in some runs and
text in others, or lists) becomes text: strings as they are, numbers as Python writes them,
``true``/``false`` for bools, and lists and dicts as JSON.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .formats import EXPORT_KEY, stamp

COMPRESSION = "zstd"


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


def _column(series: pd.Series) -> pa.Array:
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


def wide_table(frame: pd.DataFrame) -> pa.Table:
    """``frame`` (a search result) as an Arrow table of plain Parquet types."""
    names = [str(c) for c in frame.columns]
    table = pa.table([_column(frame[c]) for c in frame.columns], names=names)
    return table.replace_schema_metadata({EXPORT_KEY: stamp("wide")})


def write_wide(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` atomically (a hidden sibling renamed into place)."""
    table = wide_table(frame)
    path.parent.mkdir(parents=True, exist_ok=True)
    hidden = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(hidden, "wb") as f:
            pq.write_table(table, f, compression=COMPRESSION)
            f.flush()
            os.fsync(f.fileno())
        os.replace(hidden, path)
    finally:
        hidden.unlink(missing_ok=True)
