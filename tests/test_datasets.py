"""Datasets as run inputs (``log_input``): digests, filters, search, bundles, ``%%track -i``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from helpers import run_python
from kernels import errors, run_cells, text

import nbtrack

WINE = pd.DataFrame({"alcohol": [12.1, 13.4, 11.9], "kind": ["red", "white", "red"]})


def digest_of(data, **kwargs) -> str:
    with nbtrack.run() as run:
        run.log_input(data, **kwargs)
    return nbtrack.get_run(run.id).inputs[0]["digest"]


def test_every_kind_of_data_is_described(tmp_store: Path, tmp_path: Path) -> None:
    csv = tmp_path / "wine.csv"
    WINE.to_csv(csv, index=False)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"\x89PNG")
    with nbtrack.run("train") as run:
        run.log_input(WINE, name="wine", context="train")
        run.log_input(np.zeros((4, 2)), name="features")
        run.log_input(csv, context="eval")
        run.log_input(tmp_path / "images")
        run.log_input("s3://bucket/raw/wine.parquet")
    inputs = {i["name"]: i for i in nbtrack.get_run(run.id).inputs}
    assert set(inputs) == {"wine", "features", "wine.csv", "images", "wine.parquet"}
    assert inputs["wine"]["context"] == "train" and inputs["wine"]["num_rows"] == 3
    assert inputs["wine"]["schema"] == '{"alcohol": "float64", "kind": "str"}'
    assert inputs["features"]["schema"] == '{"dtype": "float64", "shape": [4, 2]}'
    assert inputs["wine.csv"]["source"] == str(csv.resolve())
    assert inputs["wine.csv"]["context"] == "eval"
    assert inputs["wine.parquet"]["source"] == "s3://bucket/raw/wine.parquet"
    assert all(len(i["digest"]) == 16 for i in inputs.values())


def test_the_same_data_has_the_same_digest_anywhere(tmp_store: Path, tmp_path: Path) -> None:
    here = digest_of(WINE)
    assert digest_of(pa.Table.from_pandas(WINE, preserve_index=False)) == here
    assert digest_of(pl.from_pandas(WINE)) == here
    assert digest_of(WINE.copy()) == here
    out = run_python(
        """
        import pandas as pd
        from nbtrack.datasets import describe
        frame = pd.DataFrame({"alcohol": [12.1, 13.4, 11.9], "kind": ["red", "white", "red"]})
        print(describe(frame)["digest"])
        """,
        tmp_store, tmp_path,
    )  # fmt: skip
    assert out.strip() == here  # another process, another hash seed: the same digest
    changed = WINE.assign(alcohol=[12.1, 13.4, 12.0])
    assert digest_of(changed) != here
    assert digest_of(WINE[["kind", "alcohol"]]) != here  # column order is part of the data


def test_bad_inputs_say_what_is_accepted_and_log_nothing(tmp_store: Path) -> None:
    with nbtrack.run() as run:
        with pytest.raises(TypeError, match="pandas or polars DataFrame"):
            run.log_input({"not": "a table"})
        with pytest.raises(FileNotFoundError, match="no such file"):
            run.log_input("missing.csv")
    assert nbtrack.get_run(run.id).inputs == []
    with pytest.raises(nbtrack.InactiveRunError):
        nbtrack.log_input(WINE)


def test_filters_and_the_search_column(tmp_store: Path) -> None:
    red = WINE[WINE["kind"] == "red"]
    with nbtrack.run("all") as everything:
        nbtrack.log_input(WINE, name="wine", context="train")
    with nbtrack.run("red") as only_red:
        only_red.log_input(red, name="wine", context="train")
        only_red.log_input(red.head(1), name="holdout", context="eval")
    with nbtrack.run("none"):
        pass
    red_digest = nbtrack.get_run(only_red.id).inputs[1]["digest"]  # (ordered by name)

    def names(text: str) -> list[str]:
        return sorted(nbtrack.search(text)["name"])

    assert names("datasets.name = 'wine'") == ["all", "red"]
    assert names(f"datasets.digest = '{red_digest}'") == ["red"]
    assert names("datasets.context = 'eval'") == ["red"]
    assert names("datasets.name IN ('holdout', 'other')") == ["red"]
    assert names("datasets.name IS NULL") == ["none"]
    assert names("dataset.name LIKE 'w%' and not datasets.context = 'eval'") == ["all"]
    used = dict(nbtrack.search()[["name", "datasets"]].values)
    assert used["all"] == f"wine@{nbtrack.get_run(everything.id).inputs[0]['digest']}"
    holdout = nbtrack.get_run(only_red.id).inputs[0]["digest"]
    assert used["red"] == f"holdout@{holdout}, wine@{red_digest}"
    assert pd.isna(used["none"])
    with pytest.raises(nbtrack.FilterError, match="not recorded"):
        nbtrack.search("datasets.profile = 'x'")
    with pytest.raises(nbtrack.FilterError, match="cannot be ordered"):
        nbtrack.search(order_by="datasets.name")


def test_bundles_carry_inputs_and_older_bundles_still_import(
    tmp_store: Path, tmp_path: Path
) -> None:
    with nbtrack.run() as run:
        run.log_input(WINE, name="wine", context="train")
    nbtrack.export(tmp_path / "bundle")
    nbtrack.set_store(tmp_path / "other")
    assert nbtrack.import_runs(tmp_path / "bundle") == 1
    assert nbtrack.get_run(run.id).inputs[0]["name"] == "wine"
    (tmp_path / "bundle" / "inputs.parquet").unlink()  # as an earlier nbtrack wrote them
    nbtrack.set_store(tmp_path / "third")
    assert nbtrack.import_runs(tmp_path / "bundle") == 1
    assert nbtrack.get_run(run.id).inputs == []


def test_track_cell_records_named_inputs(tmp_store: Path, tmp_path: Path) -> None:
    cells = run_cells(
        [
            "%load_ext nbtrack\nimport nbtrack",
            "%%track fit -i train,test\nimport pandas as pd\n"
            "train = pd.DataFrame({'x': [1, 2, 3]})\ntest = pd.DataFrame({'x': [4]})",
            "%%track typo -i tran\nx = 1",
        ],
        tmp_store, tmp_path,
    )  # fmt: skip
    assert not any(errors(c) for c in cells), [text(c) for c in cells]
    assert "could not record -i tran" in text(cells[2])  # a warning; the cell ran
    runs = {r: nbtrack.get_run(i) for i, r in nbtrack.search()[["run_id", "name"]].values}
    assert [(i["name"], i["num_rows"]) for i in runs["fit"].inputs] == [("test", 1), ("train", 3)]
    assert runs["typo"].status == "finished" and runs["typo"].inputs == []


def test_compare_shows_when_runs_used_different_data(tmp_store: Path) -> None:
    ids = []
    for frame in (WINE, WINE, WINE.head(2)):
        with nbtrack.run() as run:
            run.log_input(frame, name="wine", context="train")
        ids.append(run.id)
    same = nbtrack.compare(ids[0], ids[1])._content["inputs"]
    assert [(row["key"], row["differs"]) for row in same] == [("wine (train)", False)]
    other = nbtrack.compare(ids[0], ids[2])._content["inputs"][0]
    assert other["differs"] and other["values"][1].endswith("· 2 rows")
    assert "data (digest)" in nbtrack.compare(ids[0], ids[2]).to_html()
