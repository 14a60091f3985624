"""A store in an S3 (or S3-compatible) bucket: the same :class:`~nbtrack.store.layout.Layout`
seam, on object storage. The protocol, which is what makes one bucket safe to share by many
machines with no server:

Requests go through :class:`~nbtrack.store.bucket.Bucket` (botocore; why, there).

* **One PUT per file, never overwritten.** A segment is written locally under a hidden name
  (as in a folder), then uploaded with one ``PUT`` carrying ``If-None-Match: *`` (a conditional
  create): a reader never sees half an object, and no object is ever replaced. A failed upload
  keeps its rows in memory (this process still sees them) and is retried with the same name, so
  a retry never doubles a row (an upload that did land answers "already exists": done).
* **Listing only what is new.** Segment names start with the writer's clock in milliseconds
  (``<ms>-<writer>-<seq>.parquet``), so keys sort by when they were written and a reader lists
  each table with ``StartAfter`` = the newest stamp it has seen less :data:`LIST_OVERLAP_S`
  (uploads that took long, clocks a little apart). Compacted ``c-…`` names (and imported ones)
  sort after every stamp, so each listing includes them: there are few. Every
  :data:`FULL_LIST_S` a reader lists everything once more, which also forgets deleted keys and
  picks up files copied in out of order (``nbtrack sync``). Tables are listed in the reverse
  of the order writers publish them, so a reader that sees a run's end sees its data.
* **A local cache of immutable segments** (:mod:`~nbtrack.store.cache`): DuckDB reads local
  files, downloaded once per machine.
* **Compaction holds a lease**, an object ``locks/compact/<generation>`` created with
  ``If-None-Match: *``: of two processes creating the same generation, exactly one succeeds.
  Its holder writes it again every quarter of :data:`LEASE_S` (a long compaction keeps it);
  releasing deletes it; a lease not written for :data:`LEASE_S` is broken by creating the next
  generation, and a holder checks that no newer generation exists before it publishes. A
  compacted segment names the segments it replaces (as in a folder), readers hide those, and
  they are deleted only afterwards: a reader that listed one downloads it, or finds it gone and
  lists again. A lease rather than conditional writes alone, because two compactions of the same
  segments would write two different compacted names, which no conditional write can refuse.
* **Heartbeats are small objects** ``writers/<writer>.json``, rewritten every
  :data:`BEAT_EVERY_S` while the writer has running runs; a reader lists them (one request) and
  takes a run whose writer's heartbeat is older than the heartbeat timeout as ``crashed``
  (comparing the bucket's times with its own clock: machines are assumed to keep NTP time).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import threading
import time
import warnings
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path

from ..config import settings
from ..errors import StoreError, StoreWarning
from ..locations import StoreURL
from .bucket import Bucket
from .cache import FileCache
from .layout import COMPACTED_PREFIX, Layout, MetadataReader, check_version
from .schema import FORMAT_VERSION, PUBLISH_ORDER, TABLES

# A reader lists the bucket again at most this often (a request per table, in three round
# trips): a burst of queries lists once, and a query sees what other processes wrote before it.
LIST_EVERY_S = 0.05
# Incremental listings start this far before the newest name seen: a segment named (stamped) a
# little before another may land after it (a slow upload, a writer's clock a little behind).
LIST_OVERLAP_S = 120.0
# ...and everything is listed again this often, for what even that misses, and deletions.
FULL_LIST_S = 30.0
# A heartbeat object is rewritten this often (a PUT costs money; the timeout is 30 s), or
# four times per heartbeat timeout when that is shorter.
BEAT_EVERY_S = 5.0
# A compaction or import lease older than this is taken as abandoned (its holder died).
LEASE_S = 600.0
# Segments are downloaded this many at a time (requests wait on the network, not the CPU).
DOWNLOADS = 8

_STAMP = re.compile(r"^(\d{13})-")
_STORE_JSON = "store.json"


_layouts: weakref.WeakSet[ObjectLayout] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    _pool.cache_clear()
    for layout in list(_layouts):
        layout._after_fork()


@functools.cache
def _pool() -> ThreadPoolExecutor:
    """Threads for requests made together (they wait on the network, not on the CPU)."""
    return ThreadPoolExecutor(DOWNLOADS, thread_name_prefix="nbtrack-s3")


def _stamp(name: str) -> int | None:
    found = _STAMP.match(name)
    return int(found[1]) if found else None


class ObjectLayout(Layout):
    """A bucket store: the layout of a folder (files are staged, and cached, under :attr:`root`,
    this machine's copy) whose truth is in the bucket."""

    def __init__(self, url: StoreURL) -> None:
        self.url = url
        self.bucket = Bucket(url)
        where = self.bucket.endpoint
        host = re.sub(r"[^\w.-]+", "_", where.split("://")[-1]) if where else "aws"
        cache = settings.cache_root() / "objects"
        super().__init__(cache / host / url.bucket / url.prefix)
        self.cache = FileCache(cache, settings.cache_size)
        self._known: dict[str, dict[str, int]] = {t: {} for t in TABLES}  # name -> bytes
        self._newest: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._listed_at = 0.0
        self._full_at = dict.fromkeys(TABLES, 0.0)
        self._uploaded: set[str] = set()  # keys uploaded by this process, not yet published
        self._beats: dict[str, float] = {}
        self._beats_at = 0.0
        self._beat_info: dict[str, bytes] = {}
        self._beat_sent: dict[str, float] = {}
        # lease prefix -> the generation key held, per thread: what a thread publishes under a
        # lease is checked against it (a writer's own flushes in other threads are not)
        self._leases: dict[tuple[int, str], str] = {}
        self._exists = False
        self._listing = threading.RLock()
        _layouts.add(self)

    def _after_fork(self) -> None:
        """In a forked child: the HTTP client's runtime and the locks did not cross the fork."""
        self.bucket.after_fork()
        self._listing = threading.RLock()
        self._leases = {}
        self._uploaded = set()  # (the parent publishes those)

    @property
    def name(self) -> str:
        return str(self.url)

    def key(self, path: Path | str) -> str:
        """The key of a file of this store's local copy."""
        return Path(path).relative_to(self.root).as_posix()

    # ---- the store ------------------------------------------------------------------------
    def exists(self) -> bool:
        if not self._exists:
            try:
                self.bucket.get(_STORE_JSON)
                self._exists = True
            except FileNotFoundError:
                return False
        return True

    def check_format(self) -> None:
        if self._checked:
            return
        try:
            meta = json.loads(self.bucket.get(_STORE_JSON))
        except FileNotFoundError:
            return
        except ValueError as err:
            raise StoreError(f"{self.name}/{_STORE_JSON} is unreadable ({err}); restore it or "
                             "use another store with nbtrack.set_store(...)") from err  # fmt: skip
        self._exists = True
        check_version(meta, self.name)
        self._checked = True

    def create(self) -> None:
        """Write ``store.json`` unless there is one (and make the local copy's folders)."""
        try:
            for table in TABLES:
                self.table_dir(table).mkdir(parents=True, exist_ok=True)
            self.artifacts.mkdir(exist_ok=True)
        except OSError as err:
            raise StoreError(
                f"cannot create the local cache of {self.name} at {self.root}: {err}; set "
                "$NBTRACK_CACHE_DIR to a writable folder"
            ) from err
        if not self._exists:
            self.bucket.put(
                _STORE_JSON, json.dumps({"format": FORMAT_VERSION}).encode(), create=True
            )
            self._exists = True
        self.check_format()

    # ---- listing ----------------------------------------------------------------------------
    def list_segments(self, table: str, read_metadata: MetadataReader | None = None) -> list[str]:
        self._relist()
        directory = self.table_dir(table)
        names = self._known[table]
        replaced: set[str] = set()
        for name in [n for n in names if n.startswith(COMPACTED_PREFIX)]:
            try:
                replaced |= self.replaced_by(directory / name, read_metadata)
            except FileNotFoundError:  # merged into a newer one and deleted: list it all again
                names.pop(name, None)
                self._full_at[table] = 0.0
                raise
        mine = {Path(k).name for k in self._uploaded}  # uploaded, this process publishes them
        return sorted(str(directory / n) for n in names if n not in replaced and n not in mine)

    def _relist(self) -> None:
        """List every table in two round trips: the tables published last (the events that end
        a run, the registry's events) first, so that whoever sees them sees what was published
        before them, then the data tables."""
        with self._listing:
            now = time.monotonic()
            if now - self._listed_at < LIST_EVERY_S:
                return
            *together, registry, events = PUBLISH_ORDER
            full = {t: now - self._full_at[t] > FULL_LIST_S for t in TABLES}
            try:
                for tables in ((events, registry), together):
                    list(_pool().map(lambda t: self._list_table(t, full[t]), tables))
            except StoreError as err:
                if not self._checked:  # never reached: say so
                    raise
                self._warn(err)  # show what was there at the last listing
                return
            self._listed_at = time.monotonic()  # (after: one query's tables list once)

    def _warn(self, err: StoreError) -> None:
        warnings.warn(f"{err}; showing the store as it was at the last listing",
                      StoreWarning, stacklevel=5)  # fmt: skip

    def _list_table(self, table: str, full: bool) -> None:
        prefix = f"segments/{table}/"
        newest = self._newest[table]
        after = None
        if not full and newest:
            after = f"{prefix}{max(newest - int(LIST_OVERLAP_S * 1000), 0):013d}"
        found = {}
        for listed in self.bucket.list(prefix, after):
            name = listed.key[len(prefix) :]
            if name.endswith(".parquet") and not name.startswith(".") and "/" not in name:
                found[name] = listed.size
        if full:
            self._known[table] = found
            self._full_at[table] = time.monotonic()
        else:
            self._known[table].update(found)
        stamps = [s for s in map(_stamp, found) if s is not None]
        self._newest[table] = max([newest, *stamps])

    def segment_names(self, table: str) -> set[str]:
        with self._listing:
            self._list_table(table, full=True)
            return set(self._known[table])

    def size(self, path: str) -> int:
        name = Path(path).name
        return self._known[Path(path).parent.name].get(name, 0)

    def replaced_by(
        self, path: Path, read_metadata: MetadataReader | None = None
    ) -> frozenset[str]:
        if str(path) not in self._replaces:
            self.local([str(path)])
        return super().replaced_by(path, read_metadata)

    # ---- reading ----------------------------------------------------------------------------
    def local(self, paths: Sequence[str]) -> list[str]:
        """Download the listed segments this machine's cache lacks (several at a time)."""
        missing = [p for p in paths if not os.path.exists(p)]
        for p in paths:
            if p not in missing:
                self.cache.touch(Path(p))
        if len(missing) == 1:
            self._download(missing[0])
        elif missing:
            list(_pool().map(self._download, missing))
        return list(paths)

    def _download(self, path: str) -> None:
        try:
            self.cache.fetch(Path(path), lambda: self.bucket.get(self.key(path)))
        except FileNotFoundError:  # compacted away since the listing: list again
            with self._listing:
                self._known[Path(path).parent.name].pop(Path(path).name, None)
                self._listed_at = 0.0
            raise

    # ---- writing ----------------------------------------------------------------------------
    def upload(self, written: Sequence[tuple[Path, Path]]) -> None:
        """PUT each written file once, in order, creating its key (an upload retried after a
        failure finds its key there already: done)."""
        self._check_leases()
        for hidden, final in written:
            key = self.key(final)
            if key in self._uploaded:
                continue
            self.bucket.put(key, hidden.read_bytes(), create=True)
            self._uploaded.add(key)

    def publish(self, written: Sequence[tuple[Path, Path]], sync: bool = True) -> None:
        """Upload what is not yet uploaded, then move the files into the local cache and list
        them at once (this process sees its own segments without listing the bucket)."""
        self.upload(written)
        with self._listing:
            for hidden, final in written:
                size = hidden.stat().st_size
                os.replace(hidden, final)
                self._uploaded.discard(self.key(final))
                if final.parent.name in self._known:  # a segment (not, say, a snapshot)
                    self._known[final.parent.name][final.name] = size
                self.cache.added(size)

    def sync(self, written: Sequence[tuple[Path, Path]]) -> None:
        """Nothing: an object is durable once its PUT has answered."""

    def remove(self, paths: Iterable[Path | str]) -> None:
        for path in paths:
            self.bucket.delete(self.key(path))
            with self._listing:
                self._known.get(Path(path).parent.name, {}).pop(Path(path).name, None)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    # ---- heartbeats -------------------------------------------------------------------------
    def write_heartbeat(self, writer: str, info: Mapping[str, object]) -> None:
        self._beat_info[writer] = json.dumps(info).encode()
        self.bucket.put(f"writers/{writer}.json", self._beat_info[writer], create=False)
        self._beat_sent[writer] = time.monotonic()

    def touch_heartbeat(self, writer: str) -> bool:
        if writer not in self._beat_info:
            return False
        every = min(BEAT_EVERY_S, settings.heartbeat_timeout / 4)
        if time.monotonic() - self._beat_sent.get(writer, 0.0) >= every:
            self.write_heartbeat(writer, json.loads(self._beat_info[writer]))
        return True

    def last_beat(self, writer: str) -> float | None:
        now = time.monotonic()
        if now - self._beats_at >= LIST_EVERY_S:
            with contextlib.suppress(StoreError):  # unreachable: the beats as last seen
                beats = self.bucket.list("writers/")
                self._beats = {b.key[len("writers/") : -len(".json")]: b.modified.timestamp()
                               for b in beats}  # fmt: skip
            self._beats_at = now
        return self._beats.get(writer)

    # ---- artifacts --------------------------------------------------------------------------
    def folder(self, path: str) -> Path:
        for listed in self.bucket.list(f"{path.rstrip('/')}/"):
            target = self.root / listed.key
            with contextlib.suppress(FileNotFoundError):
                if target.stat().st_size != listed.size:  # (an artifact logged again)
                    target.unlink()
            self.cache.fetch(target, functools.partial(self.bucket.get, listed.key))
        return self.root / path

    def store_files(self, files: Iterable[Path]) -> None:
        for file in files:
            self.bucket.put(self.key(file), Path(file).read_bytes(), create=False)

    def files(self, under: str) -> dict[str, int]:
        return {f.key: f.size for f in self.bucket.list(f"{under}/")}

    def fetch(self, path: str) -> Path:
        return self.cache.fetch(self.root / path, functools.partial(self.bucket.get, path))

    def put(self, path: str, source: Path) -> None:
        self.bucket.put(path, source.read_bytes(), create=False)

    # ---- leases -----------------------------------------------------------------------------
    def lock(self, name: str, action: str, wait: bool = True) -> AbstractContextManager[bool]:
        return self._lease(f"locks/{name.strip('.').removesuffix('.lock')}/", wait)

    @contextlib.contextmanager
    def _lease(self, prefix: str, wait: bool) -> Iterator[bool]:
        pause = 0.05
        while True:
            generations = self._generations(prefix)
            top = max(generations, default=0)
            if top == 0 or time.time() - generations[top] > LEASE_S:
                key = f"{prefix}{top + 1:012d}"
                me = json.dumps({"host": os.uname().nodename, "pid": os.getpid()}).encode()
                if self.bucket.put(key, me, create=True):
                    break
            if not wait:
                yield False
                return
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
        mine = (threading.get_ident(), prefix)
        self._leases[mine] = key
        released = threading.Event()
        renewing = threading.Thread(
            target=self._renew, args=(key, me, released), name="nbtrack-lease", daemon=True
        )
        renewing.start()
        try:
            yield True
        finally:
            released.set()
            renewing.join()
            del self._leases[mine]
            with contextlib.suppress(StoreError):
                self.bucket.delete(key)

    def _renew(self, key: str, body: bytes, released: threading.Event) -> None:
        """Write lease ``key`` again every quarter of :data:`LEASE_S` until ``released``: a
        long compaction keeps its lease (one that could not renew it for a whole term finds
        it taken over, and publishes nothing)."""
        while not released.wait(LEASE_S / 4):
            with contextlib.suppress(StoreError):
                self.bucket.put(key, body, create=False)

    def _generations(self, prefix: str) -> dict[int, float]:
        return {int(m.key[len(prefix):]): m.modified.timestamp()
                for m in self.bucket.list(prefix) if m.key[len(prefix):].isdigit()}  # fmt: skip

    def _check_leases(self) -> None:
        """Refuse to publish under a lease another process has broken (we were too slow)."""
        me = threading.get_ident()
        for (thread, prefix), key in list(self._leases.items()):
            if thread != me:
                continue
            mine = int(key[len(prefix) :])
            if max(self._generations(prefix), default=mine) > mine:
                raise StoreError(
                    f"a lease on {self.name}/{prefix} expired while held (after {LEASE_S:.0f} s) "
                    "and was taken over; nothing was published: run the command again"
                )


def clear_listing(layout: Layout) -> None:
    """Make a bucket layout list everything again at its next listing (no-op for a folder)."""
    if isinstance(layout, ObjectLayout):
        layout._listed_at = 0.0
        layout._full_at = dict.fromkeys(TABLES, 0.0)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
