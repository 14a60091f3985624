"""Where a cell runs: the notebook's path, as each front end exposes it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def notebook_path(namespace: Mapping[str, Any]) -> str | None:
    """Path of the running notebook, or None when the front end does not say.

    Looked up in order: ``$NBTRACK_NOTEBOOK`` (set it for runners such as nbclient or
    papermill), VS Code's ``__vsc_ipynb_file__``, and JupyterLab / Notebook 7's
    ``$JPY_SESSION_NAME``.
    """
    for candidate in (
        os.environ.get("NBTRACK_NOTEBOOK"),
        namespace.get("__vsc_ipynb_file__"),
        os.environ.get("JPY_SESSION_NAME"),
    ):
        if isinstance(candidate, str) and candidate:
            path = Path(candidate).expanduser()
            return str(path.resolve()) if path.exists() else candidate
    return None
