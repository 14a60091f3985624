"""``nbtrack.export``: runs out of the store, as one wide Parquet file or a lossless bundle."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from .._version import __version__
from ..errors import NbtrackError, StoreError
from ..store import get_store
from ..store.layout import Layout, fsync_path
from .formats import (
    ARTIFACTS_DIR,
    BUNDLE_TABLES,
    EXPORT_FORMAT,
    EXPORT_KEY,
    MANIFEST,
    REGISTRY_TABLES,
    stamp,
)
from .formats import is_wide_path as _is_wide
from .registry import write_registry
from .wide import write_wide


def export(
    path: str | os.PathLike[str],
    filter: str | None = None,
    experiment: str | Sequence[str] | None = None,
    artifacts: bool = False,
) -> int:
    """Write runs to ``path``; returns how many runs were exported.

    * ``path`` ending in ``.parquet``: one wide file, one row per run with exactly the columns
      of :func:`nbtrack.search` (deleted runs left out), for pandas, polars, DuckDB or Spark.
      A ``params.<k>`` column mixing types becomes text (lists and dicts as JSON).
    * any other ``path``: a bundle folder holding every raw row of the runs (all param and tag
      values with their times, every metric point, every event; deleted runs included) that
      :func:`nbtrack.import_runs` reads back losslessly. ``artifacts=True`` copies the runs'
      artifact files too. The bundle also carries the whole model registry (registered models,
      versions, aliases, stages, tags, and the registered model folders). The folder appears
      only once complete; it must not exist yet (an empty folder is fine).

    ``filter`` and ``experiment`` select runs as in :func:`nbtrack.search`.

    >>> import nbtrack, os, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run(params={"lr": 0.1}) as run:
    ...     run.log(loss=0.5)
    >>> folder = tempfile.mkdtemp()
    >>> nbtrack.export(os.path.join(folder, "runs.parquet"))
    1
    >>> nbtrack.export(os.path.join(folder, "bundle"))
    1
    >>> sorted(os.listdir(os.path.join(folder, "bundle")))  # doctest: +NORMALIZE_WHITESPACE
    ['artifacts.parquet', 'events.parquet', 'inputs.parquet', 'manifest.json',
     'metrics.parquet', 'model_versions.parquet', 'params.parquet', 'registry_events.parquet',
     'runs.parquet', 'tags.parquet']
    """
    from ..query.search import search
    from ..tracking import flush

    target = Path(path).expanduser().absolute()
    flush()  # this process's own unflushed rows go out too
    if _is_wide(target):
        frame = search(filter=filter, experiment=experiment, include_deleted=False)
        write_wide(frame, target)
        return len(frame)
    selected = search(filter=filter, experiment=experiment, include_deleted=True)
    ids = [str(i) for i in selected["run_id"]]
    selection = {"filter": filter, "experiment": experiment}
    write_bundle(target, ids, artifacts=artifacts, selection=selection)
    return len(ids)


def write_bundle(target: Path, run_ids: list[str], artifacts: bool, selection: dict) -> None:
    """Write the bundle of ``run_ids`` to ``target`` (a temporary sibling renamed at the end)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise NbtrackError(
            f"cannot export to {target}: it already exists; choose a new folder or delete it"
        )
    store = get_store()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    work.mkdir()
    try:
        rows = _copy_tables(store, run_ids, work)
        files = _copy_artifacts(store.layout, run_ids, work) if artifacts else 0
        rows.update(write_registry(work))  # (after the artifacts: it adds model folders there)
        manifest = {
            "format": EXPORT_FORMAT,
            "kind": "bundle",
            "nbtrack": __version__,
            "exported_at": datetime.now(timezone.utc).isoformat(),
            "store": str(store.location),
            "selection": selection,
            "runs": len(run_ids),
            "rows": rows,
            "artifact_files": files if artifacts else None,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        for name in (*(f"{t}.parquet" for t in (*BUNDLE_TABLES, *REGISTRY_TABLES)), MANIFEST):
            fsync_path(work / name)
        fsync_path(work)
        os.rename(work, target)
        fsync_path(target.parent)
    except OSError as err:
        raise StoreError(
            f"cannot write the bundle {target}: {err.strerror or err}; "
            "check the folder is writable and has free space"
        ) from err
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def _copy_tables(store, run_ids: list[str], work: Path) -> dict[str, int]:
    """Each table's rows of ``run_ids`` into ``work/<table>.parquet``, stamped."""
    files = {table: work / f"{table}.parquet" for table in BUNDLE_TABLES}
    metadata = {table: {EXPORT_KEY: stamp("bundle", table=table)} for table in BUNDLE_TABLES}
    return store.reader.copy_rows(run_ids, files, metadata)


def _copy_artifacts(layout: Layout, run_ids: list[str], work: Path) -> int:
    """Copy ``artifacts/<run_id>/`` of each run into the bundle; returns the number of files."""
    count = 0
    for run_id in run_ids:
        folder = layout.artifact_dir(run_id)
        if folder.is_dir():
            shutil.copytree(folder, work / ARTIFACTS_DIR / run_id)
            count += sum(1 for p in (work / ARTIFACTS_DIR / run_id).rglob("*") if p.is_file())
    return count
