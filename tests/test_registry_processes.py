"""The registry across real processes: dense unique version numbers, changes seen at once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import run_python, start_python, wait_for

import nbtrack
from nbtrack import registry
from nbtrack.mlmodel import PythonModel, log_model


class Doubler(PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input * 2


# Each process says it is ready, waits for the go file, then registers: so they truly race.
RACER = """
import sys, time
from pathlib import Path
from nbtrack import registry

here = Path.cwd()
(here / f"ready-{{sys.argv[0]}}".replace("/", "_")).touch()
while not (here / "go").exists():
    time.sleep(0.001)
for _ in range({count}):
    print(registry.register_model({uri!r}, "wine").version, flush=True)
"""


@pytest.fixture
def model_uri(tmp_store: Path) -> str:
    with nbtrack.run():
        info = log_model(Doubler(), "model", input_example=pd.DataFrame({"x": [1.0]}))
    nbtrack.flush()
    return info.model_uri


def race(tmp_store: Path, tmp_path: Path, uri: str, processes: int, each: int) -> list[int]:
    """Start ``processes`` processes that each register ``each`` versions of the same name
    at the same moment; the version numbers they got."""
    code = RACER.format(count=each, uri=uri)
    started = [start_python(code, tmp_store, tmp_path, f"racer{i}.py") for i in range(processes)]
    wait_for(lambda: len(list(tmp_path.glob("ready-*"))) == processes, "every racer to start")
    (tmp_path / "go").touch()
    numbers = []
    for process in started:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        numbers += [int(line) for line in out.split()]
    return numbers


def test_two_processes_registering_at_once_get_versions_1_and_2(
    model_uri: str, tmp_store: Path, tmp_path: Path
) -> None:
    assert sorted(race(tmp_store, tmp_path, model_uri, processes=2, each=1)) == [1, 2]
    assert [v.version for v in registry.search_model_versions("name = 'wine'")] == [2, 1]


def test_many_processes_registering_get_dense_unique_versions(
    model_uri: str, tmp_store: Path, tmp_path: Path
) -> None:
    numbers = race(tmp_store, tmp_path, model_uri, processes=4, each=5)
    assert sorted(numbers) == list(range(1, 21))  # no duplicate, no gap
    stored = nbtrack.sql("SELECT version FROM model_versions ORDER BY version").fetchall()
    assert [row[0] for row in stored] == list(range(1, 21))
    assert registry.register_model(model_uri, "wine").version == 21


def test_another_process_sees_a_change_as_soon_as_it_is_made(
    model_uri: str, tmp_store: Path, tmp_path: Path
) -> None:
    registry.register_model(model_uri, "wine")
    assert registry.get_registered_model("wine").aliases == {}  # this process has read it
    run_python(
        f"""
        from nbtrack import registry
        version = registry.register_model({model_uri!r}, "wine")
        registry.set_alias("wine", "champion", version.version)
        registry.transition_stage("wine", version.version, "Production")
        """,
        tmp_store,
        tmp_path,
    )
    # the other process has returned: its changes are in the store, no waiting needed
    champion = registry.get_model_version_by_alias("wine", "champion")
    assert (champion.version, champion.stage) == (2, "Production")
    assert registry.resolve("wine", "production").version == 2
    assert [m.aliases for m in registry.search_registered_models()] == [{"champion": 2}]
