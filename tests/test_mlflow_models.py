"""MLflow both ways: MLflow loads the model folders nbtrack writes, nbtrack loads MLflow's."""

from __future__ import annotations

import logging
from pathlib import Path

import mlflow
import mlflow.models
import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nbtrack
from nbtrack.errors import ModelSignatureError
from nbtrack.mlmodel import PythonModel, infer_signature, load_model, log_model, save_model

logging.getLogger("mlflow").setLevel(logging.ERROR)


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture(scope="module")
def pipeline(iris):
    X, y = iris
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)


class Scaler(PythonModel):
    """A generic model that reads its factor from an artifact."""

    def load_context(self, context):
        self.factor = float(Path(context.artifacts["factor"]).read_text())

    def predict(self, context, model_input, params=None):
        return model_input.sum(axis=1) * self.factor


class MlflowScaler(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        self.factor = float(Path(context.artifacts["factor"]).read_text())

    def predict(self, context, model_input, params=None):
        return model_input.sum(axis=1) * self.factor


# ---- MLflow loads what nbtrack wrote ------------------------------------------------------
def test_mlflow_loads_nbtrack_sklearn(tmp_path, iris, pipeline):
    X, _ = iris
    info = save_model(pipeline, tmp_path / "m", input_example=X.head(3))
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    assert (loaded.predict(X) == pipeline.predict(X)).all()
    assert mlflow.models.Model.load(str(tmp_path / "m")).signature.to_dict() == (
        info.signature.to_dict()
    )
    pd.testing.assert_frame_equal(loaded.input_example, X.head(3))
    native = mlflow.sklearn.load_model(str(tmp_path / "m"))
    assert (native.predict(X) == pipeline.predict(X)).all()
    with pytest.raises(mlflow.exceptions.MlflowException, match="missing inputs"):
        loaded.predict(X.drop(columns=[X.columns[0]]))  # MLflow enforces our signature too


def test_mlflow_loads_a_logged_model_from_the_run_folder(tmp_store, iris, pipeline):
    X, _ = iris
    with nbtrack.run():
        info = log_model(pipeline, "clf", input_example=X.head(2))
    assert (mlflow.pyfunc.load_model(str(info.path)).predict(X) == pipeline.predict(X)).all()


def test_mlflow_loads_nbtrack_python_model(tmp_path, iris):
    X, _ = iris
    (tmp_path / "factor.txt").write_text("3")
    save_model(
        Scaler(), tmp_path / "m", artifacts={"factor": tmp_path / "factor.txt"},
        input_example=X.head(2),
    )  # fmt: skip
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict(X), X.sum(axis=1) * 3)


def test_mlflow_loads_nbtrack_xgboost(tmp_path, iris):
    import mlflow.xgboost
    import xgboost as xgb

    X, y = iris
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(X, y)
    save_model(model, tmp_path / "m", input_example=X.head(2))
    native = mlflow.xgboost.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(native.predict_proba(X), model.predict_proba(X))
    assert (mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(X) == model.predict(X)).all()


def test_mlflow_loads_nbtrack_lightgbm(tmp_path, iris):
    import lightgbm as lgb
    import mlflow.lightgbm

    X, y = iris
    model = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)
    save_model(model, tmp_path / "m", input_example=X.head(2))
    save_model(model.booster_, tmp_path / "b", input_example=X.head(2))
    native = mlflow.lightgbm.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(native.predict_proba(X), model.predict_proba(X))
    booster = mlflow.lightgbm.load_model(str(tmp_path / "b"))
    np.testing.assert_allclose(booster.predict(X), model.booster_.predict(X))
    generic = mlflow.pyfunc.load_model(str(tmp_path / "b"))
    np.testing.assert_allclose(generic.predict(X), model.booster_.predict(X))


def test_mlflow_loads_nbtrack_onnx(tmp_path, iris):
    import mlflow.onnx
    import skl2onnx

    X, y = iris
    sk = LogisticRegression(max_iter=1000).fit(X.to_numpy(), y)
    features = X.to_numpy(dtype=np.float32)
    proto = skl2onnx.to_onnx(sk, features[:1], options={"zipmap": False})
    save_model(proto, tmp_path / "m", input_example=features[:2])
    assert mlflow.onnx.load_model(str(tmp_path / "m")).graph.name == proto.graph.name
    out = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(features)
    assert (out["label"] == sk.predict(features)).all()


