"""Checking and encoding the values users log: metrics as floats, params keeping their type."""

from __future__ import annotations

import ast
import json
import math
from typing import Any

# (type, num, text): `num` lets numbers compare as numbers, `text` keeps the exact value.
EncodedParam = tuple[str, float | None, str]


def metric_value(key: str, value: Any) -> float:
    """``value`` as a float; int, float, bool, numpy and torch scalars are accepted.

    Raises TypeError naming ``key`` for anything that is not a single number.
    """
    if type(value) is float:
        return value
    if isinstance(value, (int, float)):  # bool is an int
        try:
            return float(value)
        except OverflowError:
            return math.copysign(math.inf, value)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__float__"):
        raise TypeError(
            f"metric {key!r} must be a number, got {type(value).__name__} {value!r:.60}; "
            "log numbers (int, float, bool, numpy or torch scalars) and put text in tags"
        )
    try:
        return float(value)
    except Exception as err:  # e.g. a numpy array or tensor with several elements
        raise TypeError(
            f"metric {key!r} must be a single number, got {type(value).__name__} "
            f"{value!r:.60}: {err}; log one scalar per key (e.g. value.item())"
        ) from err


def check_key(kind: str, key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise TypeError(f"{kind} keys must be non-empty strings, got {key!r}")
    return key


def _plain(value: Any) -> Any:
    """JSON-ready copy of a param value (numpy scalars become Python numbers)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0:
        try:
            return _plain(item())
        except Exception:
            pass
    return str(value)


def encode_param(value: Any) -> EncodedParam:
    """Encode a param value, keeping its type.

    ints stay ints, floats floats, bools bools, strings strings, and lists/tuples/dicts of
    those round-trip through JSON; any other object is stored as its ``str()``.
    """
    value = _plain(value)
    if isinstance(value, bool):
        return "bool", None, "true" if value else "false"
    if isinstance(value, int):
        return "int", float(value), str(value)
    if isinstance(value, float):
        return "float", value, repr(value)
    if isinstance(value, str):
        return "str", None, value
    if value is None:
        return "none", None, "null"
    return "json", None, json.dumps(value)


def decode_param(kind: str | None, num: float | None, text: str | None) -> Any:
    """Inverse of :func:`encode_param`."""
    if kind == "int":
        return int(str(text))
    if kind == "float":
        return float(str(text))
    if kind == "bool":
        return text == "true"
    if kind in ("none", None):
        return None
    if kind == "json":
        return json.loads(str(text))
    return text


def parse_literal(text: str) -> Any:
    """A value given on a command line, typed the way Python would read it: ``0.01`` is a
    float, ``3`` an int, ``[64,64]`` a list, ``true``/``false`` booleans, ``none`` None, and
    anything else (``rf``, ``adam``) the string itself.

    >>> [parse_literal(t) for t in ("0.01", "3", "[64,64]", "true", "none", "rf", "'3'")]
    [0.01, 3, [64, 64], True, None, 'rf', '3']
    """
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
