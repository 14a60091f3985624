"""The per-process writer: buffers rows in memory and flushes them to segments in the background.

Logging only appends to in-memory lists (the hot path never touches the disk). A daemon thread
turns the buffers into one immutable segment per table at most ``flush_interval`` seconds apart,
soon after a run ends, and at exit. A failed write keeps the rows and retries on the next tick.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import StoreError, StoreWarning
from .buffers import Batch, Buffers, MetricSeries
from .layout import Layout, store_error
from .schema import PUBLISH_ORDER, as_row
from .segments import write_segment

HOSTNAME = socket.gethostname()
# Each writer merges its own segments after this many flushes, so an hour of logging leaves
# tens of files per table, not thousands (a query opens every file it reads).
AUTO_COMPACT_EVERY = 60
# A script that flushed at least this many times since its last snapshot check checks again as
# it exits (see Writer.refresh_snapshot): a short sweep leaves a snapshot behind too.
EXIT_SNAPSHOT_FLUSHES = 10
# A fork waits at most this long for a flush in progress (see Writer.hold_for_fork).
FORK_WAIT_S = 10.0


class Writer:
    """Buffers and background flusher of one process for one store."""

    def __init__(self, layout: Layout, settings: Settings) -> None:
        self.layout = layout
        self.settings = settings
        self.buffers = Buffers()
        self._reset()

    def _reset(self) -> None:
        self.id = f"{HOSTNAME}-{os.getpid()}-{secrets.token_hex(3)}"
        self._inflight = Batch()
        # Held while segments are published and while a reader lists segments and copies the
        # buffers, so a row is always in exactly one of: buffer, in flight, visible segment.
        self.visibility = threading.Lock()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._soon = False
        self._thread: threading.Thread | None = None
        self._seq = 0
        self._flushes = 0
        self._unsnapshotted = 0  # flushes since the last snapshot check
        self._snapshotter: subprocess.Popen[bytes] | None = None
        self._last_problem: str | None = None
        # Segments written and (maybe partly) uploaded whose publishing failed: the next flush
        # publishes them, under the same names, before anything new (their rows stay in flight).
        self._unpublished: list[tuple[Path, Path]] = []
        self.active_runs = 0

    def hold_for_fork(self) -> bool:
        """Wait for a flush in progress to end and keep the next from starting (True: held;
        :meth:`release_after_fork` ends it). A fork in the middle of a flush would copy the
        locks it holds, an import's among them, into the child, where nothing releases them."""
        return self._flushing.acquire(timeout=FORK_WAIT_S)

    def release_after_fork(self) -> None:
        self._flushing.release()

    def after_fork(self) -> None:
        """In a forked child: a new identity (segment names must not collide with the
        parent's), no thread, and none of the parent's pending rows (the parent writes them)."""
        self.buffers.forget_after_fork()
        self._reset()

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Create the store if needed and start the flush thread (raises StoreError)."""
        if self._thread is not None and self._thread.is_alive():
            return
        # pyarrow imports pandas on its first array, and pandas imports this module, which
        # cannot be imported once the interpreter shuts down: import it now so that the flush
        # at exit of a short script (its first flush, then) can still build segments.
        import concurrent.futures.thread  # noqa: F401

        self.layout.create()
        self._write_heartbeat()
        self._thread = threading.Thread(target=self._loop, name="nbtrack-writer", daemon=True)
        self._thread.start()

    def request_flush(self) -> None:
        """Flush soon (after a short delay that batches bursts of ending runs)."""
        self._soon = True
        self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.settings.flush_interval)
            if self._wake.is_set():
                self._wake.clear()
                if self._soon:
                    self._soon = False
                    time.sleep(self.settings.end_flush_delay)
            try:
                if self.flush():
                    self._flushes += 1
                    self._unsnapshotted += 1
                    if self._flushes % AUTO_COMPACT_EVERY == 0:
                        self.compact_own()
                self._beat()
            except StoreError as err:
                self._warn(str(err))
            except Exception as err:  # the writer thread must never die
                self._warn(f"nbtrack writer failed unexpectedly: {err!r}; rows kept, retrying")

    def _warn(self, message: str) -> None:
        if message != self._last_problem:
            self._last_problem = message
            warnings.warn(
                message + " (buffered rows are kept and retried)", StoreWarning, stacklevel=2
            )

    # ---- heartbeat ------------------------------------------------------------------------
    def _write_heartbeat(self) -> None:
        info = {"pid": os.getpid(), "host": HOSTNAME, "started": time.time()}
        try:
            self.layout.write_heartbeat(self.id, info)
        except OSError as err:
            raise store_error(f"write to the nbtrack store at {self.layout.name}", err) from err

    def _beat(self) -> None:
        if self.active_runs > 0 and not self.layout.touch_heartbeat(self.id):
            self._write_heartbeat()

    # ---- the write API: everything above the store writes through these ------------------
    def append(self, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Buffer ``rows`` of ``table`` (each a mapping of column names to values; see
        :func:`schema.as_row`); they reach a segment with the next flush. Metric points go
        through :meth:`Buffers.new_series` instead (the hot path keeps typed arrays)."""
        if table == "metrics":
            raise ValueError("metric points are logged through a series, not appended as rows")
        self.buffers.rows[table].extend([as_row(table, row) for row in rows])

    def new_series(self, run_id: str, key: str) -> MetricSeries:
        """The buffer of metric ``key`` of ``run_id``: the logging thread appends to its typed
        arrays (see ``buffers.py``), and the next flush writes them."""
        return self.buffers.new_series(run_id, key)

    # ---- flushing -------------------------------------------------------------------------
    def pending(self) -> int:
        return len(self._inflight) + len(self.buffers.peek())

    def snapshot(self) -> Batch:
        """Rows not yet visible in segments (call with ``visibility`` held)."""
        return self._inflight + self.buffers.peek()

    def flush(self) -> bool:
        """Write every buffered row to segments now; False when there was nothing to write.

        Raises StoreError on failure, keeping the rows for the next attempt.
        """
        with self._flushing:
            if self._unpublished:  # rows of a failed publish are still in flight
                self._publish(self._unpublished)
            with self.visibility:
                self._inflight = batch = self.buffers.take()
            if not batch:
                return False
            written: list[tuple[Path, Path]] = []
            try:
                for table in PUBLISH_ORDER:
                    data = batch.table(table)
                    if data.num_rows:
                        written.append(self._write(table, data))
            except (OSError, StoreError) as err:
                self.layout.discard(hidden for hidden, _ in written)
                with self.visibility:
                    self.buffers.put_back(batch)
                    self._inflight = Batch()
                if isinstance(err, StoreError):
                    raise
                raise store_error(f"write to the nbtrack store at {self.layout.name}", err) from err
            self._unpublished = written
            self._publish(written)
            return True

    def _publish(self, written: list[tuple[Path, Path]]) -> None:
        """Upload (where the layout needs it) and publish written segments; their rows leave
        the in-flight batch in the same step. On failure the rows stay in flight (this process
        still sees them) and the next flush publishes the same files again."""
        try:
            self.layout.upload(written)
        except OSError as err:
            raise store_error(f"write to the nbtrack store at {self.layout.name}", err) from err
        with self.visibility:
            self.layout.publish(written, sync=False)  # readers wait: keep this short
            self._inflight = Batch()
        self._unpublished = []
        self.layout.sync(written)
        self._last_problem = None

    def _write(self, table: str, data: Any) -> tuple[Path, Path]:
        """Write a finished segment under a hidden name; it becomes visible on publish."""
        self._seq += 1
        # The time first: names sort by when they were written, which lets a bucket's reader
        # list only what is new (see objects.py).
        stamp = time.time_ns() // 1_000_000
        final = self.layout.table_dir(table) / f"{stamp:013d}-{self.id}-{self._seq:06d}.parquet"
        try:
            return write_segment(final, data), final
        except FileNotFoundError:  # the store folder was deleted under us: make it again
            self.layout.create()
            return write_segment(final, data), final

    def flush_behind(self) -> None:
        """Flush from a logging thread that got ahead of the writer (a failure only warns)."""
        try:
            self.flush()
        except StoreError as err:
            self._warn(str(err))

    def compact_own(self) -> None:
        """Merge this writer's small segments (skipped while another compaction runs), then
        refresh the store's run snapshot if it is due."""
        from .compaction import compact_segments

        compact_segments(self.layout, wait=False, prefix=self.id)
        self.refresh_snapshot()

    def refresh_snapshot(self, min_flushes: int = 0) -> None:
        """Start a process writing a new run snapshot when the newest is old (see
        :mod:`.autosnapshot`) and this writer flushed ``min_flushes`` times since it last
        checked; not while the one it started last still runs."""
        from . import autosnapshot

        if self._unsnapshotted < min_flushes or not autosnapshot.enabled():
            return
        if self._snapshotter is not None and self._snapshotter.poll() is None:
            return
        self._unsnapshotted = 0
        if autosnapshot.due(self.layout):
            self._snapshotter = autosnapshot.start(self.layout)
