"""Turning buffered rows into Arrow tables and immutable Parquet segment files."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from .layout import FORMAT_KEY, REPLACES_KEY
from .schema import FORMAT_VERSION, TIME_COLUMNS, arrow_schema

# Zstd gives files about a third smaller than snappy at a write cost the flush never notices.
COMPRESSION = "zstd"


def rows_to_arrow(table: str, rows: Sequence[tuple]):  # -> pyarrow.Table
    """Columnar Arrow table from buffered row tuples (in ``COLUMNS[table]`` order)."""
    import numpy as np
    import pyarrow as pa

    schema = arrow_schema(table)
    if not rows:
        return schema.empty_table()
    columns = list(zip(*rows, strict=True))
    arrays = []
    for field, values in zip(schema, columns, strict=True):
        if field.name in TIME_COLUMNS:
            micros = np.rint(np.asarray(values, dtype=np.float64) * 1e6).astype(np.int64)
            arrays.append(pa.array(micros, type=pa.int64()).cast(field.type))
        else:
            arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def write_hidden(final: Path, data, replaces: Sequence[str] = ()) -> Path:
    """Write ``data`` under a hidden name beside ``final`` and fsync it; return that name.

    The caller makes it visible with ``os.replace(hidden, final)``: readers never see a
    half-written segment, and a crash leaves only a hidden file that nothing reads.
    """
    import pyarrow.parquet as pq

    meta = dict(data.schema.metadata or {})
    meta[FORMAT_KEY] = str(FORMAT_VERSION).encode()
    if replaces:
        meta[REPLACES_KEY] = json.dumps(sorted(replaces)).encode()
    data = data.replace_schema_metadata(meta)
    hidden = final.with_name(f".{final.name}.tmp")
    with open(hidden, "wb") as f:
        pq.write_table(data, f, compression=COMPRESSION)
        f.flush()
        os.fsync(f.fileno())
    return hidden
