"""The package type-checks: mypy over ``nbtrack/``, strictly in ``store/`` and ``query/``
(settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from helpers import ROOT


def test_mypy_finds_no_errors() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
