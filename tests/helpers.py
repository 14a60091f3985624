"""Running real Python processes on a store, for the tests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def script_env(store: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
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
