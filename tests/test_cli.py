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


def test_ls_filter_show_delete_restore_and_sql(tmp_store: Path) -> None:
    for i, acc in enumerate((0.7, 0.95)):
        with nbtrack.run(f"m{i}", params={"lr": 0.1 / (i + 1)}, tags={"model": "rf"}) as run:
            run.log(acc=acc)
    nbtrack.flush()
    store = ["--store", str(tmp_store)]
    best = nbtrack_cli(*store, "ls", "--filter", "metrics.acc > 0.9", "--json")
    assert best.returncode == 0 and [r["name"] for r in json.loads(best.stdout)] == ["m1"]
    run_id = json.loads(best.stdout)[0]["run_id"]

    shown = nbtrack_cli(*store, "show", run_id[:6])
    assert shown.returncode == 0, shown.stderr
    assert "m1" in shown.stdout and "acc = 0.95" in shown.stdout and "lr = 0.05" in shown.stdout
    as_json = json.loads(nbtrack_cli(*store, "show", run_id, "--json").stdout)
    assert as_json["params"] == {"lr": 0.05} and as_json["status"] == "finished"

    assert nbtrack_cli(*store, "delete", run_id).returncode == 0
    listed = json.loads(nbtrack_cli(*store, "ls", "--json").stdout)
    assert [r["name"] for r in listed] == ["m0"]
    assert nbtrack_cli(*store, "restore", run_id).returncode == 0
    assert len(json.loads(nbtrack_cli(*store, "ls", "--json").stdout)) == 2

    rows = nbtrack_cli(*store, "sql", "SELECT name FROM runs ORDER BY name", "--json")
    assert json.loads(rows.stdout) == [{"name": "m0"}, {"name": "m1"}]
    table = nbtrack_cli(*store, "sql", "SELECT count(*) AS n FROM metrics")
    assert table.stdout.split() == ["n", "2"]


def test_errors_go_to_stderr_with_a_non_zero_exit(tmp_store: Path, tmp_path: Path) -> None:
    with nbtrack.run():
        pass
    nbtrack.flush()
    store = ["--store", str(tmp_store)]
    bad_filter = nbtrack_cli(*store, "ls", "--filter", "parms.lr < 1")
    assert bad_filter.returncode == 1 and not bad_filter.stdout
    assert "did you mean 'params'" in bad_filter.stderr and "^" in bad_filter.stderr
    unknown = nbtrack_cli(*store, "show", "zzzzzzzz")
    assert unknown.returncode == 1 and "no run 'zzzzzzzz'" in unknown.stderr
    bad_sql = nbtrack_cli(*store, "sql", "SELECT * FROM nowhere")
    assert bad_sql.returncode == 1 and "the SQL failed" in bad_sql.stderr
    missing = nbtrack_cli("--store", str(tmp_path / "absent"), "ls")
    assert missing.returncode == 1 and "no store at" in missing.stderr
    assert not (tmp_path / "absent").exists()
    no_command = nbtrack_cli(*store)
    assert no_command.returncode == 2 and "COMMAND" in no_command.stderr
    for done in (bad_filter, unknown, bad_sql, missing):
        assert "Traceback" not in done.stderr


def test_help_lists_every_command() -> None:
    done = nbtrack_cli("--help")
    for command in ("ls", "show", "export", "import", "import-mlflow", "sql", "delete",
                    "restore", "compact", "models", "serve", "import-tensorboard",
                    "import-wandb", "import-trackio", "import-csv", "export-mlflow"):  # fmt: skip
        assert command in done.stdout


def _registered(names: list[str]) -> None:
    """A Python model (no library needed) registered once under each of ``names``."""

    class Double(nbtrack.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return [2 * x for x in model_input]

    for name in names:
        with nbtrack.run(name) as run:
            info = run.log_model(Double(), "model")
        nbtrack.register_model(info.model_uri, name)
    nbtrack.flush()


def test_models_ls_and_show(tmp_store: Path) -> None:
    _registered(["wine", "iris", "wine"])
    nbtrack.set_alias("wine", "champion", 2)
    nbtrack.transition_stage("wine", 1, "Production")
    nbtrack.update_description("wine", "wine cultivar classifier")
    done = nbtrack_cli("--store", str(tmp_store), "models", "ls")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["name", "latest", "aliases", "updated", "description"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["iris", "1", "-"],
        ["wine", "2", "@champion=2"],
    ]
    assert "wine cultivar classifier" in lines[2]
    filtered = nbtrack_cli(
        "--store", str(tmp_store), "models", "ls", "-f", "name LIKE 'w%'", "--json"
    )
    assert [m["name"] for m in json.loads(filtered.stdout)] == ["wine"]
    show = nbtrack_cli("--store", str(tmp_store), "models", "show", "wine")
    rows = [line.split() for line in show.stdout.splitlines()[2:]]
    assert [r[:4] for r in rows] == [
        ["2", "None", "champion", nbtrack.get_model_version("wine", 2).run_id],
        ["1", "Production", "-", nbtrack.get_model_version("wine", 1).run_id],
    ]
    versions = json.loads(
        nbtrack_cli("--store", str(tmp_store), "models", "show", "wine", "--json").stdout
    )["versions"]
    assert [(v["version"], v["aliases"]) for v in versions] == [(2, ["champion"]), (1, [])]
    missing = nbtrack_cli("--store", str(tmp_store), "models", "show", "wnie")
    assert missing.returncode == 1 and "no registered model 'wnie'" in missing.stderr
    assert "did you mean 'wine'" in missing.stderr and "Traceback" not in missing.stderr


def test_serve_a_model_that_does_not_resolve_is_one_line_and_exit_1(tmp_store: Path) -> None:
    _registered(["wine"])
    done = nbtrack_cli("--store", str(tmp_store), "serve", "models:/wine@champion", "--port", "0")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "has no alias 'champion'" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_import_csv_and_an_importer_given_the_wrong_folder(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    data = tmp_path / "sweep.csv"
    data.write_text("run,epoch,lr,loss\na,0,0.1,1.0\na,1,0.1,0.5\nb,0,0.2,0.9\n")
    command = ("--store", store, "import-csv", str(data), "--run-column", "run",
               "--step-column", "epoch", "--param-column", "lr", "-e", "csv")  # fmt: skip
    assert nbtrack_cli(*command).stdout.strip() == f"imported 2 runs from {data}"
    assert nbtrack_cli(*command).stdout.strip() == f"imported 0 runs from {data}"
    listed = json.loads(nbtrack_cli("--store", store, "ls", "--json", "-e", "csv").stdout)
    assert sorted((r["name"], r["params.lr"], r["metrics.loss"]) for r in listed) == [
        ("a", 0.1, 0.5), ("b", 0.2, 0.9)]  # fmt: skip
    empty = tmp_path / "logs"
    empty.mkdir()
    wrong = nbtrack_cli("--store", store, "import-tensorboard", str(empty))
    assert wrong.returncode == 1 and "holds no TensorBoard event files" in wrong.stderr
    assert "Traceback" not in wrong.stderr
