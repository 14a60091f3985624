"""Running a script or an MLproject command as a child process of a run.

The child's output (stdout and stderr, interleaved as it wrote them) is echoed as it comes and
kept in a file the run stores as its ``output.log`` artifact; a failure's detail quotes its
last lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

TAIL_LINES = 30
STOP_GRACE_S = 10.0

# How to interrupt each child process running now: a sweep stopped with Ctrl-C (or the
# notebook's interrupt button, which signals the kernel alone) passes it on to every trial.
_interrupts: dict[int, Callable[[], None]] = {}
_lock = threading.Lock()


@contextlib.contextmanager
def interruptible(interrupt: Callable[[], None]) -> Iterator[None]:
    """While the block runs, :func:`interrupt_children` calls ``interrupt``."""
    key = id(interrupt)
    with _lock:
        _interrupts[key] = interrupt
    try:
        yield
    finally:
        with _lock:
            _interrupts.pop(key, None)


def interrupt_children() -> None:
    """Interrupt every child process this process is running, as Ctrl-C would."""
    with _lock:
        interrupts = list(_interrupts.values())
    for interrupt in interrupts:
        with contextlib.suppress(OSError):  # it has just ended
            interrupt()


def interrupt_pid(pid: int | None) -> Callable[[], None]:
    """A function sending SIGINT to process ``pid`` (nothing for None)."""

    def interrupt() -> None:
        if pid is not None:
            os.kill(pid, signal.SIGINT)

    return interrupt


def script_args(params: Mapping[str, Any]) -> list[str]:
    """``params`` as command-line options: ``{"lr": 0.01, "layers": [64, 64]}`` becomes
    ``--lr 0.01 --layers [64, 64]`` (containers as JSON).

    >>> script_args({"lr": 0.01, "layers": [64, 64], "name": "rf"})
    ['--lr', '0.01', '--layers', '[64, 64]', '--name', 'rf']
    """
    args = []
    for key, value in params.items():
        args += [f"--{key}", json.dumps(value) if isinstance(value, (list, dict)) else str(value)]
    return args


def run_process(
    command: Sequence[str] | str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    log: Path,
    echo: bool = True,
    timeout: float | None = None,
) -> tuple[str, str | None]:
    """Run ``command`` (a shell command line when a string) to its end, or for at most
    ``timeout`` seconds; returns the run's (status, detail). Ctrl-C is passed on to the child,
    which gets time to stop."""
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    timer: threading.Timer | None = None
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _stop(proc)

    with open(log, "w", encoding="utf-8", errors="replace") as out:
        proc = subprocess.Popen(
            command, cwd=cwd, env=dict(env), shell=isinstance(command, str),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
            bufsize=1,
        )  # fmt: skip
        if timeout is not None:
            timer = threading.Timer(timeout, expire)
            timer.daemon = True
            timer.start()
        try:
            assert proc.stdout is not None
            with interruptible(interrupt_pid(proc.pid)):
                for line in proc.stdout:
                    out.write(line)
                    tail.append(line)
                    if echo:
                        sys.stdout.write(line)
                        sys.stdout.flush()
                code = proc.wait()
        except BaseException:
            _stop(proc)
            raise
        finally:
            if timer is not None:
                timer.cancel()
    shown = command if isinstance(command, str) else " ".join(map(str, command))
    if expired.is_set() and code != 0:
        return "failed", f"`{shown}` ran longer than the {timeout} s timeout and was stopped"
    if code == 0:
        return "finished", None
    if code in (-signal.SIGINT, 130):
        return "interrupted", "KeyboardInterrupt"
    return "failed", f"`{shown}` exited with code {code}; its last lines:\n" + "".join(tail)


def _stop(proc: subprocess.Popen[str]) -> None:
    """Interrupt the child like Ctrl-C would, then terminate it if it does not stop."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
