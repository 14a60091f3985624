"""save_model (to a folder) and log_model (into the active run's artifacts)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ..errors import InactiveRunError
from .folder import ModelOptions, check_options, choose_flavor, hidden_folder, write_model
from .info import ModelInfo

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..tracking import Run


def save_model(
    model: Any,
    path: str | Path,
    *,
    flavor: str | None = None,
    **options: Unpack[ModelOptions],
) -> ModelInfo:
    """Save ``model`` as a model folder (MLflow's MLmodel layout) at ``path``, which must not
    exist yet (or be empty). The flavor is detected from the object unless ``flavor=`` names
    it. ``options``: the model's ``input_example`` (its ``signature`` is inferred from it unless
    given), ``pip_requirements`` or ``extra_pip_requirements``, a PythonModel's ``artifacts``
    and ``metadata`` (see :class:`~nbtrack.mlmodel.folder.ModelOptions`).

    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn.linear_model import LinearRegression
    >>> folder = Path(tempfile.mkdtemp()) / "lr"
    >>> info = save_model(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]), folder)
    >>> sorted(info.flavors), sorted(p.name for p in folder.iterdir())
    (['python_function', 'sklearn'], ['MLmodel', 'conda.yaml', 'model.pkl', 'python_env.yaml', 'requirements.txt'])
    """  # noqa: E501
    check_options("save_model", options)
    chosen = choose_flavor(model, flavor)
    final = Path(path).expanduser().absolute()
    with hidden_folder(final) as hidden:
        meta = write_model(model, hidden, chosen, options)
    return ModelInfo.of(meta, str(final), final)


def log_model(
    model: Any,
    name: str = "model",
    *,
    flavor: str | None = None,
    registered_model_name: str | None = None,
    run: Run | None = None,
    **options: Unpack[ModelOptions],
) -> ModelInfo:
    """Save ``model`` into the run's artifacts as ``<name>/`` (``run``: the active run by
    default) and record its files with the run; load it back with ``runs:/<run_id>/<name>``.
    With ``registered_model_name`` it is also registered as a new version of that model;
    ``options`` as for :func:`save_model`.

    >>> import nbtrack, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run() as run:
    ...     info = log_model(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]), "lr")
    >>> info.model_uri == f"runs:/{run.id}/lr"
    True
    """
    check_options("log_model", options)
    if run is None:
        from ..active import current

        run = current()
        if run is None:
            raise InactiveRunError(
                "log_model needs an active run: call it inside `with nbtrack.run():` (or pass "
                "run=), or save the model to a folder with nbtrack.save_model(model, path)"
            )
    run._check_active()
    artifact_path = _check_name(name)
    chosen = choose_flavor(model, flavor)
    run_dir = run.store.layout.artifacts / run.id
    final = run_dir / artifact_path
    if final.exists():
        raise FileExistsError(
            f"run {run.id} already has a model or artifact at {artifact_path!r}; log this "
            "model under another name"
        )
    with hidden_folder(final) as hidden:
        meta = write_model(
            model, hidden, chosen, options, run_id=run.id, artifact_path=artifact_path
        )
        rows = _artifact_rows(run.id, hidden, artifact_path)
    run.store.layout.store_files(p for p in final.rglob("*") if p.is_file())
    run.store.writer.append("artifacts", rows)
    info = ModelInfo.of(meta, f"runs:/{run.id}/{artifact_path}", final)
    if registered_model_name is not None:
        from ..registry import register_model

        version = register_model(info.model_uri, registered_model_name)
        info.registered_model_version = version.version
    return info


def _check_name(name: str) -> str:
    parts = PurePosixPath(str(name).replace("\\", "/")).parts
    if not parts or any(p in ("..", ".") or p.startswith(".") for p in parts) or (
        parts[0] == "/"
    ):  # fmt: skip
        raise ValueError(
            f"model name {name!r} must be a relative path inside the run's artifacts, not "
            "hidden, e.g. 'model' or 'models/forest'"
        )
    return "/".join(parts)


def _artifact_rows(run_id: str, folder: Path, artifact_path: str) -> list[dict[str, Any]]:
    """Rows for the artifacts table, as ``copy_artifact`` makes them, for the files of
    ``folder`` (about to become ``<artifact_path>/`` in the run's artifacts)."""
    now = time.time()
    rows = []
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = file.read_bytes()
        rows.append({"run_id": run_id,
                     "path": f"{artifact_path}/{file.relative_to(folder).as_posix()}",
                     "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                     "timestamp": now})  # fmt: skip
    return rows
