"""The one place for nbtrack's settings: store location, flush cadence, liveness timeouts.

Each knob can also be set from the environment, so scripts and jobs need no code change::

    NBTRACK_STORE=/data/runs python train.py
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from .locations import Location, StoreURL, parse_location

# A crash may lose at most this much logging: the writer flushes buffered rows this often.
FLUSH_INTERVAL_S = 1.0
# After a run ends the writer flushes "soon" rather than at once, so a loop that creates
# thousands of short runs per second still writes a few files per second, not thousands.
END_FLUSH_DELAY_S = 0.1
# A running run whose writer has not touched its heartbeat for this long is shown as crashed.
# Generous on purpose: a long GIL-holding C call must not make a healthy run look dead. On the
# writer's own host a dead pid is noticed at once, without waiting for the timeout.
HEARTBEAT_TIMEOUT_S = 30.0
# System metrics (``run(system_metrics=True)``) are sampled this often unless told otherwise.
SYSTEM_METRICS_INTERVAL_S = 5.0
# Segments of bucket stores are cached on local disk up to this size (least recently used go
# first): large enough for the working set of a team's store, small enough for a laptop.
CACHE_SIZE_BYTES = 2 << 30
_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def _env_size(name: str, default: int) -> int:
    """A size in bytes from ``$name``: ``500000000``, ``500MB``, ``2G``, ``1.5 GiB``."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    found = re.fullmatch(r"([0-9.]+)\s*([kmgt]?)(?:i?b)?", raw)
    try:
        assert found is not None
        return int(float(found[1]) * _SIZE_UNITS[found[2]])
    except (AssertionError, ValueError):
        raise ValueError(f"${name} must be a size such as 2GB or 500MB; got {raw!r}") from None


def _env_switch(name: str, default: bool = False) -> bool:
    """``$name`` as a switch (1 or 0, true/false, yes/no, on/off); ``default`` when unset."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"${name} must be 1 or 0 (true/false, yes/no, on/off); got {raw!r}")


@dataclass
class Settings:
    """Process-wide settings; change them with :func:`nbtrack.set_store` or the environment."""

    store: Location | None = None
    experiment: str = field(
        default_factory=lambda: os.environ.get("NBTRACK_EXPERIMENT") or "default"
    )
    flush_interval: float = field(
        default_factory=lambda: _env_float("NBTRACK_FLUSH_INTERVAL", FLUSH_INTERVAL_S)
    )
    end_flush_delay: float = END_FLUSH_DELAY_S
    heartbeat_timeout: float = field(
        default_factory=lambda: _env_float("NBTRACK_HEARTBEAT_TIMEOUT", HEARTBEAT_TIMEOUT_S)
    )
    cache_dir: Path | None = None
    cache_size: int = field(
        default_factory=lambda: _env_size("NBTRACK_CACHE_SIZE", CACHE_SIZE_BYTES)
    )

    def cache_root(self) -> Path:
        """Where bucket stores keep their local copies: ``cache_dir``, else
        ``$NBTRACK_CACHE_DIR``, else ``$XDG_CACHE_HOME/nbtrack`` (``~/.cache/nbtrack``)."""
        if self.cache_dir is not None:
            return self.cache_dir
        chosen = os.environ.get("NBTRACK_CACHE_DIR")
        if chosen:
            return Path(chosen).expanduser()
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(base) / "nbtrack"

    def system_metrics(self, requested: bool | float | None = None) -> float | None:
        """Seconds between system-metric samples for a run asking ``requested``, or None (off).

        ``None`` follows ``$NBTRACK_SYSTEM_METRICS`` (``1``/``true``/``yes``/``on``), ``True``
        samples every ``$NBTRACK_SYSTEM_METRICS_INTERVAL`` seconds (default 5), a number every
        that many seconds.

        >>> settings.system_metrics(0.5), settings.system_metrics(False)
        (0.5, None)
        """
        if requested is None:
            requested = _env_switch("NBTRACK_SYSTEM_METRICS")
        if requested is False:
            return None
        if requested is True:
            requested = _env_float("NBTRACK_SYSTEM_METRICS_INTERVAL", SYSTEM_METRICS_INTERVAL_S)
        if isinstance(requested, bool) or not isinstance(requested, (int, float)):
            raise TypeError(f"system_metrics takes True, False or seconds; got {requested!r}")
        if not requested > 0:
            raise ValueError(f"system metrics need an interval above 0 s; got {requested!r}")
        return float(requested)

    def store_path(self) -> Location:
        """The store: :func:`using_store`'s in this thread or task, else ``set_store(path)``,
        else ``$NBTRACK_STORE``, else ``./.nbtrack``; a folder, or a bucket's
        :class:`~nbtrack.locations.StoreURL`."""
        chosen = _store_here.get()
        if chosen is not None:
            return chosen
        if self.store is not None:
            return self.store
        return parse_location(os.environ.get("NBTRACK_STORE") or ".nbtrack")


settings = Settings()
_store_here: ContextVar[Location | None] = ContextVar("nbtrack_store_here", default=None)


@contextlib.contextmanager
def using_store(path: str | os.PathLike[str] | StoreURL) -> Iterator[Location]:
    """Use the store at ``path`` inside the block, in this thread or asyncio task only (a
    server answering for several stores at once); elsewhere the store stays as it was.

    >>> import nbtrack, tempfile
    >>> with using_store(tempfile.mkdtemp()) as root:
    ...     settings.store_path() == root
    True
    """
    root = parse_location(path)
    token = _store_here.set(root)
    try:
        yield root
    finally:
        _store_here.reset(token)


def set_store(path: str | os.PathLike[str] | StoreURL) -> None:
    """Use the store at ``path`` from now on (created on first write): a folder, or a bucket
    ``s3://bucket/prefix`` (``pip install 'nbtrack[s3]'``; see README's "Sharing a store").

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    """
    settings.store = parse_location(path)


def set_experiment(name: str) -> None:
    """Make ``name`` the experiment of runs started without one (default ``$NBTRACK_EXPERIMENT``,
    else ``"default"``).

    >>> import nbtrack
    >>> nbtrack.set_experiment("wine")
    """
    if not isinstance(name, str) or not name:
        raise ValueError("experiment name must be a non-empty string, e.g. set_experiment('wine')")
    settings.experiment = name
