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

import os
from typing import Any

from ..mlmodel import ModelInfo
from . import _flavor
from ._unsupported import module_getattr

FLAVOR_NAME = "sklearn"


def log_model(
    sk_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Any = None,
    serialization_format: str | None = None,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    extra_files: Any = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    name: str | None = None,
    skops_trusted_types: Any = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a scikit-learn model into the active run (started if there is none)."""
    return _flavor.log(
        FLAVOR_NAME, sk_model, name, artifact_path, registered_model_name=registered_model_name,
        signature=signature, input_example=input_example, pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements, metadata=metadata,
        unsupported={"conda_env": conda_env, "code_paths": code_paths,
                     "serialization_format": serialization_format,
                     "pyfunc_predict_fn": pyfunc_predict_fn, "extra_files": extra_files,
                     "params": params, "tags": tags, "model_type": model_type, "step": step,
                     "model_id": model_id, "skops_trusted_types": skops_trusted_types,
                     **kwargs},
    )  # fmt: skip


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    conda_env: Any = None,
    code_paths: Any = None,
    mlflow_model: Any = None,
    serialization_format: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    skops_trusted_types: Any = None,
    extra_files: Any = None,
) -> ModelInfo:
    """Save a scikit-learn model to a folder."""
    return _flavor.save(
        FLAVOR_NAME, sk_model, path, signature=signature, input_example=input_example,
        pip_requirements=pip_requirements, extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        unsupported={"conda_env": conda_env, "code_paths": code_paths,
                     "mlflow_model": mlflow_model, "serialization_format": serialization_format,
                     "pyfunc_predict_fn": pyfunc_predict_fn, "extra_files": extra_files,
                     "skops_trusted_types": skops_trusted_types},
    )  # fmt: skip


def load_model(model_uri: Any, dst_path: str | None = None) -> Any:
    """The fitted estimator at ``model_uri`` (``runs:/``, ``models:/``, a folder)."""
    return _flavor.load(FLAVOR_NAME, model_uri, dst_path)


def autolog(*args: Any, **kwargs: Any) -> None:
    from .fluent import autolog as refuse

    refuse()


__getattr__ = module_getattr(__name__, {})
