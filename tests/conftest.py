"""Shared fixtures: a fresh store per test (a folder, or for the store-behaviour modules also
a bucket on a local S3 server)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import nbtrack

# This process's writers start no background snapshots (see nbtrack.store.autosnapshot): a
# snapshot published at a moment of its own would change which files a test's reader reads.
# Scripts that tests start get the default (helpers.script_env); test_snapshots tests it.
os.environ["NBTRACK_AUTO_SNAPSHOT"] = "0"

# Modules whose tests run on both kinds of store: what a store does, not how a folder looks.
ON_BOTH_STORES = {
    "test_tracking", "test_query", "test_compaction", "test_store_errors", "test_processes",
    "test_snapshots",
}  # fmt: skip


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "tmp_store" in metafunc.fixturenames and metafunc.module.__name__ in ON_BOTH_STORES:
        folder_only = metafunc.definition.get_closest_marker("folder_only")
        metafunc.parametrize("tmp_store", ["local"] if folder_only else ["local", "s3"],
                             indirect=True)  # fmt: skip


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory):
    """moto's S3 server on 127.0.0.1 for the whole session, and what clients need to use it
    (keys in the environment, a cache folder of the session's own)."""
    from s3 import CREDENTIALS, S3Server

    saved = {k: os.environ.get(k) for k in [*CREDENTIALS, "NBTRACK_CACHE_DIR"]}
    os.environ.update(CREDENTIALS)
    os.environ["NBTRACK_CACHE_DIR"] = str(tmp_path_factory.mktemp("nbtrack-cache"))
    server = S3Server()
    server.start()
    yield server
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def tmp_store(request: pytest.FixtureRequest, tmp_path: Path):
    """A store (not yet created) that nbtrack uses for this test: a folder, or (``s3``) a
    prefix of a fresh bucket."""
    if getattr(request, "param", "local") == "s3":
        store = request.getfixturevalue("s3_server").store()
    else:
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
