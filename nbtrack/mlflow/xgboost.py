"""``mlflow.xgboost``: XGBoost Boosters and scikit-learn-style models, in XGBoost's own format.

Logging, saving and loading map onto nbtrack.mlmodel (flavor ``xgboost``); ``load_model``
returns the Booster (or XGBClassifier/XGBRegressor) that was logged.
"""

from __future__ import annotations

from ._flavor import Flavor
from ._unsupported import module_getattr
from .fluent import autolog_for

FLAVOR_NAME = "xgboost"

_FLAVOR = Flavor(__name__, FLAVOR_NAME, "xgb_model", "an XGBoost model", own="model_format")
log_model = _FLAVOR.log_model()
save_model = _FLAVOR.save_model()
load_model = _FLAVOR.load_model(
    "The Booster (or XGBClassifier/XGBRegressor) logged at ``model_uri`` (``runs:/``, "
    "``models:/``, a folder)."
)

autolog = autolog_for("xgboost")

__getattr__ = module_getattr(__name__, {})
