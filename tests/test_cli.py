"""The ``nbtrack`` command, run as a real subprocess on a real store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbtrack


def nbtrack_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbtrack.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_version() -> None:
    done = nbtrack_cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"nbtrack {nbtrack.__version__}"


def test_ls_prints_a_table_that_fits_80_columns(tmp_store: Path) -> None:
    for i in range(3):
        with nbtrack.run(f"sweep-{i}-with-a-rather-long-descriptive-name", experiment="wine"):
            pass
    nbtrack.flush()
    done = nbtrack_cli("--store", str(tmp_store), "ls")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["run_id", "name", "experiment", "status", "start_time", "duration"]
    assert len(lines) == 4 and all(len(line) <= 80 for line in lines)
    assert all("finished" in line and "wine" in line for line in lines[1:])


def test_ls_json_and_limit(tmp_store: Path) -> None:
    for i in range(3):
        with nbtrack.run(f"r{i}", params={"i": i}):
            pass
    nbtrack.flush()
    done = nbtrack_cli("--store", str(tmp_store), "ls", "--json", "--limit", "2")
    records = json.loads(done.stdout)
    assert [r["name"] for r in records] == ["r2", "r1"]
    assert records[0]["params.i"] == 2


def test_compact_and_bad_arguments(tmp_store: Path) -> None:
    for _ in range(2):
        with nbtrack.run():
            pass
        nbtrack.flush()
    done = nbtrack_cli("--store", str(tmp_store), "compact", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["runs"] == 2
    bad = nbtrack_cli("--store", str(tmp_store), "ls", "--limit", "many")
    assert bad.returncode == 2 and "invalid int value" in bad.stderr


def test_a_newer_store_is_a_clear_error_and_exit_code(tmp_path: Path) -> None:
    (tmp_path / "store.json").write_text('{"format": 99}')
    done = nbtrack_cli("--store", str(tmp_path), "ls")
    assert done.returncode == 1 and "newer nbtrack" in done.stderr
    assert "Traceback" not in done.stderr