# ---- nbtrack loads what MLflow wrote ------------------------------------------------------
def test_nbtrack_loads_mlflow_sklearn(tmp_path, iris, pipeline):
    X, _ = iris
    mlflow.sklearn.save_model(
        pipeline, str(tmp_path / "m"), input_example=X.head(3), serialization_format="cloudpickle"
    )
    native = load_model(tmp_path / "m")
    assert (native.predict(X) == pipeline.predict(X)).all()
    generic = load_model(tmp_path / "m", generic=True)
    assert (generic.predict(X.to_dict("records")) == pipeline.predict(X)).all()
    expected = mlflow.models.Model.load(str(tmp_path / "m")).signature.to_dict()
    assert generic.metadata.signature.to_dict() == expected
    with pytest.raises(ModelSignatureError, match="missing column 'sepal length"):
        generic.predict(X.drop(columns=["sepal length (cm)"]))


def test_nbtrack_loads_mlflow_python_model(tmp_path, iris):
    X, _ = iris
    (tmp_path / "factor.txt").write_text("2")
    mlflow.pyfunc.save_model(
        str(tmp_path / "m"), python_model=MlflowScaler(),
        artifacts={"factor": str(tmp_path / "factor.txt")}, input_example=X.head(2),
    )  # fmt: skip
    generic = load_model(f"file://{tmp_path / 'm'}", generic=True)
    np.testing.assert_allclose(generic.predict(X), X.sum(axis=1) * 2)
    assert isinstance(generic.unwrap_python_model(), MlflowScaler)


def test_nbtrack_loads_mlflow_xgboost(tmp_path, iris):
    import mlflow.xgboost
    import xgboost as xgb

    X, y = iris
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(X, y)
    mlflow.xgboost.save_model(model, str(tmp_path / "m"), input_example=X.head(2))
    booster = model.get_booster()
    mlflow.xgboost.save_model(booster, str(tmp_path / "b"), model_format="json")
    native = load_model(tmp_path / "m")
    np.testing.assert_allclose(native.predict_proba(X), model.predict_proba(X))
    assert (load_model(tmp_path / "m", generic=True).predict(X) == model.predict(X)).all()
    assert (tmp_path / "b" / "model.json").is_file()
    np.testing.assert_allclose(
        load_model(tmp_path / "b", generic=True).predict(X), booster.predict(xgb.DMatrix(X))
    )


def test_nbtrack_loads_mlflow_lightgbm(tmp_path, iris):
    import lightgbm as lgb
    import mlflow.lightgbm

    X, y = iris
    model = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)
    mlflow.lightgbm.save_model(model.booster_, str(tmp_path / "b"), input_example=X.head(2))
    mlflow.lightgbm.save_model(
        model, str(tmp_path / "m"), input_example=X.head(2), serialization_format="cloudpickle"
    )
    assert type(load_model(tmp_path / "b")) is lgb.Booster
    np.testing.assert_allclose(
        load_model(tmp_path / "b", generic=True).predict(X), model.booster_.predict(X)
    )
    native = load_model(tmp_path / "m")
    np.testing.assert_allclose(native.predict_proba(X), model.predict_proba(X))


def test_nbtrack_loads_mlflow_onnx(tmp_path, iris):
    import mlflow.onnx
    import onnx
    import skl2onnx

    X, y = iris
    sk = LogisticRegression(max_iter=1000).fit(X.to_numpy(), y)
    features = X.to_numpy(dtype=np.float32)
    proto = skl2onnx.to_onnx(sk, features[:1], options={"zipmap": False})
    mlflow.onnx.save_model(proto, str(tmp_path / "m"), input_example=features[:2])
    assert isinstance(load_model(tmp_path / "m"), onnx.ModelProto)
    ours = load_model(tmp_path / "m", generic=True).predict(features)
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(features)
    assert (ours["label"] == theirs["label"]).all()
    np.testing.assert_allclose(ours["probabilities"], theirs["probabilities"])


# ---- the same signatures as MLflow's -------------------------------------------------------
@pytest.mark.parametrize(
    "example",
    [
        pd.DataFrame(
            {
                "a": [1.5],
                "b": [1],
                "c": ["x"],
                "d": [True],
                "e": np.array([1.0], dtype="float32"),
                "f": np.array([1], dtype="int32"),
            }
        ),
        np.zeros((2, 3), dtype="float32"),
        np.zeros((2, 3, 4), dtype="int64"),
        {"a": 1.0, "b": "x"},
        [{"a": 1, "b": 2.5}, {"a": 2, "b": 3.5}],
    ],
    ids=["frame", "matrix", "tensor3", "dict", "records"],
)
def test_infer_signature_matches_mlflow(example):
    assert infer_signature(example).to_dict() == (mlflow.models.infer_signature(example).to_dict())
