"""Checking model input against a signature before the model sees it.

Input is a DataFrame, a numpy array, a list of dicts (rows), a dict of columns, or a list of
lists. Columns are matched by name and reordered as the signature lists them (extra ones are
dropped); a type converts only when no value changes (int -> double, float32 -> double, as
MLflow allows). Anything else is a ModelSignatureError naming the column and what was expected.

>>> import pandas as pd
>>> from nbtrack.mlmodel.signature import infer_signature
>>> schema = infer_signature(pd.DataFrame({"alcohol": [13.2], "hue": [1.0]})).inputs
>>> enforce(pd.DataFrame({"hue": [1], "alcohol": [12.5]}), schema).dtypes.to_dict()
{'alcohol': dtype('float64'), 'hue': dtype('float64')}
>>> enforce([{"alcohol": 12.5}], schema)
Traceback (most recent call last):
...
nbtrack.errors.ModelSignatureError: input is missing column 'hue' (double); the model's signature expects: alcohol (double), hue (double)
"""  # noqa: E501

from __future__ import annotations

from typing import Any

from ..errors import ModelSignatureError
from .signature import COLUMN_DTYPES, ColSpec, Schema, TensorSpec, dtype_type

# Conversions that change no value, per expected type (as MLflow's enforcement allows).
_SAFE_FROM = {
    "long": {"integer", "long"},
    "integer": {"integer"},
    "double": {"integer", "long", "float", "double"},
    "float": {"float"},
    "boolean": {"boolean"},
    "datetime": {"datetime"},
}


def as_frame(data: Any) -> Any:
    """A DataFrame of row dicts or a dict of columns; other input unchanged."""
    import numpy as np
    import pandas as pd

    if isinstance(data, dict):
        if data and all(np.isscalar(v) or v is None for v in data.values()):
            return pd.DataFrame([data])
        if not all(isinstance(v, np.ndarray) for v in data.values()):
            return pd.DataFrame(data)
        return data
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return pd.DataFrame.from_records(data)
    if isinstance(data, pd.Series):
        return data.to_frame()
    return data


def enforce(data: Any, schema: Schema) -> Any:
    """``data`` made to fit ``schema``, or ModelSignatureError before the model runs."""
    if schema.is_tensor_spec():
        return _enforce_tensors(data, schema)
    return _enforce_columns(data, schema)


def _describe(schema: Schema) -> str:
    return ", ".join(f"{s.name} ({s.type})" if s.name else s.type for s in schema.inputs)


def _enforce_columns(data: Any, schema: Schema) -> Any:
    import numpy as np
    import pandas as pd

    frame = as_frame(data)
    specs = [s for s in schema.inputs if isinstance(s, ColSpec)]
    named = schema.has_input_names()
    if isinstance(frame, dict):  # dict of arrays against a column signature
        frame = pd.DataFrame({k: list(v) if v.ndim > 1 else v for k, v in frame.items()})
    if isinstance(frame, (list, tuple, np.ndarray)):
        array = np.asarray(frame, dtype=object if isinstance(frame, list) else None)
        if array.ndim == 1:
            array = array.reshape(-1, 1) if len(specs) == 1 else array.reshape(1, -1)
        if array.ndim != 2 or array.shape[1] != len(specs):
            shape = "x".join(str(n) for n in array.shape)
            raise ModelSignatureError(
                f"input of shape {shape} does not match the model's {len(specs)} columns; "
                f"send a DataFrame or rows with columns: {_describe(schema)}"
            )
        columns = [s.name if named else i for i, s in enumerate(specs)]
        frame = pd.DataFrame(array, columns=columns).infer_objects()
    if not isinstance(frame, pd.DataFrame):
        raise ModelSignatureError(
            f"cannot read input of type {type(data).__name__} as columns; send a DataFrame, a "
            f"list of row dicts or a dict of columns with: {_describe(schema)}"
        )
    if not named:
        if frame.shape[1] < len(specs):
            raise ModelSignatureError(
                f"input has {frame.shape[1]} columns, the model's signature expects "
                f"{len(specs)}: {_describe(schema)}"
            )
        return pd.DataFrame({
            c: _column(str(c), frame[c], s) for c, s in zip(frame.columns, specs, strict=False)
        })  # fmt: skip
    out = {}
    for spec in specs:
        name = spec.name
        assert name is not None
        if name not in frame.columns:
            if not spec.required:
                continue
            raise ModelSignatureError(
                f"input is missing column {name!r} ({spec.type}); the model's signature "
                f"expects: {_describe(schema)}"
            )
        out[name] = _column(name, frame[name], spec)
    return pd.DataFrame(out, index=frame.index)


