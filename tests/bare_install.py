"""What a user of a plain ``pip install nbtrack`` (no extras) does, cell by cell in a real kernel.

``tests/test_bare_install.py`` runs this file with the Python of a fresh virtual environment
that holds nbtrack and its required dependencies only::

    python tests/bare_install.py RESULTS.json WORKDIR

Each check is a cell executed in one IPython kernel started in WORKDIR; RESULTS.json maps each
check's name to ``None`` (it passed) or what went wrong. Only the standard library and
jupyter_client (a dependency of ipykernel) are imported here.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")
WIDGET = "application/vnd.jupyter.widget-view+json"
# Magic bytes of the static fallbacks, base64-encoded as a notebook stores them.
PNG_B64 = "iVBORw0KGgo"


@dataclass(frozen=True)
class Check:
    name: str
    code: str
    shows: tuple[str, ...] = ()  # mimetypes the cell must display; "image": a PNG, maybe in HTML
    prints: str = ""  # text the cell's output must contain


WIDGET_VIEWS = (WIDGET, "text/html")
PLOT_VIEWS = (WIDGET, "image")
CHART_VIEWS = (WIDGET, "text/html", "image")

CHECKS = [
    Check(
        "nothing but the required dependencies is installed",
        """
import importlib.util
extras = [m for m in ("scipy", "sklearn", "polars", "mlflow", "pytest", "optuna", "keras")
          if importlib.util.find_spec(m)]
assert not extras, f"not a bare install: {extras} are importable"
""",
    ),
    Check(
        "README quickstart: four runs and a comparison",
        """
import nbtrack
nbtrack.set_store("s")
for i in range(4):
    with nbtrack.run(params={"lr": 10**-i, "opt": "adam"}) as r:
        r.log(loss=1 / (i + 1))
nbtrack.compare(experiment="default")
""",
        shows=CHART_VIEWS,
    ),
    Check("%load_ext nbtrack", "%load_ext nbtrack\n%reload_ext nbtrack"),
    Check(
        "%%track cell with captured params, tags and a live plot",
        """%%track trained -e bare -t model=mlp --live loss
lr = 0.01
layers = [64, 64]
for epoch in range(5):
    nbtrack.log(loss=1 / (epoch + 1), acc=epoch / 5)
""",
        shows=(WIDGET,),
    ),
    Check(
        "the %%track run is recorded",
        """
trained = nbtrack.search(experiment="bare")
assert trained["name"].tolist() == ["trained"], trained
record = nbtrack.get_run(trained["run_id"][0])
assert record.status == "finished", record.status
assert record.params == {"lr": 0.01, "layers": [64, 64]}, record.params
assert record.tags["model"] == "mlp" and record.metrics["loss"] == 0.2, record
""",
    ),
    Check(
        "tracking API: runs, metrics, params, tags, artifacts, nesting",
        """
import pathlib
nbtrack.set_experiment("sweep")
ids = []
for i in range(10):
    params = {"depth": i % 4 + 1, "lr": 10.0 ** -(i % 3)}
    with nbtrack.run(f"trial-{i}", params=params, tags={"kind": "trial"}) as run:
        for step in range(20):
            run.log(loss=1 / (step + 1 + i), acc=0.5 + i / 40)
        run.log_metric("val/loss", 0.1 * i)
        run.log_metrics({"f1": 0.8 + i / 100}, step=3)
        run.log_param("seed", i)
        run.log_params({"opt": "adam" if i % 2 else "sgd"})
        run.set_tag("stage", "dev")
        run.set_tags({"owner": "me"})
    ids.append(run.id)
pathlib.Path("weights.txt").write_text("w")
manual = nbtrack.start_run("manual", experiment="misc")
nbtrack.log(x=1.0)
nbtrack.log_metric("y", 2)
nbtrack.log_metrics({"z": 3})
nbtrack.log_param("p", 1)
nbtrack.log_params({"q": "a"})
nbtrack.set_tag("t", "1")
nbtrack.set_tags({"u": "2"})
nbtrack.log_artifact("weights.txt")
with nbtrack.run("child", experiment="misc") as child:
    pass
assert nbtrack.active_run() is manual
nbtrack.end_run()
nbtrack.flush()
assert nbtrack.active_run() is None
try:
    with nbtrack.run("bad", experiment="misc"):
        nbtrack.log(loss="high")
except TypeError as err:
    assert "loss" in str(err), err
else:
    raise AssertionError("a text metric was accepted")
""",
    ),
    Check(
        "search, get_run, history, sql, lineage, delete and restore, compact",
        """
frame = nbtrack.search("params.depth >= 2 and metrics.acc > 0.5 and tags.kind = 'trial'",
                       experiment="sweep", order_by=["metrics.acc DESC"], limit=5)
