"""``mlflow.artifacts``: list, download and read a run's artifacts.

>>> import nbtrack.mlflow as mlflow, tempfile
>>> mlflow.set_tracking_uri(tempfile.mkdtemp())
>>> with mlflow.start_run() as run:
...     mlflow.log_dict({"a": 1}, "config.json")
>>> mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/config.json")
{'a': 1}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import _artifacts
from ._unsupported import module_getattr
from .entities import FileInfo
from .exceptions import MlflowException, mlflow_errors


def _split(artifact_uri: str | None, run_id: str | None, artifact_path: str | None) -> tuple:
    if artifact_uri is not None:
        if run_id is not None or artifact_path is not None:
            raise MlflowException.invalid_parameter_value(
                "give artifact_uri, or run_id with artifact_path, not both"
            )
        if artifact_uri.startswith("runs:/"):
            found_id, _, path = artifact_uri[len("runs:/") :].partition("/")
            return found_id, path
        if artifact_uri.startswith("models:/"):
            from ..mlmodel import locate

            return None, str(locate(artifact_uri).path)
        return None, artifact_uri
    if run_id is None:
        raise MlflowException.invalid_parameter_value("give artifact_uri, or run_id")
    return run_id, artifact_path or ""


@mlflow_errors
def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | None = None,
    **kwargs: Any,
) -> str:
    """Copy an artifact (``runs:/<run_id>/path``, a ``models:/`` URI, or ``run_id`` with
    ``artifact_path``) to ``dst_path`` (default: a new temporary folder); returns the path."""
    found_id, path = _split(artifact_uri, run_id, artifact_path)
    if found_id is None:
        import shutil
        import tempfile

        source = Path(path)
        target = Path(dst_path or tempfile.mkdtemp(prefix="nbtrack-")) / source.name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        return str(target)
    return _artifacts.download_artifacts(found_id, path, dst_path)


@mlflow_errors
def list_artifacts(
    artifact_uri: str | None = None, run_id: str | None = None, artifact_path: str | None = None
) -> list[FileInfo]:
    found_id, path = _split(artifact_uri, run_id, artifact_path)
    if found_id is None:
        raise MlflowException.invalid_parameter_value("list_artifacts takes a runs:/ URI or run_id")
    return _artifacts.list_artifacts(found_id, path or None)


def load_text(artifact_uri: str) -> str:
    return Path(download_artifacts(artifact_uri)).read_text(encoding="utf-8")


def load_dict(artifact_uri: str) -> Any:
    text = load_text(artifact_uri)
    if artifact_uri.endswith((".yaml", ".yml")):
        import yaml

        return yaml.safe_load(text)
    return json.loads(text)


def load_image(artifact_uri: str) -> Any:
    from PIL import Image

    return Image.open(download_artifacts(artifact_uri))


__getattr__ = module_getattr(__name__, {})
