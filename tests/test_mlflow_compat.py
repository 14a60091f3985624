"""nbtrack.mlflow: MLflow tutorial code with only its import changed.

The quickstart runs twice in fresh processes, once on real MLflow (a sqlite store) and once on
nbtrack.mlflow, from the same source text; what it prints (search_runs' columns and dtypes,
registry state, predictions) must agree, and what it logged must be in nbtrack's store.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import script_env, wait_for

import nbtrack
import nbtrack.mlflow as mlflow
from nbtrack.errors import ModelSignatureError, RunNotFoundError
from nbtrack.mlflow import MlflowClient
from nbtrack.mlflow.entities import Metric, Param, RunTag, ViewType
from nbtrack.mlflow.exceptions import MlflowException, NotSupportedError

# MLflow's sqlite store and registry stages warn about themselves; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*noload.*", "ignore::FutureWarning")

HEADERS = {
    "mlflow": "import mlflow\nfrom mlflow.models import infer_signature\n"
    "from mlflow import MlflowClient\n",
    "nbtrack": "import nbtrack.mlflow as mlflow\n"
    "from nbtrack.mlflow.models import infer_signature\nfrom nbtrack.mlflow import MlflowClient\n",
}

QUICKSTART = """
import json, sys, warnings
warnings.simplefilter("ignore")
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("wine-quickstart")
X, y = load_wine(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

for n_estimators in (5, 50):
    with mlflow.start_run(run_name=f"rf-{n_estimators}") as run:
        params = {"n_estimators": n_estimators, "max_depth": 4, "random_state": 0}
        mlflow.log_params(params)
        model = RandomForestClassifier(**params).fit(X_train, y_train)
        for step in range(3):
            mlflow.log_metric("train_loss", 1.0 / (step + n_estimators), step=step)
        predictions = model.predict(X_test)
        mlflow.log_metrics({"accuracy": accuracy_score(y_test, predictions),
                            "f1": f1_score(y_test, predictions, average="macro")})
        mlflow.set_tag("model_name", "random-forest")
        signature = infer_signature(X_train, model.predict(X_train))
        model_info = mlflow.sklearn.log_model(
            sk_model=model, name="model", signature=signature, input_example=X_train.iloc[:3],
            registered_model_name="wine-rf", serialization_format="cloudpickle",
        )

runs = mlflow.search_runs(filter_string="params.max_depth = '4' and metrics.f1 > 0.5",
                          order_by=["metrics.f1 DESC", "attributes.start_time ASC"])
client = MlflowClient()
best_run = runs["run_id"][0]
best_version = client.search_model_versions(f"run_id = '{best_run}'")[0].version
client.set_registered_model_alias("wine-rf", "champion", best_version)
client.transition_model_version_stage("wine-rf", best_version, "Production")
champion = mlflow.pyfunc.load_model("models:/wine-rf@champion")
production = mlflow.sklearn.load_model("models:/wine-rf/Production")
print(json.dumps({
    "columns": {c: str(t) for c, t in runs.dtypes.items()},
    "statuses": runs["status"].tolist(),
    "n_estimators": runs["params.n_estimators"].tolist(),
    "run_names": runs["tags.mlflow.runName"].tolist(),
    "versions": sorted(int(v.version) for v in client.search_model_versions("name = 'wine-rf'")),
    "champion": int(client.get_model_version_by_alias("wine-rf", "champion").version),
    "stage": client.get_model_version("wine-rf", best_version).current_stage,
    "predictions": champion.predict(X_test.iloc[:5]).tolist(),
    "production": production.predict(X_test.iloc[:5]).tolist(),
    "history": [[m.step, m.value] for m in client.get_metric_history(best_run, "train_loss")],
    "params": client.get_run(best_run).data.params,
    "best_run": best_run,
}))
"""


def run_tutorial(tmp_path: Path, which: str, tracking_uri: str) -> dict:
    script = tmp_path / f"quickstart_{which}.py"
    script.write_text(HEADERS[which] + QUICKSTART)
    done = subprocess.run(
        [sys.executable, str(script), tracking_uri],
        env=script_env(tmp_path / "unused-store"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(autouse=True)
def _default_experiment():
    yield
    nbtrack.set_experiment("default")


def test_quickstart_gives_what_mlflow_gives_and_lands_in_nbtrack(tmp_path: Path) -> None:
    real = run_tutorial(tmp_path, "mlflow", f"sqlite:///{tmp_path}/mlflow.db")
    store = tmp_path / "store"
    ours = run_tutorial(tmp_path, "nbtrack", str(store))

    # search_runs' DataFrame: the same columns with the same dtypes (order aside)
    assert ours["columns"] == real["columns"]
    assert list(ours["columns"])[:6] == [
        "run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time",
    ]  # fmt: skip
    for key in ("statuses", "n_estimators", "run_names", "versions", "champion", "stage",
                "predictions", "production", "history", "params"):  # fmt: skip
        assert ours[key] == real[key], key
    assert ours["params"] == {"max_depth": "4", "n_estimators": "5", "random_state": "0"}

    # ...and it is nbtrack's data: typed params, metric history, artifacts, the registry
    nbtrack.set_store(store)
    runs = nbtrack.search(experiment="wine-quickstart", order_by="params.n_estimators")
    assert runs["name"].tolist() == ["rf-5", "rf-50"]
    assert runs["params.n_estimators"].tolist() == [5, 50]  # typed in nbtrack
    assert runs["status"].tolist() == ["finished", "finished"]
    assert runs["tags.model_name"].tolist() == ["random-forest"] * 2
    record = nbtrack.get_run(ours["best_run"])
    assert {"model/MLmodel", "model/model.pkl"} <= {a["path"] for a in record.artifacts}
    assert nbtrack.history(record.id, "train_loss")["step"].tolist() == [0, 1, 2]
    from nbtrack import registry

    champion = registry.get_model_version_by_alias("wine-rf", "champion")
    assert (champion.version, champion.stage, champion.run_id) == (1, "Production", record.id)


def test_start_run_follows_mlflows_rules(tmp_store: Path) -> None:
    with mlflow.start_run(run_name="outer") as outer:
        with pytest.raises(MlflowException, match=r"already active.*nested=True"):
            mlflow.start_run()
        with mlflow.start_run(run_name="inner", nested=True) as inner:
            assert mlflow.active_run().info.run_id == inner.info.run_id
        assert mlflow.active_run().info.run_id == outer.info.run_id
    assert mlflow.active_run() is None
    child = mlflow.get_run(inner.info.run_id)
    assert child.data.tags["mlflow.parentRunId"] == outer.info.run_id
    assert child.info.status == "FINISHED" and child.info.run_name == "inner"
    assert mlflow.get_parent_run(inner.info.run_id).info.run_id == outer.info.run_id
    assert nbtrack.get_run(inner.info.run_id).parent_id == outer.info.run_id

    # a failing block ends its run FAILED; end_run without a run does nothing, as in MLflow
    with pytest.raises(ZeroDivisionError), mlflow.start_run() as failed:
        raise ZeroDivisionError
    assert mlflow.get_run(failed.info.run_id).info.status == "FAILED"
    mlflow.end_run()


def test_logging_without_a_run_starts_one_and_end_run_ends_it(tmp_store: Path) -> None:
    assert mlflow.log_param("lr", 0.01) == 0.01
    run = mlflow.active_run()
    assert run is not None
    mlflow.log_metric("loss", 0.5)
    mlflow.log_metric("loss", 0.25, timestamp=1_700_000_000_000, synchronous=True)
    mlflow.end_run("KILLED")
    assert mlflow.active_run() is None
    assert nbtrack.get_run(run.info.run_id).status == "killed"
    assert mlflow.last_active_run().info.status == "KILLED"
    # without a step, points count 0, 1, 2 per key (nbtrack's way)
    assert nbtrack.history(run.info.run_id, "loss")["step"].tolist() == [0, 1]


def test_a_run_nbtrack_started_nests_the_mlflow_run_and_stays_nbtracks(tmp_store: Path) -> None:
    with nbtrack.run("cell") as cell:
        with mlflow.start_run(run_name="inside") as run:  # no nested=True needed
            mlflow.log_metric("acc", 0.9)
        mlflow.end_run()  # leaves the cell's run to nbtrack
        assert cell.status == "running"
        mlflow.log_metric("outer", 1.0)  # logs to the active run, the cell's
    assert nbtrack.get_run(run.info.run_id).parent_id == cell.id
    assert nbtrack.get_run(cell.id).metrics == {"outer": 1.0}


def test_experiments_are_names(tmp_store: Path) -> None:
    assert mlflow.create_experiment("exp-a") == "exp-a"
    with pytest.raises(MlflowException, match="already exists") as raised:
        mlflow.create_experiment("exp-a")
    assert raised.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(NotSupportedError, match="tag the runs instead"):
        mlflow.create_experiment("exp-tagged", tags={"team": "a"})
    assert mlflow.get_experiment_by_name("exp-never") is None
    with pytest.raises(MlflowException, match="an experiment's id is its name"):
        mlflow.get_experiment("exp-never")

    experiment = mlflow.set_experiment(experiment_id="exp-a")
    assert (experiment.experiment_id, experiment.name) == ("exp-a", "exp-a")
    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == "exp-a"
    with mlflow.start_run(experiment_id="0") as default_run:  # MLflow's default experiment
        pass
    assert nbtrack.get_run(default_run.info.run_id).experiment == "default"
    names = [e.name for e in mlflow.search_experiments(filter_string="name LIKE 'exp-%'")]
    assert "exp-a" in names and "default" not in names
    assert mlflow.get_experiment("exp-a").creation_time is not None

    mlflow.delete_experiment("exp-a")  # deletes its runs
    assert nbtrack.get_run(run.info.run_id).deleted
    assert mlflow.get_experiment("exp-a").lifecycle_stage == "deleted"
    mlflow.restore_experiment("exp-a")
    assert not nbtrack.get_run(run.info.run_id).deleted


def test_tracking_uris(tmp_path: Path) -> None:
    mlflow.set_tracking_uri((tmp_path / "a").as_uri())
    assert mlflow.get_tracking_uri() == (tmp_path / "a").as_uri()
    mlflow.set_tracking_uri(tmp_path / "b")
    assert mlflow.get_tracking_uri() == (tmp_path / "b").as_uri()
    assert MlflowClient(str(tmp_path / "b")).tracking_uri == (tmp_path / "b").as_uri()
    with pytest.raises(NotSupportedError, match=r"nbtrack has no tracking server.*export"):
        mlflow.set_tracking_uri("http://localhost:5000")
    with pytest.raises(NotSupportedError, match=r"import_mlflow\('sqlite:///m.db'\)"):
        mlflow.set_tracking_uri("sqlite:///m.db")
    with pytest.raises(NotSupportedError, match="one store per process"):
        MlflowClient(str(tmp_path / "elsewhere"))
    mlruns = tmp_path / "mlruns"
    (mlruns / "0").mkdir(parents=True)
    (mlruns / "0" / "meta.yaml").write_text("name: Default\n")
    with pytest.raises(NotSupportedError, match=r"MLflow file store.*import_mlflow"):
        mlflow.set_tracking_uri(mlruns)
    assert mlflow.get_tracking_uri() == (tmp_path / "b").as_uri()  # unchanged


def test_search_runs_speaks_mlflow(tmp_store: Path) -> None:
    mlflow.set_experiment("search")
    ids = {}
    for name, lr in (("a", 0.1), ("b", 0.01), ("c", 0.001)):
        with mlflow.start_run(run_name=name) as run:
            mlflow.log_params({"lr": lr, "layers": [64, 64], "opt": None})
            mlflow.log_metric("acc", 1 - lr)
        ids[name] = run.info.run_id
    frame = mlflow.search_runs(filter_string="tags.mlflow.runName != 'a'", order_by=["params.lr"])
    assert frame["tags.mlflow.runName"].tolist() == ["c", "b"]
    assert frame["params.layers"].tolist() == ["[64, 64]"] * 2
    assert frame["params.opt"].tolist() == ["None"] * 2
    assert frame["metrics.acc"].dtype == np.float64
    assert isinstance(frame["start_time"].dtype, pd.DatetimeTZDtype)

    started = mlflow.get_run(ids["a"]).info.start_time  # epoch ms, as in MLflow's filters
    assert len(mlflow.search_runs(filter_string=f"attributes.start_time >= {started}")) == 3
    assert mlflow.search_runs(filter_string=f"attributes.start_time < {started}").empty
    listed = mlflow.search_runs(filter_string="status = 'FINISHED' and params.lr < 0.05",
                                output_format="list")  # fmt: skip
    assert sorted(r.info.run_name for r in listed) == ["b", "c"]
    assert mlflow.search_runs(experiment_names=["no-such"]).empty
    assert len(mlflow.search_runs(search_all_experiments=True)) == 3
    assert len(mlflow.search_runs(experiment_ids=["search"], max_results=2)) == 2

    mlflow.delete_run(ids["a"])
    assert set(mlflow.search_runs()["run_id"]) == {ids["b"], ids["c"]}
    deleted = mlflow.search_runs(run_view_type=ViewType.DELETED_ONLY)
    assert deleted["run_id"].tolist() == [ids["a"]]
    assert mlflow.get_run(ids["a"]).info.lifecycle_stage == "deleted"
    mlflow.restore_run(ids["a"])
    assert len(mlflow.search_runs(run_view_type=ViewType.ALL)) == 3

    with pytest.raises(MlflowException, match="did you mean 'params'") as raised:
        mlflow.search_runs(filter_string="parms.lr < 1")
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
    assert isinstance(raised.value, nbtrack.FilterError)


def test_artifacts(tmp_store: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text("x\n1\n")
    (folder / "sub" / "b.csv").write_text("y\n2\n")
    with mlflow.start_run() as run:
        mlflow.log_artifact(tmp_path / "notes.txt")
        mlflow.log_artifact(str(tmp_path / "notes.txt"), artifact_path="docs")
        mlflow.log_artifacts(folder)
        mlflow.log_artifacts(folder, artifact_path="again")
        mlflow.log_dict({"depth": 4}, "config.json")
        mlflow.log_dict({"depth": 4}, "config/params.yaml")
        mlflow.log_text("some text", "texts/note.txt")
        uri = mlflow.get_artifact_uri("config.json")
    run_id = run.info.run_id
    assert Path(uri) == tmp_store / "artifacts" / run_id / "config.json"
    paths = {a["path"] for a in nbtrack.get_run(run_id).artifacts}
    assert paths == {
        "notes.txt", "docs/notes.txt", "a.csv", "sub/b.csv", "again/a.csv", "again/sub/b.csv",
        "config.json", "config/params.yaml", "texts/note.txt",
    }  # fmt: skip
    client = MlflowClient()
    top = client.list_artifacts(run_id)
    assert [(f.path, f.is_dir) for f in top] == [
        ("a.csv", False), ("again", True), ("config", True), ("config.json", False),
        ("docs", True), ("notes.txt", False), ("sub", True), ("texts", True),
    ]  # fmt: skip
    assert [f.path for f in client.list_artifacts(run_id, "again")] == ["again/a.csv",
                                                                        "again/sub"]  # fmt: skip
    local = client.download_artifacts(run_id, "again", str(tmp_path / "down"))
    assert (Path(local) / "sub" / "b.csv").read_text() == "y\n2\n"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config.json") == {"depth": 4}
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config/params.yaml") == {"depth": 4}
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/texts/note.txt") == "some text"
    with pytest.raises(MlflowException, match=r"has no artifact 'nope'.*config.json"):
        client.download_artifacts(run_id, "nope")
    with pytest.raises(MlflowException, match="relative path"):
        mlflow.log_text("x", "../escape.txt")


def test_figures_and_images(tmp_store: Path) -> None:
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    with mlflow.start_run() as run:
        try:
            import matplotlib

            matplotlib.use("Agg")
            from matplotlib import pyplot
        except ImportError:
            pyplot = None
        if pyplot is not None:
            figure, axes = pyplot.subplots()
            axes.plot([1, 2, 3])
            mlflow.log_figure(figure, "plots/curve.png")
        try:
            mlflow.log_image(image, artifact_file="images/black.png")
            logged_image = True
        except MlflowException as err:  # neither Pillow nor matplotlib installed
            assert "pip install pillow" in str(err)
            logged_image = False
        with pytest.raises(NotSupportedError, match="image series"):
            mlflow.log_image(image, key="sample", step=1)
        with pytest.raises(TypeError, match="matplotlib or plotly figure"):
            mlflow.log_figure(object(), "x.png")
    paths = {a["path"] for a in nbtrack.get_run(run.info.run_id).artifacts}
    if pyplot is not None:
        assert (tmp_store / "artifacts" / run.info.run_id / "plots/curve.png").read_bytes()[
            :4
        ] == b"\x89PNG"
    assert ("images/black.png" in paths) == logged_image


def test_inputs(tmp_store: Path) -> None:
    frame = pd.DataFrame({"x": [1, 2, 3]})
    with mlflow.start_run() as run:
        mlflow.log_input(mlflow.data.from_pandas(frame, source="wine.csv", name="wine"),
                         context="train")  # fmt: skip
        mlflow.log_input(frame, tags={"mlflow.data.context": "eval"})
    (train,) = [i for i in nbtrack.get_run(run.info.run_id).inputs if i["context"] == "train"]
    assert (train["name"], train["source"], train["num_rows"]) == ("wine", "wine.csv", 3)
    inputs = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert sorted(i.tags[0].value for i in inputs) == ["eval", "train"]
    with pytest.raises(NotSupportedError, match="input tags"), mlflow.start_run():
        mlflow.log_input(frame, tags={"origin": "x"})


def test_client_runs(tmp_store: Path) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment("client-exp")
    created = client.create_run(experiment_id, run_name="by-client", tags={"k": "v"})
    run_id = created.info.run_id
    assert mlflow.active_run() is None  # created, not made active (as in MLflow)
    client.log_batch(
        run_id,
        metrics=[Metric("loss", 0.5, 0, 0), Metric("loss", 0.4, 0, 1)],
        params=[Param("lr", "0.1")],
        tags=[RunTag("team", "a")],
    )
    client.log_metric(run_id, "loss", 0.3, step=2)
    assert client.log_param(run_id, "depth", 3) == 3
    client.set_tag(run_id, "stage", "dev")
    client.set_terminated(run_id)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.experiment_id == "client-exp"
    assert run.data.params == {"depth": "3", "lr": "0.1"}
    assert run.data.metrics == {"loss": 0.3}
    assert {"k": "v", "team": "a", "stage": "dev"}.items() <= run.data.tags.items()
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 0.5), (1, 0.4), (2, 0.3)]
    assert all(isinstance(m.timestamp, int) for m in history)

    with pytest.raises(NotSupportedError, match="not running in this process"):
        client.log_metric(run_id, "loss", 0.1)  # the run has ended
    with mlflow.start_run(run_id=run_id):  # reopened, as MLflow does
        mlflow.log_metric("loss", 0.2, step=3)
    reopened = client.get_run(run_id)
    assert reopened.info.status == "FINISHED" and reopened.data.metrics["loss"] == 0.2
    with pytest.raises(MlflowException, match="no run 'nope'") as raised:
        client.get_run("nope")
    assert isinstance(raised.value, RunNotFoundError)
    assert raised.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    for _ in range(3):
        with mlflow.start_run(experiment_id=experiment_id):
            pass
    first = client.search_runs([experiment_id], max_results=3)
    second = client.search_runs([experiment_id], max_results=3, page_token=first.token)
    assert len(first) == 3 and len(second) == 1 and second.token is None
    assert {r.info.run_id for r in first} | {r.info.run_id for r in second} >= {run_id}


def test_flavors_round_trip(tmp_store: Path, tmp_path: Path) -> None:
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    X = X.astype(np.float32)
    import lightgbm
    import xgboost

    booster = xgboost.XGBClassifier(n_estimators=5).fit(X, y)
    lgbm = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)
    with mlflow.start_run() as run:
        xgb_info = mlflow.xgboost.log_model(booster, artifact_path="xgb")  # MLflow 2's name
        lgb_info = mlflow.lightgbm.log_model(lgbm, name="lgb")
    assert xgb_info.model_uri == f"runs:/{run.info.run_id}/xgb"
    assert (mlflow.xgboost.load_model(xgb_info.model_uri).predict(X[:5]) == booster.predict(
        X[:5])).all()  # fmt: skip
    assert (mlflow.lightgbm.load_model(lgb_info.model_uri).predict(X[:5]) == lgbm.predict(
        X[:5])).all()  # fmt: skip

    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    logistic = LogisticRegression(max_iter=5000).fit(X / X.max(axis=0), y)
    onnx_model = to_onnx(logistic, X[:1])
    folder = tmp_path / "onnx-model"
    mlflow.onnx.save_model(onnx_model, folder)
    assert type(mlflow.onnx.load_model(folder)).__name__ == "ModelProto"
    scores = mlflow.pyfunc.load_model(folder).predict(X[:5] / X.max(axis=0))
    assert scores["output_label"].tolist() == logistic.predict(X[:5] / X.max(axis=0)).tolist()


def test_pyfunc_python_model_with_artifacts(tmp_store: Path, tmp_path: Path) -> None:
    (tmp_path / "offset.txt").write_text("10")

    class AddOffset(mlflow.pyfunc.PythonModel):
        def load_context(self, context):
            self.offset = float(Path(context.artifacts["offset"]).read_text())

        def predict(self, context, model_input, params=None):
            return model_input["x"] + self.offset

    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="adder", python_model=AddOffset(),
            artifacts={"offset": str(tmp_path / "offset.txt")},
            input_example=pd.DataFrame({"x": [1.0, 2.0]}), registered_model_name="adder",
        )  # fmt: skip
    assert info.registered_model_version == 1
    model = mlflow.pyfunc.load_model("models:/adder/1")
    assert model.predict(pd.DataFrame({"x": [1.0]})).tolist() == [11.0]
    with pytest.raises(ModelSignatureError, match="missing column 'x'"):
        model.predict(pd.DataFrame({"y": [1.0]}))  # the signature names the missing column
    with pytest.raises(NotSupportedError, match="PythonModel"), mlflow.start_run():
        mlflow.pyfunc.log_model(name="fn", python_model=lambda x: x)


def test_model_arguments_without_a_mapping_are_refused(tmp_store: Path) -> None:
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    with mlflow.start_run():
        with pytest.raises(NotSupportedError, match=r"conda_env.*pip_requirements"):
            mlflow.sklearn.log_model(model, name="m", conda_env={"dependencies": []})
        with pytest.raises(NotSupportedError, match=r"predict_proba|pyfunc_predict_fn"):
            mlflow.sklearn.log_model(model, name="m", pyfunc_predict_fn="predict_proba")
        with pytest.raises(MlflowException, match="not both"):
            mlflow.sklearn.log_model(model, name="a", artifact_path="b")
        info = mlflow.sklearn.log_model(model, "m", await_registration_for=300)  # positional
    assert info.artifact_path == "m"
    # outside a run, log_model starts one (MLflow 2's behaviour) and it stays active
    info = mlflow.sklearn.log_model(model, name="solo")
    assert mlflow.active_run().info.run_id == info.run_id
    mlflow.end_run()


def test_registry_through_the_client(tmp_store: Path) -> None:
    from sklearn.linear_model import LinearRegression

    client = MlflowClient()
    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, name="model")
    created = client.create_registered_model("lr", tags={"team": "a"}, description="linear")
    assert (created.name, created.tags, created.description) == ("lr", {"team": "a"}, "linear")
    v1 = client.create_model_version("lr", f"runs:/{run.info.run_id}/model", run.info.run_id)
    v2 = client.create_model_version("lr", "model", run_id=run.info.run_id)  # path in the run
    assert (v1.version, v2.version, v2.run_id, v2.current_stage) == (1, 2, run.info.run_id, "None")
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "lr", tags={"k": 1})
    assert (version.version, version.tags) == (3, {"k": "1"})

    client.set_registered_model_alias("lr", "champion", 2)
    assert client.get_model_version_by_alias("lr", "champion").version == 2
    assert client.get_registered_model("lr").aliases == {"champion": 2}
    client.transition_model_version_stage("lr", 1, "Staging")
    client.transition_model_version_stage("lr", 2, "staging", archive_existing_versions=True)
    assert client.get_model_version("lr", 1).current_stage == "Archived"
    assert [v.version for v in client.get_latest_versions("lr", stages=["Staging"])] == [2]
    client.update_model_version("lr", 2, description="best so far")
    client.set_model_version_tag("lr", 2, "validated", True)
    client.set_registered_model_tag("lr", "owner", "me")
    got = client.get_model_version("lr", 2)
    assert (got.description, got.tags, got.aliases) == ("best so far", {"validated": "True"},
                                                        ["champion"])  # fmt: skip
    assert client.update_registered_model("lr", description="d").description == "d"
    assert client.get_registered_model("lr").tags == {"team": "a", "owner": "me"}
    found = client.search_model_versions("name = 'lr' and tags.validated = 'True'")
    assert [v.version for v in found] == [2]
    assert [m.name for m in mlflow.search_registered_models(filter_string="name LIKE 'l%'")] == [
        "lr"
    ]
    assert Path(client.get_model_version_download_uri("lr", 2), "MLmodel").exists()

    client.delete_registered_model_alias("lr", "champion")
    with pytest.raises(MlflowException) as raised:
        client.get_model_version_by_alias("lr", "champion")
    assert raised.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    client.delete_model_version("lr", 3)
    assert sorted(v.version for v in client.search_model_versions("name = 'lr'")) == [1, 2]
    client.delete_registered_model("lr")
    with pytest.raises(MlflowException):
        client.get_registered_model("lr")


def test_what_nbtrack_lacks_says_the_nbtrack_way(tmp_store: Path) -> None:
    with pytest.raises(NotSupportedError, match="has no extra_tags: leave it out"):
        mlflow.autolog(extra_tags={"a": "b"})
    with pytest.raises(NotSupportedError, match="tracing"):
        mlflow.start_span("x")
    with pytest.raises(NotSupportedError, match="ONNX"):
        mlflow.pytorch.log_model(object(), name="net")
    with pytest.raises(NotSupportedError, match="log_artifact"):
        mlflow.log_table({"a": [1]}, "t.json")
    with pytest.raises(NotSupportedError, match=r"not part of nbtrack.mlflow"):
        mlflow.some_future_function()
    with pytest.raises(NotSupportedError, match="name cannot change"):
        MlflowClient().rename_registered_model("a", "b")
    with pytest.raises(NotSupportedError, match="append-only"):
        mlflow.delete_tag("x")
    with pytest.raises(NotSupportedError, match="each system-metrics sample"):
        mlflow.set_system_metrics_samples_before_logging(10)
    # tools that probe a module (hasattr, IPython, pytest) see plain absence
    assert not hasattr(mlflow, "start_span") and not hasattr(mlflow, "__wrapped__")
    assert not hasattr(MlflowClient(), "rename_experiment")


def test_modules_import_like_mlflows() -> None:
    from nbtrack.mlflow.client import MlflowClient as FromClient
    from nbtrack.mlflow.models.signature import infer_signature
    from nbtrack.mlflow.tracking import MlflowClient as FromTracking

    assert FromClient is FromTracking is MlflowClient
    assert infer_signature(pd.DataFrame({"a": [1.0]})).inputs[0].name == "a"
    assert {"sklearn", "pyfunc", "xgboost", "lightgbm", "onnx"} <= set(dir(mlflow))
    assert set(mlflow.__all__) <= set(dir(mlflow))
    for name in mlflow.__all__:
        assert callable(getattr(mlflow, name)), name


def test_each_thread_has_its_own_mlflow_run(tmp_store: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def trial(lr: float) -> str:
        with mlflow.start_run(run_name=f"lr-{lr}") as run:  # no error: another thread's run
            mlflow.log_param("lr", lr)
            mlflow.log_metric("loss", lr * 10)
        return run.info.run_id

    with mlflow.start_run(run_name="sweep") as sweep, ThreadPoolExecutor(3) as pool:
        ids = list(pool.map(trial, [0.1, 0.01, 0.001]))
    assert sweep.info.status == "FINISHED" and sweep.info.end_time is not None
    for run_id, lr in zip(ids, [0.1, 0.01, 0.001], strict=True):
        run = mlflow.get_run(run_id)
        assert run.data.params == {"lr": str(lr)} and run.data.metrics == {"loss": lr * 10}
        assert run.data.tags["mlflow.parentRunId"] == sweep.info.run_id  # nbtrack nests them


def test_system_metrics_switches_map_onto_nbtracks_sampler(tmp_store):
    mlflow.set_tracking_uri(str(tmp_store))
    mlflow.enable_system_metrics_logging()
    mlflow.set_system_metrics_sampling_interval(0.1)
    try:
        with mlflow.start_run() as sampled:
            wait_for(lambda: nbtrack.history(sampled.info.run_id, "system/cpu_percent").shape[0]
                     >= 2, "two system-metric samples")  # fmt: skip
        with mlflow.start_run(log_system_metrics=False) as quiet:
            pass
    finally:
        mlflow.disable_system_metrics_logging()
        mlflow.set_system_metrics_sampling_interval(None)
    assert not any(k.startswith("system/") for k in nbtrack.get_run(quiet.info.run_id).metrics)


def test_mlflow_autolog_is_nbtracks(tmp_store: Path) -> None:
    from sklearn.linear_model import LinearRegression

    from nbtrack.autologging import enabled

    mlflow.set_tracking_uri(str(tmp_store))
    try:
        mlflow.autolog(exclude_flavors=["keras"], log_input_examples=True)
        assert enabled() == ["lightgbm", "sklearn", "xgboost"]
        mlflow.sklearn.autolog(log_models=False)
        assert enabled() == ["sklearn"]
        with mlflow.start_run() as run:
            LinearRegression().fit([[0], [1], [2]], [0, 1, 2])
        logged = mlflow.get_run(run.info.run_id)
        assert logged.data.params["fit_intercept"] == "True"
        assert logged.data.metrics["training_r2_score"] == pytest.approx(1.0)
    finally:
        mlflow.autolog(disable=True)
    assert enabled() == []
