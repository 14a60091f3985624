"""Request bodies of MLflow's scoring protocol, read into what a model's ``predict`` takes.

JSON bodies carry exactly one of these keys, plus ``"params"`` (a dict given to predict)::

    {"dataframe_split": {"columns": [...], "data": [[...], ...], "index": [...]}}
    {"dataframe_records": [{"col": value, ...}, ...]}
    {"instances": [{"col": value, ...}, ...]}     or a list of rows/tensors
    {"inputs": {"col": [values], ...}}            or a list of rows/tensors

``text/csv`` is a CSV with a header row; ``application/vnd.apache.parquet`` a Parquet file.
Anything that cannot be read is a :class:`RequestError` whose message says what is wrong.

>>> read_body(b'{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2.5]]}}',
...           "application/json")
Request(data=   a    b
0  1  2.5, params=None)
>>> read_body(b'{"dataframe": []}', "application/json")
Traceback (most recent call last):
...
nbtrack.serving.payload.RequestError: unknown key 'dataframe' in the request body; send exactly one of 'dataframe_split', 'dataframe_records', 'instances', 'inputs' (and optionally 'params')
"""  # noqa: E501

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import NbtrackError

JSON = "application/json"
CSV = "text/csv"
PARQUET = "application/vnd.apache.parquet"
CONTENT_TYPES = (JSON, CSV, PARQUET)
FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
PARAMS = "params"
_SPLIT_KEYS = {"columns", "data", "index"}
# How much of an offending value an error message quotes.
_QUOTE_CHARS = 80


