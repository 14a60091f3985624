"""Writing a model folder: the flavor's files, the MLmodel file, the environment, the example.

The folder is written under a hidden name beside its final one and renamed when complete, so
nobody ever sees half a model.
"""

from __future__ import annotations

import os
import secrets
import shutil
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

from ..errors import NbtrackWarning
from .example import save_example
from .flavors import Flavor, detect, get
from .metadata import PYFUNC, ModelMetadata
from .requirements import pinned, requirements, write_environment
from .signature import ModelSignature, infer_schema


@contextmanager
def hidden_folder(final: Path) -> Iterator[Path]:
    """A fresh hidden folder beside ``final``, renamed to it when the block succeeds and
    removed when it fails."""
    if final.exists() and (not final.is_dir() or any(final.iterdir())):
        raise FileExistsError(
            f"{final} already exists; save the model to a new path (or remove that one first)"
        )
    final.parent.mkdir(parents=True, exist_ok=True)
    hidden = final.with_name(f".{final.name}.{secrets.token_hex(4)}.tmp")
    hidden.mkdir()
    try:
        yield hidden
        if final.exists():
            final.rmdir()  # an empty folder (checked above) gives way
        os.rename(hidden, final)
    finally:
        if hidden.exists():
            shutil.rmtree(hidden, ignore_errors=True)


def choose_flavor(model: Any, flavor: str | None) -> Flavor:
    return get(flavor) if flavor is not None else detect(model)


class ModelOptions(TypedDict, total=False):
    """What saving or logging a model takes besides the model and its place: an
    ``input_example`` (the ``signature`` is inferred from it unless given), the
    ``pip_requirements`` (or ``extra_pip_requirements`` beside the flavor's own), a
    PythonModel's ``artifacts`` (name -> file or folder) and free ``metadata``."""

    input_example: Any
    signature: Any
    pip_requirements: Any
    extra_pip_requirements: Any
    artifacts: dict[str, Any] | None
    metadata: dict[str, Any] | None


def check_options(function: str, options: Mapping[str, Any]) -> None:
    """TypeError, as Python raises it, for a keyword argument that is not a ModelOptions."""
    for key in options:
        if key not in ModelOptions.__annotations__:
            raise TypeError(f"{function}() got an unexpected keyword argument {key!r}")


def write_model(
    model: Any,
    folder: Path,
    flavor: Flavor,
    options: ModelOptions,
    *,
    run_id: str | None = None,
    artifact_path: str | None = None,
) -> ModelMetadata:
    """Write ``model`` into the (empty) ``folder``; returns what its MLmodel file says."""
    artifacts, input_example = options.get("artifacts"), options.get("input_example")
    signature, metadata = options.get("signature"), options.get("metadata")
    if artifacts and flavor.name != "python_function":
        raise ValueError("artifacts= is for PythonModel models (flavor='python_function')")
    saved = flavor.save(model, folder, artifacts=artifacts)
    flavors: dict[str, dict[str, Any]] = {}
    if saved.pyfunc is not None:
        flavors[PYFUNC] = saved.pyfunc
    if saved.conf is not None:
        flavors[flavor.name] = saved.conf
    meta = ModelMetadata(
        flavors=flavors, run_id=run_id, artifact_path=artifact_path, metadata=metadata
    )
    if input_example is not None:
        meta.saved_input_example_info = save_example(input_example, folder)
    if signature is None and input_example is not None:
        meta.signature = _infer(flavor, model, folder, flavors, input_example)
    else:
        meta.signature = ModelSignature.coerce(signature)
    meta.save(folder)
    defaults = pinned(saved.packages)
    wanted = options.get("pip_requirements"), options.get("extra_pip_requirements")
    write_environment(folder, requirements(defaults, *wanted))
    return meta


def _infer(
    flavor: Flavor, model: Any, folder: Path, flavors: dict[str, Any], example: Any
) -> ModelSignature | None:
    """The example's schema, and the schema of the model's prediction for it (as MLflow)."""
    import numpy as np
    import pandas as pd

    from .enforce import as_frame

    try:
        inputs = infer_schema(example)
    except TypeError as err:
        warnings.warn(f"no signature saved: {err}", NbtrackWarning, stacklevel=4)
        return None
    outputs = None
    if PYFUNC in flavors:
        try:
            in_memory = None if flavor.name == "python_function" else model
            prediction = flavor.predictor(folder, flavors, in_memory).predict(as_frame(example))
            if not inputs.is_tensor_spec() and isinstance(prediction, np.ndarray) and (
                prediction.ndim == 1
            ):  # fmt: skip
                prediction = pd.Series(prediction)
            outputs = infer_schema(prediction)
        except Exception as err:  # the model's own failure: the input schema still holds
            warnings.warn(
                f"output signature not inferred: predicting the input example failed: {err}",
                NbtrackWarning,
                stacklevel=4,
            )
    return ModelSignature(inputs, outputs)
