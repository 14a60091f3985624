"""Predictions and errors as the JSON bodies of MLflow's scoring protocol.

Arrays become lists, DataFrames and Series lists of row objects (as MLflow sends them), numpy
scalars, dates and bytes plain JSON values. NaN and infinity, which JSON has no words for,
become ``null`` so that every client's parser reads the response.

>>> import numpy as np
>>> predictions(np.array([0, 2])).decode()
'{"predictions": [0, 2]}'
>>> predictions([1.5, float("nan")]).decode()
'{"predictions": [1.5, null]}'
>>> error("BAD_REQUEST", "no rows").decode()
'{"error_code": "BAD_REQUEST", "message": "no rows"}'
"""

from __future__ import annotations

import base64
import datetime
import json
import math
from typing import Any

import numpy as np
import pandas as pd


class EncodeError(TypeError):
    """Predictions of a type that has no JSON form."""


def predictions(value: Any) -> bytes:
    """The body ``{"predictions": ...}`` of a model's output."""
    document = {"predictions": jsonable(value)}
    try:
        return json.dumps(document, allow_nan=False, default=_default).encode()
    except ValueError:  # NaN or infinity somewhere: rare, so only then walk the values
        return json.dumps(_finite(document), default=_default).encode()


def error(error_code: str, message: str) -> bytes:
    """The body ``{"error_code": ..., "message": ...}`` of an error response."""
    return json.dumps({"error_code": error_code, "message": message}).encode()


def jsonable(value: Any) -> Any:
    """``value`` with numpy and pandas containers turned into lists and dicts."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.DataFrame):
        return value.to_dict(orient="records")
    if isinstance(value, pd.Series):
        return value.to_frame().to_dict(orient="records")
    return value


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (datetime.date, datetime.time)):  # includes pd.Timestamp
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return jsonable(value)
    raise EncodeError(f"the model returned a {type(value).__name__}, which has no JSON form")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if isinstance(value, np.floating):
        return _finite(float(value))
    if isinstance(value, np.ndarray):
        return _finite(value.tolist())
    return value
