"""``mlflow.sklearn``: scikit-learn estimators and Pipelines, pickled with cloudpickle.

>>> import nbtrack.mlflow as mlflow, tempfile
>>> from sklearn.linear_model import LinearRegression
>>> mlflow.set_tracking_uri(tempfile.mkdtemp())
>>> with mlflow.start_run():
...     info = mlflow.sklearn.log_model(LinearRegression().fit([[0], [1]], [0, 1]), name="lr")
>>> mlflow.sklearn.load_model(info.model_uri).predict([[2]]).round(3).tolist()
[2.0]
"""

from __future__ import annotations

from ._flavor import Flavor
from ._unsupported import module_getattr
from .fluent import autolog_for

FLAVOR_NAME = "sklearn"

_FLAVOR = Flavor(
    __name__, FLAVOR_NAME, "sk_model", "a scikit-learn model",
    log_args="sk_model artifact_path conda_env code_paths serialization_format "
    "registered_model_name signature input_example await_registration_for pip_requirements "
    "extra_pip_requirements pyfunc_predict_fn metadata extra_files params tags model_type step "
    "model_id name skops_trusted_types **kwargs",
    save_args="sk_model path conda_env code_paths mlflow_model serialization_format signature "
    "input_example pip_requirements extra_pip_requirements pyfunc_predict_fn metadata "
    "skops_trusted_types extra_files",
)  # fmt: skip
log_model = _FLAVOR.log_model()
save_model = _FLAVOR.save_model()
load_model = _FLAVOR.load_model(
    "The fitted estimator at ``model_uri`` (``runs:/``, ``models:/``, a folder)."
)

autolog = autolog_for("sklearn")

__getattr__ = module_getattr(__name__, {})
