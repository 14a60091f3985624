"""The ``MLmodel`` file: a model folder's flavors, signature, example and origin, in YAML.

Written and read with MLflow's keys, so MLflow loads nbtrack's folders and the other way round.

>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> meta = ModelMetadata(flavors={"python_function": {"loader_module": "mlflow.pyfunc.model"}})
>>> meta.save(folder)
>>> ModelMetadata.load(folder).flavors["python_function"]["loader_module"]
'mlflow.pyfunc.model'
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ModelNotFoundError
from .signature import ModelSignature, Schema

MLMODEL = "MLmodel"
PYFUNC = "python_function"

# The C loader/dumper when PyYAML has it: an MLmodel file parses in well under a millisecond.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass
class ModelMetadata:
    """The contents of an ``MLmodel`` file (``PyFuncModel.metadata``)."""

    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    run_id: str | None = None
    artifact_path: str | None = None
    model_uuid: str = field(default_factory=lambda: uuid.uuid4().hex)
    utc_time_created: str = field(
        default_factory=lambda: str(
            datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        )
    )
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # keys this class does not model

    def get_input_schema(self) -> Schema | None:
        return self.signature.inputs if self.signature else None

    def get_output_schema(self) -> Schema | None:
        return self.signature.outputs if self.signature else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.artifact_path is not None:
            out["artifact_path"] = self.artifact_path
        out["flavors"] = self.flavors
        if self.metadata:
            out["metadata"] = self.metadata
        out["model_uuid"] = self.model_uuid
        if self.run_id is not None:
            out["run_id"] = self.run_id
        if self.saved_input_example_info:
            out["saved_input_example_info"] = self.saved_input_example_info
        if self.signature is not None:
            out["signature"] = self.signature.to_dict()
        out["utc_time_created"] = self.utc_time_created
        return {**self.extra, **out}

    def save(self, folder: Path) -> None:
        with open(folder / MLMODEL, "w") as f:
            yaml.dump(self.to_dict(), f, Dumper=_Dumper, default_flow_style=False)

    @classmethod
    def load(cls, folder: Path) -> ModelMetadata:
        path = Path(folder) / MLMODEL
        try:
            with open(path) as f:
                data = yaml.load(f, Loader=_Loader) or {}
        except FileNotFoundError:
            raise ModelNotFoundError(
                f"{folder} is not a model folder: it has no MLmodel file; give the folder "
                "save_model or log_model wrote"
            ) from None
        signature = data.pop("signature", None)
        known = {
            k: data.pop(k)
            for k in ("flavors", "run_id", "artifact_path", "model_uuid", "utc_time_created",
                      "saved_input_example_info", "metadata")
            if k in data
        }  # fmt: skip
        meta = cls(**known, extra=data)
        meta.flavors = meta.flavors or {}
        if isinstance(signature, dict):
            meta.signature = ModelSignature.from_dict(signature)
        return meta
