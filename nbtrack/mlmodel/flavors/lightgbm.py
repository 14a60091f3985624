"""LightGBM models as MLflow's lightgbm flavor writes them: a Booster in LightGBM's own text
format (``model.lgb``); an sklearn-API model (LGBMClassifier, …) cloudpickled (``model.pkl``,
so it loads back as the same class with its fitted attributes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import Flavor, MethodPredictor, Predictor, Saved, from_library, pyfunc_conf
from .sklearn import load_pickled

BOOSTER = "lightgbm.basic.Booster"


class LightGBMFlavor(Flavor):
    name = "lightgbm"
    loader_module = "mlflow.lightgbm"
    extra = "lightgbm"
    library = "lightgbm"

    def matches(self, model: Any) -> bool:
        return from_library(model, "lightgbm")

    def save(self, model: Any, folder: Path, **options: Any) -> Saved:
        lgb = self.lib()
        cls = type(model)
        conf: dict[str, Any] = {"code": None, "lgb_version": lgb.__version__,
                                "model_class": f"{cls.__module__}.{cls.__qualname__}"}  # fmt: skip
        packages: list[str | tuple[str, ...]] = ["lightgbm"]
        if isinstance(model, lgb.Booster):
            data = "model.lgb"
            model.save_model(str(folder / data))
        else:
            import cloudpickle

            data = "model.pkl"
            with open(folder / data, "wb") as f:
                cloudpickle.dump(model, f)
            conf.update(serialization_format="cloudpickle", skops_trusted_types=None)
            packages += ["scikit-learn", "cloudpickle"]
        conf["data"] = data
        return Saved(conf, pyfunc_conf(self.loader_module, data=data), packages)

    def load(self, folder: Path, flavors: dict[str, dict[str, Any]]) -> Any:
        lgb = self.lib()
        conf = flavors.get(self.name) or {}
        path = folder / conf["data"]
        if conf.get("model_class", BOOSTER) == BOOSTER:
            return lgb.Booster(model_file=str(path))
        return load_pickled(self, path, {"serialization_format": "cloudpickle", **conf})

    def predictor(
        self, folder: Path, flavors: dict[str, dict[str, Any]], model: Any = None
    ) -> Predictor:
        return MethodPredictor(self.load(folder, flavors) if model is None else model)


FLAVOR = LightGBMFlavor()
