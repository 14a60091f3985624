"""load_model: a model folder back as its native object, or as a PyFuncModel."""

from __future__ import annotations

import os
from typing import Any

from ..errors import ModelNotFoundError
from .flavors import NAMES, Flavor, by_loader, get
from .metadata import PYFUNC, ModelMetadata
from .pyfunc import PyFuncModel
from .uri import locate


def load_model(
    uri: str | os.PathLike[str] | Any, *, generic: bool = False, flavor: str | None = None
) -> Any:
    """The model at ``uri``: its native object (a fitted estimator, a Booster, an ONNX
    ModelProto; a generic Python model as a PyFuncModel), or with ``generic=True`` a
    :class:`PyFuncModel` whose ``predict`` checks input against the signature.
    ``flavor=`` loads that flavor of a folder that has several.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from nbtrack.mlmodel import save_model
    >>> folder = Path(tempfile.mkdtemp()) / "tree"
    >>> _ = save_model(DecisionTreeClassifier().fit([[0], [1]], [0, 1]), folder)
    >>> load_model(folder).predict([[1]]).tolist()
    [1]
    """
    model_uri = getattr(uri, "model_uri", uri)  # a ModelInfo
    place = locate(model_uri)
    meta = ModelMetadata.load(place.path)
    if generic:
        chosen = _generic_flavor(meta, flavor, place.path)
        predictor = chosen.predictor(place.path, meta.flavors)
        return PyFuncModel(meta, predictor, chosen, place.path, str(model_uri))
    chosen = _native_flavor(meta, flavor, place.path)
    if chosen.name == PYFUNC:
        predictor = chosen.predictor(place.path, meta.flavors)
        return PyFuncModel(meta, predictor, chosen, place.path, str(model_uri))
    return chosen.load(place.path, meta.flavors)


def _generic_flavor(meta: ModelMetadata, flavor: str | None, where: Any) -> Flavor:
    if flavor is not None:
        return _named(meta, flavor, where)
    conf = meta.flavors.get(PYFUNC)
    if conf is None:
        raise ModelNotFoundError(
            f"the model at {where} has no python_function flavor (it has: "
            f"{', '.join(meta.flavors) or 'none'}); load it natively with load_model(uri)"
        )
    found = by_loader(str(conf.get("loader_module")))
    if found is None:
        raise ModelNotFoundError(
            f"the model at {where} is loaded by {conf.get('loader_module')}, which nbtrack does "
            f"not know (it loads: {', '.join(NAMES)}); load it with mlflow.pyfunc.load_model"
        )
    return found


def _native_flavor(meta: ModelMetadata, flavor: str | None, where: Any) -> Flavor:
    if flavor is not None:
        return _named(meta, flavor, where)
    for name in meta.flavors:
        if name != PYFUNC and name in NAMES:
            return get(name)
    return _generic_flavor(meta, None, where)


def _named(meta: ModelMetadata, flavor: str, where: Any) -> Flavor:
    if flavor not in meta.flavors:
        raise ModelNotFoundError(
            f"the model at {where} has no {flavor!r} flavor; it has: {', '.join(meta.flavors)}"
        )
    if flavor == PYFUNC:
        return _generic_flavor(meta, None, where)
    return get(flavor)
