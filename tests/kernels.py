"""Executing notebooks in real IPython kernels (nbclient + ipykernel), for the magic tests."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run_cells(
    cells: list[str], store: Path, cwd: Path, timeout: int = 120, **env: str
) -> list[Any]:
    """Run ``cells`` as a notebook in a fresh kernel on ``store``; returns the executed cells."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    return run_notebook(nb, store, cwd, timeout, **env).cells


def run_notebook(nb: Any, store: Path, cwd: Path, timeout: int = 120, **env: str) -> Any:
    client = NotebookClient(
        nb, kernel_name="python3", allow_errors=True, timeout=timeout,
        resources={"metadata": {"path": str(cwd)}},
    )  # fmt: skip
    kernel_env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    kernel_env.update(NBTRACK_STORE=str(store), **env)
    client.execute(env=kernel_env)
    return nb


def text(cell: Any) -> str:
    """Everything a cell printed or displayed as plain text (ANSI colours removed)."""
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
    return ANSI.sub("", "".join(parts))


def errors(cell: Any) -> list[Any]:
    return [o for o in cell.outputs if o.output_type == "error"]