assert len(frame) == 5 and frame["metrics.acc"].is_monotonic_decreasing, frame
best = nbtrack.get_run(frame["run_id"][0][:6])
assert best.status == "finished" and best.tags["stage"] == "dev", best
assert best.params["opt"] in ("adam", "sgd") and best.metrics["f1"] > 0.8, best
assert len(nbtrack.history(ids, "loss")) == 200
assert list(nbtrack.history(ids[0])["key"].unique()) == ["acc", "f1", "loss", "val/loss"]
assert nbtrack.sql("SELECT count(*) FROM runs WHERE experiment = 'sweep'").fetchall() == [(10,)]
assert nbtrack.search(experiment="sweep", output="arrow").num_rows == 10
assert nbtrack.get_run(child.id).parent_id == manual.id
assert nbtrack.get_run(manual.id).artifacts[0]["path"] == "weights.txt"
try:
    nbtrack.search("params.depth >")
except nbtrack.FilterError as err:
    assert "expected" in str(err), err
else:
    raise AssertionError("a broken filter was accepted")
nbtrack.delete_run(ids[0])
assert ids[0] not in set(nbtrack.search(experiment="sweep")["run_id"])
nbtrack.restore_run(ids[0])
assert ids[0] in set(nbtrack.search(experiment="sweep")["run_id"])
assert nbtrack.cell_runs(record.id)["run_id"].tolist() == [record.id]
assert nbtrack.diff(ids[1], ids[0]).params["seed"] == (0, 1)
nbtrack.compact()
assert len(nbtrack.search(experiment="sweep")) == 10
""",
    ),
    Check(
        "table widget",
        'nbtrack.table(experiment="sweep", filter="params.depth > 1")',
        shows=WIDGET_VIEWS,
    ),
    Check(
        "plot widget", 'nbtrack.plot(["loss", "acc"], runs=ids[:3], log_y=True)', shows=PLOT_VIEWS
    ),
    Check("compare two runs", "nbtrack.compare(ids[0], ids[1])", shows=CHART_VIEWS),
    Check("compare ten runs (the sweep view)", "nbtrack.compare(*ids)", shows=CHART_VIEWS),
    Check(
        "compare a table's selection",
        'table = nbtrack.table(experiment="sweep")\ntable.selected = ids[:3]\n'
        "nbtrack.compare(table)",
        shows=CHART_VIEWS,
    ),
    Check("%track start", "%track start spanning -e bare"),
    Check("logging between %track start and end", "nbtrack.log(a=1.0)"),
    Check(
        "%track end",
        """%track end
spanning = nbtrack.search("name = 'spanning'")
assert spanning["status"].tolist() == ["finished"], spanning
assert spanning["metrics.a"].tolist() == [1.0], spanning
""",
    ),
    Check("%track ls", "%track ls -n 3 -e sweep", prints="trial-9"),
    Check("%track store", "%track store", prints="nbtrack store: "),
    Check(
        "%track export",
        "%track export magic.parquet\nimport pandas as pd\n"
        'assert len(pd.read_parquet("magic.parquet")) >= 12',
    ),
    Check("%track table", "%track table -e sweep -f 'params.depth > 1'", shows=WIDGET_VIEWS),
    Check(
        "%track plot", 'pair = ",".join(ids[:2])\n%track plot loss acc -r $pair', shows=PLOT_VIEWS
    ),
    Check(
        "%track compare of three runs",
        "a, b, c = ids[:3]\n%track compare $a $b $c",
        shows=CHART_VIEWS,
    ),
    Check(
        "export and import",
        """
import pandas as pd
nbtrack.export("wide.parquet", experiment="sweep")
nbtrack.export("bundle/", experiment="sweep")
assert sorted(pd.read_parquet("wide.parquet")["run_id"]) == sorted(ids)
nbtrack.set_store("imported")
nbtrack.import_runs("bundle/")
nbtrack.import_runs("bundle/")  # twice adds nothing
assert sorted(nbtrack.search()["run_id"]) == sorted(ids)
assert len(nbtrack.history(ids, "loss")) == 200
nbtrack.set_store("s")
""",
    ),
    Check(
        "a Python model: log, register, alias, load by alias, predict with its signature",
        """
import pandas as pd

