"""Telling a running run from one whose writing process died (shown as ``crashed``)."""

from __future__ import annotations

import os
import time

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


def writer_alive(
    last_beat: float | None, timeout: float, host: str | None, pid: int | None
) -> bool:
    """A writer is alive while its heartbeat (the epoch time of its last beat, None when it
    never beat) is fresh and, on this host, its pid exists."""
    if host == HOSTNAME and pid is not None and not pid_alive(pid):
        return False
    return last_beat is not None and time.time() - last_beat <= timeout
