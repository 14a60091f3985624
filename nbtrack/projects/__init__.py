"""Notebooks, scripts and MLproject folders run as parameterised runs.

``nbtrack run TARGET -p KEY=VALUE`` and :func:`run_notebook` start a run, execute the target
with its parameters (a notebook in a new kernel, papermill's way; a script or an MLproject
entry point's command as a process) and end the run with the outcome. Inside, the run is the
active one: ``nbtrack.log(...)`` needs no ``with`` block, ``%%track`` cells become its child
runs and ``nbtrack.params()`` returns the parameters.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .launch import Options, Target, launch

if TYPE_CHECKING:
    from ..tracking import Run

__all__ = ["Options", "Target", "launch", "run_notebook"]


def run_notebook(
    path: str | os.PathLike[str],
    params: Mapping[str, Any] | None = None,
    *,
    experiment: str | None = None,
    name: str | None = None,
    tags: Mapping[str, Any] | None = None,
    kernel: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    output: str | os.PathLike[str] | None = None,
    progress: bool = True,
    check: bool = True,
) -> Run:
    """Execute the notebook at ``path`` with ``params`` as one run, and return the run.

    ``params`` are injected after the cell tagged ``parameters`` (papermill's convention) and
    recorded as the run's params; the executed notebook, outputs included, is stored with the
    run (and written to ``output`` if given). ``%%track`` cells and ``nbtrack.run()`` blocks
    inside become child runs. ``kernel`` overrides the notebook's kernel, ``cwd`` the folder
    it runs in (default: its own), ``timeout`` limits each cell (seconds). While it runs, a
    line shows ``cell k of n``. A failing cell ends the run ``failed`` with that cell and its
    traceback and raises :class:`nbtrack.RunFailedError` (``check=False``: returns the failed
    run instead).

    >>> import nbtrack, nbformat, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> nbtrack.set_store(folder / ".nbtrack")
    >>> code = ["lr = 0.1", "import nbtrack; nbtrack.log(loss=lr * 2)"]
    >>> cells = [nbformat.v4.new_code_cell(source) for source in code]
    >>> cells[0].metadata["tags"] = ["parameters"]
    >>> nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "train.ipynb")
    >>> run = nbtrack.run_notebook(folder / "train.ipynb", {"lr": 0.01}, progress=False)
    >>> record = nbtrack.get_run(run.id)
    >>> record.params["lr"], record.metrics["loss"], record.status
    (0.01, 0.02, 'finished')
    """
    options = Options(
        kernel=kernel, cwd=Path(cwd) if cwd else None, timeout=timeout,
        output=Path(output) if output else None, progress=progress,
    )  # fmt: skip
    target = Target.open(path)
    if target.kind != "notebook":
        raise ValueError(f"{path} is not a notebook (.ipynb); nbtrack run runs scripts too")
    return launch(
        target, params, experiment=experiment, name=name, tags=tags, options=options, check=check
    )
