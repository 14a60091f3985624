"""``nbtrack.table()``: the runs as an interactive table; sorting, filtering and paging run in
DuckDB, so the browser only ever receives the visible page."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets as t

from ..errors import FilterError
from ..query.columns import BASE_COLUMNS
from ..query.search import RunQuery, column_keys
from ..store import get_store
from .base import bundle, follow_store, json_value
from .formatting import html_cell
from .saved import SavedView

if TYPE_CHECKING:
    from ..store.reader import Snapshot

DEFAULT_COLUMNS = ("name", "status", "start_time", "duration")
# Columns shown at first, per group, before the user picks others.
FIRST_SHOWN = {"metrics": 6, "params": 6, "tags": 0}
GROUPS = ("params", "metrics", "tags")


class RunTable(SavedView, anywidget.AnyWidget):
    """Runs of an experiment (or a filter) with their params, last metrics and tags.

    Click a header to sort (shift-click for a second key), type a filter and press Enter,
    choose columns, page through, and select rows: ``table.selected`` holds their run ids
    (and setting it selects them). Updates while runs write.

    >>> import nbtrack
    >>> table = nbtrack.table(experiment="wine")  # doctest: +SKIP
    >>> table.selected  # doctest: +SKIP
    ['3fl6ucz1al', 'r4htzx3z26']
    """

    _esm = bundle("table.js")
    _css = bundle("styles.css")

    _all_columns = t.List(t.Dict()).tag(sync=True)
    columns = t.List(t.Unicode()).tag(sync=True)
    sort = t.List(t.Dict()).tag(sync=True)
    filter = t.Unicode("").tag(sync=True)
    _filter_error = t.Unicode("").tag(sync=True)
    offset = t.Int(0).tag(sync=True)
    page_size = t.Int(20).tag(sync=True)
    _total = t.Int(0).tag(sync=True)
    _rows = t.List(t.Dict()).tag(sync=True)
    selected = t.List(t.Unicode()).tag(sync=True)

    def __init__(
        self,
        experiment: str | list[str] | None = None,
        filter: str | None = None,
        columns: list[str] | None = None,
        page_size: int = 20,
        live: bool = True,
    ) -> None:
        super().__init__(filter=filter or "", page_size=page_size)
        self.experiment = experiment
        self._chosen = list(columns) if columns else None
        self.refresh()
        self.observe(lambda _: self._show_page(),
                     names=["sort", "filter", "offset", "page_size", "columns"])  # fmt: skip
        if live:
            follow_store(self)

    def follow(self, widget: Any) -> None:
        """Keep ``widget.runs`` equal to the ids of the rows selected here (plot, compare)."""
        self.observe(lambda change: setattr(widget, "runs", list(change["new"])), "selected")
        widget.runs = list(self.selected)

    # ---- queries (all in DuckDB) ------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the available columns and the visible page (in one snapshot of the store)."""
        with get_store().reader.snapshot() as snap:
            keys = column_keys(self.experiment, snap)
            all_columns = [{"name": c, "group": "attributes"} for c in BASE_COLUMNS] + [
                {"name": f"{group}.{key}", "group": group}
                for group in GROUPS
                for key in keys[group]
            ]
            with self.hold_sync():
                self._all_columns = all_columns
                if not self.columns:
                    self.columns = self._chosen or self._default_columns(keys)
            self._load_page(snap)

    @staticmethod
    def _default_columns(keys: dict[str, list[str]]) -> list[str]:
        shown = list(DEFAULT_COLUMNS)
        for group in ("metrics", "params", "tags"):
            shown += [f"{group}.{k}" for k in keys[group][: FIRST_SHOWN[group]]]
        return shown

    def _order_by(self) -> list[str]:
        terms = []
        for item in self.sort:
            column = str(item.get("column", ""))
            prefix, _, key = column.partition(".")
            if key:
                column = f"{prefix}.`{key}`"
            terms.append(f"{column} {'DESC' if item.get('descending') else 'ASC'}")
        return terms

    def _show_page(self) -> None:
        """Load the page the user asked for; a saved notebook then shows it too."""
        self._load_page()
        self.update_saved()

    def _load_page(self, snap: Snapshot | None = None) -> None:
        try:
            query = RunQuery(self.filter, self.experiment, self._order_by())
        except (FilterError, ValueError) as err:
            self._filter_error = str(err)
            return
        total, offset, records = query.read_page(self.page_size, self.offset, self.columns, snap)
        rows = [
            {
                "run_id": record["run_id"],
                "status": record["status"],
                "values": {c: json_value(record.get(c)) for c in self.columns},
            }
            for record in records
        ]
        with self.hold_sync():
            self._filter_error = ""
            self._total = total
            if offset != self.offset:
                self.offset = offset
            self._rows = rows

    # ---- a saved notebook shows the page without a kernel ---------------------------------
    def saved_html(self) -> str:
        return self.to_html()

    def to_html(self) -> str:
        """The visible page as a plain HTML table whose cells read as in the live table."""
        groups = {column["name"]: column["group"] for column in self._all_columns}
        numeric = _numeric_columns(self.columns, self._rows)
        head = "".join(f"<th{_align(c in numeric)}>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(_cell_html(row, c, groups.get(c), c in numeric)
                             for c in self.columns) + "</tr>"
            for row in self._rows
        )  # fmt: skip
        note = f"{len(self._rows)} of {self._total} runs"
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><p>{note}</p>"


def _numeric_columns(columns: list[str], rows: list[dict[str, Any]]) -> set[str]:
    """The columns holding numbers on this page: right-aligned, as in the live table."""
    return {column for column in columns
            if any(type(row["values"].get(column)) in (int, float) for row in rows)}  # fmt: skip


def _align(right: bool) -> str:
    return ' style="text-align: right"' if right else ""


def _cell_html(row: dict[str, Any], column: str, group: str | None, numeric: bool) -> str:
    """A ``<td>`` of the static table, as the live table shows ``row``'s value in ``column``:
    formatted, with the full value as a tooltip when the text shortens it."""
    value = row["values"].get(column)
    if column == "status":  # the live table shows a badge with the status' name
        return f"<td>{html.escape(value if isinstance(value, str) else row['status'])}</td>"
    return html_cell(value, column, group, _align(numeric))
