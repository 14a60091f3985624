"""Running real Python processes on a store, for the tests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
# How long a test waits for another process, a kernel or a browser before it fails: generous,
# because a loaded 2-core machine can take seconds for what usually takes milliseconds.
DEADLINE_S = 60.0


def wait_for(condition: Callable[[], T], what: str, timeout: float = DEADLINE_S) -> T:
    """Poll ``condition`` until it returns something truthy (returned) or ``timeout`` passes
    (AssertionError naming ``what``). Exceptions from ``condition`` count as not yet."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = condition()
        except Exception as err:
            value, last = None, err
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}; last: {last!r}")
        time.sleep(0.05)


def script_env(store: Path, **extra: str) -> dict[str, str]:
    # (a bucket store's cache folder is the session's, like the keys that reach the bucket)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NBTRACK_") or k == "NBTRACK_CACHE_DIR"}  # fmt: skip
    env.update(NBTRACK_STORE=str(store), PYTHONPATH=str(ROOT), **extra)
    return env


def write_script(path: Path, code: str) -> Path:
    path.write_text(textwrap.dedent(code))
    return path


def run_python(code: str, store: Path, tmp_path: Path, name: str = "script.py", **popen) -> str:
    """Run ``code`` in a fresh Python process on ``store``, in ``tmp_path``; returns stdout and
    fails on errors."""
    script = write_script(tmp_path / name, code)
    done = subprocess.run(
        [sys.executable, str(script)],
        env=script_env(store),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        **popen,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def run_cli(store: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``nbtrack --store STORE ARGS…`` in a fresh process, in ``cwd``; returns what it did
    (whatever its exit code)."""
    return subprocess.run(
        [sys.executable, "-m", "nbtrack.cli", "--store", str(store), *args],
        env=script_env(store), cwd=cwd, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def start_python(code: str, store: Path, tmp_path: Path, name: str, **extra: str):
    """Start ``code`` in a fresh Python process, in ``tmp_path``; returns the Popen."""
    script = write_script(tmp_path / name, code)
    return subprocess.Popen(
        [sys.executable, str(script)],
        env=script_env(store, **extra),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def records() -> list:
    """Every run of the configured store (as ``nbtrack.RunRecord``), oldest first."""
    import nbtrack

    nbtrack.flush()
    frame = nbtrack.search().sort_values("start_time", kind="stable")
    return [nbtrack.get_run(rid) for rid in frame["run_id"]]


def artifact_paths(run) -> set[str]:
    """The paths of a run record's artifacts."""
    return {a["path"] for a in run.artifacts}
