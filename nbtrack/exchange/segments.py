"""Adding imported runs to a store as new immutable segments, all visible at once.

Imports never go through the process's writer buffers: they write finished segments straight
into ``segments/<table>/`` with the store's own ``write_segment`` + ``layout.publish`` protocol,
publishing tables in ``PUBLISH_ORDER`` (events last) like a flush does, so a reader that sees an
imported run's end event also sees its data. One import at a time per store (an ``flock`` on
``segments/.import.lock``) makes "skip the runs the store already has" safe between processes.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..store import Store, get_store
from ..store.layout import COMPACTED_PREFIX, Layout, store_error
from ..store.schema import COLUMNS, PUBLISH_ORDER, TABLES, arrow_schema
from ..store.segments import write_segment

if TYPE_CHECKING:
    import pyarrow as pa

# Imported rows are cut into segments of at most this many rows, so a huge import holds one
# segment's worth of Arrow data in memory at a time (a million metric points is ~40 MB).
ROWS_PER_SEGMENT = 1_000_000


class SegmentAppender:
    """Writes Arrow tables as hidden segments of a store; :meth:`publish` shows them all."""

    def __init__(self, layout: Layout, origin: str) -> None:
        if origin.startswith(COMPACTED_PREFIX):
            raise ValueError(f"segment prefix {origin!r} is reserved for compacted segments")
        self.layout = layout
        # A fresh token per import: names never collide with a writer's or another import's.
        self.prefix = f"{origin}-{secrets.token_hex(4)}"
        self._seq = 0
        self._written: dict[str, list[tuple[Path, Path]]] = {t: [] for t in TABLES}

    def add(self, table: str, data: pa.Table) -> None:
        """Write ``data`` (columns of ``COLUMNS[table]``, any order) as hidden segment(s)."""
        schema = arrow_schema(table)
        data = data.select(list(COLUMNS[table])).cast(schema)
        for start in range(0, data.num_rows, ROWS_PER_SEGMENT):
            part = data.slice(start, ROWS_PER_SEGMENT)
            self._seq += 1
            final = self.layout.table_dir(table) / f"{self.prefix}-{self._seq:06d}.parquet"
            try:
                hidden = write_segment(final, part)
            except OSError as err:
                raise store_error(f"write to the nbtrack store at {self.layout.root}", err) from err
            self._written[table].append((hidden, final))

    def add_batches(self, table: str, batches: Iterable[pa.RecordBatch]) -> None:
        """Write a stream of record batches, one segment per ``ROWS_PER_SEGMENT`` rows."""
        import pyarrow as pa

        pending: list[pa.RecordBatch] = []
        size = 0
        for batch in batches:
            pending.append(batch)
            size += batch.num_rows
            if size >= ROWS_PER_SEGMENT:
                self.add(table, pa.Table.from_batches(pending))
                pending, size = [], 0
        if size:
            self.add(table, pa.Table.from_batches(pending))

    def publish(self) -> None:
        """Make every written segment visible, tables in ``PUBLISH_ORDER``, then fsync."""
        try:
            self.layout.publish([pair for t in PUBLISH_ORDER for pair in self._written[t]])
        except OSError as err:
            raise store_error(
                f"publish imported segments in the nbtrack store at {self.layout.root}", err
            ) from err
        for pairs in self._written.values():
            pairs.clear()

    def discard(self) -> None:
        """Remove the segments written but not yet published."""
        for pairs in self._written.values():
            self.layout.discard(hidden for hidden, _ in pairs)
            pairs.clear()


class Import:
    """One import into the current store: which runs it already has, and the new segments."""

    def __init__(self, store: Store, origin: str) -> None:
        self.store = store
        self.segments = SegmentAppender(store.layout, origin)

    def existing(self, run_ids: Iterable[str]) -> set[str]:
        """Those of ``run_ids`` the store already has (including this process's unflushed)."""
        return self.store.reader.known_runs(run_ids)

    def copy_artifacts(self, source: Path, run_id: str) -> None:
        """Copy a run's artifact folder into the store's ``artifacts/<run_id>/``."""
        target = self.store.layout.artifacts / run_id
        try:
            shutil.copytree(source, target, dirs_exist_ok=True)
        except OSError as err:
            raise store_error(f"copy artifacts from {source} into {target}", err) from err
        self.store.layout.store_files(p for p in target.rglob("*") if p.is_file())


@contextlib.contextmanager
def importing(origin: str) -> Iterator[Import]:
    """Import into the current store (created if missing); segments added inside the block are
    published when it ends normally and deleted when it raises.

    The block runs under the store's import lock, so two processes importing the same runs
    cannot both decide a run is missing.
    """
    store = get_store()
    layout = store.layout
    if not layout.exists():
        layout.create()
    layout.check_format()
    job = Import(store, origin)
    with layout.lock(".import.lock", f"import into the nbtrack store at {layout.root}"):
        try:
            yield job
            job.segments.publish()
        except BaseException:
            job.segments.discard()
            raise
        store.reader.refresh()
