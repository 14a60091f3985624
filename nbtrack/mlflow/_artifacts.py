"""Artifacts: writing dicts, text, figures and images to files a run logs, and listing and
downloading a run's artifacts (the files under ``<store>/artifacts/<run_id>/``)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from ._uris import run_artifacts
from .entities import FileInfo
from .exceptions import MlflowException, NotSupportedError


def check_artifact_file(artifact_file: str) -> str:
    """A relative posix path inside the run's artifact folder."""
    path = PurePosixPath(str(artifact_file).replace(os.sep, "/"))
    if not path.parts or path.is_absolute() or ".." in path.parts:
        raise MlflowException.invalid_parameter_value(
            f"artifact_file must be a relative path such as 'plots/loss.png', not {artifact_file!r}"
        )
    return path.as_posix()


def artifact_name(local_path: str | os.PathLike[str], artifact_path: str | None) -> str | None:
    """The name nbtrack's ``log_artifact`` takes for MLflow's ``artifact_path`` (a folder the
    file goes into)."""
    if not artifact_path:
        return None
    return f"{check_artifact_file(artifact_path)}/{Path(local_path).name}"


@contextmanager
def written(artifact_file: str, write: Callable[[Path], None]) -> Iterator[tuple[Path, str]]:
    """A temporary file named like ``artifact_file``, filled by ``write``; yields it and the
    name to log it under."""
    name = check_artifact_file(artifact_file)
    folder = Path(tempfile.mkdtemp(prefix="nbtrack-mlflow-"))
    try:
        path = folder / PurePosixPath(name).name
        write(path)
        yield path, name
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def dict_writer(dictionary: Any, artifact_file: str) -> Callable[[Path], None]:
    """JSON, or YAML for ``.yaml``/``.yml`` files, as MLflow writes them."""

    def write(path: Path) -> None:
        if PurePosixPath(artifact_file).suffix in (".yaml", ".yml"):
            import yaml

            path.write_text(yaml.safe_dump(dictionary, default_flow_style=False))
        else:
            path.write_text(json.dumps(dictionary, indent=2))

    return write


def text_writer(text: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(text, encoding="utf-8")

    return write


def figure_writer(figure: Any, save_kwargs: dict[str, Any] | None) -> Callable[[Path], None]:
    """A matplotlib figure (``savefig``) or a plotly one (``write_html`` / ``write_image``)."""
    module = type(figure).__module__

    def write(path: Path) -> None:
        if module.startswith("matplotlib"):
            figure.savefig(path, **(save_kwargs or {}))
        elif module.startswith("plotly"):
            if path.suffix == ".html":
                figure.write_html(path, **(save_kwargs or {}))
            else:
                figure.write_image(path, **(save_kwargs or {}))
        else:
            raise TypeError(
                f"log_figure takes a matplotlib or plotly figure, not {type(figure).__name__}; "
                "save other figures to a file and log it with mlflow.log_artifact"
            )

    return write


def image_writer(image: Any) -> Callable[[Path], None]:
    """A PIL image, or a numpy array (H x W, H x W x 3 or 4) saved with PIL or matplotlib."""

    def write(path: Path) -> None:
        if hasattr(image, "save") and type(image).__module__.startswith("PIL"):
            image.save(path)
            return
        import numpy as np

        array = np.asarray(image)
        try:
            from PIL import Image

            if array.dtype.kind == "f":
                array = (np.clip(array, 0, 1) * 255).astype(np.uint8)
            Image.fromarray(array).save(path)
        except ImportError:
            try:
                from matplotlib import pyplot
            except ImportError as err:
                raise MlflowException(
                    "log_image of an array needs Pillow or matplotlib to write the image: "
                    "pip install pillow"
                ) from err
            pyplot.imsave(path, array)

    return write


def list_artifacts(run_id: str, path: str | None = None) -> list[FileInfo]:
    """The files and folders directly inside ``path`` of a run's artifacts (MLflow's
    ``list_artifacts``): folders have ``is_dir=True`` and no size."""
    from ..query import get_run

    record = get_run(run_id)
    base = check_artifact_file(path).rstrip("/") + "/" if path else ""
    entries: dict[str, FileInfo] = {}
    for artifact in record.artifacts:
        full = artifact["path"]
        if not full.startswith(base):
            continue
        head, _, rest = full[len(base) :].partition("/")
        child = base + head
        if rest:
            entries.setdefault(child, FileInfo(child, True, None))
        else:
            entries[child] = FileInfo(child, False, artifact["size"])
    return [entries[k] for k in sorted(entries)]


def download_artifacts(run_id: str, path: str = "", dst_path: str | None = None) -> str:
    """Copy a run's artifact (a file or folder; ``""`` for all) to ``dst_path`` (default: a new
    temporary folder); returns the local path."""
    from ..query import get_run

    record = get_run(run_id)
    root = run_artifacts(record.id)
    relative = check_artifact_file(path) if path else ""
    source = root / relative if relative else root
    if not source.exists():
        listed = sorted({a["path"].split("/")[0] for a in record.artifacts})
        raise MlflowException(
            f"run {record.id} has no artifact {path!r}; it has: {', '.join(listed) or 'none'}",
            "RESOURCE_DOES_NOT_EXIST",
        )
    target_dir = Path(dst_path) if dst_path else Path(tempfile.mkdtemp(prefix="nbtrack-"))
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / (source.name if relative else "")
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)
    return str(target)


def no_image_series(key: str | None, step: int | None) -> None:
    if key is not None or step is not None:
        raise NotSupportedError(
            "image series (log_image with key= and step=) are not supported: log each image as "
            "a file, e.g. mlflow.log_image(image, artifact_file=f'images/{key}-{step}.png')"
        )
