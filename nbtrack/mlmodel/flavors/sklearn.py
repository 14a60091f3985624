"""scikit-learn estimators and Pipelines, cloudpickled (as MLflow's sklearn flavor can)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from .base import Flavor, MethodPredictor, Predictor, Saved, from_library, pyfunc_conf

MODEL_FILE = "model.pkl"


class SklearnFlavor(Flavor):
    name = "sklearn"
    loader_module = "mlflow.sklearn"
    extra = "sklearn"
    library = "sklearn"

    def matches(self, model: Any) -> bool:
        return from_library(model, "sklearn")

    def save(self, model: Any, folder: Path, **options: Any) -> Saved:
        import cloudpickle

        sklearn = self.lib()
        with open(folder / MODEL_FILE, "wb") as f:
            cloudpickle.dump(model, f)
        conf = {"code": None, "pickled_model": MODEL_FILE, "serialization_format": "cloudpickle",
                "sklearn_version": sklearn.__version__, "skops_trusted_types": None}  # fmt: skip
        pyfunc = None
        if hasattr(model, "predict"):
            pyfunc = pyfunc_conf(self.loader_module, model_path=MODEL_FILE, predict_fn="predict")
        return Saved(conf, pyfunc, ["scikit-learn", "cloudpickle"])

    def load(self, folder: Path, flavors: dict[str, dict[str, Any]]) -> Any:
        conf = flavors.get(self.name) or {}
        path = folder / conf.get("pickled_model", flavors.get("python_function", {}).get(
            "model_path", MODEL_FILE))  # fmt: skip
        return load_pickled(self, path, conf)

    def predictor(
        self, folder: Path, flavors: dict[str, dict[str, Any]], model: Any = None
    ) -> Predictor:
        if model is None:
            model = self.load(folder, flavors)
        method = flavors.get("python_function", {}).get("predict_fn", "predict")
        return MethodPredictor(model, method)


def load_pickled(flavor: Flavor, path: Path, conf: dict[str, Any]) -> Any:
    """A model saved with MLflow's ``serialization_format`` (cloudpickle, pickle or skops)."""
    form = conf.get("serialization_format", "pickle")
    if form == "skops":
        skops_io = flavor.lib("skops.io")
        return skops_io.load(path, trusted=conf.get("skops_trusted_types"))
    flavor.lib()  # the library first: a missing one is a clear line, not an unpickling error
    with open(path, "rb") as f:
        if form == "cloudpickle":
            import cloudpickle

            return cloudpickle.load(f)
        return pickle.load(f)


FLAVOR = SklearnFlavor()
