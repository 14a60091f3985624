"""The store has one read API and one write API: nothing above it reaches into the reader's
lock, connection or private tables, or the writer's buffers; queries live in ``query/``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import ROOT

PACKAGE = ROOT / "nbtrack"
ABOVE_THE_STORE = sorted(p for p in PACKAGE.rglob("*.py") if "store" not in p.parts)
# The reader's and writer's insides: its lock and DuckDB connection, the private relations it
# builds (_c_*, _p_*, _m_*, _run_rows, ...), and the writer's row buffers.
INSIDES = re.compile(
    r"reader\.(lock|con|_\w+)\b|\b_[cpm]_\w+|\b_(run|param|tag)_rows\b|\bbuffers\.rows\b"
    r"|writer\.buffers\b"
)
SQL = re.compile(r"\b(SELECT|INSERT INTO|CREATE (OR REPLACE )?(TABLE|VIEW)|COPY \()")


@pytest.mark.parametrize("path", ABOVE_THE_STORE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_above_the_store_reaches_into_it(path: Path) -> None:
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if INSIDES.search(line)
    ]
    assert found == []


@pytest.mark.parametrize("path", sorted((PACKAGE / "widgets").glob("*.py")), ids=lambda p: p.name)
def test_widgets_carry_no_sql(path: Path) -> None:
    found = [line.strip() for line in path.read_text().splitlines() if SQL.search(line)]
    assert found == []


def test_the_check_sees_what_it_forbids() -> None:
    assert INSIDES.search("with reader.lock:") and INSIDES.search("FROM _p_metrics")
    assert INSIDES.search("store.writer.buffers.rows['events']")
    assert SQL.search('"SELECT run_id FROM runs"')
