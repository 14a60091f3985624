"""The model registry: versions, aliases, stages, tags, deletions, searches, bundles, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import nbtrack
from nbtrack import registry
from nbtrack.errors import FilterError, ModelNotFoundError, RegistryError, StoreError
from nbtrack.mlmodel import PythonModel, load_model, log_model, save_model


class Doubler(PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input * 2


EXAMPLE = pd.DataFrame({"x": [1.0, 2.0]})


@pytest.fixture
def logged(tmp_store: Path):
    """A model logged with a run (inside the store's artifacts)."""
    with nbtrack.run() as run:
        info = log_model(Doubler(), "model", input_example=EXAMPLE)
    return run.id, info.model_uri


def test_a_logged_model_is_referenced_where_it_is(logged, tmp_store: Path) -> None:
    run_id, uri = logged
    version = registry.register_model(uri, "wine", tags={"team": "a"}, description="first")
    assert (version.name, version.version, version.stage, version.status) == (
        "wine", 1, "None", "READY",
    )  # fmt: skip
    assert version.run_id == run_id and version.source == uri
    assert version.path == tmp_store / "artifacts" / run_id / "model"
    assert "python_function" in version.flavors and version.signature["inputs"]
    assert version.tags == {"team": "a"} and version.description == "first"
    assert not (tmp_store / "registry").exists()  # nothing copied
    assert registry.get_model_version("wine", 1) == version
    row = nbtrack.sql("SELECT path, run_id FROM model_versions").fetchall()
    assert row == [(f"artifacts/{run_id}/model", run_id)]  # relative: the store can move


def test_a_model_outside_the_store_is_copied_in(tmp_store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    save_model(Doubler(), folder)
    registry.create_registered_model("wine")
    version = registry.register_model(str(folder), "wine")
    assert version.path == tmp_store / "registry" / "wine" / "1"
    assert (version.path / "MLmodel").is_file() and version.run_id is None
    shutil.rmtree(folder)  # the registered copy does not depend on the original
    model = load_model("models:/wine/1", generic=True)
    assert model.predict(EXAMPLE)["x"].tolist() == [2.0, 4.0]
    assert [p.name for p in (tmp_store / "registry" / "wine").iterdir()] == ["1"]  # no temp left


def test_aliases_move_and_resolve(logged) -> None:
    _, uri = logged
    for _ in range(3):
        registry.register_model(uri, "wine")
    registry.set_alias("wine", "champion", 1)
    registry.set_alias("wine", "champion", "2")  # moves off version 1
    registry.set_alias("wine", "@prod", 3)
    assert registry.get_model_version("wine", 1).aliases == []
    assert registry.get_model_version("wine", 2).aliases == ["champion"]
    assert registry.get_model_version_by_alias("wine", "champion").version == 2
    assert registry.get_registered_model("wine").aliases == {"champion": 2, "prod": 3}
    assert registry.resolve("wine", "@champion").version == 2
    assert load_model("models:/wine@prod", generic=True).predict(EXAMPLE)["x"].tolist() == [2, 4]
    registry.delete_alias("wine", "prod")
    with pytest.raises(ModelNotFoundError) as caught:
        registry.resolve("wine", "@prod")
    assert str(caught.value) == (
        "registered model 'wine' has no alias 'prod'; its aliases: champion (version 2)"
    )
    for bad in ("latest", "v2", "7up", "with space"):
        with pytest.raises(RegistryError):
            registry.set_alias("wine", bad, 1)


def test_stages_any_case_and_archive_existing(logged) -> None:
    _, uri = logged
    for _ in range(3):
        registry.register_model(uri, "wine")
    assert registry.transition_stage("wine", 1, "production").stage == "Production"
    registry.transition_stage("wine", 2, "PRODUCTION")
    registry.transition_stage("wine", 3, "Production", archive_existing=True)
    stages = {v.version: v.stage for v in registry.search_model_versions("name = 'wine'")}
    assert stages == {1: "Archived", 2: "Archived", 3: "Production"}
    assert registry.resolve("wine", "production").version == 3
    assert registry.resolve("wine", "latest").version == 3
    latest = registry.get_latest_versions("wine")
    assert [(v.version, v.stage) for v in latest] == [(3, "Production"), (2, "Archived")]
    assert [v.version for v in registry.get_latest_versions("wine", ["archived"])] == [2]
    with pytest.raises(ModelNotFoundError, match=r"no version in stage 'Staging'; its versions: "
                       r"1 \(Archived\), 2 \(Archived\), 3 \(Production\)"):  # fmt: skip
        registry.resolve("wine", "Staging")
    with pytest.raises(RegistryError, match="unknown stage 'prod'; use one of None, Staging"):
        registry.transition_stage("wine", 1, "prod")
    with pytest.raises(RegistryError, match="archive_existing applies to the stages"):
        registry.transition_stage("wine", 1, "Archived", archive_existing=True)


def test_deleted_versions_vanish_and_their_numbers_are_never_reused(logged) -> None:
    _, uri = logged
    for _ in range(3):
        registry.register_model(uri, "wine")
    registry.set_alias("wine", "champion", 3)
    registry.delete_model_version("wine", 3)
    assert [v.version for v in registry.search_model_versions()] == [2, 1]
    assert registry.get_registered_model("wine").aliases == {}
    with pytest.raises(ModelNotFoundError, match="no version 3: it was deleted"):
        registry.get_model_version("wine", 3)
    assert registry.register_model(uri, "wine").version == 4  # never 3 again
    assert registry.resolve("wine", "latest").version == 4

    registry.delete_registered_model("wine")
    assert registry.search_registered_models() == []
    assert nbtrack.sql("SELECT count(*) FROM model_versions").fetchall() == [(0,)]
    with pytest.raises(ModelNotFoundError, match="no registered model 'wine': the registry is"):
        registry.get_registered_model("wine")
    again = registry.register_model(uri, "wine")
    assert again.version == 5  # a new model of the same name continues the numbering
    model = registry.get_registered_model("wine")
    assert model.aliases == {} and [v.version for v in model.latest_versions] == [5]


def test_tags_and_descriptions(logged) -> None:
    _, uri = logged
    registry.create_registered_model("wine", tags={"team": "a"}, description="reds")
    registry.register_model(uri, "wine", tags={"data": "v1"})
    registry.set_model_tag("wine", "owner", "ana")
    registry.set_model_tag("wine", "data", 2, version=1)
    registry.delete_model_tag("wine", "team")
    registry.update_description("wine", "reds and whites")
    registry.update_description("wine", "the first", version=1)
    model = registry.get_registered_model("wine")
    assert (model.tags, model.description) == ({"owner": "ana"}, "reds and whites")
    version = registry.get_model_version("wine", 1)
    assert (version.tags, version.description) == ({"data": "2"}, "the first")
    with pytest.raises(RegistryError, match="model 'wine' has no tag 'team'; its tags: owner"):
        registry.delete_model_tag("wine", "team")
    with pytest.raises(RegistryError, match="already exists"):
        registry.create_registered_model("wine")


def test_unknown_names_and_versions_say_what_exists(logged) -> None:
    _, uri = logged
    registry.register_model(uri, "wine")
    registry.register_model(uri, "iris")
    with pytest.raises(ModelNotFoundError) as caught:
        registry.resolve("wnie", "1")
    assert str(caught.value) == (
        "no registered model 'wnie' (did you mean 'wine'?); registered models: iris, wine"
    )
    with pytest.raises(ModelNotFoundError, match="has no version 7: it does not exist; its "
                       "versions: 1"):  # fmt: skip
        registry.resolve("wine", "7")
    with pytest.raises(ModelNotFoundError, match="has no alias 'champion': it has no aliases"):
        load_model("models:/wine@champion")
    with pytest.raises(RegistryError, match="cannot contain '/'"):
        registry.register_model(uri, "wine/red")


def test_searches_take_the_typed_filter_grammar(logged) -> None:
    run_id, uri = logged
    registry.create_registered_model("wine", tags={"team": "a"})
    registry.create_registered_model("winery", tags={"team": "b"})
    registry.create_registered_model("iris", tags={"team": "a"})
    for _ in range(3):
        registry.register_model(uri, "wine", tags={"kind": "rf"})
    registry.transition_stage("wine", 2, "Production")
    registry.set_alias("wine", "champion", 3)

    def names(text: str) -> list[str]:
        return [m.name for m in registry.search_registered_models(text)]

    def versions(text: str, **options) -> list[int]:
        return [v.version for v in registry.search_model_versions(text, **options)]

    assert names("name LIKE 'wine%' and tags.team = 'a'") == ["wine"]
    assert names("alias = 'champion'") == ["wine"]
    assert names(None) == ["iris", "wine", "winery"]
    assert versions("name = 'wine' and version >= 2") == [3, 2]
    assert versions(f"run_id = '{run_id}'", order_by="version ASC") == [1, 2, 3]
    assert versions("current_stage = 'production'") == [2]
    assert versions("stage != 'Production' and tags.kind = 'rf'") == [3, 1]
    assert versions("alias = 'champion' or version = 1") == [3, 1]
    assert versions("alias LIKE 'champ%'") == [3]
    assert versions("name = 'wine'", limit=1) == [3]
    assert versions("creation_timestamp > '2000-01-01'", order_by=["version"]) == [1, 2, 3]
    with pytest.raises(FilterError) as caught:
        registry.search_model_versions("name = 'wine' and versoin >= 2")
    assert caught.value.position == 18 and "did you mean 'version'?" in str(caught.value)
    with pytest.raises(FilterError, match="version is a number"):
        registry.search_model_versions("version = 'two'")
    with pytest.raises(FilterError, match="unknown stage 'prod'"):
        registry.search_model_versions("current_stage = 'prod'")
    with pytest.raises(FilterError, match="unknown prefix 'params'"):
        registry.search_registered_models("params.lr > 1")


def test_reads_of_one_model_agree_with_the_sql_views(logged) -> None:
    """Reads of one model fold its rows; searches and nbtrack.sql read the views: the same."""
    _, uri = logged
    registry.create_registered_model("wine", tags={"team": "a"}, description="reds")
    for _ in range(4):
        registry.register_model(uri, "wine", tags={"kind": "rf"})
    registry.register_model(uri, "iris")
    registry.set_alias("wine", "champion", 2)
    registry.set_alias("wine", "old", 4)
    registry.transition_stage("wine", 2, "Staging")
    registry.set_model_tag("wine", "kind", "gb", version=3)
    registry.delete_model_tag("wine", "kind", version=1)
    registry.update_description("wine", "v3", version=3)
    registry.delete_model_version("wine", 4)
    registry.delete_registered_model("iris")
    registry.register_model(uri, "iris")
    for name in ("wine", "iris"):
        folded = registry.get_registered_model(name)
        [searched] = registry.search_registered_models(f"name = '{name}'")
        assert folded == searched
        for version in registry.search_model_versions(f"name = '{name}'"):
            assert registry.get_model_version(name, version.version) == version


def test_registry_views_for_sql(logged) -> None:
    _, uri = logged
    registry.register_model(uri, "wine")
    registry.set_alias("wine", "champion", 1)
    assert nbtrack.sql("SELECT name, version, stage, aliases FROM model_versions").fetchall() == [
        ("wine", 1, "None", ["champion"])
    ]
    models = nbtrack.sql("SELECT name, aliases, latest_version FROM registered_models")
    assert models.fetchall() == [("wine", {"champion": 1}, 1)]
    kinds = nbtrack.sql("SELECT kind FROM registry_events ORDER BY timestamp").fetchall()
    assert kinds == [("model_created",), ("alias",)]


def test_a_store_from_before_the_registry_works(tmp_store: Path) -> None:
    with nbtrack.run() as run:
        info = log_model(Doubler(), "model")
    nbtrack.flush()
    for table in ("model_versions", "registry_events"):
        shutil.rmtree(tmp_store / "segments" / table)
    nbtrack.set_store(tmp_store)  # a fresh reader of the old-style store
    assert registry.search_registered_models() == []
    assert nbtrack.sql("SELECT * FROM model_versions").fetchall() == []
    assert registry.register_model(info.model_uri, "wine").run_id == run.id
    assert registry.resolve("wine", "1").version == 1


def test_a_change_that_cannot_be_written_is_a_store_error_and_changes_nothing(
    logged, tmp_store: Path, tmp_path: Path
) -> None:
    _, uri = logged
    registry.register_model(uri, "wine")
    events = tmp_store / "segments" / "registry_events"
    shutil.move(events, tmp_path / "moved-away")
    events.write_text("not a folder: every write into it fails")
    with pytest.raises(StoreError) as caught:
        registry.set_alias("wine", "champion", 1)
    message = str(caught.value)
    assert "cannot set alias 'champion' of model 'wine'" in message
    assert "make it writable" in message and "registry was not changed" in message
    folder = tmp_path / "saved"
    save_model(Doubler(), folder)
    with pytest.raises(StoreError, match="cannot register model 'wine'"):
        registry.register_model(str(folder), "wine")
    events.unlink()
    shutil.move(tmp_path / "moved-away", events)
    nbtrack.flush()  # nothing was left buffered to be written behind the caller's back
    assert registry.get_registered_model("wine").aliases == {}
    assert [v.version for v in registry.search_model_versions()] == [1]
    assert not any((tmp_store / "registry" / "wine").iterdir())  # the copy was removed
    assert registry.register_model(uri, "wine").version == 2


def test_bundles_carry_the_registry(logged, tmp_store: Path, tmp_path: Path) -> None:
    _, uri = logged
    folder = tmp_path / "saved"
    save_model(Doubler(), folder)
    registry.register_model(uri, "wine", tags={"kind": "rf"})
    registry.register_model(str(folder), "wine")
    registry.set_alias("wine", "champion", 2)
    registry.transition_stage("wine", 1, "Production")
    before = registry.get_registered_model("wine")
    assert nbtrack.export(tmp_path / "bundle") == 1

    nbtrack.set_store(tmp_path / "other")
    assert nbtrack.import_runs(tmp_path / "bundle") == 1
    after = registry.get_registered_model("wine")
    assert after.aliases == before.aliases and after.tags == before.tags
    assert [(v.version, v.stage) for v in after.latest_versions] == [(2, "None"), (1, "Production")]
    champion = load_model("models:/wine@champion", generic=True)
    assert champion.predict(EXAMPLE)["x"].tolist() == [2, 4]
    assert load_model("models:/wine/Production", generic=True).metadata.run_id is not None
    events = nbtrack.sql("SELECT count(*) FROM registry_events").fetchall()
    assert nbtrack.import_runs(tmp_path / "bundle") == 0
    assert nbtrack.sql("SELECT count(*) FROM registry_events").fetchall() == events
    assert [v.version for v in registry.search_model_versions()] == [2, 1]
    assert registry.register_model(uri, "wine").version == 3


def test_many_changes_are_merged_and_still_read_the_same(logged, tmp_store: Path) -> None:
    _, uri = logged
    registry.register_model(uri, "wine")
    for i in range(70):
        registry.set_model_tag("wine", "i", i)
    names = [p.name for p in (tmp_store / "segments" / "registry_events").glob("*.parquet")]
    assert len(names) < 20 and any(n.startswith("c-") for n in names)
    assert registry.get_registered_model("wine").tags == {"i": "69"}
