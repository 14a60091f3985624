"""``mlflow.lightgbm``: LightGBM Boosters and scikit-learn-style models.

Logging, saving and loading map onto nbtrack.mlmodel (flavor ``lightgbm``); ``load_model``
returns the Booster (or LGBMClassifier/LGBMRegressor) that was logged.
"""

from __future__ import annotations

from ._flavor import Flavor
from ._unsupported import module_getattr
from .fluent import autolog_for

FLAVOR_NAME = "lightgbm"

_FLAVOR = Flavor(__name__, FLAVOR_NAME, "lgb_model", "a LightGBM model", own="serialization_format")
log_model = _FLAVOR.log_model()
save_model = _FLAVOR.save_model()
load_model = _FLAVOR.load_model(
    "The Booster (or LGBMClassifier/LGBMRegressor) logged at ``model_uri`` (``runs:/``, "
    "``models:/``, a folder)."
)

autolog = autolog_for("lightgbm")

__getattr__ = module_getattr(__name__, {})
