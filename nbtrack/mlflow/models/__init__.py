"""``mlflow.models``: ``infer_signature``, ``ModelSignature`` and ``ModelInfo``.

>>> import pandas as pd
>>> from nbtrack.mlflow.models import infer_signature
>>> infer_signature(pd.DataFrame({"alcohol": [13.2]}), [1]).inputs
[ColSpec('double', 'alcohol')]
"""

from __future__ import annotations

from ...mlmodel import ModelInfo, ModelSignature, infer_signature
from .._unsupported import module_getattr

__all__ = ["ModelInfo", "ModelSignature", "infer_signature"]

_HINTS = {
    "Model": "read a model folder's metadata with mlflow.pyfunc.load_model(uri).metadata",
    "set_signature": "pass signature= when logging the model",
    "validate_serving_input": "score the model with mlflow.pyfunc.load_model(uri).predict",
    "evaluate": "compute the metrics (e.g. with sklearn.metrics) and log them with "
    "mlflow.log_metrics",
    "set_model": "models-from-code are not part of nbtrack: log a PythonModel instance",
    "build_docker": "serve the model with `nbtrack serve MODEL_URI`",
}

__getattr__ = module_getattr(__name__, _HINTS)
