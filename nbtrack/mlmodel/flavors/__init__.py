"""Model flavors, one module each; which flavor fits an object, a name or an MLflow loader.

>>> from sklearn.linear_model import LinearRegression
>>> detect(LinearRegression()).name
'sklearn'
>>> by_loader("mlflow.pyfunc.model").name
'python_function'
"""

from __future__ import annotations

import importlib
from typing import Any

from .base import Flavor, Predictor, Saved

__all__ = ["NAMES", "Flavor", "Predictor", "Saved", "by_loader", "detect", "get"]

# Detection order: the specific libraries before sklearn (XGBClassifier is a sklearn estimator).
NAMES = ("python_function", "xgboost", "lightgbm", "onnx", "sklearn")


def get(name: str) -> Flavor:
    """The flavor called ``name`` (ValueError listing the known ones)."""
    if name not in NAMES:
        raise ValueError(f"unknown model flavor {name!r}; choose one of: {', '.join(NAMES)}")
    module = importlib.import_module(f"{__name__}.{name}")
    return module.FLAVOR  # type: ignore[no-any-return]


def by_loader(loader_module: str) -> Flavor | None:
    """The flavor whose python_function loader is MLflow's ``loader_module`` (None: unknown)."""
    for name in NAMES:
        flavor = get(name)
        if flavor.loader_module == loader_module:
            return flavor
    return None


def detect(model: Any) -> Flavor:
    """The flavor of ``model``, from its class's modules (no library is imported to tell)."""
    for name in NAMES:
        flavor = get(name)
        if flavor.matches(model):
            return flavor
    raise TypeError(
        f"cannot tell the flavor of a {type(model).__module__}.{type(model).__qualname__}; "
        f"pass flavor= (one of: {', '.join(NAMES)}), or wrap it in a PythonModel"
    )
