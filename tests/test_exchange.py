"""Export (wide file, bundle) and import_runs: real stores, real files, real processes."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import start_python

import nbtrack
from nbtrack.exchange.formats import BUNDLE_TABLES, EXPORT_KEY
from nbtrack.store import get_store
from nbtrack.store.schema import COLUMNS


@pytest.fixture
def scenario(tmp_store: Path, tmp_path: Path) -> dict[str, str]:
    """Runs of every kind: typed params (one logged twice), metric histories with explicit
    steps, tags, an artifact, a nested run, a failed run and a deleted run."""
    model = tmp_path / "model.txt"
    model.write_text("weights " * 100)
    with nbtrack.run(
        "base",
        experiment="wine",
        params={"n": 100, "lr": 0.01, "layers": [64, 64], "opt": {"name": "adam"},
                "bn": True, "none": None, "mix": 1},
        tags={"model": "rf"},
    ) as base:  # fmt: skip
        base.log_param("lr", 0.02)  # a second value: both rows travel, the last one wins
        for step in (0, 5, 10):
            base.log(loss=1 / (step + 1), step=step)
        base.log(acc=0.9)
        base.log_artifact(model)
        base.log_artifact(model, name="sub/copy.txt")
        with nbtrack.run("child", experiment="wine", params={"mix": "text"}) as child:
            child.log(loss=0.1)
            child.log(loss=float("nan"))  # NaN points travel too
            child.log(loss=0.05)
    with pytest.raises(ValueError), nbtrack.run("broken", experiment="other", params={"mix": 3}):
        raise ValueError("boom")
    broken = nbtrack.search(experiment="other")["run_id"].iloc[0]
    with nbtrack.run("gone", experiment="other") as gone:
        gone.log(x=1)
    nbtrack.delete_run(gone.id)
    nbtrack.flush()
    return {"base": base.id, "child": child.id, "broken": broken, "gone": gone.id}


def sorted_tables(folder: Path) -> dict[str, pa.Table]:
    """Every table of a bundle, rows sorted on all columns."""
    out = {}
    for table in BUNDLE_TABLES:
        data = pq.read_table(folder / f"{table}.parquet")
        out[table] = data.sort_by([(c, "ascending") for c in data.column_names])
    return out


def records(ids) -> dict:
    return {rid: nbtrack.get_run(rid) for rid in ids}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- the wide file ---------------------------------------------------------------------------
def test_wide_file_has_search_columns_and_reads_everywhere(scenario, tmp_path: Path) -> None:
    path = tmp_path / "out" / "runs.parquet"
    assert nbtrack.export(path) == 3  # the deleted run is left out, like in search()
    expected = nbtrack.search()
    meta = pq.read_metadata(path)
    assert json.loads(meta.metadata[EXPORT_KEY.encode()]) == {"format": 1, "kind": "wide"}
    assert meta.row_group(0).column(0).compression == "ZSTD"

    schema = pq.read_schema(path)
    assert schema.field("params.n").type == pa.int64()
    assert schema.field("params.bn").type == pa.bool_()
    assert schema.field("start_time").type == pa.timestamp("us", tz="UTC")
    frame = pd.read_parquet(path, dtype_backend="numpy_nullable")
    assert list(frame.columns) == list(expected.columns)
    assert frame["run_id"].tolist() == expected["run_id"].tolist()
    row = frame.set_index("run_id").loc[scenario["base"]]
    assert row["params.n"] == 100 and str(frame["params.n"].dtype) == "Int64"
    assert row["params.lr"] == 0.02
    assert json.loads(row["params.layers"]) == [64, 64]  # JSON text
    assert json.loads(row["params.opt"]) == {"name": "adam"}
    assert row["metrics.loss"] == pytest.approx(1 / 11) and row["tags.model"] == "rf"
    assert frame.set_index("run_id").loc[scenario["child"], "parent_run_id"] == scenario["base"]
    # a param that is an int in some runs and text in others becomes text
    mixed = frame.set_index("run_id")["params.mix"]
    assert mixed[scenario["base"]] == "1" and mixed[scenario["child"]] == "text"
    assert mixed[scenario["broken"]] == "3"

    con = duckdb.connect()
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()}
    assert types["params.n"] == "BIGINT" and types["params.lr"] == "DOUBLE"
    assert types["params.bn"] == "BOOLEAN" and types["params.mix"] == "VARCHAR"
    assert types["start_time"] == "TIMESTAMP WITH TIME ZONE"
    statuses = dict(con.execute(f"SELECT name, status FROM '{path}'").fetchall())
    assert statuses == {"base": "finished", "child": "finished", "broken": "failed"}


def test_wide_file_reads_in_polars(scenario, tmp_path: Path) -> None:
    import polars as pl

    path = tmp_path / "runs.parquet"
    nbtrack.export(path)
    polars_frame = pl.read_parquet(path)
    assert polars_frame.columns == list(nbtrack.search().columns)
    assert polars_frame.schema["params.n"] == pl.Int64
    assert polars_frame.schema["params.layers"] == pl.String
    assert polars_frame.filter(pl.col("name") == "base")["params.lr"].to_list() == [0.02]


def test_wide_export_of_an_empty_store(tmp_store: Path, tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    assert nbtrack.export(path) == 0
    data = pq.read_table(path)
    assert data.num_rows == 0 and data.column_names[:3] == ["run_id", "experiment", "name"]


# ---- bundles ---------------------------------------------------------------------------------
def test_bundle_round_trip_is_lossless(scenario, tmp_path: Path) -> None:
    assert nbtrack.export(tmp_path / "wine", experiment="wine") == 2
    assert nbtrack.export(tmp_path / "all") == 4  # deleted runs travel in bundles
    before = records(scenario.values())
    points = nbtrack.history(list(scenario.values()))
    manifest = json.loads((tmp_path / "all" / "manifest.json").read_text())
    assert manifest["format"] == 1 and manifest["runs"] == 4
    for table in BUNDLE_TABLES:
        schema = pq.read_schema(tmp_path / "all" / f"{table}.parquet")
        stamp = json.loads(schema.metadata[EXPORT_KEY.encode()])
        assert stamp == {"format": 1, "kind": "bundle", "table": table}
        assert schema.names == list(COLUMNS[table])

    fresh = tmp_path / "fresh-store"
    nbtrack.set_store(fresh)
    assert not fresh.exists()
    assert nbtrack.import_runs(tmp_path / "all") == 4
    assert (fresh / "store.json").exists()
    assert nbtrack.export(tmp_path / "again") == 4
    original, again = sorted_tables(tmp_path / "all"), sorted_tables(tmp_path / "again")
    for table in BUNDLE_TABLES:
        assert again[table].schema == original[table].schema
        pd.testing.assert_frame_equal(again[table].to_pandas(), original[table].to_pandas())
    assert original["params"].num_rows == 10  # every value of every param, lr twice

    # ids, times, typed params, status, parent, deleted flag, artifacts: all the same
    assert records(scenario.values()) == before
    base = nbtrack.get_run(scenario["base"])
    assert base.params["n"] == 100 and base.params["layers"] == [64, 64]
    assert base.params["opt"] == {"name": "adam"} and base.params["bn"] is True
    assert nbtrack.get_run(scenario["child"]).parent_id == scenario["base"]
    assert nbtrack.get_run(scenario["broken"]).status == "failed"
    assert nbtrack.get_run(scenario["gone"]).deleted
    assert scenario["gone"] not in set(nbtrack.search()["run_id"])
    history = nbtrack.history(list(scenario.values()))
    assert history[["run_id", "key", "step", "timestamp"]].equals(
        points[["run_id", "key", "step", "timestamp"]]
    )
    assert history["value"].equals(points["value"])  # NaN included
    assert nbtrack.history(scenario["base"], "loss")["step"].tolist() == [0, 5, 10]


def test_importing_twice_adds_nothing(scenario, tmp_path: Path) -> None:
    nbtrack.export(tmp_path / "bundle")
    nbtrack.set_store(tmp_path / "other")
    assert nbtrack.import_runs(tmp_path / "bundle") == 4
    counts = {t: nbtrack.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in
              ("runs", "params", "metrics", "tags", "events", "artifacts")}  # fmt: skip
    segments = sorted((tmp_path / "other" / "segments").rglob("*.parquet"))
    assert nbtrack.import_runs(tmp_path / "bundle") == 0
    assert sorted((tmp_path / "other" / "segments").rglob("*.parquet")) == segments
    assert {t: nbtrack.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in counts} == counts
    # importing into the store the runs came from adds nothing either
    nbtrack.set_store(tmp_path / "store")
    assert nbtrack.import_runs(tmp_path / "bundle") == 0


def test_import_adds_only_the_missing_runs(scenario, tmp_path: Path) -> None:
    nbtrack.export(tmp_path / "wine", experiment="wine")
    nbtrack.export(tmp_path / "all")
    expected = nbtrack.sql(
        "SELECT run_id, count(*) FROM metrics GROUP BY run_id ORDER BY run_id"
    ).fetchall()
    nbtrack.set_store(tmp_path / "partial")
    with nbtrack.run("local") as local:
        local.log(acc=0.5)
    assert nbtrack.import_runs(tmp_path / "wine") == 2
    assert nbtrack.import_runs(tmp_path / "all") == 2  # broken and gone
    assert set(nbtrack.search(include_deleted=True)["run_id"]) == {local.id, *scenario.values()}
    dupes = nbtrack.sql(
        "SELECT run_id, kind, count(*) FROM events GROUP BY ALL HAVING count(*) > 1"
    ).fetchall()
    assert dupes == []
    assert nbtrack.sql("SELECT count(*) FROM runs").fetchall()[0][0] == 5
    got = nbtrack.sql(
        f"SELECT run_id, count(*) FROM metrics WHERE run_id <> '{local.id}' "
        "GROUP BY run_id ORDER BY run_id"
    ).fetchall()
    assert got == expected


def test_segments_are_named_as_the_store_expects(scenario, tmp_path: Path) -> None:
    nbtrack.export(tmp_path / "bundle")
    nbtrack.set_store(tmp_path / "other")
    nbtrack.import_runs(tmp_path / "bundle")
    for table in BUNDLE_TABLES:
        if not pq.read_metadata(tmp_path / "bundle" / f"{table}.parquet").num_rows:
            continue  # (the scenario logs no inputs)
        names = [p.name for p in (tmp_path / "other" / "segments" / table).iterdir()]
        assert names and all(n.startswith("import-") for n in names), names
    assert nbtrack.compact()["metrics"] == 0  # one segment per table: nothing to merge
    assert len(nbtrack.search(include_deleted=True)) == 4


def test_artifacts_travel_with_the_bundle(scenario, tmp_path: Path) -> None:
    base = scenario["base"]
    logged = {a["path"]: a["sha256"] for a in nbtrack.get_run(base).artifacts}
    assert set(logged) == {"model.txt", "sub/copy.txt"}
    nbtrack.export(tmp_path / "bare")
    nbtrack.export(tmp_path / "bundle", artifacts=True)
    assert not (tmp_path / "bare" / "artifacts").exists()
    assert json.loads((tmp_path / "bundle" / "manifest.json").read_text())["artifact_files"] == 2
    nbtrack.set_store(tmp_path / "other")
    nbtrack.import_runs(tmp_path / "bundle")
    folder = tmp_path / "other" / "artifacts" / base
    assert {p: sha256(folder / p) for p in logged} == logged
    assert {a["path"]: a["sha256"] for a in nbtrack.get_run(base).artifacts} == logged


def test_empty_bundle_round_trips(tmp_store: Path, tmp_path: Path) -> None:
    assert nbtrack.export(tmp_path / "empty") == 0
    nbtrack.set_store(tmp_path / "other")
    assert nbtrack.import_runs(tmp_path / "empty") == 0


def test_export_refuses_to_overwrite_a_folder(scenario, tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(nbtrack.NbtrackError, match="already exists"):
        nbtrack.export(tmp_path / "taken")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    (tmp_path / "empty").mkdir()
    assert nbtrack.export(tmp_path / "empty") == 4


# ---- bad input -------------------------------------------------------------------------------
@pytest.fixture
def bundle(scenario, tmp_path: Path) -> Path:
    nbtrack.export(tmp_path / "bundle")
    nbtrack.set_store(tmp_path / "other")
    return tmp_path / "bundle"


def _rewrite(path: Path, data: pa.Table, stamp: dict) -> None:
    pq.write_table(data.replace_schema_metadata({EXPORT_KEY: json.dumps(stamp)}), path)


def _import_error(path: Path) -> str:
    with pytest.raises(nbtrack.NbtrackError) as caught:
        nbtrack.import_runs(path)
    assert not isinstance(caught.value, nbtrack.StoreError)  # a bad bundle, not a bad store
    assert not (get_store().root / "segments").exists()  # nothing was written
    return str(caught.value)


def test_a_bundle_missing_a_table_is_refused(bundle: Path) -> None:
    (bundle / "tags.parquet").unlink()
    message = _import_error(bundle)
    assert "tags.parquet is missing" in message and str(bundle) in message


def test_a_newer_bundle_is_refused(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    (bundle / "manifest.json").write_text(json.dumps({**manifest, "format": 2}))
    assert "newer nbtrack" in _import_error(bundle)
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    params = pq.read_table(bundle / "params.parquet")
    _rewrite(bundle / "params.parquet", params, {"format": 2, "kind": "bundle", "table": "params"})
    message = _import_error(bundle)
    assert "params.parquet has export format 2" in message and "pip install -U" in message


def test_a_bundle_missing_a_column_is_refused(bundle: Path) -> None:
    metrics = pq.read_table(bundle / "metrics.parquet").drop_columns(["step"])
    _rewrite(bundle / "metrics.parquet", metrics, {"format": 1, "kind": "bundle",
                                                    "table": "metrics"})  # fmt: skip
    assert "lacks the column(s) step" in _import_error(bundle)


def test_not_a_bundle_is_refused(bundle: Path, tmp_path: Path) -> None:
    (bundle / "manifest.json").unlink()
    assert "no manifest.json" in _import_error(bundle)
    assert "no such folder" in _import_error(tmp_path / "nowhere")


def test_a_wide_file_is_refused_by_import_runs(scenario, tmp_path: Path) -> None:
    nbtrack.export(tmp_path / "runs.parquet")
    nbtrack.set_store(tmp_path / "other")
    message = _import_error(tmp_path / "runs.parquet")
    assert "wide export" in message and "nbtrack.export('<folder>')" in message


# ---- processes and scale ---------------------------------------------------------------------
def test_two_processes_importing_at_once_add_each_run_once(bundle: Path, tmp_path: Path) -> None:
    target = tmp_path / "shared"
    code = f"import nbtrack; print(nbtrack.import_runs({str(bundle)!r}))"
    procs = [start_python(code, target, tmp_path, f"importer{i}.py") for i in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert sorted(int(out) for out, _ in outputs) == [0, 4]
    nbtrack.set_store(target)
    assert nbtrack.sql("SELECT count(*) FROM runs").fetchall()[0][0] == 4
    rows = nbtrack.sql("SELECT count(*), count(DISTINCT run_id) FROM _run_rows").fetchall()[0]
    assert rows == (4, 4)


def test_export_and_import_of_10000_runs_with_100_points_each(tmp_store: Path, tmp_path: Path):
    runs, points = 10_000, 100
    for i in range(runs):
        with nbtrack.run(params={"i": i}) as run:
            for step in range(points):
                run.log(loss=1 / (step + 1))
    started = time.perf_counter()
    assert nbtrack.export(tmp_path / "big") == runs
    exported = time.perf_counter() - started
    manifest = json.loads((tmp_path / "big" / "manifest.json").read_text())
    assert manifest["rows"]["metrics"] == runs * points
    assert pq.read_metadata(tmp_path / "big" / "metrics.parquet").num_rows == runs * points
    assert nbtrack.export(tmp_path / "big.parquet") == runs
    nbtrack.set_store(tmp_path / "other")
    assert nbtrack.import_runs(tmp_path / "big") == runs
    assert nbtrack.sql("SELECT count(*) FROM metrics").fetchall()[0][0] == runs * points
    assert exported < 30, f"exporting took {exported:.1f} s"


def test_export_takes_a_filter_in_both_modes(tmp_store: Path, tmp_path: Path) -> None:
    for depth in (2, 4, 8):
        with nbtrack.run(f"d{depth}", params={"depth": depth}) as run:
            run.log(acc=depth / 10)
    assert nbtrack.export(tmp_path / "deep.parquet", filter="params.depth >= 4") == 2
    assert sorted(pd.read_parquet(tmp_path / "deep.parquet")["name"]) == ["d4", "d8"]
    assert nbtrack.export(tmp_path / "deep", filter="metrics.acc > 0.5") == 1
    nbtrack.set_store(tmp_path / "other")
    assert nbtrack.import_runs(tmp_path / "deep") == 1
    assert nbtrack.search()["name"].tolist() == ["d8"]
