"""``mlflow.onnx``: ONNX models, run with onnxruntime (export PyTorch or Keras models to
ONNX and log them here).

Logging, saving and loading map onto nbtrack.mlmodel (flavor ``onnx``); ``load_model``
returns the ONNX ModelProto.
"""

from __future__ import annotations

from ._flavor import Flavor
from ._unsupported import module_getattr
from .fluent import autolog as autolog

FLAVOR_NAME = "onnx"

_FLAVOR = Flavor(
    __name__, FLAVOR_NAME, "onnx_model", "an ONNX model",
    own="onnx_execution_providers onnx_session_options save_as_external_data",
)  # fmt: skip
log_model = _FLAVOR.log_model()
save_model = _FLAVOR.save_model()
load_model = _FLAVOR.load_model(
    "The ONNX ModelProto at ``model_uri`` (``runs:/``, ``models:/``, a folder)."
)

__getattr__ = module_getattr(__name__, {})
