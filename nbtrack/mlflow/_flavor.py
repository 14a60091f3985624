"""What ``mlflow.<flavor>.log_model`` / ``save_model`` / ``load_model`` share: MLflow's
arguments mapped onto nbtrack.mlmodel, and a clear error for the ones nbtrack has no use for.

MLflow 3 renamed ``log_model``'s ``artifact_path`` to ``name``: both are accepted. Outside a
run, ``log_model`` starts one (as MLflow 2 did) and leaves it active.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import mlmodel
from .exceptions import MlflowException, NotSupportedError, mlflow_errors
from .fluent import _get_or_start_run

# MLflow's default for arguments whose default is not None: accepted when left at it.
_DEFAULTS: dict[str, Any] = {
    "await_registration_for": 300,
    "step": 0,
    "pyfunc_predict_fn": "predict",
    "infer_code_paths": False,
    "save_as_external_data": True,
    "suppress_warnings": False,
}
_HINTS = {
    "conda_env": "nbtrack writes conda.yaml from the requirements: pass pip_requirements= "
    "or extra_pip_requirements= instead",
    "code_paths": "nbtrack does not copy code into the model: make the code importable "
    "where the model loads (install it as a package)",
    "infer_code_paths": "nbtrack does not copy code into the model",
    "extra_files": "log extra files with mlflow.log_artifact beside the model",
    "pyfunc_predict_fn": "the generic predict calls the model's predict(); wrap the model in "
    "a mlflow.pyfunc.PythonModel to call another method",
    "mlflow_model": "nbtrack writes the MLmodel file itself",
    "dst_path": "nbtrack loads the model from the store directly; copy the folder with "
    "mlflow.artifacts.download_artifacts if you need a copy",
    "model_config": "pass settings to the model through its artifacts",
    "tags": "MLflow 3's logged-model tags are not part of nbtrack: tag the run "
    "(mlflow.set_tags) or the registered version (MlflowClient.set_model_version_tag)",
    "params": "MLflow 3's logged-model params are not part of nbtrack: log them on the run "
    "(mlflow.log_params)",
    "model_id": "MLflow 3's logged-model entities are not part of nbtrack",
    "model_type": "MLflow 3's logged-model entities are not part of nbtrack",
    "step": "MLflow 3's logged-model entities are not part of nbtrack",
    "prompts": "the prompt registry is not part of nbtrack",
    "resources": "model resources are not part of nbtrack",
    "auth_policy": "model auth policies are not part of nbtrack",
    "streamable": "streaming predictions are not part of nbtrack",
    "loader_module": "nbtrack's generic models are PythonModel subclasses: pass "
    "python_model=, with artifacts= for its files",
    "data_path": "pass the files as artifacts={'name': path} with a PythonModel",
    "serialization_format": "nbtrack pickles scikit-learn and LightGBM models with "
    "cloudpickle (MLflow's 'cloudpickle' format)",
    "skops_trusted_types": "nbtrack pickles scikit-learn models with cloudpickle",
    "model_format": "nbtrack saves XGBoost models in MLflow's default format, 'ubj'",
    "onnx_execution_providers": "nbtrack runs ONNX models with onnxruntime's default providers",
    "onnx_session_options": "nbtrack runs ONNX models with onnxruntime's default options",
    "save_as_external_data": "nbtrack saves ONNX models as one file",
    "env_pack": "nbtrack registers models in the store; there is nothing to pack",
    "uv_project_path": "pass pip_requirements= instead",
    "uv_groups": "pass pip_requirements= instead",
    "uv_extras": "pass pip_requirements= instead",
}
# Values of an argument that mean what nbtrack does anyway.
_SAME = {
    "serialization_format": ("cloudpickle",),
    "model_format": ("ubj",),
}


def refuse_unsupported(function: str, options: Mapping[str, Any]) -> None:
    """NotSupportedError for the first argument given a value nbtrack cannot honour."""
    for key, value in options.items():
        if value is None or value == _DEFAULTS.get(key) or value in _SAME.get(key, ()):
            continue
        hint = _HINTS.get(key, "nbtrack.mlflow does not take it")
        raise NotSupportedError(f"{function}(..., {key}=...) is not supported: {hint}")


def model_name(name: str | None, artifact_path: str | None) -> str:
    """The model's name in the run (MLflow 3's ``name``, or MLflow 2's ``artifact_path``)."""
    if name is not None and artifact_path is not None and name != artifact_path:
        raise MlflowException.invalid_parameter_value(
            f"give name= or artifact_path= (MLflow 2's name for it), not both: {name!r}, "
            f"{artifact_path!r}"
        )
    return name or artifact_path or "model"


@mlflow_errors
def log(
    flavor: str,
    model: Any,
    name: str | None,
    artifact_path: str | None,
    *,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    artifacts: dict[str, Any] | None = None,
    unsupported: Mapping[str, Any] | None = None,
) -> mlmodel.ModelInfo:
    """``mlflow.<flavor>.log_model``: nbtrack.mlmodel.log_model into the active run."""
    refuse_unsupported(f"mlflow.{_module(flavor)}.log_model", unsupported or {})
    run = _get_or_start_run()
    return mlmodel.log_model(
        model, model_name(name, artifact_path), flavor=flavor, input_example=input_example,
        signature=signature, pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements, artifacts=artifacts, metadata=metadata,
        registered_model_name=registered_model_name, run=run,
    )  # fmt: skip


@mlflow_errors
def save(
    flavor: str,
    model: Any,
    path: str | os.PathLike[str],
    *,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    artifacts: dict[str, Any] | None = None,
    unsupported: Mapping[str, Any] | None = None,
) -> mlmodel.ModelInfo:
    """``mlflow.<flavor>.save_model``: nbtrack.mlmodel.save_model to a folder."""
    refuse_unsupported(f"mlflow.{_module(flavor)}.save_model", unsupported or {})
    return mlmodel.save_model(
        model, Path(path), flavor=flavor, input_example=input_example, signature=signature,
        pip_requirements=pip_requirements, extra_pip_requirements=extra_pip_requirements,
        artifacts=artifacts, metadata=metadata,
    )  # fmt: skip


@mlflow_errors
def load(flavor: str | None, model_uri: Any, dst_path: str | None = None) -> Any:
    """``mlflow.<flavor>.load_model``: the native model (``flavor=None``: the generic one)."""
    refuse_unsupported(f"mlflow.{_module(flavor)}.load_model", {"dst_path": dst_path})
    if flavor is None:
        return mlmodel.load_model(model_uri, generic=True)
    return mlmodel.load_model(model_uri, flavor=flavor)


def _module(flavor: str | None) -> str:
    return "pyfunc" if flavor in (None, "python_function") else flavor
