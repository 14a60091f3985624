"""Which run is active where: one stack of runs per thread and per asyncio task.

The stack is a context variable, so each thread has its own and each asyncio task starts with
a copy of the stack where it was created: tasks gathered in a sweep nest under the run that
was active when they started, never under each other. A thread with no run of its own sees the
run active in the main thread, so a training thread started inside a ``%%track`` cell (or a
``with nbtrack.run()`` block) logs to that run. A pinned run (``%track start``) is active in
every thread and task that has no run of its own, until it ends: a notebook cell that uses
top-level ``await`` runs as a task of its own, and the run must outlive it.

>>> import nbtrack, tempfile, threading
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> seen = {}
>>> def work(name):
...     with nbtrack.run(name) as run:
...         seen[name] = nbtrack.active_run() is run
>>> threads = [threading.Thread(target=work, args=(n,)) for n in "ab"]
>>> for t in threads: t.start()
>>> for t in threads: t.join()
>>> sorted(seen.items())
[('a', True), ('b', True)]
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .tracking import Run

_stack: ContextVar[tuple[Run, ...]] = ContextVar("nbtrack_active_runs", default=())
_main: tuple[Run, ...] = ()  # the main thread's stack, for threads that have none of their own
_pinned: tuple[Run, ...] = ()  # runs active wherever no run of their own is
_running: dict[Run, None] = {}  # every run this process has running, oldest first
_lock = threading.Lock()


def push(run: Run) -> None:
    """Make ``run`` the active run of this thread or task."""
    with _lock:
        _running[run] = None
    _set((*_stack.get(), run))


def pin(run: Run) -> None:
    """Make ``run`` (just pushed) active in every thread and task without a run of its own,
    until it ends."""
    global _pinned
    remove(run)
    with _lock:
        _running[run] = None
        _pinned = (*_pinned, run)


def current() -> Run | None:
    """The innermost running run of this thread or task; else the innermost pinned run; else,
    in a thread other than the main one, the main thread's."""
    run = _innermost(_stack.get()) or _innermost(_pinned)
    if run is None and threading.current_thread() is not threading.main_thread():
        run = _innermost(_main)
    return run


def nested_in(run: Run) -> list[Run]:
    """The runs started inside ``run`` in this thread or task, innermost last."""
    stack = _stack.get()
    return list(stack[stack.index(run) + 1 :]) if run in stack else []


def remove(run: Run) -> None:
    """Forget ``run`` (it ended); if this thread or task started it, its stack drops it."""
    global _pinned
    with _lock:
        _running.pop(run, None)
        _pinned = tuple(r for r in _pinned if r is not run)
    stack = _stack.get()
    if run in stack:
        _set(stack[: stack.index(run)])


def running() -> list[Run]:
    """Every run this process has running, in every thread and task, oldest first."""
    with _lock:
        return list(_running)


def forget_all() -> None:
    """In a forked child: none of the parent's runs is active (the parent still writes them)."""
    global _main, _pinned, _lock
    _lock = threading.Lock()
    _running.clear()
    _main = _pinned = ()
    _stack.set(())


def _set(stack: tuple[Run, ...]) -> None:
    global _main
    _stack.set(stack)
    if threading.current_thread() is threading.main_thread():
        _main = stack


def _innermost(stack: tuple[Run, ...]) -> Run | None:
    """The last run of ``stack`` still running (another thread may have ended one explicitly)."""
    return next((run for run in reversed(stack) if run.status == "running"), None)
