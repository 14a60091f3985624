"""Notebooks and scripts run as parameterised runs: real kernels, real processes, real files."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

import nbtrack
from nbtrack.projects.notebooks import INJECTED_TAG, inject_parameters
from tests.helpers import run_cli, write_script

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def notebook(path: Path, *sources: str, parameters: int | None = None) -> Path:
    """Write a notebook of code cells; cell ``parameters`` (0-based) is tagged ``parameters``."""
    cells = [nbformat.v4.new_code_cell(source) for source in sources]
    if parameters is not None:
        cells[parameters].metadata["tags"] = ["parameters"]
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC}),
                   path)  # fmt: skip
    return path


def children(parent: str) -> list[nbtrack.RunRecord]:
    frame = nbtrack.search(f"parent_run_id = '{parent}'", order_by="start_time")
    return [nbtrack.get_run(run_id) for run_id in frame["run_id"]]


def test_a_notebook_runs_as_one_run_with_typed_params_and_child_runs(tmp_store, tmp_path):
    path = notebook(
        tmp_path / "train.ipynb",
        "%load_ext nbtrack\nimport nbtrack",
        "lr = 0.1\nlayers = [32]\nname = 'base'",
        "%%track inner\nnbtrack.log(loss=lr)",
        "nbtrack.log(outer=lr * 10)\nnbtrack.log_param('seen', repr(nbtrack.params()))",
        "print('layers', layers, type(lr).__name__)",
        parameters=1,
    )
    output = tmp_path / "out" / "executed.ipynb"
    run = nbtrack.run_notebook(
        path, {"lr": 0.01, "layers": [64, 64], "name": "rf"}, experiment="nb", output=output,
        progress=False,
    )  # fmt: skip
    record = nbtrack.get_run(run.id)
    assert record.status == "finished"
    assert record.experiment == "nb"
    assert record.params["lr"] == 0.01 and record.params["layers"] == [64, 64]
    assert record.params["seen"] == repr({"lr": 0.01, "layers": [64, 64], "name": "rf"})
    assert record.metrics == {"outer": pytest.approx(0.1)}
    assert record.context["notebook"] == str(path)
    assert record.tags["nbtrack.kind"] == "notebook"
    [inner] = children(run.id)
    assert (inner.name, inner.metrics["loss"], inner.experiment) == ("inner", 0.01, "nb")
    # the executed notebook, outputs included, is kept with the run and written to `output`
    assert {a["path"] for a in record.artifacts} == {"train.ipynb"}
    executed = nbformat.read(output, as_version=4)
    injected = [c for c in executed.cells if INJECTED_TAG in c.metadata.get("tags", [])]
    assert injected and injected[0].source.startswith("# Parameters\nlr = 0.01")
    assert executed.cells.index(injected[0]) == 2  # right after the parameters cell
    assert "layers [64, 64] float" in executed.cells[-1].outputs[0]["text"]
    stored = tmp_store / "artifacts" / run.id / "train.ipynb"
    assert stored.exists() and nbformat.read(stored, as_version=4).cells[-1].outputs


def test_a_failing_cell_fails_the_run_keeps_the_notebook_and_exits_non_zero(tmp_store, tmp_path):
    notebook(
        tmp_path / "fails.ipynb",
        "import nbtrack\nnbtrack.log(before=1)\nprint('first cell ran')",
        "raise ValueError('bad data in cell two')",
        "print('never')",
    )
    done = run_cli(tmp_store, "run", "fails.ipynb", "-e", "broken", cwd=tmp_path)
    assert done.returncode == 1
    assert "cell 2 of 3 raised ValueError: bad data in cell two" in done.stderr
    [run_id] = nbtrack.search(experiment="broken")["run_id"]
    record = nbtrack.get_run(run_id)
    assert record.status == "failed"
    assert record.error.startswith("cell 2 of 3 raised ValueError: bad data in cell two")
    assert "raise ValueError('bad data in cell two')" in record.error  # the cell and traceback
    assert record.metrics["before"] == 1
    kept = nbformat.read(tmp_store / "artifacts" / run_id / "fails.ipynb", as_version=4)
    assert "first cell ran" in kept.cells[0].outputs[0]["text"]
    assert kept.cells[1].outputs[0]["ename"] == "ValueError"
    assert kept.cells[2].outputs == []


def test_run_notebook_raises_run_failed_error_unless_told_not_to(tmp_store, tmp_path):
    path = notebook(tmp_path / "fails.ipynb", "1 / 0")
    with pytest.raises(nbtrack.RunFailedError, match="ZeroDivisionError") as caught:
        nbtrack.run_notebook(path, progress=False)
    assert caught.value.run.status == "failed"
    run = nbtrack.run_notebook(path, progress=False, check=False)
    assert run.status == "failed" and "ZeroDivisionError" in nbtrack.get_run(run.id).error


def test_a_script_gets_its_params_as_options_and_from_nbtrack_params(tmp_store, tmp_path):
    write_script(tmp_path / "train.py", """
        import argparse, nbtrack
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float)
        parser.add_argument("--layers", type=str)
        args = parser.parse_args()
        print("argv", args.lr, args.layers, flush=True)
        given = nbtrack.params(lr=1.0, epochs=3)
        for epoch in range(given["epochs"]):
            nbtrack.log(loss=given["lr"] / (epoch + 1))
        with nbtrack.run("eval"):
            nbtrack.log(acc=0.9)
    """)  # fmt: skip
    done = run_cli(
        tmp_store, "run", "train.py", "-p", "lr=0.01", "-p", "layers=[64,64]", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "argv 0.01 [64, 64]" in done.stdout  # the script's own output is echoed
    [run_id] = nbtrack.search("tags.`nbtrack.kind` = 'script'")["run_id"]
    record = nbtrack.get_run(run_id)
    assert record.params == {"lr": 0.01, "layers": [64, 64]}
    assert record.metrics["loss"] == pytest.approx(0.01 / 3)
    assert record.context["source"] == str(tmp_path / "train.py")
    assert [c.name for c in children(run_id)] == ["eval"]
    log = (tmp_store / "artifacts" / run_id / "output.log").read_text()
    assert "argv 0.01 [64, 64]" in log


def test_a_failing_script_fails_the_run_with_its_last_lines(tmp_store, tmp_path):
    write_script(tmp_path / "crash.py", "print('working')\nraise SystemExit('out of memory')\n")
    done = run_cli(tmp_store, "run", "crash.py", cwd=tmp_path)
    assert done.returncode == 1
    record = nbtrack.get_run(nbtrack.search()["run_id"][0])
    assert record.status == "failed"
    assert "exited with code 1" in record.error and "out of memory" in record.error


def test_a_script_past_its_timeout_is_stopped(tmp_store, tmp_path):
    write_script(tmp_path / "hang.py", """
        import signal
        print("waiting", flush=True)
        signal.pause()
    """)  # fmt: skip
    done = run_cli(tmp_store, "run", "hang.py", "--timeout", "2", cwd=tmp_path)
    assert done.returncode == 1
    record = nbtrack.get_run(nbtrack.search()["run_id"][0])
    assert record.status == "failed" and "2.0 s timeout" in record.error


def test_bad_targets_and_params_are_clear_errors_before_anything_runs(tmp_store, tmp_path):
    (tmp_path / "data.csv").write_text("x\n1\n")
    (tmp_path / "broken.ipynb").write_text("{not json")
    write_script(tmp_path / "ok.py", "print('ran')")
    for args, message in [
        (["run", "missing.ipynb"], "nothing to run at missing.ipynb"),
        (["run", "data.csv"], "give a notebook (.ipynb), a Python script (.py)"),
        (["run", "ok.py", "-p", "lr"], "parameters are KEY=VALUE, e.g. -p lr=0.01; got 'lr'"),
        (["run", "broken.ipynb"], "broken.ipynb is not a readable notebook"),
    ]:
        done = run_cli(tmp_store, *args, cwd=tmp_path)
        assert done.returncode == 1 and message in done.stderr, done.stderr
    assert not (tmp_store / "store.json").exists()


def test_parameters_replace_an_earlier_injection_and_go_first_without_a_tagged_cell():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    once = inject_parameters(nb, {"x": 2})
    assert [c.source for c in once.cells] == ["# Parameters\nx = 2", "x = 1"]
    twice = inject_parameters(once, {"x": float("nan")})
    assert [c.source for c in twice.cells] == ["# Parameters\nx = float('nan')", "x = 1"]
    assert json.loads(nbformat.writes(twice))["cells"][0]["metadata"]["tags"] == [INJECTED_TAG]


def test_run_notebook_in_a_notebook_shows_how_far_it_got(tmp_store, tmp_path):
    from kernels import errors, run_cells

    notebook(tmp_path / "steps.ipynb", "a = 1", "b = a + 1", "import nbtrack; nbtrack.log(b=b)")
    [cell] = run_cells(["import nbtrack\nrun = nbtrack.run_notebook('steps.ipynb')"],
                       tmp_store, tmp_path)  # fmt: skip
    assert not errors(cell)
    # one line, updated in place as the cells ran ("cell k of n"), and last with the outcome
    [shown] = [o for o in cell.outputs if o.output_type == "display_data"]
    assert shown.data["text/plain"].startswith("steps.ipynb: finished after")
    assert nbtrack.search()["metrics.b"].tolist() == [2.0]
