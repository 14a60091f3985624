"""Model folders: each flavor round-trips a real model; signatures; URIs; logging into runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import ROOT
from sklearn.datasets import load_iris, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nbtrack
from nbtrack.errors import InactiveRunError, ModelNotFoundError, ModelSignatureError
from nbtrack.mlmodel import (
    ModelSignature,
    PyFuncModel,
    PythonModel,
    infer_signature,
    load_model,
    locate,
    log_model,
    save_model,
)
from nbtrack.mlmodel.signature import ColSpec, TensorSpec


@pytest.fixture(scope="module")
def wine() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_wine(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


def files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


# ---- flavors: round trips on real models ---------------------------------------------------
def test_sklearn_pipeline_round_trip(tmp_path, wine):
    X, y = wine
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    info = save_model(model, tmp_path / "m", input_example=X.head(3))
    assert info.flavor == "sklearn" and info.model_uri == str(tmp_path / "m")
    assert files(tmp_path / "m") == {
        "MLmodel", "model.pkl", "requirements.txt", "python_env.yaml", "conda.yaml",
        "input_example.json", "serving_input_example.json",
    }  # fmt: skip
    native = load_model(tmp_path / "m")
    assert type(native).__name__ == "Pipeline"
    assert (native.predict(X) == model.predict(X)).all()
    generic = load_model(str(tmp_path / "m"), generic=True)
    assert isinstance(generic, PyFuncModel)
    assert (generic.predict(X) == model.predict(X)).all()
    assert generic.get_raw_model().__class__.__name__ == "Pipeline"
    pd.testing.assert_frame_equal(generic.input_example, X.head(3))
    assert generic.metadata.get_output_schema() == [ColSpec("long")]


def test_generic_predict_takes_every_input_shape(tmp_path, wine):
    X, y = wine
    model = LogisticRegression(max_iter=5000).fit(X, y)
    save_model(model, tmp_path / "m", input_example=X.head(2))
    generic = load_model(tmp_path / "m", generic=True)
    expected = model.predict(X.head(4)).tolist()
    rows = X.head(4).to_dict("records")
    assert generic.predict(rows).tolist() == expected
    assert generic.predict(X.head(4).to_dict("list")).tolist() == expected
    assert generic.predict(X.head(4).to_numpy()).tolist() == expected  # columns by position
    assert generic.predict(X.head(4).to_numpy().tolist()).tolist() == expected
    assert generic.predict(rows[0]).tolist() == expected[:1]  # one row as a dict
    shuffled = X.head(4)[list(reversed(X.columns))].assign(extra=1)
    assert generic.predict(shuffled).tolist() == expected  # reordered, extra column dropped
    # scikit-learn's predict takes no params: they are left out with a warning, as MLflow does
    with pytest.warns(nbtrack.NbtrackWarning, match=r"takes no parameters; ignoring \['depth'\]"):
        assert generic.predict(X.head(4), params={"depth": 2}).tolist() == expected


def test_python_model_with_artifacts(tmp_path):
    (tmp_path / "offset.txt").write_text("10")
    (tmp_path / "vocab").mkdir()
    (tmp_path / "vocab" / "words.txt").write_text("a b c")

    class AddOffset(PythonModel):
        def load_context(self, context):
            self.offset = float(Path(context.artifacts["offset"]).read_text())
            self.words = (Path(context.artifacts["vocab"]) / "words.txt").read_text().split()

        def predict(self, context, model_input, params=None):
            scale = (params or {}).get("scale", 1)
            return (model_input["x"] + self.offset) * scale

    example = pd.DataFrame({"x": [1.0, 2.0]})
    artifacts = {"offset": tmp_path / "offset.txt", "vocab": tmp_path / "vocab"}
    info = save_model(AddOffset(), tmp_path / "m", artifacts=artifacts, input_example=example)
    assert info.flavor == "python_function"
    assert {"artifacts/offset.txt", "artifacts/vocab/words.txt", "python_model.pkl"} <= files(
        tmp_path / "m"
    )
    (tmp_path / "offset.txt").unlink()  # the model uses its own copy
    model = load_model(tmp_path / "m")  # a generic model loads as a PyFuncModel
    assert isinstance(model, PyFuncModel)
    assert model.predict(example).tolist() == [11.0, 12.0]
    assert model.predict(example, params={"scale": 2}).tolist() == [22.0, 24.0]
    assert model.unwrap_python_model().words == ["a", "b", "c"]
    with pytest.raises(ModelSignatureError, match="'x'"):
        model.predict(pd.DataFrame({"y": [1.0]}))


def test_python_model_without_context_argument(tmp_path):
    class Plain(PythonModel):
        def predict(self, model_input):
            return list(model_input) * 2

    save_model(Plain(), tmp_path / "m")
    assert load_model(tmp_path / "m", generic=True).predict([1]) == [1, 1]


def test_xgboost_round_trip(tmp_path, iris):
    import xgboost as xgb

    X, y = iris
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(X, y)
    info = save_model(model, tmp_path / "m", input_example=X.head(2))
    conf = info.flavors["xgboost"]
    assert conf["model_format"] == "ubj" and conf["data"] == "model.ubj"
    assert conf["model_class"] == "xgboost.sklearn.XGBClassifier"
    native = load_model(tmp_path / "m")
    assert type(native) is xgb.XGBClassifier
    np.testing.assert_allclose(native.predict_proba(X), model.predict_proba(X))
    assert (load_model(tmp_path / "m", generic=True).predict(X) == model.predict(X)).all()
    booster = model.get_booster()
    save_model(booster, tmp_path / "b")
    loaded = load_model(tmp_path / "b")
    assert type(loaded) is xgb.Booster
    generic = load_model(tmp_path / "b", generic=True)
    np.testing.assert_allclose(generic.predict(X), booster.predict(xgb.DMatrix(X)))


def test_lightgbm_round_trip(tmp_path, iris):
    import lightgbm as lgb

    X, y = iris
    model = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)
    save_model(model, tmp_path / "m", input_example=X.head(2))
    native = load_model(tmp_path / "m")
    assert type(native) is lgb.LGBMClassifier
    np.testing.assert_allclose(native.predict_proba(X), model.predict_proba(X))
    booster = model.booster_
    info = save_model(booster, tmp_path / "b", input_example=X.head(2))
    assert info.flavors["lightgbm"]["data"] == "model.lgb"
    text = (tmp_path / "b" / "model.lgb").read_text()
    assert text.startswith("tree\n")  # LightGBM's own text format
    assert type(load_model(tmp_path / "b")) is lgb.Booster
    np.testing.assert_allclose(
        load_model(tmp_path / "b", generic=True).predict(X), booster.predict(X)
    )


def test_onnx_round_trip(tmp_path, iris):
    import onnx
    import skl2onnx

    X, y = iris
    sk = LogisticRegression(max_iter=500).fit(X.to_numpy(), y)
    features = X.to_numpy(dtype=np.float32)
    proto = skl2onnx.to_onnx(sk, features[:1], options={"zipmap": False})
    info = save_model(proto, tmp_path / "m", input_example=features[:2])
    assert info.flavor == "onnx"
    assert info.signature.inputs == [TensorSpec("float32", (-1, 4))]
    assert isinstance(load_model(tmp_path / "m"), onnx.ModelProto)
    generic = load_model(tmp_path / "m", generic=True)
    out = generic.predict(features)
    assert (out["label"] == sk.predict(features)).all()
    np.testing.assert_allclose(out["probabilities"], sk.predict_proba(features), atol=1e-5)
    # float64 from JSON is fed as the model's float32; a wrong shape is refused first
    assert (generic.predict(X.to_numpy())["label"] == sk.predict(features)).all()
    with pytest.raises(ModelSignatureError, match=r"shape \[150, 3\].*\[-1, 4\]"):
        generic.predict(features[:, :3])


def test_flavor_chosen_and_detection_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown model flavor 'torch'"):
        save_model(LogisticRegression(), tmp_path / "a", flavor="torch")
    with pytest.raises(TypeError, match=r"cannot tell the flavor of a builtins\.dict"):
        save_model({"not": "a model"}, tmp_path / "b")
    assert not (tmp_path / "b").exists() and not list(tmp_path.glob(".b.*"))

    class Duck:  # predicts, but is no PythonModel: chosen explicitly
        def predict(self, context, model_input, params=None):
            return model_input

    save_model(Duck(), tmp_path / "c", flavor="python_function")
    assert load_model(tmp_path / "c", generic=True).predict([3]) == [3]
    with pytest.raises(ModelNotFoundError, match="has no 'onnx' flavor; it has: python"):
        load_model(tmp_path / "c", flavor="onnx")


def test_detection_imports_only_the_models_library(tmp_path):
    code = f"""
