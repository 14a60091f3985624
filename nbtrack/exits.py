"""How a run ends: by its block's outcome, or with the process that runs it.

==========================================  ============================================
how it ends                                 status (the ``detail`` kept with the event)
==========================================  ============================================
the block or cell completes                 ``finished``
an exception escapes                        ``failed`` (the traceback)
Ctrl-C, a kernel interrupt                  ``interrupted``
SIGTERM: ``kill``, Slurm's time limit,      ``killed`` (``SIGTERM``)
``docker stop``
a kernel shut down or restarted from its    ``killed`` (``kernel shutdown``)
front end, busy or idle
the script exits with runs still open       ``finished``, or ``failed`` on an uncaught
                                            exception
SIGKILL, power cut                          nothing runs: readers show ``crashed``
==========================================  ============================================

On SIGTERM the buffered rows are written, then the signal goes on to the handler that was
there before nbtrack's, so the process ends as it would have (by default it dies of the signal).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from . import kernel
from .errors import NbtrackWarning, StoreError
from .store import open_stores
from .store.writer import EXIT_SNAPSHOT_FLUSHES

# A signal handler must not wait for long: jupyter_client sends SIGKILL 2.5 s after SIGTERM,
# docker 10 s after. The buffered rows are written within this, or a warning says they were not.
SIGTERM_FLUSH_TIMEOUT_S = 2.0

EndRuns = Callable[[str, "str | None"], None]

_end_runs: EndRuns | None = None  # ends every run still active (set by the tracking layer)
_uncaught: list[BaseException] = []
_ending: str | None = None  # why the process is ending, once told to: SIGTERM, kernel shutdown
_previous_sigterm: Any = None
_sigterm_handled = False
_kernels: set[int] = set()


def watch(end_runs: EndRuns) -> None:
    """From the first run started on, end the runs left active with the process.

    Idempotent and cheap; called whenever a run starts (a SIGTERM handler can only be installed
    from the main thread, so a run started in another thread leaves that to a later one).
    """
    global _end_runs
    if _end_runs is None:
        _end_runs = end_runs
        _install_excepthook()
    _install_sigterm()
    _watch_kernel()


def outcome(
    exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
) -> tuple[str, str | None]:
    """The status and detail of a run whose block ended with this exception (or none)."""
    if exc_type is None:
        return "finished", None
    if _ending is not None:  # unwinding because the process was told to end: a SystemExit from
        return "killed", _ending  # the program's SIGTERM handler, ipykernel's shutdown interrupt
    if issubclass(exc_type, KeyboardInterrupt):
        return "interrupted", "KeyboardInterrupt"
    if issubclass(exc_type, SystemExit) and getattr(exc, "code", None) in (0, None):
        return "finished", None
    return "failed", "".join(traceback.format_exception(exc_type, exc, tb))


# ---- normal exit ------------------------------------------------------------------------------
def _install_excepthook() -> None:
    """Remember an uncaught exception so runs still active at exit end as failed."""
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        _uncaught.append(exc)
        previous(exc_type, exc, tb)

    sys.excepthook = hook


def _at_exit() -> None:
    if _ending is not None:
        _end_all("killed", _ending)
    elif _uncaught:
        _end_all("failed", "".join(traceback.format_exception(_uncaught[-1])))
    else:
        _end_all("finished", None)
    _write_pending(attempts=3)
    _refresh_snapshots()


def _refresh_snapshots() -> None:
    """Let a script that logged for a while leave a fresh run snapshot (see
    :mod:`nbtrack.store.autosnapshot`): new processes then start fast."""
    for store in open_stores():
        if store.has_writer():
            with contextlib.suppress(Exception):  # (at exit, a missed snapshot costs speed only)
                store.writer.refresh_snapshot(min_flushes=EXIT_SNAPSHOT_FLUSHES)


def _end_all(status: str, detail: str | None) -> None:
    if _end_runs is not None:
        _end_runs(status, detail)


def _write_pending(attempts: int) -> None:
    """Write every store's buffered rows (a store problem is retried, then a warning)."""
    for store in open_stores():
        if not store.has_writer():
            continue
        pending = store.writer.pending()
        if not pending:
            continue
        for attempt in range(attempts):
            try:
                store.writer.flush()
                break
            except Exception as err:  # at exit a warning is all that is left to give
                if attempt == attempts - 1 or not isinstance(err, StoreError):
                    warnings.warn(
                        f"{pending} tracked rows were not written at exit: {err}",
                        NbtrackWarning,
                        stacklevel=1,
                    )
                    break
                time.sleep(0.2)


# ---- SIGTERM ----------------------------------------------------------------------------------
def _install_sigterm() -> None:
    global _previous_sigterm, _sigterm_handled
    if _sigterm_handled or threading.current_thread() is not threading.main_thread():
        return
    _sigterm_handled = True
    previous = signal.getsignal(signal.SIGTERM)
    if previous is signal.SIG_IGN or previous is _on_sigterm:
        return  # a process that ignores SIGTERM does not end by it
    _previous_sigterm = previous
    signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    global _ending
    _ending = _ending or "SIGTERM"  # a busy kernel may get SIGTERM after its shutdown request
    previous = _previous_sigterm
    if not callable(previous):  # the default action: the process dies now
        _end_all("killed", _ending)
    # Written from a helper thread: this handler interrupts the main thread, which may be
    # inside a flush itself, holding the writer's lock.
    writing = threading.Thread(target=_write_pending, args=(1,), name="nbtrack-sigterm")
    writing.start()
    writing.join(SIGTERM_FLUSH_TIMEOUT_S)
    if writing.is_alive():
        warnings.warn(
            f"nbtrack could not write the buffered rows within {SIGTERM_FLUSH_TIMEOUT_S:g} s "
            "of SIGTERM; the last second of logging may be lost",
            NbtrackWarning,
            stacklevel=1,
        )
    if callable(previous):
        previous(signum, frame)  # the program's own handler decides; runs end as they unwind
        return
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


# ---- Jupyter kernels --------------------------------------------------------------------------
def _watch_kernel() -> None:
    """In an IPython kernel, a shutdown or restart from the front end ends runs as killed.

    ipykernel answers a shutdown request by setting the shell's ``exit_now``; an idle kernel then
    exits normally (atexit); a busy one interrupts its cell, or gets SIGTERM if that fails.
    """
    shell = kernel.shell()
    if shell is None or id(shell) in _kernels:
        return
    _kernels.add(id(shell))
    shell.observe(_on_kernel_shutdown, names="exit_now")


def _on_kernel_shutdown(change: dict[str, Any]) -> None:
    global _ending
    if change["new"] and _ending is None:
        _ending = "kernel shutdown"


def _after_fork_in_child() -> None:
    """A forked child ends none of its parent's runs."""
    global _ending
    _ending = None
    _uncaught.clear()


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
