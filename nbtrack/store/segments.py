"""Turning buffered rows into Arrow tables and immutable Parquet segment files (from Arrow, or
from a DuckDB query)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .duck import sql_string
from .layout import FORMAT_KEY, REPLACES_KEY, fsync_path, hidden_name, write_hidden
from .schema import FORMAT_VERSION, TIME_COLUMNS, arrow_schema

if TYPE_CHECKING:
    import duckdb

    from .buffers import Chunk

# Zstd gives files about a third smaller than snappy at a write cost the flush never notices.
COMPRESSION = "zstd"
# What pyarrow's write_table uses, told to DuckDB's COPY too: the zstd level, rows per row group.
ZSTD_LEVEL = 1
ROW_GROUP_ROWS = 1 << 20


def _timestamps(seconds: Any, field_type: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    micros = np.rint(np.asarray(seconds, dtype=np.float64) * 1e6).astype(np.int64)
    return pa.array(micros, type=pa.int64()).cast(field_type)


def rows_to_arrow(table: str, rows: Sequence[tuple[Any, ...]], epoch_micros: bool = False) -> Any:
    """Columnar Arrow table from row tuples (see :func:`schema.as_row`); times are epoch
    seconds, or integer microseconds with ``epoch_micros`` (exact for imported millisecond
    times)."""
    import pyarrow as pa

    schema = arrow_schema(table)
    if not rows:
        return schema.empty_table()
    columns = list(zip(*rows, strict=True))

    def times(values: Any, field_type: Any) -> Any:
        if epoch_micros:
            return pa.array(values, type=pa.int64()).cast(field_type)
        return _timestamps(values, field_type)

    arrays = [
        times(values, field.type) if field.name in TIME_COLUMNS else pa.array(values, field.type)
        for field, values in zip(schema, columns, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def chunks_to_arrow(chunks: Sequence[Chunk]) -> Any:  # pyarrow.Table
    """The ``metrics`` table from series chunks; run ids and keys are stored once per chunk."""
    import numpy as np
    import pyarrow as pa

    schema = arrow_schema("metrics")
    if not chunks:
        return schema.empty_table()
    lengths = np.array([len(c[3]) for c in chunks])
    index = pa.array(np.repeat(np.arange(len(chunks), dtype=np.int32), lengths))

    def labels(values: list[str]) -> Any:
        return pa.DictionaryArray.from_arrays(index, pa.array(values)).cast(pa.string())

    def joined(position: int, dtype: Any) -> Any:
        return np.concatenate([np.asarray(c[position], dtype=dtype) for c in chunks])

    return pa.Table.from_arrays(
        [
            labels([c[0].run_id for c in chunks]),
            labels([c[0].key for c in chunks]),
            pa.array(joined(1, np.int64)),
            _timestamps(joined(2, np.float64), schema.field("timestamp").type),
            pa.array(joined(3, np.float64)),
        ],
        schema=schema,
    )


def _metadata(replaces: Sequence[str]) -> dict[bytes, bytes]:
    meta = {FORMAT_KEY: str(FORMAT_VERSION).encode()}
    if replaces:
        meta[REPLACES_KEY] = json.dumps(sorted(replaces)).encode()
    return meta


def write_segment(final: Path, data: Any, replaces: Sequence[str] = ()) -> Path:
    """Write ``data`` under a hidden name beside ``final`` and fsync it; return that name.

    The caller makes it visible with ``layout.publish``: readers never see a
    half-written segment, and a crash leaves only a hidden file that nothing reads.
    """
    import pyarrow.parquet as pq

    data = data.replace_schema_metadata({**(data.schema.metadata or {}), **_metadata(replaces)})
    return write_hidden(final, lambda f: pq.write_table(data, f, compression=COMPRESSION))


def copy_segment(
    con: duckdb.DuckDBPyConnection, final: Path, select: str, replaces: Sequence[str] = ()
) -> Path:
    """:func:`write_segment` of the rows of DuckDB query ``select`` (its columns of the
    table's types, in order), streamed by ``COPY``: the same hidden name, fsync, metadata,
    compression and row groups."""
    pairs = ", ".join(
        f"{sql_string(k.decode())}: {sql_string(v.decode())}"
        for k, v in _metadata(replaces).items()
    )
    hidden = hidden_name(final)
    try:
        con.execute(
            f"COPY ({select}) TO {sql_string(str(hidden))} (FORMAT parquet, "
            f"COMPRESSION {COMPRESSION}, COMPRESSION_LEVEL {ZSTD_LEVEL}, "
            f"ROW_GROUP_SIZE {ROW_GROUP_ROWS}, KV_METADATA {{{pairs}}})"
        )
        fsync_path(hidden)
    except BaseException:
        hidden.unlink(missing_ok=True)
        raise
    return hidden
