"""Reading the registry: models, versions, aliases, stages, and ``models:/`` references.

Reads see the store as it is (every change any process has made, as for runs). A reference
that resolves to nothing is a ModelNotFoundError saying which part did not and what exists.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ModelNotFoundError
from ..store import get_store
from .checks import STAGES, check_stage, check_version, is_stage
from .records import MODEL_COLUMNS, VERSION_COLUMNS, ModelVersion, RegisteredModel
from .state import ModelState, read_state

if TYPE_CHECKING:
    from ..store.reader import Snapshot

# At most this many names or versions are listed in an error message.
LISTED = 20
_VERSION_SELECT = f"SELECT {', '.join(f'm.{c}' for c in VERSION_COLUMNS)} FROM model_versions m"
_MODEL_SELECT = f"SELECT {', '.join(f'm.{c}' for c in MODEL_COLUMNS)} FROM registered_models m"


def _listed(items: Sequence[str]) -> str:
    """``items`` joined for a message, the first :data:`LISTED` of them.

    >>> _listed([str(i) for i in range(25)]).endswith("18, 19 … (25 in all)")
    True
    """
    shown = ", ".join(items[:LISTED])
    return f"{shown} … ({len(items)} in all)" if len(items) > LISTED else shown


# ---- queries on a snapshot (the writing side uses them under its lock) -----------------------
def select_versions(
    snap: Snapshot,
    root: Path,
    where: str = "true",
    args: Sequence[Any] = (),
    order: str = "m.name, m.version DESC",
    limit: int | None = None,
) -> list[ModelVersion]:
    """The live versions matching ``where`` (SQL over ``model_versions m``), in ``order``."""
    sql = f"{_VERSION_SELECT} WHERE {where} ORDER BY {order}"
    args = list(args)
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return [ModelVersion.from_row(row, root) for row in snap.rows(sql, args)]


def select_models(
    snap: Snapshot,
    root: Path,
    where: str = "true",
    args: Sequence[Any] = (),
    order: str = "m.name",
    limit: int | None = None,
) -> list[RegisteredModel]:
    """The registered models matching ``where`` (SQL over ``registered_models m``), in
    ``order``, each with its latest version per stage."""
    sql = f"{_MODEL_SELECT} WHERE {where} ORDER BY {order}"
    args = list(args)
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    rows = snap.rows(sql, args)
    names = [row[0] for row in rows]
    latest: dict[str, list[ModelVersion]] = {name: [] for name in names}
    if names:
        for found in _latest_per_stage(snap, root, names):
            latest[found.name].append(found)
    return [RegisteredModel.from_row(row, latest[row[0]]) for row in rows]


def _latest_per_stage(
    snap: Snapshot, root: Path, names: list[str], stages: Sequence[str] = STAGES
) -> list[ModelVersion]:
    """The latest version in each of ``stages`` of each model of ``names``, by name, then in
    the order of ``stages`` (MLflow's)."""
    found = select_versions(
        snap, root,
        "m.name IN (SELECT unnest(?)) AND m.stage IN (SELECT unnest(?)) "
        "QUALIFY row_number() OVER (PARTITION BY m.name, m.stage ORDER BY m.version DESC) = 1",
        [names, list(stages)],
    )  # fmt: skip
    rank = {stage: i for i, stage in enumerate(stages)}
    return sorted(found, key=lambda v: (v.name, rank[v.stage]))


def model_names(snap: Snapshot) -> list[str]:
    """The names of the registered models, sorted."""
    return [row[0] for row in snap.rows("SELECT name FROM registered_models ORDER BY name")]


def require_model(snap: Snapshot, root: Path, name: str) -> ModelState:
    """The state of registered model ``name``, or ModelNotFoundError listing the ones there
    are."""
    state = read_state(snap, root, name)
    if state.live:
        return state
    raise missing_model(snap, name)


def missing_model(snap: Snapshot, name: str) -> ModelNotFoundError:
    """The error for a registered model ``name`` that does not exist: which ones do."""
    names = model_names(snap)
    if not names:
        return ModelNotFoundError(
            f"no registered model {name!r}: the registry is empty; register a model with "
            f"nbtrack.register_model(model_uri, {name!r})"
        )
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ModelNotFoundError(
        f"no registered model {name!r}{hint}; registered models: {_listed(names)}"
    )


def _versions_summary(state: ModelState, stages: bool = False) -> str:
    """The model's live versions for a message (``1, 2`` or with stages ``1 (None), 2
    (Staging)``), or how to register one."""
    if not state.versions:
        return (
            f"it has no versions yet: register one with nbtrack.register_model(model_uri, "
            f"{state.name!r})"
        )
    items = [f"{n} ({v.stage})" if stages else str(n) for n, v in sorted(state.versions.items())]
    return f"its versions: {_listed(items)}"


def version_of(state: ModelState, version: Any) -> ModelVersion:
    """Live version ``version`` of the model, or ModelNotFoundError saying what exists."""
    number = check_version(version)
    found = state.versions.get(number)
    if found is not None:
        return found
    what = "was deleted (numbers are never reused)" if number in state.deleted else "does not exist"
    raise ModelNotFoundError(
        f"registered model {state.name!r} has no version {number}: it {what}; "
        f"{_versions_summary(state)}"
    )


def alias_of(state: ModelState, alias: str) -> ModelVersion:
    """The version the model's ``alias`` points at, or ModelNotFoundError listing its aliases."""
    if alias in state.aliases:
        return state.versions[state.aliases[alias]]
    name = state.name
    if not state.aliases:
        raise ModelNotFoundError(
            f"registered model {name!r} has no alias {alias!r}: it has no aliases; set one with "
            f"nbtrack.set_alias({name!r}, {alias!r}, <version>)"
        )
    listed = _listed([f"{a} (version {v})" for a, v in state.aliases.items()])
    raise ModelNotFoundError(
        f"registered model {name!r} has no alias {alias!r}; its aliases: {listed}"
    )


def latest_per_stage(state: ModelState, stages: Sequence[str] = STAGES) -> list[ModelVersion]:
    """The latest version in each of ``stages`` (in that order; stages without one left out)."""
    latest: dict[str, ModelVersion] = {}
    for _, found in sorted(state.versions.items()):
        latest[found.stage] = found
    return [latest[stage] for stage in stages if stage in latest]


def stage_of(state: ModelState, stage: str) -> ModelVersion:
    """The latest version of the model in ``stage``, or ModelNotFoundError."""
    canonical = check_stage(stage)
    found = latest_per_stage(state, [canonical])
    if found:
        return found[0]
    raise ModelNotFoundError(
        f"registered model {state.name!r} has no version in stage {canonical!r}; "
        f"{_versions_summary(state, stages=True)}"
    )


def latest_of(state: ModelState) -> ModelVersion:
    """The highest live version of the model, or ModelNotFoundError."""
    if state.versions:
        return state.versions[max(state.versions)]
    raise ModelNotFoundError(
        f"registered model {state.name!r} has no version to load; {_versions_summary(state)}"
    )


def resolve_in(state: ModelState, ref: str | int) -> ModelVersion:
    """:func:`resolve` on the model's state."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        return version_of(state, ref)
    if not isinstance(ref, str) or not ref.strip():
        raise ModelNotFoundError(
            f"cannot resolve {ref!r} for registered model {state.name!r}: give a version ('3'), "
            "a stage ('Production'), an alias ('@champion') or 'latest'"
        )
    text = ref.strip()
    if text.startswith("@"):
        return alias_of(state, text[1:])
    if text.isdigit():
        return version_of(state, text)
    if text.lower() == "latest":
        return latest_of(state)
    if is_stage(text):
        return stage_of(state, text)
    return alias_of(state, text)


# ---- the public read API -------------------------------------------------------------------
def _state(name: str) -> ModelState:
    store = get_store()
    with store.reader.snapshot() as snap:
        return require_model(snap, store.root, name)


def resolve(name: str, ref: str | int) -> ModelVersion:
    """The version that ``models:/<name>/<ref>`` (or ``models:/<name>@<alias>``) means.

    ``ref``: a version number (``3`` or ``"3"``), a stage in any case (``"Production"``,
    ``"staging"``: the latest version in it), ``"latest"`` (the highest live version), or an
    alias (``"@champion"``, or ``"champion"`` when it is none of the above). Raises
    ModelNotFoundError saying which part did not resolve and what exists.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> from nbtrack.registry import resolve
    >>> resolve("wine", "@champion")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    nbtrack.errors.ModelNotFoundError: no registered model 'wine': the registry is empty; ...
    """
    return resolve_in(_state(name), ref)


def get_registered_model(name: str) -> RegisteredModel:
    """The registered model ``name`` (its aliases, tags, description, latest version in each
    stage), or ModelNotFoundError listing the registered models."""
    state = _state(name)
    return state.model(latest_per_stage(state))


def get_model_version(name: str, version: int | str) -> ModelVersion:
    """Version ``version`` of registered model ``name``, or ModelNotFoundError."""
    return version_of(_state(name), version)


def get_model_version_by_alias(name: str, alias: str) -> ModelVersion:
    """The version of ``name`` that ``alias`` points at, or ModelNotFoundError listing the
    model's aliases."""
    return alias_of(_state(name), alias.removeprefix("@"))


def get_latest_versions(name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
    """The latest version of ``name`` in each stage (of ``stages``, any case; default: all),
    in stage order (None, Staging, Production, Archived) as MLflow returns them; stages
    without a version are left out."""
    wanted = STAGES if stages is None else [check_stage(s) for s in stages]
    return latest_per_stage(_state(name), wanted)
