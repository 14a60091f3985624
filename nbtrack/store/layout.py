"""Where things live in a store folder, and the rules that make its files safe to share.

::

    <root>/store.json                         {"format": 1}
    <root>/segments/<table>/<ms>-<writer>-<seq>.parquet   immutable segments, one writer each
                                                     (named after the time they were written)
    <root>/segments/<table>/c-<id>.parquet           compacted segment; its Parquet metadata
                                                     lists the segments it replaces
    <root>/writers/<writer>.json              heartbeat of a writing process (mtime = last beat)
    <root>/snapshots/<id>.<part>.parquet      the state of every run, written by compaction
                                              (see nbtrack.store.snapshots)
    <root>/artifacts/<run_id>/...             files logged with log_artifact (and log_model)
    <root>/registry/<name>/<version>/...      model folders registered from outside the store
    <root>/segments/.registry.lock            held while a registry change is made (numbering)
    <root>/locks/<name>/<generation>          a bucket's leases, instead of the .lock files

Files are only ever created by an atomic rename of a finished temporary file (names starting
with ``.`` are never read), so a reader never sees a half-written segment.

:class:`Layout` is the store's one seam to its file system: listing segments, publishing
written files, removing replaced ones, heartbeats, artifacts and the store-wide locks all go
through it (the writer, reader, compaction and imports alike). A bucket is the same seam on
object storage (:class:`~nbtrack.store.objects.ObjectLayout`): files are written locally under
hidden names as here, then uploaded, and read from a local cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

from ..errors import StoreError, StoreWarning
from .schema import FORMAT_VERSION, TABLES

COMPACTED_PREFIX = "c-"
REPLACES_KEY = b"nbtrack.replaces"
FORMAT_KEY = b"nbtrack.format"
# A hidden file or scratch folder this old is a leftover of a process killed midway (see
# Layout.remove_leftovers).
LEFTOVER_S = 3600.0


# Reads the key-value metadata of a Parquet file (raises FileNotFoundError when it is gone).
MetadataReader = Callable[[Path], Mapping[bytes, bytes]]


def parquet_metadata(path: Path) -> Mapping[bytes, bytes]:
    """The key-value metadata of the Parquet file at ``path``, read with pyarrow."""
    import pyarrow.parquet as pq

    return pq.read_metadata(path).metadata or {}


FIX_HINT = (
    "make it writable, or choose another folder with nbtrack.set_store(path) or $NBTRACK_STORE"
)


def store_error(action: str, err: OSError) -> StoreError:
    """A StoreError saying what could not be done, the system's reason and file, and the fix.

    >>> error = store_error("write to /data", PermissionError(13, "Permission denied"))
    >>> str(error)  # doctest: +ELLIPSIS
    'cannot write to /data: Permission denied; make it writable, or choose another folder ...'
    """
    where = f" ({err.filename})" if getattr(err, "filename", None) else ""
    return StoreError(f"cannot {action}: {err.strerror or err}{where}; {FIX_HINT}")


def check_version(meta: dict[str, object], store: str) -> None:
    """Refuse a ``store.json`` (``meta``) written by a newer nbtrack than this one."""
    version = meta.get("format", 0)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise StoreError(
            f"the store at {store} has format {version}, written by a newer nbtrack; this "
            f"nbtrack reads format {FORMAT_VERSION}: upgrade with `pip install -U nbtrack`"
        )


class Layout:
    """The paths of one store folder, and its format check."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._checked = False
        self._replaces: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    @cached_property
    def segments(self) -> Path:
        return self.root / "segments"

    @cached_property
    def writers(self) -> Path:
        return self.root / "writers"

    @cached_property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @cached_property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    def table_dir(self, table: str) -> Path:
        return self.segments / table

    @property
    def name(self) -> str:
        """The store as users name it (a folder, or a bucket URL), for messages."""
        return str(self.root)

    def exists(self) -> bool:
        return (self.root / "store.json").exists()

    def check_format(self) -> None:
        """Refuse a store written by a newer nbtrack."""
        if self._checked:
            return
        try:
            meta = json.loads((self.root / "store.json").read_text())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as err:
            raise StoreError(
                f"{self.root / 'store.json'} is unreadable ({err}); restore it or point "
                "nbtrack at another store with nbtrack.set_store(path)"
            ) from err
        check_version(meta, self.name)
        self._checked = True

    def create(self) -> None:
        """Create the folder tree and ``store.json`` (safe when many processes race)."""
        try:
            for table in TABLES:
                self.table_dir(table).mkdir(parents=True, exist_ok=True)
            self.writers.mkdir(exist_ok=True)
            if not self.exists():
                store_json = json.dumps({"format": FORMAT_VERSION}).encode()
                write_atomic(self.root / "store.json", lambda f: f.write(store_json))
        except OSError as err:
            raise store_error(f"create the nbtrack store at {self.root}", err) from err
        self.check_format()

    # ---- segment visibility -------------------------------------------------------------
    def list_segments(self, table: str, read_metadata: MetadataReader | None = None) -> list[str]:
        """Visible segment paths of ``table``: every segment not replaced by a compacted one.
        ``read_metadata`` reads a Parquet file's key-value metadata (default: with pyarrow).

        Raises FileNotFoundError when a compacted segment vanished while being inspected (a
        concurrent compaction); callers list again.
        """
        directory = self.table_dir(table)
        try:
            names = [
                e.name
                for e in os.scandir(directory)
                if e.name.endswith(".parquet") and not e.name.startswith(".")
            ]
        except FileNotFoundError:
            return []
        except NotADirectoryError:
            warnings.warn(f"skipping {directory}: it should be a folder of segments",
                          StoreWarning, stacklevel=3)  # fmt: skip
            return []
        replaced: set[str] = set()
        for name in names:
            if name.startswith(COMPACTED_PREFIX):
                replaced |= self.replaced_by(directory / name, read_metadata)
        return sorted(str(directory / n) for n in names if n not in replaced)

    def replaced_by(
        self, path: Path, read_metadata: MetadataReader | None = None
    ) -> frozenset[str]:
        """Names of the segments a compacted segment replaces (cached: segments are immutable)."""
        key = str(path)
        found = self._replaces.get(key)
        if found is None:
            try:
                meta = (read_metadata or parquet_metadata)(path)
            except FileNotFoundError:
                raise
            except Exception:  # a corrupt file replaces nothing; the reader warns about it
                meta = {}
            found = frozenset(json.loads(meta.get(REPLACES_KEY, b"[]")))
            with self._lock:
                self._replaces[key] = found
        return found

    def segment_names(self, table: str) -> set[str]:
        """Names of every segment file of ``table``, replaced ones included."""
        try:
            return {e.name for e in os.scandir(self.table_dir(table))
                    if e.name.endswith(".parquet") and not e.name.startswith(".")}  # fmt: skip
        except (FileNotFoundError, NotADirectoryError):
            return set()

    def size(self, path: str) -> int:
        """Bytes of the listed segment ``path``."""
        return os.path.getsize(path)

    def local(self, paths: Sequence[str]) -> list[str]:
        """Local files to read listed segments ``paths`` from (here: the segments themselves;
        a bucket downloads them into its cache). FileNotFoundError: one vanished (list again)."""
        return list(paths)

    # ---- heartbeats: a writing process says it is alive -----------------------------------
    def write_heartbeat(self, writer: str, info: Mapping[str, object]) -> None:
        """Record that ``writer`` (described by ``info``) is alive (raises OSError)."""
        (self.writers / f"{writer}.json").write_text(json.dumps(info))

    def touch_heartbeat(self, writer: str) -> bool:
        """Say again that ``writer`` is alive; False when its heartbeat is gone."""
        try:
            os.utime(self.writers / f"{writer}.json")
        except FileNotFoundError:
            return False
        return True

    def last_beat(self, writer: str) -> float | None:
        """When ``writer`` last said it was alive (epoch seconds), None when it never did."""
        try:
            return (self.writers / f"{writer}.json").stat().st_mtime
        except FileNotFoundError:
            return None

    # ---- artifacts ------------------------------------------------------------------------
    def artifact_dir(self, run_id: str) -> Path:
        """The local folder holding the artifacts of ``run_id`` (a bucket downloads them)."""
        return self.folder(f"artifacts/{run_id}")

    def folder(self, path: str) -> Path:
        """The local folder holding the store's folder ``path`` (a bucket downloads what this
        machine's copy lacks)."""
        return self.root / path

    def store_files(self, files: Iterable[Path]) -> None:
        """Make ``files``, just written below :attr:`root` (artifacts, registered models), part
        of the store (here they are; a bucket uploads them)."""

    # ---- other files (artifacts, registered models), for copying whole stores ------------
    def files(self, under: str) -> dict[str, int]:
        """Every file below folder ``under`` (e.g. ``artifacts``): path within the store -> size."""
        top = self.root / under
        return {p.relative_to(self.root).as_posix(): p.stat().st_size
                for p in top.rglob("*") if p.is_file() and not p.name.startswith(".")}  # fmt: skip

    def fetch(self, path: str) -> Path:
        """A local copy of the store's file ``path`` (a listed one: see :meth:`files`)."""
        return self.root / path

    def put(self, path: str, source: Path) -> None:
        """Make ``source`` the store's file ``path`` (whole or not at all)."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(source, "rb") as f:
            write_atomic(target, lambda out: shutil.copyfileobj(f, out))

    # ---- the file-system seam: every change to the store's segments goes through these -----
    def upload(self, written: Sequence[tuple[Path, Path]]) -> None:
        """Make written hidden files durable where other machines read them, before
        :meth:`publish` (here: nothing to do; a bucket uploads them, each once, so a failed
        upload is retried with the same names)."""

    def publish(self, written: Sequence[tuple[Path, Path]], sync: bool = True) -> None:
        """Make written hidden files (``write_hidden``) visible under their final names, in
        order; ``sync`` then fsyncs their folders, so the renames survive a power cut (see
        :meth:`sync`)."""
        for hidden, final in written:
            os.replace(hidden, final)
        if sync:
            self.sync(written)

    def sync(self, written: Sequence[tuple[Path, Path]]) -> None:
        """fsync the folders of published files."""
        for directory in {final.parent for _, final in written}:
            fsync_path(directory)

    def discard(self, hidden: Iterable[Path]) -> None:
        """Delete written files that will not be published."""
        for path in hidden:
            path.unlink(missing_ok=True)

    def remove(self, paths: Iterable[Path | str]) -> None:
        """Delete segments that a compacted one replaces (already gone: nothing to do)."""
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    @contextlib.contextmanager
    def scratch(self, prefix: str) -> Iterator[Path]:
        """A hidden folder of this machine's copy of the store for temporary files (DuckDB's,
        beyond its memory limit), removed afterwards: on the store's disk, not in the system's
        temp folder, which is often in memory. Scratch folders a process killed midway left
        are removed first (one process at a time uses them: the compaction lock's holder)."""
        self.segments.mkdir(parents=True, exist_ok=True)
        self.remove_leftovers(self.segments, ".*-*")
        with tempfile.TemporaryDirectory(prefix=f".{prefix}-", dir=self.segments) as folder:
            yield Path(folder)

    def remove_leftovers(self, folder: Path, pattern: str) -> None:
        """Delete the hidden files and folders of this machine's ``folder`` matching glob
        ``pattern`` that are over :data:`LEFTOVER_S` old: what a process killed midway left."""
        stale = time.time() - LEFTOVER_S
        for old in folder.glob(pattern):
            with contextlib.suppress(OSError):
                if old.stat().st_mtime >= stale:
                    continue
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    old.unlink()

    def lock(self, name: str, action: str, wait: bool = True) -> AbstractContextManager[bool]:
        """The store-wide lock ``name`` (``.compact.lock``, ``.import.lock``): one process at a
        time; see :func:`exclusive_lock`."""
        return exclusive_lock(self.segments / name, action, wait)


@contextlib.contextmanager
def exclusive_lock(path: Path, action: str, wait: bool = True) -> Iterator[bool]:
    """Hold an ``flock`` on ``path``, one process at a time; yields False instead of waiting
    when ``wait`` is off and another process holds it. A lock file that cannot be opened is a
    StoreError saying it could not ``action``."""
    try:
        f = open(path, "a+b")  # noqa: SIM115 (closed by the with below)
    except OSError as err:
        raise store_error(action, err) from err
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def hidden_name(final: Path) -> Path:
    """A hidden name beside ``final`` to write it under before it is published."""
    return final.with_name(f".{final.name}.{secrets.token_hex(4)}.tmp")


def write_hidden(final: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Write a file with ``write(f)`` under a hidden name beside ``final``, fsynced; returns
    that name. ``os.replace(hidden, final)`` then publishes it whole: readers skip hidden names,
    so they never see half a file, and a crash leaves only a hidden file that nothing reads."""
    hidden = hidden_name(final)
    try:
        with open(hidden, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        hidden.unlink(missing_ok=True)
        raise
    return hidden


def write_atomic(final: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``final`` with ``write(f)`` so that it appears complete or not at all."""
    hidden = write_hidden(final, write)
    try:
        os.replace(hidden, final)
    finally:
        hidden.unlink(missing_ok=True)


def fsync_path(path: Path | str) -> None:
    """fsync a file or folder so a rename survives power loss, not only a process crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
