"""What DuckDB needs said one way everywhere: SQL literals, and results as Arrow across the
DuckDB versions nbtrack supports (1.x is the one Python 3.10 gets; 2.x renamed the methods)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def sql_string(text: str) -> str:
    """``text`` as a SQL string literal (for the few places that cannot take a parameter, such
    as COPY's file name).

    >>> sql_string("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"


def sql_name(name: str) -> str:
    """``name`` as a quoted SQL identifier (a column named after a user's key).

    >>> print(sql_name('params.a "b" c'))
    "params.a ""b"" c"
    """
    return '"' + name.replace('"', '""') + '"'


def sql_list(texts: Sequence[str]) -> str:
    """A SQL list literal of strings.

    >>> sql_list(["a.parquet", "b's.parquet"])
    "['a.parquet', 'b''s.parquet']"
    """
    return "[" + ", ".join(sql_string(t) for t in texts) + "]"


def to_arrow(relation: Any) -> Any:  # duckdb.DuckDBPyRelation -> pyarrow.Table
    """A relation's result as an Arrow table."""
    convert = getattr(relation, "to_arrow_table", None) or relation.arrow
    return convert()


def arrow_batches(relation: Any, rows: int) -> Any:  # -> pyarrow.RecordBatchReader
    """A relation's result as a stream of Arrow record batches of ``rows`` rows."""
    stream = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
    return stream(rows)
