"""XGBoost Boosters and sklearn-API models, in XGBoost's own format (``model.ubj``, or the
``model_format`` the MLmodel names), as MLflow's xgboost flavor writes them."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from .base import Flavor, MethodPredictor, Predictor, Saved, from_library, pyfunc_conf

MODEL_FORMAT = "ubj"  # MLflow's default: XGBoost's binary JSON, smaller and faster than JSON


class XGBoostFlavor(Flavor):
    name = "xgboost"
    loader_module = "mlflow.xgboost"
    extra = "xgboost"
    library = "xgboost"

    def matches(self, model: Any) -> bool:
        return from_library(model, "xgboost")

    def save(self, model: Any, folder: Path, **options: Any) -> Saved:
        xgb = self.lib()
        model_format = options.get("model_format") or MODEL_FORMAT
        data = f"model.{model_format}"
        model.save_model(str(folder / data))
        cls = type(model)
        conf = {"code": None, "data": data, "model_class": f"{cls.__module__}.{cls.__qualname__}",
                "model_format": model_format, "xgb_version": xgb.__version__}  # fmt: skip
        return Saved(conf, pyfunc_conf(self.loader_module, data=data),
                     [("xgboost", "xgboost-cpu")])  # fmt: skip

    def load(self, folder: Path, flavors: dict[str, dict[str, Any]]) -> Any:
        self.lib()
        conf = flavors.get(self.name) or {}
        module, _, name = conf.get("model_class", "xgboost.core.Booster").rpartition(".")
        if module != "xgboost" and not module.startswith("xgboost."):
            raise ValueError(f"the MLmodel names {module}.{name}, not an XGBoost class")
        model = getattr(importlib.import_module(module), name)()
        model.load_model(str(folder / conf["data"]))
        return model

    def predictor(
        self, folder: Path, flavors: dict[str, dict[str, Any]], model: Any = None
    ) -> Predictor:
        if model is None:
            model = self.load(folder, flavors)
        xgb = self.lib()
        if isinstance(model, xgb.Booster):
            return BoosterPredictor(model, xgb)
        return MethodPredictor(model)


class BoosterPredictor:
    def __init__(self, model: Any, xgb: Any) -> None:
        self.model = model
        self._xgb = xgb

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.model.predict(self._xgb.DMatrix(data), **(params or {}))


FLAVOR = XGBoostFlavor()
