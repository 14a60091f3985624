"""Reading nbtrack's store through its public SQL views (``nbtrack.sql``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def quoted(values: Iterable[str]) -> str:
    """A SQL list of string literals: ``'a', 'b'`` (quotes doubled), or ``NULL`` when empty.

    >>> quoted(["ab", "it's"])
    "'ab', 'it''s'"
    """
    parts = ["'" + str(v).replace("'", "''") + "'" for v in values]
    return ", ".join(parts) or "NULL"


def sql_rows(query: str) -> list[tuple[Any, ...]]:
    """The rows of ``query`` over nbtrack's views (``runs``, ``params``, ``tags``, ...)."""
    from ..query import sql

    rows: list[tuple[Any, ...]] = sql(query).fetchall()
    return rows
