"""``mlflow.xgboost``: XGBoost Boosters and scikit-learn-style models, in XGBoost's own format.

Logging, saving and loading map onto nbtrack.mlmodel (flavor ``xgboost``); ``load_model``
returns the Booster (or XGBClassifier/XGBRegressor) that was logged.
"""

from __future__ import annotations

import os
from typing import Any

from ..mlmodel import ModelInfo
from . import _flavor
from ._unsupported import module_getattr

FLAVOR_NAME = "xgboost"


def log_model(
    xgb_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Any = None,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    model_format: str = "ubj",
    metadata: dict[str, Any] | None = None,
    extra_files: Any = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log an XGBoost model into the active run (started if there is none)."""
    return _flavor.log(
        FLAVOR_NAME, xgb_model, name, artifact_path, registered_model_name=registered_model_name,
        signature=signature, input_example=input_example, pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements, metadata=metadata,
        unsupported={"conda_env": conda_env, "code_paths": code_paths,
                     "extra_files": extra_files, "params": params, "tags": tags,
                     "model_type": model_type, "step": step, "model_id": model_id,
                     "model_format": model_format,
                     **kwargs},
    )  # fmt: skip


def save_model(
    xgb_model: Any,
    path: str | os.PathLike[str],
    conda_env: Any = None,
    code_paths: Any = None,
    mlflow_model: Any = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    model_format: str = "ubj",
    metadata: dict[str, Any] | None = None,
    extra_files: Any = None,
    **kwargs: Any,
) -> ModelInfo:
    """Save an XGBoost model to a folder."""
    return _flavor.save(
        FLAVOR_NAME, xgb_model, path, signature=signature, input_example=input_example,
        pip_requirements=pip_requirements, extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        unsupported={"conda_env": conda_env, "code_paths": code_paths,
                     "mlflow_model": mlflow_model, "extra_files": extra_files,
                     "model_format": model_format,
                     **kwargs},
    )  # fmt: skip


def load_model(model_uri: Any, dst_path: str | None = None) -> Any:
    """The Booster (or XGBClassifier/XGBRegressor) logged at ``model_uri``
    (``runs:/``, ``models:/``, a folder)."""
    return _flavor.load(FLAVOR_NAME, model_uri, dst_path)


def autolog(*args: Any, **kwargs: Any) -> None:
    from .fluent import autolog as refuse

    refuse()


__getattr__ = module_getattr(__name__, {})
