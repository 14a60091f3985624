"""``wandb.Artifact``, ``log_artifact`` and ``save``: files copied into the run's artifacts.

An artifact named ``name`` is stored as the folder ``<name>/`` of the run's artifacts (under
``<store>/artifacts/<run_id>/``), its entries inside; its type, description, metadata and
aliases are kept as JSON in the tag ``wandb.artifact.<name>``. Artifacts are not versioned
and cannot be used by other runs through W&B's API: read them with
``nbtrack.get_run(run_id).artifacts``.

>>> import nbtrack, nbtrack.wandb as wandb, tempfile, pathlib
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> path = pathlib.Path(tempfile.mkdtemp()) / "weights.txt"
>>> _ = path.write_text("0.5")
>>> with wandb.init() as run:
...     artifact = wandb.Artifact("model", type="model")
...     artifact.add_file(str(path))
...     _ = run.log_artifact(artifact)
>>> [a["path"] for a in nbtrack.get_run(run.id).artifacts]
['model/weights.txt']
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, Any

from .errors import NotSupportedError


def check_name(name: str, what: str) -> str:
    """A relative posix path inside the run's artifact folder."""
    path = PurePosixPath(str(name).replace(os.sep, "/"))
    if not path.parts or path.is_absolute() or ".." in path.parts:
        raise ValueError(f"{what} must be a relative path such as 'model/weights.pt', not {name!r}")
    return path.as_posix()


class Artifact:
    """A set of files to log with ``run.log_artifact(artifact)``: ``add_file``, ``add_dir``,
    ``new_file``; references (``add_reference``), versions and ``download`` are not
    supported."""

    def __init__(
        self,
        name: str,
        type: str,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        incremental: bool = False,
        use_as: str | None = None,
    ) -> None:
        self.name = check_name(name.replace(":", "-"), "artifact name")
        self.type = type
        self.description = description
        self.metadata = dict(metadata or {})
        self._entries: list[tuple[Path, str]] = []  # (local path, name inside the artifact)
        self._scratch: Path | None = None

    def add_file(
        self,
        local_path: str | os.PathLike[str],
        name: str | None = None,
        is_tmp: bool | None = False,
        skip_cache: bool | None = False,
        policy: str | None = "mutable",
        overwrite: bool = False,
    ) -> None:
        path = Path(local_path)
        if not path.is_file():
            raise FileNotFoundError(f"Artifact.add_file: no file at {str(path)!r}")
        self._entries.append((path, check_name(name or path.name, "name")))

    def add_dir(
        self,
        local_path: str | os.PathLike[str],
        name: str | None = None,
        skip_cache: bool | None = False,
        policy: str | None = "mutable",
        merge: bool = False,
    ) -> None:
        path = Path(local_path)
        if not path.is_dir():
            raise NotADirectoryError(f"Artifact.add_dir: no folder at {str(path)!r}")
        for child in sorted(path.iterdir()):
            inside = f"{check_name(name, 'name')}/{child.name}" if name else child.name
            self._entries.append((child, inside))

    @contextmanager
    def new_file(self, name: str, mode: str = "x", encoding: str | None = None) -> Iterator[IO]:
        """A file to write that becomes part of the artifact."""
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="nbtrack-wandb-artifact-"))
        inside = check_name(name, "name")
        path = self._scratch / inside
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, mode, encoding=encoding) as file:
            yield file
        self._entries.append((path, inside))

    def add(self, obj: Any, name: str) -> None:
        raise NotSupportedError(
            "Artifact.add(obj) is not supported by nbtrack.wandb: log images and tables with "
            "wandb.log({name: obj}), or write the object to a file and add_file it"
        )

    def add_reference(self, uri: Any, name: str | None = None, **kwargs: Any) -> None:
        raise NotSupportedError(
            "artifact references are not supported: nbtrack copies files into its store; "
            "record a dataset by reference with nbtrack.log_input(uri)"
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise NotSupportedError(
            f"Artifact.{name} is not supported by nbtrack.wandb: an artifact is a folder of "
            "files of the run that logged it (nbtrack.get_run(run_id).artifacts)"
        )

    def description_tag(self, aliases: list[str] | None) -> str:
        return json.dumps({"type": self.type, "description": self.description,
                           "metadata": self.metadata, "aliases": aliases or []},
                          default=str)  # fmt: skip

    def entries(self) -> list[tuple[Path, str]]:
        return list(self._entries)

    def cleanup(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __repr__(self) -> str:
        return f"<wandb.Artifact {self.name!r} type={self.type!r} {len(self._entries)} entries>"


def saved_files(pattern: str, base_path: str | None) -> list[tuple[Path, str]]:
    """Files matching ``pattern`` (a path or glob) and the names ``wandb.save`` gives them:
    relative to ``base_path``, else their file names."""
    import glob

    found = sorted(Path(p) for p in glob.glob(str(pattern), recursive=True))
    files = [p for p in found if p.is_file()]
    base = Path(base_path).resolve() if base_path else None
    named = []
    for path in files:
        if base is not None and path.resolve().is_relative_to(base):
            name = path.resolve().relative_to(base).as_posix()
        else:
            name = path.name
        named.append((path, check_name(name, "saved file name")))
    return named
