"""A local cache of immutable files (a bucket's segments and artifacts), shared by the
processes of one machine and bounded in size.

A file enters the cache by an atomic rename of a finished download, so two processes fetching
the same segment at once both end with one whole copy, and a reader never opens half a file.
A file's modification time is its last use (touched when used again); once the cache has grown
by a tenth of its limit, the least recently used files are deleted until it is under the limit
again, sparing those used in the last minute (a query may be reading them: if one goes all the
same, the reader lists and fetches again).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .layout import write_atomic

# Files used this recently are never evicted (a query in another process may be reading them).
IN_USE_S = 60.0
# A file's last use is recorded at most this often (a touch is a metadata write).
TOUCH_EVERY_S = 60.0


class FileCache:
    """Files under ``root``, at most ``limit`` bytes in all (least recently used go first)."""

    def __init__(self, root: Path, limit: int) -> None:
        self.root = root
        self.limit = limit
        self._grown = 0
        self._lock = threading.Lock()

    def fetch(self, path: Path, download: Callable[[], bytes]) -> Path:
        """``path`` (under ``root``), downloaded with ``download()`` unless already cached."""
        try:
            stat = path.stat()
        except FileNotFoundError:
            data = download()
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, lambda f: f.write(data))
            self.added(len(data))
            return path
        self._touch(path, stat.st_mtime)
        return path

    def touch(self, path: Path) -> None:
        """Record a use of cached ``path``."""
        with contextlib.suppress(OSError):
            self._touch(path, path.stat().st_mtime)

    @staticmethod
    def _touch(path: Path, used: float) -> None:
        if time.time() - used > TOUCH_EVERY_S:
            with contextlib.suppress(OSError):
                os.utime(path)

    def added(self, size: int) -> None:
        """Count ``size`` new bytes; evict when the cache has grown by a tenth of its limit."""
        with self._lock:
            self._grown += size
            if self._grown < self.limit // 10:
                return
            self._grown = 0
        self.evict()

    def usage(self) -> int:
        """Bytes held in the cache now."""
        return sum(size for _, size, _ in self._files())

    def evict(self) -> int:
        """Delete least recently used files until the cache is under its limit; bytes freed."""
        files = sorted(self._files())  # oldest use first
        total = sum(size for _, size, _ in files)
        freed = 0
        spare = time.time() - IN_USE_S
        for used, size, path in files:
            if total - freed <= self.limit:
                break
            if used > spare:
                break
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                freed += size
        return freed

    def _files(self) -> list[tuple[float, int, str]]:
        """(last use, size, path) of every cached file (hidden files are downloads under way
        or a writer's staging, never evicted)."""
        found = []
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in names:
                if name.startswith("."):
                    continue
                path = os.path.join(folder, name)
                with contextlib.suppress(FileNotFoundError):
                    stat = os.stat(path)
                    found.append((stat.st_mtime, stat.st_size, path))
        return found
