"""Which store a request reads, and where a notebook of the server lives on disk.

A request names its store with ``?store=PATH`` (absolute, or relative to the server root), or
with ``?notebook=PATH`` (a notebook path as the Jupyter contents API spells it: relative to the
server root): then the ``.nbtrack`` folder next to that notebook, or in the nearest folder above
it (up to the server root) that has one, is its store, as a kernel started for that notebook in
a folder below the store would find it. Without either, or when no folder has a store:
``$NBTRACK_STORE``, else ``<server root>/.nbtrack``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from ..locations import SCHEMES, Location, parse_location

STORE_FOLDER = ".nbtrack"


def notebook_file(root: Path, notebook: str) -> Path:
    """The file of contents path ``notebook`` under server root ``root`` (it need not exist);
    ValueError when the path leads outside the root.

    >>> str(notebook_file(Path("/srv"), "/projects/a.ipynb"))
    '/srv/projects/a.ipynb'
    >>> notebook_file(Path("/srv"), "../etc/a.ipynb")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: notebook path '../etc/a.ipynb' leads outside the server root /srv; ...
    """
    relative = PurePosixPath(notebook.strip().lstrip("/"))
    path = (root / relative).resolve()
    if ".." in relative.parts or not path.is_relative_to(root.resolve()):
        raise ValueError(
            f"notebook path {notebook!r} leads outside the server root {root}; give its path "
            "relative to the root, as JupyterLab shows it"
        )
    return path


def notebook_names(root: Path, notebook: str) -> list[str]:
    """The paths a run made in notebook ``notebook`` may have recorded: the file's resolved
    path, that path as the server spells it (what kernels are told), and ``notebook`` itself.

    >>> notebook_names(Path("/srv"), "a.ipynb")
    ['/srv/a.ipynb', 'a.ipynb']
    """
    spelled = os.path.join(root, notebook.strip().lstrip("/"))
    names = [str(notebook_file(root, notebook)), spelled, notebook.strip()]
    return list(dict.fromkeys(names))


def contents_path(root: Path, path: str | None) -> str | None:
    """``path`` (an absolute file path a run recorded) as a contents path relative to server
    root ``root``, or None when it is not under the root.

    >>> contents_path(Path("/srv"), "/srv/projects/a.ipynb"), contents_path(Path("/srv"), "/x")
    ('projects/a.ipynb', None)
    """
    if not path:
        return None
    file = Path(path)
    for base in dict.fromkeys((root, root.resolve())):
        if file.is_absolute() and file.is_relative_to(base):
            return file.relative_to(base).as_posix()
    return None


def choose_store(
    root: Path,
    store: str | None = None,
    notebook: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Location:
    """The store for a request to a server rooted at ``root`` (see the module's docstring): a
    folder, or a bucket (``s3://…``); it may not exist yet.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()).resolve()
    >>> (root / "deep" / "er").mkdir(parents=True); (root / "deep" / ".nbtrack").mkdir()
    >>> choose_store(root, notebook="deep/er/a.ipynb") == root / "deep" / ".nbtrack"
    True
    >>> choose_store(root, notebook="a.ipynb", environ={}) == root / ".nbtrack"
    True
    >>> str(choose_store(root, store="/data/runs"))
    '/data/runs'
    """
    if store:
        return parse_location(store if store.startswith(SCHEMES) else root / Path(store))
    if notebook:
        folder = notebook_file(root, notebook).parent
        top = root.resolve()
        while True:
            if (folder / STORE_FOLDER).is_dir():
                return folder / STORE_FOLDER
            if folder == top or top not in folder.parents:
                break
            folder = folder.parent
    configured = environ.get("NBTRACK_STORE")
    if configured:
        return parse_location(configured)
    return root.resolve() / STORE_FOLDER
