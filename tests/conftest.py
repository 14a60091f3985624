"""Shared fixtures: a fresh store per test."""

from __future__ import annotations

from pathlib import Path

import pytest

import nbtrack


@pytest.fixture
def tmp_store(tmp_path: Path) -> Path:
    """A store folder (not yet created) that nbtrack uses for this test."""
    store = tmp_path / "store"
    nbtrack.set_store(store)
    yield store
    while (run := nbtrack.active_run()) is not None:
        run.end("failed", "left active by the test")


@pytest.fixture
def autologging(tmp_store: Path):
    """Autologging on for the test (and off after it), on a fresh store."""
    from nbtrack.autologging import autolog

    autolog()
    yield
    autolog(disable=True)
