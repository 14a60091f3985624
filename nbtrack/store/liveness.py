"""Telling a running run from one whose writing process died (shown as ``crashed``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from .writer import HOSTNAME


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    except OSError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return True  # no /proc (macOS): trust kill(0)


def writer_alive(heartbeat: Path, timeout: float, host: str | None, pid: int | None) -> bool:
    """A writer is alive while its heartbeat is fresh and, on this host, its pid exists."""
    if host == HOSTNAME and pid is not None and not pid_alive(pid):
        return False
    try:
        age = time.time() - heartbeat.stat().st_mtime
    except FileNotFoundError:
        return False
    return age <= timeout
