"""Generic models, as in ``mlflow.pyfunc``: ``nbtrack.pyfunc.load_model(uri)`` gives a
:class:`PyFuncModel` with ``predict``; subclass :class:`PythonModel` for a model of your own.

>>> import tempfile
>>> from pathlib import Path
>>> import nbtrack.pyfunc
>>> class AddOne(nbtrack.pyfunc.PythonModel):
...     def predict(self, context, model_input, params=None):
...         return model_input + 1
>>> folder = Path(tempfile.mkdtemp()) / "add-one"
>>> _ = nbtrack.pyfunc.save_model(folder, python_model=AddOne())
>>> nbtrack.pyfunc.load_model(folder).predict(1)
2
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .mlmodel import (
    ModelInfo,
    ModelSignature,
    PyFuncModel,
    PythonModel,
    PythonModelContext,
    infer_signature,
)
from .mlmodel import load_model as _load_model
from .mlmodel import log_model as _log_model
from .mlmodel import save_model as _save_model

__all__ = [
    "ModelSignature",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "infer_signature",
    "load_model",
    "log_model",
    "save_model",
]


def load_model(model_uri: str | os.PathLike[str]) -> PyFuncModel:
    """The model at ``model_uri`` (any flavor) as a PyFuncModel."""
    return _load_model(model_uri, generic=True)  # type: ignore[no-any-return]


def save_model(
    path: str | Path, python_model: Any, *, artifacts: dict[str, Any] | None = None,
    **options: Any,
) -> ModelInfo:  # fmt: skip
    """Save a PythonModel to ``path`` (``options`` as for nbtrack.save_model)."""
    return _save_model(python_model, path, flavor="python_function", artifacts=artifacts, **options)


def log_model(
    name: str = "model", python_model: Any = None, *, artifacts: dict[str, Any] | None = None,
    **options: Any,
) -> ModelInfo:  # fmt: skip
    """Log a PythonModel into the active run (``options`` as for nbtrack.log_model)."""
    if python_model is None:
        raise TypeError("log_model needs python_model=, a PythonModel instance")
    return _log_model(python_model, name, flavor="python_function", artifacts=artifacts, **options)
