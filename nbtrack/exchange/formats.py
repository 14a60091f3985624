"""What an export looks like on disk: file names, version stamps and their checks.

A bundle is a folder::

    <bundle>/manifest.json          {"format": 1, "kind": "bundle", "runs": n, "rows": {...}}
    <bundle>/<table>.parquet        every raw row of the exported runs, one file per table
    <bundle>/artifacts/<run_id>/... the runs' artifact files (``export(..., artifacts=True)``)
    <bundle>/model_versions.parquet, registry_events.parquet   the whole model registry
    <bundle>/registry/<name>/<version>/...  registered model folders (also artifacts/<run_id>/
                                    <model>/ of registered models logged with a run)

Every Parquet file written by an export carries the key ``nbtrack.export`` in its key-value
metadata: ``{"format": 1, "kind": "wide"}`` for a wide file, ``{"format": 1, "kind":
"bundle", "table": "<name>"}`` in a bundle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import NbtrackError

EXPORT_FORMAT = 1
EXPORT_KEY = "nbtrack.export"
MANIFEST = "manifest.json"
# The store's long tables, each a file of a bundle.
BUNDLE_TABLES = ("runs", "params", "metrics", "tags", "events", "artifacts", "inputs")
# The model registry's tables, whole in every bundle (not selected by run; see registry.py).
REGISTRY_TABLES = ("model_versions", "registry_events")
# Tables that bundles from earlier versions lack: importing one of those adds no rows there.
LATER_TABLES = frozenset({"inputs", *REGISTRY_TABLES})
ARTIFACTS_DIR = "artifacts"
UPGRADE_HINT = "upgrade nbtrack (`pip install -U nbtrack`) to read it"


def stamp(kind: str, **extra: str) -> str:
    """The JSON stored under ``nbtrack.export`` in a file's Parquet metadata."""
    return json.dumps({"format": EXPORT_FORMAT, "kind": kind, **extra})


def is_wide_path(path: Path) -> bool:
    """A path ending in ``.parquet`` means one wide file; anything else a bundle folder."""
    return path.name.lower().endswith(".parquet")


def check_version(found: Any, what: str) -> None:
    """Raise NbtrackError unless ``found`` is a format version this nbtrack reads."""
    if not isinstance(found, int) or isinstance(found, bool) or found < 1:
        raise NbtrackError(
            f"{what} has no valid nbtrack export format version ({found!r}); "
            "it was not written by nbtrack.export: export the runs again"
        )
    if found > EXPORT_FORMAT:
        raise NbtrackError(
            f"{what} has export format {found}, written by a newer nbtrack; this nbtrack "
            f"reads format {EXPORT_FORMAT}: {UPGRADE_HINT}"
        )


def file_stamp(metadata: dict[bytes, bytes] | None) -> dict[str, Any] | None:
    """The decoded ``nbtrack.export`` entry of a Parquet file's metadata, if any."""
    raw = (metadata or {}).get(EXPORT_KEY.encode())
    if raw is None:
        return None
    try:
        found = json.loads(raw)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None
