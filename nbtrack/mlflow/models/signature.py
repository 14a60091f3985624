"""``mlflow.models.signature``: ``from nbtrack.mlflow.models.signature import infer_signature``."""

from __future__ import annotations

from ...mlmodel import ModelSignature, infer_signature
from .._unsupported import module_getattr

__all__ = ["ModelSignature", "infer_signature"]

__getattr__ = module_getattr(__name__, {})
