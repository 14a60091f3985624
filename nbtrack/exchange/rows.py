"""The rows of imported runs, gathered per table and written as segments of one import.

Every importer (MLflow, TensorBoard, W&B, trackio, CSV) describes the runs it reads with a
:class:`RunRows` and hands it to the import job (``segments.importing``), which publishes the
segments of the whole import at once: a run is in the store whole, or not at all. Times are
epoch microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..store.schema import COLUMNS, as_row
from ..store.segments import rows_to_arrow
from ..values import encode_param

if TYPE_CHECKING:
    from .segments import Import


class RunRows:
    """Rows of the store's tables for some imported runs."""

    def __init__(self) -> None:
        self.tables: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}

    def add(self, table: str, values: Mapping[str, Any]) -> None:
        """One row of ``table`` (column name to value; columns left out are null)."""
        self.tables[table].append(as_row(table, values))

    def run(
        self,
        run_id: str,
        experiment: str,
        name: str,
        started: int,
        ended: int | None = None,
        status: str | None = "finished",
        **context: Any,
    ) -> None:
        """A run (its ``runs`` row, with ``context``: any other column of it, e.g. ``writer``,
        ``user``, ``source``, ``parent_run_id``), started at ``started`` and, with a
        ``status`` (an end state), ended at ``ended`` (default: when it started)."""
        self.add("runs", {"run_id": run_id, "experiment": experiment, "name": name,
                          "created_at": started, **context})  # fmt: skip
        self.add("events", {"run_id": run_id, "timestamp": started, "kind": "started"})
        if status is not None:
            end = max(ended if ended is not None else started, started)
            self.add("events", {"run_id": run_id, "timestamp": end, "kind": status})

    def params(self, run_id: str, params: Mapping[str, Any], timestamp: int) -> None:
        """Params with their Python types (numbers stay numbers, lists and dicts JSON)."""
        for key, value in params.items():
            kind, num, text = encode_param(value)
            self.add("params", {"run_id": run_id, "key": key, "type": kind, "num": num,
                                "text": text, "timestamp": timestamp})  # fmt: skip

    def tags(self, run_id: str, tags: Mapping[str, Any], timestamp: int) -> None:
        """Tags (values as text)."""
        for key, value in tags.items():
            self.add("tags", {"run_id": run_id, "key": key, "value": str(value),
                              "timestamp": timestamp})  # fmt: skip

    def points(
        self, run_id: str, key: str, points: Iterable[tuple[int, int | None, float]]
    ) -> None:
        """Metric ``key``'s history: ``(step, timestamp, value)`` points."""
        rows = self.tables["metrics"]
        rows.extend((run_id, key, step, time, float(value)) for step, time, value in points)

    def write(self, job: Import) -> None:
        """Add the rows to ``job`` as segments (published when the import ends)."""
        for table, rows in self.tables.items():
            if rows:
                job.segments.add(table, rows_to_arrow(table, rows, epoch_micros=True))
