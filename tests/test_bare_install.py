"""A plain ``pip install nbtrack`` (no extras) into a fresh virtual environment: every public
entry point works there, in a real kernel (the checks are in ``tests/bare_install.py``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from bare_install import CHECKS
from helpers import ROOT


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    root = tmp_path_factory.mktemp("bare")
    venv, work, results = root / "venv", root / "work", root / "results.json"
    work.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)],
        capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    checks = subprocess.run(
        [python, str(ROOT / "tests" / "bare_install.py"), str(results), str(work)],
        capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert checks.returncode == 0, checks.stderr
    return json.loads(results.read_text())


@pytest.mark.parametrize("check", [c.name for c in CHECKS])
def test_a_plain_install_can(outcomes: dict[str, str | None], check: str) -> None:
    assert outcomes[check] is None, outcomes[check]