import sys
from sklearn.linear_model import LinearRegression
from nbtrack.mlmodel import save_model
save_model(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]), {str(tmp_path / "m")!r})
print(sorted(m for m in ("xgboost", "lightgbm", "onnx", "onnxruntime", "mlflow") if m in sys.modules))
"""  # noqa: E501
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_existing_folder_is_refused_and_never_half_written(tmp_path, wine):
    X, y = wine
    model = LogisticRegression(max_iter=5000).fit(X.to_numpy()[:, :2], y)
    save_model(model, tmp_path / "m")
    with pytest.raises(FileExistsError, match="already exists"):
        save_model(model, tmp_path / "m")

    class Broken(PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input

        def __reduce__(self):
            raise RuntimeError("cannot pickle me")

    with pytest.raises(RuntimeError, match="cannot pickle me"):
        save_model(Broken(), tmp_path / "broken")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_requirements_pinned_to_installed_versions(tmp_path, wine):
    import importlib.metadata as md

    X, y = wine
    model = LogisticRegression(max_iter=5000).fit(X.to_numpy()[:, :2], y)
    save_model(model, tmp_path / "m", extra_pip_requirements=["pandas>=2"])
    lines = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert lines == [
        f"scikit-learn=={md.version('scikit-learn')}",
        f"cloudpickle=={md.version('cloudpickle')}",
        "pandas>=2",
    ]
    env = yaml.safe_load((tmp_path / "m" / "python_env.yaml").read_text())
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert env["dependencies"] == ["-r requirements.txt"]
    conda = yaml.safe_load((tmp_path / "m" / "conda.yaml").read_text())
    assert conda["dependencies"][-1] == {"pip": lines}
    save_model(model, tmp_path / "n", pip_requirements=["scikit-learn"])
    assert (tmp_path / "n" / "requirements.txt").read_text() == "scikit-learn"


# ---- signatures ----------------------------------------------------------------------------
def test_infer_signature_kinds():
    frame = pd.DataFrame({
        "f": [1.5], "f32": np.array([1.5], dtype="float32"), "i": [1],
        "i32": np.array([1], dtype="int32"), "b": [True], "s": ["x"],
        "t": pd.to_datetime(["2024-01-01"]),
    })  # fmt: skip
    assert infer_signature(frame).inputs == [
        ColSpec("double", "f"), ColSpec("float", "f32"), ColSpec("long", "i"),
        ColSpec("integer", "i32"), ColSpec("boolean", "b"), ColSpec("string", "s"),
        ColSpec("datetime", "t"),
    ]  # fmt: skip
    assert infer_signature(np.zeros((3, 2, 5), dtype="uint8")).inputs == [
        TensorSpec("uint8", (-1, 2, 5))
    ]
    assert infer_signature({"a": 1.0, "b": ["x", "y"]}).inputs == [
        ColSpec("double", "a"), ColSpec("string", "b"),
    ]  # fmt: skip
    assert infer_signature([{"a": 1, "b": 2.5}, {"a": 2, "b": 3}]).inputs == [
        ColSpec("long", "a"), ColSpec("double", "b"),
    ]  # fmt: skip
    named = infer_signature({"x": np.zeros((2, 3), dtype="float32")})
    assert named.inputs == [TensorSpec("float32", (-1, 3), "x")]
    assert ModelSignature.from_dict(named.to_dict()) == named
    with pytest.raises(TypeError, match="cannot infer a signature from object"):
        infer_signature(object())


def test_signature_enforced_before_the_model_runs(tmp_path):
    seen = tmp_path / "seen.txt"

    class Recorder(PythonModel):  # writes the dtypes it is given to a file
        def predict(self, context, model_input, params=None):
            with open(seen, "a") as f:
                f.write(repr(model_input.dtypes.astype(str).to_dict()) + "\n")
            return model_input["n"]

    example = pd.DataFrame({"name": ["a"], "n": [1], "w": [0.5]})
    save_model(Recorder(), tmp_path / "m", input_example=example)
    model = load_model(tmp_path / "m", generic=True)
    seen.unlink()
    with pytest.raises(ModelSignatureError, match=r"missing column 'w' \(double\)"):
        model.predict([{"name": "b", "n": 2}])
    with pytest.raises(ModelSignatureError, match=r"column 'n' has double values.*expects long"):
        model.predict({"name": ["b"], "n": [2.5], "w": [1.0]})
    with pytest.raises(ModelSignatureError, match=r"column 'w' has string values.*expects double"):
        model.predict({"name": ["b"], "n": [2], "w": ["heavy"]})
    hint = "missing values make an integer column float"
    with pytest.raises(ModelSignatureError, match=hint):
        model.predict(pd.DataFrame({"name": ["b", "c"], "n": [2, None], "w": [1.0, 2.0]}))
    assert not seen.exists()  # nothing reached the model
    # safe conversions pass: int -> double, int32 -> long
    got = model.predict(pd.DataFrame({"name": ["b"], "n": np.array([3], dtype="int32"), "w": [2]}))
    assert got.tolist() == [3]
    dtypes = {"name": str(example.dtypes["name"]), "n": "int64", "w": "float64"}
    assert seen.read_text() == f"{dtypes!r}\n"


def test_explicit_signature_and_none(tmp_path, wine):
    X, y = wine
    model = LogisticRegression(max_iter=5000).fit(X.to_numpy()[:, :2], y)
    sig = infer_signature(X.iloc[:, :2], model.predict(X.to_numpy()[:, :2]))
    info = save_model(model, tmp_path / "a", signature=sig)
    assert load_model(tmp_path / "a", generic=True).metadata.signature == sig == info.signature
    save_model(model, tmp_path / "b", input_example=X.iloc[:2, :2], signature=False)
    assert load_model(tmp_path / "b", generic=True).metadata.signature is None


# ---- URIs and runs -------------------------------------------------------------------------
def test_log_model_records_files_and_run_models(tmp_store, wine):
    X, y = wine
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    with nbtrack.run() as run:
        info = nbtrack_log(model, "forest", input_example=X.head(2), metadata={"team": "a"})
        log_model(LogisticRegression(max_iter=5000).fit(X.iloc[:, :2], y), "models/linear")
        with pytest.raises(FileExistsError, match="already has a model or artifact at 'forest'"):
            log_model(model, "forest")
        with pytest.raises(ValueError, match="relative path"):
            log_model(model, "../escape")
    assert info.model_uri == f"runs:/{run.id}/forest" and info.run_id == run.id
    assert info.path == tmp_store / "artifacts" / run.id / "forest"
    assert info.metadata == {"team": "a"}
    assert not [p for p in info.path.parent.iterdir() if p.name.startswith(".")]
    record = nbtrack.get_run(run.id)
    logged = {a["path"]: a for a in record.artifacts}
    assert {"forest/MLmodel", "forest/model.pkl", "models/linear/MLmodel"} <= set(logged)
    assert logged["forest/model.pkl"]["size"] == (info.path / "model.pkl").stat().st_size
    assert [(m.artifact_path, m.flavor) for m in record.models] == [
        ("forest", "sklearn"), ("models/linear", "sklearn"),
    ]  # fmt: skip
    assert record.models[0].model_uri == info.model_uri
    meta = yaml.safe_load((info.path / "MLmodel").read_text())
    assert meta["run_id"] == run.id and meta["artifact_path"] == "forest"
    # prefixes of run ids resolve like get_run's
    loaded = load_model(f"runs:/{run.id[:6]}/forest")
    assert (loaded.predict(X) == model.predict(X)).all()
    assert locate(f"runs:/{run.id}/models/linear").artifact_path == "models/linear"


def nbtrack_log(model, name, **options):
    return log_model(model, name, **options)


def test_log_model_needs_a_run(tmp_store):
    with pytest.raises(InactiveRunError, match="needs an active run"):
        log_model(LogisticRegression(), "m")
    with nbtrack.run() as run:
        pass
    with pytest.raises(InactiveRunError, match="has ended"):
        log_model(LogisticRegression(), "m", run=run)


def test_uris_that_resolve_to_nothing(tmp_store, tmp_path, wine):
    X, y = wine
    model = LogisticRegression(max_iter=5000).fit(X.iloc[:, :2], y)
    with nbtrack.run() as run:
        log_model(model, "clf")
        log_model(model, "tree")
    with nbtrack.run() as empty:
        pass
    with pytest.raises(ModelNotFoundError, match=rf"run {run.id} has no model at 'nope'; it has: clf, tree"):  # fmt: skip  # noqa: E501
        load_model(f"runs:/{run.id[:5]}/nope")
    with pytest.raises(ModelNotFoundError, match="it has none; log one with log_model"):
        load_model(f"runs:/{empty.id}/model")
    with pytest.raises(ModelNotFoundError, match="no run 'zzzzzzzz'"):
        load_model("runs:/zzzzzzzz/model")
    with pytest.raises(ModelNotFoundError, match="names no run"):
        locate("runs:/")
    with pytest.raises(ModelNotFoundError, match="no such folder"):
        load_model(tmp_path / "missing")
    (tmp_path / "parent").mkdir()
    save_model(model, tmp_path / "parent" / "inner")
    with pytest.raises(ModelNotFoundError, match="no MLmodel file; models inside it: inner"):
        load_model(tmp_path / "parent")
    assert locate((tmp_path / "parent" / "inner").as_uri()).path == tmp_path / "parent" / "inner"
    with pytest.raises(ModelNotFoundError, match="cannot load models from s3: URIs"):
        locate("s3://bucket/model")
    with pytest.raises(ModelNotFoundError, match="names no version"):
        locate("models:/wine")
