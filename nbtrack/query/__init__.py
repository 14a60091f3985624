"""Reading the store: search, single runs, metric histories, SQL."""

from .runs import RunRecord, delete_run, get_run, history, restore_run, sql
from .search import search

__all__ = ["RunRecord", "delete_run", "get_run", "history", "restore_run", "search", "sql"]
