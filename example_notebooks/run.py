"""Execute an example notebook headless, then print the run table of its store.

    python example_notebooks/run.py [quickstart.ipynb]

The kernel runs in this folder, so the runs land in ``example_notebooks/.nbtrack``: the store a
JupyterLab kernel opened on the same notebook uses too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from nbtrack.cli import main as nbtrack_cli

HERE = Path(__file__).resolve().parent


def run(name: str) -> None:
    path = HERE / name
    notebook = nbformat.read(path, as_version=4)
    print(f"executing {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}…")
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(HERE)}}).execute()
    store = HERE / ".nbtrack"
    print(f"\nruns in {store}:")
    nbtrack_cli(["--store", str(store), "ls", "-n", "15"])
    print(
        "\nOpen the notebook to see them where they were made:\n"
        f"  pip install jupyterlab && jupyter lab {path}"
    )


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else "quickstart.ipynb")
