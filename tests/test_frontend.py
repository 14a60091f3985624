"""The TypeScript front end: its unit tests (vitest), type check and lint, run from the suite."""

from __future__ import annotations

import subprocess

from helpers import ROOT

JS = ROOT / "js"


def npm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["npm", *args], cwd=JS, capture_output=True, text=True, timeout=300)


def test_vitest_unit_tests_pass() -> None:
    done = npm("test")
    assert done.returncode == 0, done.stdout + done.stderr


def test_typescript_type_checks() -> None:
    done = npm("run", "typecheck")
    assert done.returncode == 0, done.stdout + done.stderr


def test_biome_finds_nothing_to_format_or_fix() -> None:
    done = npm("run", "lint")
    assert done.returncode == 0, done.stdout + done.stderr
