"""Copying logged files into ``artifacts/<run_id>/`` and describing them (size, sha256)."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path
from typing import Any

from .layout import Layout, store_error

_CHUNK = 1 << 20


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_artifact(
    layout: Layout, run_id: str, source: Path, name: str | None
) -> list[dict[str, Any]]:
    """Copy a file or folder into the run's artifact folder; rows for the ``artifacts`` table."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"cannot log artifact {str(source)!r}: no such file or folder")
    run_dir = layout.artifacts / run_id
    target = run_dir / (name or source.name)
    if run_dir.resolve() not in target.resolve().parents:
        raise ValueError(f"artifact name {name!r} must stay inside the run's artifact folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
            files = sorted(p for p in target.rglob("*") if p.is_file())
        else:
            shutil.copy2(source, target)
            files = [target]
    except OSError as err:
        raise store_error(f"copy artifact {str(source)!r} into {run_dir}", err) from err
    layout.store_files(files)
    now = time.time()
    return [
        {"run_id": run_id, "path": f.relative_to(run_dir).as_posix(), "size": f.stat().st_size,
         "sha256": _sha256(f), "timestamp": now}
        for f in files
    ]  # fmt: skip