class RequestError(NbtrackError):
    """A request the server cannot score: HTTP ``status``, MLflow's ``error_code``, a message."""

    def __init__(self, message: str, status: int = 400, error_code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


@dataclass
class Request:
    """A body read for ``predict``: the data, and the ``params`` dict if the body had one."""

    data: Any
    params: dict[str, Any] | None = None


@dataclass(frozen=True)
class InputShape:
    """What the model's input signature says about building its input from JSON."""

    tensor: bool = False

    @classmethod
    def of(cls, schema: Any) -> InputShape:
        """From a signature's input schema (None when the model has no signature)."""
        is_tensor = getattr(schema, "is_tensor_spec", None)
        return cls(tensor=bool(is_tensor and is_tensor()))


ANY_INPUT = InputShape()


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header; charset must be UTF-8 (else a 415 error).

    >>> media_type("application/json; charset=UTF-8")
    'application/json'
    """
    accepted = f"send one of {', '.join(CONTENT_TYPES)}"
    if not content_type:
        raise _unsupported(f"the request has no Content-Type header; {accepted}")
    kind, *parameters = (part.strip() for part in content_type.split(";"))
    kind = kind.lower()
    if kind not in CONTENT_TYPES:
        raise _unsupported(f"unsupported Content-Type {content_type!r}; {accepted}")
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        key, value = key.strip().lower(), value.strip().strip('"').lower()
        if key == "charset" and value in ("utf-8", "utf8"):
            continue
        hint = "only charset=utf-8 is supported"
        if key == "format":
            hint = "MLflow 1.x's format= became the body's keys, e.g. {\"dataframe_split\": ...}"
        raise _unsupported(f"unsupported Content-Type parameter {parameter!r}: {hint}")
    return kind


def _unsupported(message: str) -> RequestError:
    return RequestError(message, 415, "UNSUPPORTED_MEDIA_TYPE")


def read_body(body: bytes, kind: str, shape: InputShape = ANY_INPUT) -> Request:
    """The model input in ``body`` of media type ``kind`` (see :func:`media_type`)."""
    if kind == JSON:
        return read_json(body, shape)
    if kind == CSV:
        return Request(_read_table(pd.read_csv, body, "CSV with a header row"))
    return Request(_read_table(pd.read_parquet, body, "Parquet file"))


def read_json(body: bytes, shape: InputShape = ANY_INPUT) -> Request:
    """The model input of a JSON body (one of :data:`FORMATS`, optionally ``params``)."""
    try:
        document = json.loads(body)
    except UnicodeDecodeError as err:
        raise RequestError(f"the request body is not UTF-8 text ({err.reason})") from None
    except json.JSONDecodeError as err:
        raise RequestError(
            f"the request body is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from None
    if not isinstance(document, dict):
        raise RequestError(
            f"the request body must be a JSON object with one of the keys {_keys()}; got "
            f"{_json_kind(document)}"
        )
    keys = [key for key in document if key != PARAMS]
    unknown = [key for key in keys if key not in FORMATS]
    if unknown:
        names = ", ".join(repr(key) for key in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise RequestError(
            f"unknown key{plural} {names} in the request body; send exactly one of {_keys()} "
            f"(and optionally 'params')"
        )
    if len(keys) != 1:
        given = f"both {' and '.join(repr(k) for k in keys)}" if keys else "none of them"
        raise RequestError(f"the request body must have exactly one of {_keys()}; it has {given}")
    params = document.get(PARAMS)
    if params is not None and not isinstance(params, dict):
        raise RequestError(
            f"'params' must be a JSON object of parameter names to values; got {_json_kind(params)}"
        )
    key = keys[0]
    return Request(_READERS[key](document[key], shape), params)


def _keys() -> str:
    return ", ".join(repr(key) for key in FORMATS)


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    kind = kinds.get(type(value), "null" if value is None else "a number")
    text = json.dumps(value)
    return f"{kind}: {text[:_QUOTE_CHARS]}{'…' if len(text) > _QUOTE_CHARS else ''}"


def _split(value: Any, shape: InputShape) -> Any:
    if not isinstance(value, dict) or "data" not in value or value.keys() - _SPLIT_KEYS:
        raise RequestError(
            "'dataframe_split' must be an object with 'data' (a list of rows) and optionally "
            f"'columns' and 'index', like pandas' to_dict(orient='split'); got {_json_kind(value)}"
        )
    try:
        return pd.DataFrame(value["data"], columns=value.get("columns"), index=value.get("index"))
    except (ValueError, TypeError) as err:
        raise RequestError(f"'dataframe_split' is not a valid table: {err}") from None


def _records(value: Any, shape: InputShape) -> Any:
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise RequestError(
            "'dataframe_records' must be a list of row objects ({column: value}), like pandas' "
            f"to_dict(orient='records'); got {_json_kind(value)}"
        )
    return _frame(value, "dataframe_records")


def _instances(value: Any, shape: InputShape) -> Any:
    if not isinstance(value, list):
        raise RequestError(
            "'instances' must be a list of rows (objects of column values, or arrays); got "
            f"{_json_kind(value)}"
        )
    if value and all(isinstance(row, dict) for row in value) and not shape.tensor:
        return _frame(value, "instances")
    if value and isinstance(value[0], dict):  # named tensors, row by row
        columns: dict[str, list[Any]] = {}
        for row in value:
            for name, item in row.items():
                columns.setdefault(name, []).append(item)
        return {name: _array(items, "instances") for name, items in columns.items()}
    return _array(value, "instances")


def _inputs(value: Any, shape: InputShape) -> Any:
    if isinstance(value, dict):
        if shape.tensor:
            return {name: _array(item, "inputs") for name, item in value.items()}
        if all(not isinstance(item, (list, dict)) for item in value.values()):
            return _frame([value], "inputs")
        return _frame(value, "inputs")
    if isinstance(value, list):
        if value and all(isinstance(row, dict) for row in value) and not shape.tensor:
            return _frame(value, "inputs")
        return _array(value, "inputs")
    return value


def _frame(value: Any, key: str) -> Any:
    try:
        return pd.DataFrame(value)
    except (ValueError, TypeError) as err:
        raise RequestError(f"{key!r} is not a valid table: {err}") from None


def _array(value: Any, key: str) -> Any:
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as err:
        raise RequestError(
            f"{key!r} is not a valid array (rows of different lengths?): {err}"
        ) from None


def _read_table(reader: Any, body: bytes, what: str) -> Any:
    try:
        return reader(io.BytesIO(body))
    except Exception as err:  # the readers raise many kinds; every one means a bad body
        raise RequestError(f"the request body is not a valid {what}: {err}") from None


_READERS = {
    "dataframe_split": _split,
    "dataframe_records": _records,
    "instances": _instances,
    "inputs": _inputs,
}
