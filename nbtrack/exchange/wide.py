"""The wide export: ``search``'s table as one Parquet file that any engine reads (column types
as :func:`nbtrack.query.frames.to_arrow` makes them)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..query.frames import to_arrow
from ..store.layout import write_atomic
from .formats import EXPORT_KEY, stamp

COMPRESSION = "zstd"


def wide_table(frame: pd.DataFrame) -> pa.Table:
    """``frame`` (a search result) as an Arrow table of plain Parquet types, stamped."""
    return to_arrow(frame).replace_schema_metadata({EXPORT_KEY: stamp("wide")})


def write_wide(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` atomically (a hidden sibling renamed into place)."""
    table = wide_table(frame)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda f: pq.write_table(table, f, compression=COMPRESSION))
