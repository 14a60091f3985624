"""One registered model's current state, folded from its raw rows: what changes check against
and what reads of one model return.

The rules are those of the ``model_versions`` and ``registered_models`` views (see
``nbtrack/store/reader.py``), which searches and ``nbtrack.sql`` read; reading one model's few
rows and folding them here costs a millisecond, where rebuilding those views after every change
would cost more than the change. ``tests/test_registry.py`` checks that both agree.

* A model's current life starts at its last ``model_created`` event; a later
  ``model_deleted`` ends it. Only events of the current life count, and only versions created
  in it.
* A version is live unless a ``version_deleted`` event names it.
* Stages, descriptions, tags and aliases are the latest event of their kind (a null tag or alias
  value deletes it); an alias is the model's, its value a version number, and one pointing at a
  version that is not live does not count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .records import ModelVersion, RegisteredModel

if TYPE_CHECKING:
    from ..store.reader import Reader, Snapshot

_ROW_COLUMNS = (
    "version", "run_id", "source", "path", "flavors", "signature", "description", "created_at",
)  # fmt: skip


@dataclass
class ModelState:
    """Registered model ``name`` as its rows say now (``live`` False: no such model now)."""

    name: str
    live: bool = False
    highest: int = 0  # the highest number ever given (deleted versions included)
    deleted: set[int] = field(default_factory=set)  # numbers given but no longer live
    created_at: datetime | None = None
    updated_at: datetime | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    versions: dict[int, ModelVersion] = field(default_factory=dict)
    last_micros: int = 0  # the latest time in its rows, in epoch microseconds

    def model(self, latest: list[ModelVersion]) -> RegisteredModel:
        return RegisteredModel(
            name=self.name, description=self.description, tags=dict(self.tags),
            aliases=dict(self.aliases), latest_versions=latest, created_at=self.created_at,
            updated_at=self.updated_at,
        )  # fmt: skip


# The rows last read per model name, with the snapshot generation they were read at: a store
# that has not changed since (the common case of loading models:/ URIs) is not queried again.
_read: dict[str, tuple[tuple[Reader, int], list[tuple[Any, ...]]]] = {}


def read_state(snap: Snapshot, root: Path, name: str) -> ModelState:
    """Fold ``name``'s rows (one small query, skipped when the store has not changed since
    the last) into its current state."""
    last = _read.get(name)
    if last is not None and last[0] == snap.generation:
        found = last[1]
    else:
        found = _query_rows(snap, name)
        _read[name] = (snap.generation, found)
    events = [r[1:6] for r in found if r[0] == 0]
    rows = [(r[1], *r[3:9], r[2]) for r in found if r[0] == 1]
    state = fold(name, events, rows, root)
    state.last_micros = max((int(r[-1]) for r in found), default=0)
    return state


def _query_rows(snap: Snapshot, name: str) -> list[tuple[Any, ...]]:
    # One query for both (each query costs a millisecond or two): the events, then the rows.
    return snap.rows(
        'SELECT 0, version, "timestamp", kind, key, value, NULL, NULL, NULL, NULL, '
        'epoch_us("timestamp") FROM registry_events WHERE name = ? UNION ALL '
        "SELECT 1, version, created_at, run_id, source, path, flavors, signature, description, "
        f"NULL, epoch_us(created_at) FROM {snap.rows_of('model_versions')} WHERE name = ? "
        "ORDER BY 1, 3",
        [name, name],
    )


def fold(
    name: str, events: list[tuple[Any, ...]], rows: list[tuple[Any, ...]], root: Path
) -> ModelState:
    """The state from ``events`` (version, timestamp, kind, key, value; in time order) and
    version ``rows`` (:data:`_ROW_COLUMNS`)."""
    state = ModelState(name, highest=max((int(r[0]) for r in rows), default=0))
    born = max((t for _, t, kind, _, _ in events if kind == "model_created"), default=None)
    died = max((t for _, t, kind, _, _ in events if kind == "model_deleted"), default=None)
    state.live = born is not None and (died is None or born > died)
    if not state.live:
        state.deleted = {int(r[0]) for r in rows}
        return state
    state.created_at = state.updated_at = born
    current = [e for e in events if e[1] >= born]
    gone = {int(v) for v, _, kind, _, _ in current if kind == "version_deleted"}
    for values in rows:
        row = dict(zip(_ROW_COLUMNS, values, strict=True))
        number = int(row["version"])
        if row["created_at"] < born or number in gone:
            state.deleted.add(number)
            continue
        state.versions[number] = ModelVersion(
            name=name, version=number, run_id=row["run_id"], source=row["source"],
            path=root / row["path"], description=row["description"],
            created_at=row["created_at"], updated_at=row["created_at"],
            signature=json.loads(row["signature"]) if row["signature"] else None,
            flavors=list(json.loads(row["flavors"]) if row["flavors"] else {}),
        )  # fmt: skip
    aliases: dict[str, int] = {}
    for version, moment, kind, key, value in current:
        target = state.versions.get(int(version)) if version is not None else None
        if version is not None and target is None:
            continue  # an event of a deleted version
        if target is not None:
            target.updated_at = max(target.updated_at or moment, moment)
        else:
            state.updated_at = max(state.updated_at or moment, moment)
        if kind == "stage" and target is not None:
            target.stage = value
        elif kind == "description":
            if target is not None:
                target.description = value
            else:
                state.description = value
        elif kind == "tag":
            tags = target.tags if target is not None else state.tags
            if value is None:
                tags.pop(key, None)
            else:
                tags[key] = value
        elif kind == "alias":
            if value is None:
                aliases.pop(key, None)
            else:
                aliases[key] = int(value)
    state.aliases = {a: v for a, v in sorted(aliases.items()) if v in state.versions}
    for alias, number in state.aliases.items():
        state.versions[number].aliases.append(alias)
    for found in state.versions.values():
        found.tags = dict(sorted(found.tags.items()))
        if found.updated_at is not None and state.updated_at is not None:
            state.updated_at = max(state.updated_at, found.updated_at)
    state.tags = dict(sorted(state.tags.items()))
    return state
