"""Where a run comes from: host, user, Python, key packages, script, git commit."""

from __future__ import annotations

import functools
import getpass
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .store.writer import HOSTNAME

# Packages whose versions are worth recording when the process has imported them.
KEY_PACKAGES = {
    "numpy": "numpy", "pandas": "pandas", "polars": "polars", "scipy": "scipy",
    "sklearn": "scikit-learn", "torch": "torch", "tensorflow": "tensorflow", "jax": "jax",
    "xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost",
    "transformers": "transformers", "nbtrack": "nbtrack",
}  # fmt: skip
# `git status` costs milliseconds: a burst of runs from a loop shares one answer, while a person
# who edits a file and re-runs a cell (seconds later) gets a fresh one.
GIT_STATUS_CACHE_S = 1.0

_git_cache: dict[Path, tuple[float, str | None, bool | None]] = {}
_packages_cache: dict[tuple[str, ...], str] = {}


@functools.cache  # a passwd lookup costs more than the rest of a run's start
def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def _script() -> str | None:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return _resolved(path) if path else None


@functools.cache
def _resolved(path: str) -> str:
    return str(Path(path).resolve())


def packages() -> str:
    """JSON object of the versions of key packages this process has imported."""
    present = tuple(m for m in KEY_PACKAGES if m in sys.modules)
    cached = _packages_cache.get(present)
    if cached is None:
        versions = {}
        for module in present:
            version = getattr(sys.modules[module], "__version__", None)
            if not isinstance(version, str):
                from importlib.metadata import PackageNotFoundError
                from importlib.metadata import version as dist_version

                try:
                    version = dist_version(KEY_PACKAGES[module])
                except PackageNotFoundError:
                    continue
            versions[KEY_PACKAGES[module]] = version
        cached = _packages_cache[present] = json.dumps(versions, sort_keys=True)
    return cached


def _git_dir(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():  # worktree or submodule: "gitdir: <path>"
            text = candidate.read_text().strip()
            if text.startswith("gitdir:"):
                return (folder / text.split(":", 1)[1].strip()).resolve()
    return None


def _head_commit(git_dir: Path) -> str | None:
    """The commit HEAD points at, read from the files (no subprocess)."""
    head = (git_dir / "HEAD").read_text().strip()
    if not head.startswith("ref:"):
        return head or None
    ref = head.split(":", 1)[1].strip()
    common = git_dir
    if (git_dir / "commondir").is_file():
        common = (git_dir / (git_dir / "commondir").read_text().strip()).resolve()
    for base in (git_dir, common):
        if (base / ref).is_file():
            return (base / ref).read_text().strip()
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split(" ", 1)[0]
    return None  # a branch with no commits yet


def git_info(directory: Path) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git repository containing ``directory``; (None, None) outside."""
    now = time.monotonic()
    cached = _git_cache.get(directory)
    if cached and now - cached[0] < GIT_STATUS_CACHE_S:
        return cached[1], cached[2]
    commit = dirty = None
    try:
        git_dir = _git_dir(directory)
        if git_dir is not None:
            commit = _head_commit(git_dir)
            out = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=directory, capture_output=True, text=True, timeout=5, check=True,
            )  # fmt: skip
            dirty = bool(out.stdout.strip())
    except (OSError, subprocess.SubprocessError, ValueError):
        pass  # no git binary, a broken repo: the run simply has no git info
    _git_cache[directory] = (now, commit, dirty)
    return commit, dirty


def source_context(directory: Path | None = None) -> dict[str, object]:
    """Context columns of the ``runs`` table for a run started now in this process."""
    commit, dirty = git_info((directory or Path.cwd()).resolve())
    return {
        "host": HOSTNAME,
        "pid": os.getpid(),
        "user": _user(),
        "python": sys.version.split()[0],
        "source": _script(),
        "git_commit": commit,
        "git_dirty": dirty,
        "packages": packages(),
    }
