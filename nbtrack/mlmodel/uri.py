"""Where a model URI points: ``runs:/<run_id or prefix>/<path>``, ``models:/<name>/<version
| stage | latest>``, ``models:/<name>@<alias>``, ``file:`` URIs and plain paths."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..errors import ModelNotFoundError, RunNotFoundError
from .metadata import MLMODEL


@dataclass
class ModelLocation:
    """A resolved model URI: the model folder, and where it came from."""

    path: Path
    run_id: str | None = None
    artifact_path: str | None = None
    version: Any = None  # nbtrack.registry's ModelVersion for models:/ URIs


def locate(uri: str | os.PathLike[str]) -> ModelLocation:
    """The model folder ``uri`` names (ModelNotFoundError saying which part did not resolve).

    >>> import tempfile
    >>> locate(tempfile.mkdtemp() + "/nothing")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nbtrack.errors.ModelNotFoundError: no model at .../nothing: no such folder
    """
    if isinstance(uri, os.PathLike):
        return _local(Path(uri))
    text = str(uri)
    if text.startswith("runs:"):
        return _run_model(text)
    if text.startswith("models:"):
        return _registered(text)
    if text.startswith("file:"):
        return _local(Path(unquote(urlparse(text).path)))
    scheme = urlparse(text).scheme
    if len(scheme) > 1:  # one letter: a Windows drive
        raise ModelNotFoundError(
            f"cannot load models from {scheme}: URIs; give runs:/, models:/, file: or a path"
        )
    return _local(Path(text))


def model_folders(root: Path) -> list[str]:
    """The model folders under ``root`` (relative, posix), hidden ones skipped."""
    if not root.is_dir():
        return []
    found = []
    for path in root.rglob(MLMODEL):
        rel = path.parent.relative_to(root)
        if not any(p.startswith(".") for p in rel.parts):
            found.append(rel.as_posix())
    return sorted(found)


def _local(path: Path) -> ModelLocation:
    path = path.expanduser().absolute()
    if (path / MLMODEL).is_file():
        return ModelLocation(path)
    if not path.exists():
        raise ModelNotFoundError(f"no model at {path}: no such folder")
    inside = model_folders(path) if path.is_dir() else []
    has = f"; models inside it: {', '.join(inside[:10])}" if inside else ""
    raise ModelNotFoundError(f"no model at {path}: it has no MLmodel file{has}")


def _run_model(uri: str) -> ModelLocation:
    rest = uri[len("runs:") :].lstrip("/")
    ref, _, artifact_path = rest.partition("/")
    artifact_path = artifact_path.strip("/")
    if not ref:
        raise ModelNotFoundError(f"{uri!r} names no run; write runs:/<run_id>/<model name>")
    from ..store import get_store

    store = get_store()
    artifacts = store.layout.artifacts
    # A full run id whose folder holds the model needs no query (the common case: a URI
    # returned by log_model).
    if artifact_path and (artifacts / ref / artifact_path / MLMODEL).is_file():
        return ModelLocation(artifacts / ref / artifact_path, ref, artifact_path)
    from ..query.runs import resolve_id

    try:
        run_id = resolve_id(store.reader, ref)
    except RunNotFoundError as err:
        raise ModelNotFoundError(f"{uri}: {err}") from None
    folder = store.layout.artifact_dir(run_id) / artifact_path  # (a bucket's: downloaded)
    if artifact_path and (folder / MLMODEL).is_file():
        return ModelLocation(folder, run_id, artifact_path)
    models = model_folders(artifacts / run_id)
    has = f"it has: {', '.join(models)}" if models else "it has none; log one with log_model"
    where = f"at {artifact_path!r}" if artifact_path else "named (write runs:/<run_id>/<name>)"
    raise ModelNotFoundError(f"run {run_id} has no model {where}; {has}")


def _registered(uri: str) -> ModelLocation:
    rest = uri[len("models:") :].lstrip("/")
    if "@" in rest and "/" not in rest.split("@", 1)[0]:
        name, alias = rest.split("@", 1)
        ref = "@" + alias
    else:
        name, _, ref = rest.rpartition("/")
        if not name:
            name, ref = ref, ""
    if not name or not ref.strip("@"):
        raise ModelNotFoundError(
            f"{uri!r} names no version; write models:/<name>/<version|stage|latest> or "
            "models:/<name>@<alias>"
        )
    from ..registry import resolve
    from ..store import get_store

    version = resolve(name, ref)
    folder = Path(version.path)  # (in a bucket store: fetched into this machine's copy)
    store = get_store()
    if store.root in folder.parents:
        folder = store.layout.folder(folder.relative_to(store.root).as_posix())
    return ModelLocation(folder, version.run_id, None, version)
