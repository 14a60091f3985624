"""Model folders in MLflow's MLmodel layout: save, log and load models of several flavors.

::

    <folder>/MLmodel                  flavors, signature, example info, run id (YAML)
    <folder>/model.pkl | model.ubj …  the model in its flavor's format
    <folder>/requirements.txt         the flavor's packages, pinned
    <folder>/python_env.yaml, conda.yaml
    <folder>/input_example.json, serving_input_example.json
    <folder>/artifacts/…              a generic Python model's files

MLflow loads these folders (``mlflow.pyfunc.load_model``), and nbtrack loads MLflow's.
"""

from __future__ import annotations

from .flavors.python_function import PythonModel, PythonModelContext
from .info import ModelInfo
from .loading import load_model
from .metadata import ModelMetadata
from .pyfunc import PyFuncModel
from .saving import log_model, save_model
from .signature import ModelSignature, infer_signature
from .uri import ModelLocation, locate

__all__ = [
    "ModelInfo",
    "ModelLocation",
    "ModelMetadata",
    "ModelSignature",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "infer_signature",
    "load_model",
    "locate",
    "log_model",
    "save_model",
]