class Doubler(nbtrack.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input["x"] * 2

with nbtrack.run("doubler", experiment="models") as run:
    info = run.log_model(Doubler(), "model", input_example=pd.DataFrame({"x": [1.0, 2.0]}))
version = nbtrack.register_model(info.model_uri, "doubler")
nbtrack.set_alias("doubler", "champion", version.version)
nbtrack.transition_stage("doubler", version.version, "Production")
model = nbtrack.pyfunc.load_model("models:/doubler@champion")
assert model.predict(pd.DataFrame({"x": [3.0]})).tolist() == [6.0]
assert nbtrack.load_model("models:/doubler/Production").predict([{"x": 1.0}]).tolist() == [2.0]
try:
    model.predict(pd.DataFrame({"y": [1.0]}))
except nbtrack.ModelSignatureError as err:
    assert "missing column 'x'" in str(err), err
else:
    raise AssertionError("a missing column was not refused")
assert [m.artifact_path for m in nbtrack.get_run(run.id).models] == ["model"]
""",
    ),
    Check("the registry widget", "nbtrack.models()", shows=WIDGET_VIEWS),
    Check(
        "import a CSV of metrics, and W&B code with the import changed",
        """
from pathlib import Path
Path("sweep.csv").write_text("run,epoch,lr,loss\\na,0,0.1,1.0\\na,1,0.1,0.5\\nb,0,0.2,0.9\\n")
assert nbtrack.import_csv("sweep.csv", run_column="run", step_column="epoch",
                          param_columns=["lr"], experiment="csv") == 2
assert nbtrack.import_csv("sweep.csv", run_column="run", step_column="epoch",
                          param_columns=["lr"], experiment="csv") == 0
import nbtrack.wandb as wandb
run = wandb.init(project="bare-wandb", config={"lr": 0.1})
for step in range(3):
    wandb.log({"loss": 1 / (step + 1)})
wandb.finish()
assert nbtrack.get_run(run.id).params == {"lr": 0.1}
assert len(nbtrack.history(run.id, "loss")) == 3
""",
    ),
    Check("%track models", "%track models name LIKE 'doub%'", shows=WIDGET_VIEWS),
    Check(
        "MLflow tutorial code with the import changed",
        """
import nbtrack.mlflow as mlflow
mlflow.set_experiment("mlflow-style")
with mlflow.start_run(run_name="tutorial") as active:
    mlflow.log_params({"alpha": 0.5})
    for step in range(3):
        mlflow.log_metric("rmse", 1.0 / (step + 1), step=step)
found = mlflow.search_runs(experiment_names=["mlflow-style"], filter_string="params.alpha = '0.5'")
assert found["run_id"].tolist() == [active.info.run_id], found
assert found["metrics.rmse"].tolist() == [1 / 3] and found["status"].tolist() == ["FINISHED"]
nbtrack.set_experiment("sweep")
""",
    ),
    Check(
        "optional features name the extra to install",
        """
from pathlib import Path
Path("tb/run-1").mkdir(parents=True, exist_ok=True)
Path("tb/run-1/events.out.tfevents.1.host").write_bytes(b"")
Path("wandb/run-20260101_000000-abc/run-abc.wandb").parent.mkdir(parents=True, exist_ok=True)
Path("wandb/run-20260101_000000-abc/run-abc.wandb").write_bytes(b"")
for call, extra in ((lambda: nbtrack.import_mlflow("sqlite:///x.db"), "mlflow"),
                    (lambda: nbtrack.search(output="polars"), "polars"),
                    (lambda: nbtrack.serve("models:/doubler@champion", port=0), "serve"),
                    (lambda: nbtrack.import_tensorboard("tb"), "tensorboard"),
                    (lambda: nbtrack.import_wandb("wandb"), "wandb"),
                    (lambda: nbtrack.sweep(lambda x: x, {"x": "uniform(0,1)"}, method="optuna",
                                           n_trials=2, metric="x"), "optuna")):
    try:
        call()
    except nbtrack.NbtrackError as err:
        message = str(err)
        assert message.endswith(f"pip install 'nbtrack[{extra}]'"), message
        assert "\\n" not in message, message
    else:
        raise AssertionError(f"no error without the {extra} extra")
""",
    ),
    Check(
        "a notebook and a script as runs, and sweeps of them",
        """
import nbformat, subprocess, sys
from pathlib import Path
cells = [nbformat.v4.new_code_cell(c) for c in ("lr = 0.1", "import nbtrack; nbtrack.log(loss=lr)")]
cells[0].metadata["tags"] = ["parameters"]
nbformat.write(nbformat.v4.new_notebook(cells=cells), "train.ipynb")
launched = nbtrack.run_notebook("train.ipynb", {"lr": 0.5}, experiment="projects", progress=False)
assert nbtrack.get_run(launched.id).metrics == {"loss": 0.5}
Path("fit.py").write_text("import nbtrack\\nnbtrack.log(score=nbtrack.params()['x'] * 2)\\n")
cli = str(Path(sys.executable).with_name("nbtrack"))
args = ["sweep", "fit.py", "-p", "x=1:3", "--metric", "score", "--goal", "max", "-j", "2",
        "-e", "projects"]
done = subprocess.run([cli, "--store", "s", *args], capture_output=True, text=True, timeout=300)
assert done.returncode == 0, done.stderr
assert "best score=6" in done.stdout, done.stdout
result = nbtrack.sweep(lambda depth: 1 / depth, {"depth": [1, 2, 4]}, metric="loss",
                       experiment="projects")
assert result.best.params == {"depth": 4}, result
assert len(nbtrack.search("tags.`nbtrack.kind` = 'sweep'", experiment="projects")) == 2
""",
    ),
    Check(
        "the JupyterLab extension and its server extension are installed, nothing to enable",
        """
import json, sys
from pathlib import Path
lab = Path(sys.prefix, "share", "jupyter", "labextensions", "nbtrack")
assert json.loads((lab / "package.json").read_text())["name"] == "nbtrack"
assert list((lab / "static").glob("remoteEntry.*.js")), list(lab.rglob("*"))
config = Path(sys.prefix, "etc", "jupyter", "jupyter_server_config.d", "nbtrack.json")
enabled = json.loads(config.read_text())["ServerApp"]["jpserver_extensions"]
assert enabled == {"nbtrack.server": True}, enabled
""",
    ),
    Check(
        "every CLI subcommand",
        """
import json, subprocess, sys
from pathlib import Path
cli = str(Path(sys.executable).with_name("nbtrack"))

def call(*args, store="s", code=0):
    done = subprocess.run([cli, "--store", store, *args], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
    return done

listed = json.loads(call("ls", "--json", "-e", "sweep", "-f", "params.depth > 1").stdout)
assert len(listed) == 7, listed
assert "trial-9" in call("ls", "-n", "50").stdout
assert json.loads(call("show", ids[0], "--json").stdout)["params"]["seed"] == 0
assert "trial-0" in call("show", ids[0]).stdout
call("export", "cli.parquet", "-e", "sweep")
call("export", "cli-bundle/", "-e", "sweep")
assert len(pd.read_parquet("cli.parquet")) == 10
call("import", "cli-bundle/", store="cli-store")
assert json.loads(call("sql", "SELECT count(*) AS n FROM runs", "--json",
                       store="cli-store").stdout) == [{"n": 10}]
call("delete", ids[1])
call("restore", ids[1])
call("compact", "--json")
failed = call("import-mlflow", "sqlite:///x.db", code=1)
assert "pip install 'nbtrack[mlflow]'" in failed.stderr, failed.stderr
assert "doubler" in call("models", "ls").stdout
assert "Production" in call("models", "show", "doubler").stdout
failed = call("serve", "models:/doubler@champion", "--port", "0", code=1)
assert "pip install 'nbtrack[serve]'" in failed.stderr, failed.stderr
assert call("--version").stdout.startswith("nbtrack ")
""",
    ),
]


def _outcome(check: Check, reply: dict, outputs: list[dict]) -> str | None:
    """None when the cell ran and displayed what it should, else what went wrong."""
    content = reply["content"]
    if content["status"] != "ok":
        return ANSI.sub("", "\n".join(content.get("traceback") or [content.get("evalue", "")]))
    shown: dict[str, str] = {}
    text = ""
    for out in outputs:
        kind, body = out["header"]["msg_type"], out["content"]
        if kind in ("display_data", "execute_result", "update_display_data"):
            shown.update(body["data"])
            text += body["data"].get("text/plain", "")
        elif kind == "stream":
            text += body["text"]
        elif kind == "error":
            return ANSI.sub("", "\n".join(body["traceback"]))
    # a saved image is a PNG, or one inside the HTML (see nbtrack/widgets/saved.py)
    inline = re.search(r"data:image/png;base64,([^\"]+)", shown.get("text/html", ""))
    image = shown.get("image/png") or (inline.group(1) if inline else "")
    missing = [m for m in check.shows if not (image if m == "image" else shown.get(m))]
    if missing:
        return f"displayed {sorted(shown)}, missing {missing}\n{ANSI.sub('', text)}"
    if "image" in check.shows and not image.startswith(PNG_B64):
        return "the saved image is not a PNG"
    if check.prints not in text:
        return f"output lacks {check.prints!r}:\n{text}"
    return None


def main(results: Path, workdir: Path) -> None:
    from jupyter_client.manager import start_new_kernel

    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(workdir), env=env)
    outcome: dict[str, str | None] = {}
    try:
        for check in CHECKS:
            outputs: list[dict] = []
            reply = kc.execute_interactive(
                check.code.strip(), timeout=600, output_hook=outputs.append, allow_stdin=False
            )
            outcome[check.name] = _outcome(check, reply, outputs)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    results.write_text(json.dumps(outcome, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
