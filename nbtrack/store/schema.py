"""Arrow schemas of the store's tables (one row per fact; long format).

Columns are plain Parquet types so that DuckDB, pandas, polars and Spark read the segments as-is.
New optional columns may be appended in later versions; readers fill missing ones with NULL.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

FORMAT_VERSION = 1
TIME_UNIT = "us"

# Column order of each table (rows are built by name with as_row, never by position).
COLUMNS: dict[str, tuple[str, ...]] = {
    "runs": (
        "run_id", "experiment", "name", "parent_run_id", "created_at", "writer", "host", "pid",
        "user", "python", "source", "notebook", "cell_id", "lineage", "execution_count", "code",
        "git_commit", "git_dirty", "packages",
    ),
    "params": ("run_id", "key", "type", "num", "text", "timestamp"),
    "metrics": ("run_id", "key", "step", "timestamp", "value"),
    "tags": ("run_id", "key", "value", "timestamp"),
    "events": ("run_id", "timestamp", "kind", "detail"),
    "artifacts": ("run_id", "path", "size", "sha256", "timestamp"),
    # datasets a run used (log_input): identified by name and content digest, never copied
    "inputs": (
        "run_id", "name", "digest", "context", "source", "schema", "num_rows", "timestamp",
    ),
    # the model registry: one row per registered version (numbers are never reused), and every
    # later change (stage, alias, tag, description, deletion) as an event; see nbtrack.registry
    "model_versions": (
        "name", "version", "run_id", "source", "path", "flavors", "signature", "description",
        "created_at", "writer",
    ),
    "registry_events": ("name", "version", "timestamp", "kind", "key", "value"),
}  # fmt: skip

TABLES = tuple(COLUMNS)
_COLUMN_SETS = {table: frozenset(columns) for table, columns in COLUMNS.items()}
# Order in which one flush makes its segments visible: data before the events that change a
# run's status, so a reader that sees "finished" also sees everything logged before it.
# A registry version is published before the events that change it, for the same reason.
PUBLISH_ORDER = (
    "runs", "params", "tags", "metrics", "artifacts", "inputs", "model_versions",
    "registry_events", "events",
)  # fmt: skip

# Columns holding epoch seconds (float) in the buffers, stored as UTC timestamps.
TIME_COLUMNS = frozenset({"created_at", "timestamp"})

END_STATES = ("finished", "failed", "interrupted", "killed")


# The type of each column that is not text (times are TIME_COLUMNS), by kind.
_KINDS = {
    "pid": "int", "execution_count": "int", "git_dirty": "bool", "num": "float", "step": "int",
    "size": "int", "num_rows": "int", "version": "int",
}  # fmt: skip


def _kind(table: str, column: str) -> str:
    """``time``, ``int``, ``float``, ``bool`` or ``text``: a column's type, in any engine."""
    if column in TIME_COLUMNS:
        return "time"
    if column == "value" and table == "metrics":
        return "float"
    return _KINDS.get(column, "text")


@cache
def arrow_schema(table: str) -> Any:  # pyarrow.Schema
    """The Arrow schema of ``table``."""
    import pyarrow as pa

    types = {
        "time": pa.timestamp(TIME_UNIT, tz="UTC"), "int": pa.int64(), "float": pa.float64(),
        "bool": pa.bool_(), "text": pa.string(),
    }  # fmt: skip
    return pa.schema([(c, types[_kind(table, c)]) for c in COLUMNS[table]])


def as_row(table: str, values: Mapping[str, Any]) -> tuple[Any, ...]:
    """``values`` (column name to value; columns left out are null) as a row of ``table``, in
    its column order. An unknown name is a ValueError that lists the table's columns.

    >>> as_row("events", {"run_id": "r1", "kind": "finished", "timestamp": 1.5})
    ('r1', 1.5, 'finished', None)
    """
    unknown = values.keys() - _COLUMN_SETS[table]
    if unknown:
        raise ValueError(
            f"the {table} table has no column {sorted(unknown)[0]!r}; its columns: "
            + ", ".join(COLUMNS[table])
        )
    return tuple(map(values.get, COLUMNS[table]))


def duckdb_types(table: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of each column of ``table``, in order.

    >>> duckdb_types("registry_events")[:3]
    [('name', 'VARCHAR'), ('version', 'BIGINT'), ('timestamp', 'TIMESTAMPTZ')]
    """
    types = {
        "time": "TIMESTAMPTZ", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN",
        "text": "VARCHAR",
    }  # fmt: skip
    return [(c, types[_kind(table, c)]) for c in COLUMNS[table]]


def duckdb_columns(table: str) -> str:
    """``CREATE TABLE`` column list for ``table`` (DuckDB types)."""
    return ", ".join(f'"{name}" {kind}' for name, kind in duckdb_types(table))