def _column(name: str, values: Any, spec: ColSpec) -> Any:
    import numpy as np
    import pandas as pd

    expected = spec.type
    if values.dtype == object and expected not in ("string", "binary"):
        values = values.infer_objects()
    actual = dtype_type(values.dtype)
    if expected in ("string", "binary"):
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            return values
    elif actual == expected:
        return values
    elif actual in _SAFE_FROM.get(expected, ()):
        return values.astype(COLUMN_DTYPES[expected])
    elif expected in ("float", "double") and actual in ("integer", "long"):
        pass  # int -> float32 changes large values: refused below unless all are 0/1
    elif expected == "boolean" and values.dtype == object:
        return values
    elif expected == "datetime" and values.dtype == object:
        try:
            return pd.to_datetime(values)
        except (ValueError, TypeError):
            pass
    if (
        expected in ("float", "double")
        and actual in ("integer", "long")
        and bool(np.isin(values.dropna(), (0, 1)).all())
    ):
        return values.astype(COLUMN_DTYPES[expected])
    shown = actual or _value_kind(values)
    hint = ""
    if actual == "double" and expected in ("integer", "long") and values.hasnans:
        hint = " (missing values make an integer column float: declare it double)"
    raise ModelSignatureError(
        f"column {name!r} has {shown} values, the model's signature expects {expected}; "
        f"send {expected} values{hint}"
    )


def _value_kind(values: Any) -> str:
    sample = values.dropna()
    return type(sample.iloc[0]).__name__ if len(sample) else str(values.dtype)


def _enforce_tensors(data: Any, schema: Schema) -> Any:
    import numpy as np
    import pandas as pd

    specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
    if (schema.has_input_names() and len(specs) > 1) or isinstance(data, dict):
        if isinstance(data, pd.DataFrame):
            data = {c: data[c].to_numpy() for c in data.columns}
        if not isinstance(data, dict):
            raise ModelSignatureError(
                f"the model takes named tensors ({_describe(schema)}); send a dict of arrays"
            )
        out = {}
        for spec in specs:
            if spec.name not in data:
                raise ModelSignatureError(
                    f"input is missing tensor {spec.name!r} ({spec.dtype}, shape "
                    f"{list(spec.shape)}); the model's signature expects: {_describe(schema)}"
                )
            out[spec.name] = _tensor(str(spec.name), np.asarray(data[spec.name]), spec)
        return out
    if isinstance(data, pd.DataFrame):
        data = data.to_numpy()
    elif isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        raise ModelSignatureError(
            f"the model takes a tensor ({specs[0].dtype}, shape {list(specs[0].shape)}); send "
            "an array or a list of lists, not rows of named columns"
        )
    return _tensor("input", np.asarray(data), specs[0])


def _tensor(name: str, array: Any, spec: TensorSpec) -> Any:
    import numpy as np

    expected = tuple(spec.shape)
    if len(expected) != array.ndim or any(
        e not in (-1, a) for e, a in zip(expected, array.shape, strict=False)
    ):
        raise ModelSignatureError(
            f"{name} has shape {list(array.shape)}, the model's signature expects "
            f"{list(expected)} (-1: any size)"
        )
    if spec.dtype in ("object", "str") or array.dtype == np.dtype(spec.dtype):
        return array
    want = np.dtype(spec.dtype)
    if array.dtype.kind in "iuf" and want.kind == "f":
        # Floats arrive as float64 from JSON; a float32 model takes them as ONNX Runtime would.
        return array.astype(want)
    if np.can_cast(array.dtype, want, "safe"):
        return array.astype(want)
    raise ModelSignatureError(
        f"{name} has dtype {array.dtype}, the model's signature expects {spec.dtype}; "
        f"send {spec.dtype} values"
    )
