"""Model signatures: the columns or tensors a model takes and returns, in MLflow's format.

A signature is stored in the ``MLmodel`` file as JSON strings inside YAML, exactly as MLflow
writes it, so either tool reads the other's::

    signature:
      inputs: '[{"type": "double", "name": "alcohol", "required": true}, ...]'
      outputs: '[{"type": "long", "required": true}]'
      params: null

>>> import pandas as pd
>>> sig = infer_signature(pd.DataFrame({"alcohol": [13.2], "hue": [1]}))
>>> sig.inputs
[ColSpec('double', 'alcohol'), ColSpec('long', 'hue')]
>>> ModelSignature.from_dict(sig.to_dict()) == sig
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# MLflow's column types, and the numpy dtype each stands for.
COLUMN_DTYPES = {
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
    "string": "object",
    "binary": "object",
    "datetime": "datetime64[ns]",
}


@dataclass(frozen=True)
class ColSpec:
    """One column: MLflow type name (``double``, ``long``, ``string``, …), optional name."""

    type: str
    name: str | None = None
    required: bool = True

    def __repr__(self) -> str:
        name = f", {self.name!r}" if self.name is not None else ""
        return f"ColSpec({self.type!r}{name})"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out


@dataclass(frozen=True)
class TensorSpec:
    """One tensor: numpy dtype name and shape (``-1`` = any length), optional name."""

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def __repr__(self) -> str:
        name = f", {self.name!r}" if self.name is not None else ""
        return f"TensorSpec({self.dtype!r}, {self.shape}{name})"

    @property
    def type(self) -> str:
        return self.dtype

    @property
    def required(self) -> bool:
        return True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "tensor"}
        if self.name is not None:
            out["name"] = self.name
        out["tensor-spec"] = {"dtype": self.dtype, "shape": list(self.shape)}
        return out


Spec = ColSpec | TensorSpec


def _spec_from_dict(item: dict[str, Any]) -> Spec:
    if item.get("type") == "tensor":
        tensor = item["tensor-spec"]
        return TensorSpec(str(tensor["dtype"]), tuple(tensor["shape"]), item.get("name"))
    return ColSpec(str(item["type"]), item.get("name"), bool(item.get("required", True)))


@dataclass
class Schema:
    """An ordered list of ColSpec or of TensorSpec (never both)."""

    inputs: list[Spec] = field(default_factory=list)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            return self.inputs == other
        return isinstance(other, Schema) and self.inputs == other.inputs

    def __repr__(self) -> str:
        return repr(self.inputs)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.inputs)

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int) -> Spec:
        return self.inputs[index]

    def is_tensor_spec(self) -> bool:
        return bool(self.inputs) and isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        return bool(self.inputs) and all(s.name is not None for s in self.inputs)

    def input_names(self) -> list[str]:
        return [s.name for s in self.inputs if s.name is not None]

    def to_json(self) -> str:
        return json.dumps([s.to_dict() for s in self.inputs])

    @classmethod
    def from_json(cls, text: str) -> Schema:
        return cls([_spec_from_dict(item) for item in json.loads(text)])


@dataclass
class ModelSignature:
    """What a model takes (``inputs``) and returns (``outputs``); ``params`` as MLflow's JSON."""

    inputs: Schema | None = None
    outputs: Schema | None = None
    params: list[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.inputs, list):
            self.inputs = Schema(self.inputs)
        if isinstance(self.outputs, list):
            self.outputs = Schema(self.outputs)

    def to_dict(self) -> dict[str, Any]:
        """MLflow's form: each part a JSON string (or None)."""
        return {
            "inputs": self.inputs.to_json() if self.inputs is not None else None,
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": json.dumps(self.params) if self.params is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSignature:
        """Read MLflow's form (parts as JSON strings, or already parsed lists)."""

        def part(value: Any) -> Any:
            return json.loads(value) if isinstance(value, str) else value

        inputs, outputs = part(data.get("inputs")), part(data.get("outputs"))
        return cls(
            Schema([_spec_from_dict(i) for i in inputs]) if inputs is not None else None,
            Schema([_spec_from_dict(i) for i in outputs]) if outputs is not None else None,
            part(data.get("params")),
        )

    @classmethod
    def coerce(cls, signature: Any) -> ModelSignature | None:
        """Ours as is; MLflow's ModelSignature (anything with ``to_dict``) or a dict converted."""
        if signature is None or signature is False or isinstance(signature, ModelSignature):
            return signature or None
        if isinstance(signature, dict):
            return cls.from_dict(signature)
        if hasattr(signature, "to_dict"):
            return cls.from_dict(signature.to_dict())
        raise TypeError(
            f"signature must be a ModelSignature (nbtrack's or MLflow's), got "
            f"{type(signature).__name__}; make one with infer_signature(model_input, output)"
        )


def infer_signature(model_input: Any, model_output: Any = None) -> ModelSignature:
    """The signature of ``model_input`` (and of ``model_output`` when given): columns for
    DataFrames, dicts and lists of dicts, tensors for numpy arrays.

    >>> import numpy as np
    >>> infer_signature(np.zeros((5, 4), dtype="float32"), np.zeros(5, dtype="int64"))
    ModelSignature(inputs=[TensorSpec('float32', (-1, 4))], outputs=[TensorSpec('int64', (-1,))], params=None)
    >>> infer_signature([{"a": 1, "b": "x"}]).inputs
    [ColSpec('long', 'a'), ColSpec('string', 'b')]
    """  # noqa: E501
    outputs = infer_schema(model_output) if model_output is not None else None
    return ModelSignature(infer_schema(model_input), outputs)


def infer_schema(data: Any) -> Schema:
    """The Schema of one value (see :func:`infer_signature`)."""
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return Schema([ColSpec(_column_type(data[c]), str(c)) for c in data.columns])
    if isinstance(data, pd.Series):
        return Schema([ColSpec(_column_type(data))])
    if isinstance(data, np.ndarray):
        return Schema([_tensor_spec(data)])
    if isinstance(data, dict):
        if data and all(isinstance(v, np.ndarray) for v in data.values()):
            return Schema([_tensor_spec(v, str(k)) for k, v in data.items()])
        return Schema([ColSpec(_value_type(v), str(k)) for k, v in data.items()])
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return infer_schema(pd.DataFrame.from_records(data))
    if isinstance(data, list) and data:
        if all(isinstance(r, (list, tuple)) for r in data):
            return Schema([_tensor_spec(np.asarray(data))])
        return Schema([ColSpec(_value_type(data))])
    if np.isscalar(data):
        return Schema([ColSpec(_value_type(data))])
    raise TypeError(
        f"cannot infer a signature from {type(data).__name__}; give a pandas DataFrame, a numpy "
        "array, a dict of columns or a list of dicts, or pass signature= yourself"
    )


def _tensor_spec(array: Any, name: str | None = None) -> TensorSpec:
    dtype = array.dtype
    kind = "object" if dtype.kind == "O" else ("str" if dtype.kind == "U" else dtype.name)
    return TensorSpec(kind, (-1, *array.shape[1:]), name)


def dtype_type(dtype: Any) -> str | None:
    """The MLflow column type of a numpy or pandas dtype (None: not a plain one)."""
    if str(dtype) in ("string", "str") or type(dtype).__name__ == "StringDtype":
        return "string"
    kind, size = dtype.kind, getattr(dtype, "itemsize", 0)
    if kind == "b":
        return "boolean"
    if kind in "iu":
        if size < 4 or (kind == "i" and size == 4):
            return "integer"
        return "long"
    if kind == "f":
        return "float" if size <= 4 else "double"
    if kind == "U":
        return "string"
    if kind == "S":
        return "binary"
    if kind == "M":
        return "datetime"
    return None


def _column_type(column: Any) -> str:
    import pandas as pd

    found = dtype_type(column.dtype)
    if found is not None:
        return found
    if pd.api.types.is_string_dtype(column.dtype) and column.dtype.kind != "O":
        return "string"
    values = column.dropna()
    if len(values) == 0:
        return "string"
    return _value_type(values.tolist())


def _value_type(value: Any) -> str:
    """The column type of a Python value, or of a list of them (all of one type)."""
    import datetime

    import numpy as np

    values = value if isinstance(value, (list, tuple)) else [value]
    types = set()
    for v in values:
        if isinstance(v, np.generic):
            found = dtype_type(v.dtype)
            if found is not None:
                types.add(found)
                continue
            v = v.item()
        if isinstance(v, bool):
            types.add("boolean")
        elif isinstance(v, int):
            types.add("long")
        elif isinstance(v, float):
            types.add("double")
        elif isinstance(v, str):
            types.add("string")
        elif isinstance(v, bytes):
            types.add("binary")
        elif isinstance(v, (datetime.date, datetime.datetime)):
            types.add("datetime")
        elif v is None:
            continue
        else:
            raise TypeError(
                f"cannot infer a column type for {type(v).__name__} values; pass signature= "
                "yourself"
            )
    if types == {"long", "double"}:
        return "double"
    if len(types) > 1:
        raise TypeError(
            f"a column mixes {', '.join(sorted(types))} values; give one type per column"
        )
    return types.pop() if types else "string"
