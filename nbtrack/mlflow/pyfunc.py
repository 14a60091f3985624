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

import os
from typing import Any

from ..mlmodel import ModelInfo, PyFuncModel, PythonModel, PythonModelContext
from . import _flavor
from ._unsupported import module_getattr
from .exceptions import NotSupportedError

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


def log_model(
    artifact_path: str | None = None,
    loader_module: str | None = None,
    data_path: str | None = None,
    code_paths: Any = None,
    infer_code_paths: bool = False,
    conda_env: Any = None,
    python_model: Any = None,
    artifacts: dict[str, Any] | None = None,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    model_config: Any = None,
    streamable: bool | None = None,
    resources: Any = None,
    auth_policy: Any = None,
    prompts: Any = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a PythonModel (with its ``artifacts`` files) into the active run."""
    return _flavor.log(
        FLAVOR_NAME, _python_model(python_model), name, artifact_path,
        registered_model_name=registered_model_name, signature=signature,
        input_example=input_example, pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements, metadata=metadata, artifacts=artifacts,
        unsupported={"loader_module": loader_module, "data_path": data_path,
                     "code_paths": code_paths, "infer_code_paths": infer_code_paths,
                     "conda_env": conda_env, "model_config": model_config,
                     "streamable": streamable, "resources": resources,
                     "auth_policy": auth_policy, "prompts": prompts, "params": params,
                     "tags": tags, "model_type": model_type, "step": step,
                     "model_id": model_id, **kwargs},
    )  # fmt: skip


def save_model(
    path: str | os.PathLike[str],
    loader_module: str | None = None,
    data_path: str | None = None,
    code_paths: Any = None,
    infer_code_paths: bool = False,
    conda_env: Any = None,
    mlflow_model: Any = None,
    python_model: Any = None,
    artifacts: dict[str, Any] | None = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    model_config: Any = None,
    streamable: bool | None = None,
    resources: Any = None,
    auth_policy: Any = None,
    **kwargs: Any,
) -> ModelInfo:
    """Save a PythonModel (with its ``artifacts`` files) to a folder."""
    return _flavor.save(
        FLAVOR_NAME, _python_model(python_model), path, signature=signature,
        input_example=input_example, pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements, metadata=metadata, artifacts=artifacts,
        unsupported={"loader_module": loader_module, "data_path": data_path,
                     "code_paths": code_paths, "infer_code_paths": infer_code_paths,
                     "conda_env": conda_env, "mlflow_model": mlflow_model,
                     "model_config": model_config, "streamable": streamable,
                     "resources": resources, "auth_policy": auth_policy, **kwargs},
    )  # fmt: skip


def load_model(
    model_uri: Any,
    suppress_warnings: bool = False,
    dst_path: str | None = None,
    model_config: Any = None,
) -> PyFuncModel:
    """Any model at ``model_uri`` as a :class:`PyFuncModel`: ``predict`` checks the input
    against the model's signature."""
    _flavor.refuse_unsupported("mlflow.pyfunc.load_model", {"model_config": model_config})
    model: PyFuncModel = _flavor.load(None, model_uri, dst_path)
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
