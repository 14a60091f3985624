"""``mlflow.pyfunc``: generic Python models (:class:`PythonModel` subclasses with ``predict``,
and files they load through ``artifacts``), and any model loaded for ``predict``.

>>> import nbtrack.mlflow as mlflow, tempfile
>>> class AddN(mlflow.pyfunc.PythonModel):
...     def __init__(self, n):
...         self.n = n
...     def predict(self, context, model_input, params=None):
...         return model_input + self.n
>>> mlflow.set_tracking_uri(tempfile.mkdtemp())
>>> with mlflow.start_run():
...     info = mlflow.pyfunc.log_model(name="add", python_model=AddN(2))
>>> mlflow.pyfunc.load_model(info.model_uri).predict(1)
3
"""

from __future__ import annotations

from typing import Any

from .. import mlmodel
from ..mlmodel import PyFuncModel, PythonModel, PythonModelContext
from ._flavor import Flavor, refuse_unsupported
from ._unsupported import module_getattr
from .exceptions import NotSupportedError, mlflow_errors

FLAVOR_NAME = "python_function"

__all__ = [
    "FLAVOR_NAME",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "load_model",
    "log_model",
    "save_model",
]


def _python_model(python_model: Any) -> Any:
    if python_model is None:
        raise NotSupportedError(
            "nbtrack's generic models are PythonModel subclasses: pass python_model= (an "
            "instance with predict(context, model_input)), and artifacts= for its files"
        )
    if callable(python_model) and not hasattr(python_model, "predict"):
        raise NotSupportedError(
            "a plain function as python_model is not supported: wrap it in a "
            "mlflow.pyfunc.PythonModel subclass whose predict(context, model_input) calls it"
        )
    return python_model


_FLAVOR = Flavor(
    __name__, FLAVOR_NAME, "python_model", "a PythonModel (with its ``artifacts`` files)",
    check=_python_model,
    log_args="artifact_path loader_module data_path code_paths infer_code_paths conda_env "
    "python_model artifacts registered_model_name signature input_example "
    "await_registration_for pip_requirements extra_pip_requirements metadata model_config "
    "streamable resources auth_policy prompts name params tags model_type step model_id "
    "**kwargs",
    save_args="path loader_module data_path code_paths infer_code_paths conda_env mlflow_model "
    "python_model artifacts signature input_example pip_requirements extra_pip_requirements "
    "metadata model_config streamable resources auth_policy **kwargs",
)  # fmt: skip
log_model = _FLAVOR.log_model()
save_model = _FLAVOR.save_model()


@mlflow_errors
def load_model(
    model_uri: Any,
    suppress_warnings: bool = False,
    dst_path: str | None = None,
    model_config: Any = None,
) -> PyFuncModel:
    """Any model at ``model_uri`` as a :class:`PyFuncModel`: ``predict`` checks the input
    against the model's signature."""
    options = {"model_config": model_config, "dst_path": dst_path}
    refuse_unsupported("mlflow.pyfunc.load_model", options)
    model: PyFuncModel = mlmodel.load_model(model_uri, generic=True)
    return model


_HINTS = {
    "spark_udf": "Spark UDFs are not part of nbtrack: load the model with "
    "mlflow.pyfunc.load_model and call predict on pandas batches",
    "get_model_dependencies": "the model folder's requirements.txt lists them: "
    "mlflow.artifacts.download_artifacts(f'{model_uri}/requirements.txt')",
    "ChatModel": "chat models are not part of nbtrack",
    "ResponsesAgent": "agents are not part of nbtrack",
}

__getattr__ = module_getattr(__name__, _HINTS)
