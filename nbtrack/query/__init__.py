"""Reading the store: search, single runs, metric histories, cell lineage, SQL."""

from .lineage import RunDiff, cell_runs, diff
from .runs import RunRecord, delete_run, get_run, history, restore_run, sql
from .search import search

__all__ = [
    "RunDiff",
    "RunRecord",
    "cell_runs",
    "delete_run",
    "diff",
    "get_run",
    "history",
    "restore_run",
    "search",
    "sql",
]
