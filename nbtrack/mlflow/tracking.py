"""``mlflow.tracking``: ``from nbtrack.mlflow.tracking import MlflowClient``."""

from __future__ import annotations

from ._unsupported import module_getattr
from .client import MlflowClient
from .fluent import get_tracking_uri, is_tracking_uri_set, set_tracking_uri

__all__ = ["MlflowClient", "get_tracking_uri", "is_tracking_uri_set", "set_tracking_uri"]

__getattr__ = module_getattr(__name__, {})
