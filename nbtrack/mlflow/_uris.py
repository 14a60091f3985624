"""Tracking URIs: MLflow's are servers and databases; nbtrack's store is a folder.

``set_tracking_uri`` takes a path, a ``file:`` URI or a store folder; anything that names a
server or a database is refused with the nbtrack way to do what was meant.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from .exceptions import NotSupportedError

_SERVERS = ("http", "https", "databricks", "databricks-uc", "uc")
_DATABASES = ("sqlite", "postgresql", "mysql", "mssql", "postgres")


def store_root() -> Path:
    """The store folder nbtrack writes to now (for a bucket: this machine's copy of it)."""
    from ..store import get_store

    return get_store().root


def artifacts_root() -> Path:
    return store_root() / "artifacts"


def run_artifacts(run_id: str) -> Path:
    """Where a run's artifacts live: ``<store>/artifacts/<run_id>`` (for a bucket: this
    machine's copy, with what it lacked downloaded)."""
    from ..store import get_store

    return get_store().layout.artifact_dir(run_id)


def store_path(uri: str | os.PathLike[str]) -> Path:
    """The store folder a tracking URI names, or NotSupportedError saying what to do instead.

    >>> store_path("file:///tmp/runs").as_posix()
    '/tmp/runs'
    >>> store_path("http://localhost:5000")
    Traceback (most recent call last):
    ...
    nbtrack.mlflow.exceptions.NotSupportedError: nbtrack has no tracking server: ...
    """
    text = os.fspath(uri)
    scheme = urlparse(text).scheme.lower()
    if len(scheme) <= 1:  # a plain path (or a Windows drive letter)
        return Path(text).expanduser().resolve()
    if scheme == "file":
        parsed = urlparse(text)
        return Path(url2pathname(parsed.netloc + parsed.path)).expanduser().resolve()
    if scheme in _SERVERS:
        raise NotSupportedError(
            f"nbtrack has no tracking server: {text!r} cannot be used. nbtrack writes runs to a "
            "store folder: mlflow.set_tracking_uri('path/to/store') (or NBTRACK_STORE=path); "
            "pushing runs to an MLflow server is not available; nbtrack.export('runs.parquet') "
            "or nbtrack.export('bundle/') writes them out to share"
        )
    if scheme in _DATABASES:
        raise NotSupportedError(
            f"nbtrack's store is a folder, not a database: {text!r} cannot be used. Use "
            "mlflow.set_tracking_uri('path/to/store'); to bring the runs of an MLflow database "
            f"in, call nbtrack.import_mlflow({text!r})"
        )
    raise NotSupportedError(
        f"unknown tracking URI scheme {scheme!r} in {text!r}: nbtrack's store is a folder, "
        "give its path or a file: URI"
    )


def check_store_folder(path: Path) -> None:
    """Refuse a folder that holds something other than an nbtrack store (e.g. MLflow's mlruns):
    nbtrack would otherwise write its store in among those files."""
    if not path.is_dir() or (path / "store.json").exists() or not any(path.iterdir()):
        return
    mlflow_like = (path / "0" / "meta.yaml").exists() or (path / "models").is_dir()
    what = "an MLflow file store" if mlflow_like else "other files"
    raise NotSupportedError(
        f"{path} holds {what}, not an nbtrack store: pick a new or empty folder for the store"
        + (f", and bring those runs in with nbtrack.import_mlflow({str(path)!r})" if mlflow_like
           else "")
    )  # fmt: skip
