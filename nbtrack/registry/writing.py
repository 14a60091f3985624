"""Changing the registry: registering versions, aliases, stages, tags, descriptions, deletions.

Each change is checked against the store as it is and written at once, under the registry lock
(see :mod:`nbtrack.registry.storage`), so it is visible to every process when the call returns.

Version numbers are dense and unique per name, and never reused: a deleted version keeps its
number, so a ``models:/`` URI never silently changes meaning. Deleting a registered model
removes its versions, aliases and tags; registering the name again later starts a new model
whose numbering continues after the old one's (its first version is not 1 again).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..errors import ModelNotFoundError, RegistryError
from ..store import get_store
from ..store.layout import fsync_path
from .checks import check_alias, check_name, check_stage, check_tag
from .reading import missing_model, version_of
from .records import ModelVersion, RegisteredModel
from .state import ModelState
from .storage import REGISTRY_DIR, Change, changing, refused

# Folders of the store that registered versions point into rather than copy: they are never
# rewritten, so the version's files stay what they were.
STABLE_DIRS = ("artifacts", REGISTRY_DIR)
# Stages whose versions archive_existing moves to Archived (MLflow's rule).
ARCHIVING_STAGES = ("Staging", "Production")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _live(change: Change, name: str) -> ModelState:
    """Registered model ``name`` as it is now, or ModelNotFoundError listing the ones there are."""
    state = change.state(name)
    if not state.live:
        raise missing_model(change.snap, name)
    return state


def _moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _where(store_root: Path, what: str) -> str:
    return f"{what} in the nbtrack store at {store_root}"


# ---- registering versions -------------------------------------------------------------------
def register_model(
    model_uri: str | os.PathLike[str],
    name: str,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
) -> ModelVersion:
    """Register the model at ``model_uri`` as the next version of ``name`` (created if new).

    ``model_uri``: ``runs:/<run_id>/<path>``, ``models:/...``, a ``file:`` URI or a folder
    path (anything :func:`nbtrack.load_model` takes). A model inside the store (logged with a
    run) is referenced where it is; one outside is copied into ``registry/<name>/<version>/``.
    The version records its source run, flavors and signature. Numbers are dense and unique
    per name even when processes register at the same moment, and never reused.

    >>> import nbtrack, tempfile
    >>> from nbtrack.mlmodel import PythonModel, log_model
    >>> from nbtrack.registry import register_model
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> class Twice(PythonModel):
    ...     def predict(self, context, model_input, params=None):
    ...         return [2 * x for x in model_input]
    >>> with nbtrack.run():
    ...     info = log_model(Twice(), "model")
    >>> version = register_model(info.model_uri, "twice")
    >>> version.version, version.stage, version.run_id == info.run_id
    (1, 'None', True)
    """
    from ..mlmodel import locate  # (imported here: it needs the model libraries' machinery)

    name = check_name(name)
    tag_items = [check_tag(key, value) for key, value in (tags or {}).items()]
    location = locate(str(model_uri))
    folder = Path(location.path)
    model = read_mlmodel(folder)
    run_id = location.run_id or model.get("run_id")
    store = get_store()
    root = store.root
    action = _where(root, f"register model {name!r}")
    relative = _stable_path(root, folder)
    staged = None if relative is not None else _stage_copy(root, name, folder, action)
    placed: Path | None = None
    try:
        with changing(action) as change:
            state = change.state(name)
            version = state.highest + 1  # deleted versions and earlier lives of the name count
            if staged is not None:
                placed = _place(staged, root / REGISTRY_DIR / name / str(version))
                relative = placed.relative_to(root).as_posix()
                store.layout.store_files(p for p in placed.rglob("*") if p.is_file())
            if not state.live:
                change.event(name, "model_created")
            created = change.now()
            change.add_version(
                name=name, version=version, run_id=run_id, source=str(model_uri),
                path=relative, flavors=json.dumps(model.get("flavors") or {}, default=str),
                signature=_json_or_none(model.get("signature")), description=description,
                created_at=created,
            )  # fmt: skip
            updated = created
            for key, value in tag_items:
                updated = change.event(name, "tag", version, key, value)
    except BaseException:
        for leftover in (staged, placed):
            if leftover is not None:
                shutil.rmtree(leftover, ignore_errors=True)
        raise
    assert relative is not None
    return ModelVersion(
        name=name, version=version, run_id=run_id, source=str(model_uri), path=root / relative,
        tags=dict(tag_items), description=description, created_at=_moment(created),
        updated_at=_moment(updated), signature=model.get("signature"),
        flavors=list(model.get("flavors") or {}),
    )  # fmt: skip


def read_mlmodel(folder: Path) -> dict[str, Any]:
    """The ``MLmodel`` file of a model folder, or RegistryError when it has none."""
    import yaml

    try:
        text = (folder / "MLmodel").read_text()
    except OSError as err:
        raise RegistryError(
            f"cannot register {folder}: it is not a model folder (no readable MLmodel file: "
            f"{err.strerror or err}); save the model with nbtrack.save_model or log_model first"
        ) from err
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    found = yaml.load(text, Loader=loader)
    if not isinstance(found, dict):
        raise RegistryError(f"cannot register {folder}: its MLmodel file is not a YAML mapping; "
                            "save the model again")  # fmt: skip
    return found


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str)


def _stable_path(root: Path, folder: Path) -> str | None:
    """``folder`` relative to the store root when it lies in one of :data:`STABLE_DIRS`."""
    try:
        relative = folder.resolve().relative_to(root.resolve())
    except ValueError:
        return None
    return relative.as_posix() if relative.parts[:1] and relative.parts[0] in STABLE_DIRS else None


def _stage_copy(root: Path, name: str, folder: Path, action: str) -> Path:
    """Copy ``folder`` to a hidden folder of ``registry/<name>/`` (done before the lock: a big
    model must not hold up other processes' registrations)."""
    staged = root / REGISTRY_DIR / name / f".incoming-{secrets.token_hex(6)}"
    try:
        staged.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(folder, staged)
    except OSError as err:
        shutil.rmtree(staged, ignore_errors=True)
        raise refused(action, err) from err
    return staged


def _place(staged: Path, final: Path) -> Path:
    """Rename the staged copy to its version's folder (a leftover folder there, from a change
    that crashed before it was written, belongs to no version and is replaced)."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(staged, final)
    fsync_path(final.parent)
    return final


def create_registered_model(
    name: str, tags: Mapping[str, Any] | None = None, description: str | None = None
) -> RegisteredModel:
    """Create the registered model ``name`` with no versions yet (:func:`register_model`
    creates it too); RegistryError if it exists.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> from nbtrack.registry import create_registered_model
    >>> create_registered_model("wine", tags={"team": "a"}).tags
    {'team': 'a'}
    """
    name = check_name(name)
    tag_items = [check_tag(key, value) for key, value in (tags or {}).items()]
    root = get_store().root
    with changing(_where(root, f"create registered model {name!r}")) as change:
        if change.state(name).live:
            raise RegistryError(
                f"registered model {name!r} already exists; add a version with "
                f"nbtrack.register_model(model_uri, {name!r}) or choose another name"
            )
        created = updated = change.event(name, "model_created")
        for key, value in tag_items:
            updated = change.event(name, "tag", None, key, value)
        if description is not None:
            updated = change.event(name, "description", None, None, description)
    return RegisteredModel(
        name=name, description=description, tags=dict(tag_items),
        created_at=_moment(created), updated_at=_moment(updated),
    )  # fmt: skip


# ---- aliases and stages ---------------------------------------------------------------------
def set_alias(name: str, alias: str, version: int | str) -> None:
    """Point ``name``'s ``alias`` (e.g. ``champion``) at ``version``, moving it off the version
    it was on; then ``models:/<name>@<alias>`` loads that version.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> from nbtrack.registry import set_alias
    >>> set_alias("wine", "champion", 1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    nbtrack.errors.ModelNotFoundError: no registered model 'wine': the registry is empty; ...
    """
    alias = check_alias(alias.removeprefix("@") if isinstance(alias, str) else alias)
    root = get_store().root
    with changing(_where(root, f"set alias {alias!r} of model {name!r}")) as change:
        found = version_of(_live(change, name), version)
        change.event(name, "alias", None, alias, str(found.version))


def delete_alias(name: str, alias: str) -> None:
    """Remove ``name``'s ``alias``; ModelNotFoundError if it has no such alias."""
    alias = alias.removeprefix("@")
    root = get_store().root
    with changing(_where(root, f"delete alias {alias!r} of model {name!r}")) as change:
        aliases = _live(change, name).aliases
        if alias not in aliases:
            listed = ", ".join(f"{a} (version {v})" for a, v in aliases.items()) or "none"
            raise ModelNotFoundError(
                f"registered model {name!r} has no alias {alias!r}; its aliases: {listed}"
            )
        change.event(name, "alias", None, alias, None)


def transition_stage(
    name: str, version: int | str, stage: str, archive_existing: bool = False
) -> ModelVersion:
    """Move ``version`` of ``name`` to ``stage`` (``None``, ``Staging``, ``Production`` or
    ``Archived``, any case); returns the version. ``archive_existing`` (for Staging and
    Production) moves the model's other versions in that stage to Archived."""
    canonical = check_stage(stage)
    if archive_existing and canonical not in ARCHIVING_STAGES:
        raise RegistryError(
            f"archive_existing applies to the stages {' and '.join(ARCHIVING_STAGES)} only, not "
            f"{canonical!r}; leave it out"
        )
    root = get_store().root
    action = _where(root, f"move version {version} of model {name!r} to stage {canonical!r}")
    with changing(action) as change:
        state = _live(change, name)
        found = version_of(state, version)
        moved = change.event(name, "stage", found.version, None, canonical)
        if archive_existing:
            for other in state.versions.values():
                if other.stage == canonical and other.version != found.version:
                    change.event(name, "stage", other.version, None, "Archived")
    return replace(found, stage=canonical, updated_at=_moment(moved))


# ---- tags and descriptions ------------------------------------------------------------------
def _target(
    change: Change, name: str, version: int | str | None
) -> tuple[int | None, dict[str, str]]:
    """The version number a model-or-version change applies to (None: the model), checked,
    and its tags."""
    state = _live(change, name)
    if version is None:
        return None, state.tags
    found = version_of(state, version)
    return found.version, found.tags


def _what(name: str, version: int | str | None) -> str:
    return f"model {name!r}" if version is None else f"version {version} of model {name!r}"


def set_model_tag(name: str, key: str, value: Any, version: int | str | None = None) -> None:
    """Set tag ``key`` of registered model ``name`` (or of its ``version``) to ``value``
    (stored as text)."""
    key, text = check_tag(key, value)
    root = get_store().root
    with changing(_where(root, f"tag {_what(name, version)}")) as change:
        change.event(name, "tag", _target(change, name, version)[0], key, text)


def delete_model_tag(name: str, key: str, version: int | str | None = None) -> None:
    """Remove tag ``key`` of registered model ``name`` (or of its ``version``); RegistryError
    if it has no such tag."""
    root = get_store().root
    with changing(_where(root, f"delete a tag of {_what(name, version)}")) as change:
        number, tags = _target(change, name, version)
        if key not in tags:
            raise RegistryError(
                f"{_what(name, version)} has no tag {key!r}; its tags: "
                f"{', '.join(sorted(tags)) or 'none'}"
            )
        change.event(name, "tag", number, key, None)


def update_description(
    name: str, description: str | None, version: int | str | None = None
) -> None:
    """Set the description of registered model ``name`` (or of its ``version``)."""
    if description is not None and not isinstance(description, str):
        raise RegistryError(f"a description is text, not {type(description).__name__}")
    root = get_store().root
    with changing(_where(root, f"describe {_what(name, version)}")) as change:
        change.event(name, "description", _target(change, name, version)[0], None, description)


# ---- deleting -------------------------------------------------------------------------------
def delete_model_version(name: str, version: int | str) -> None:
    """Delete ``version`` of ``name``: reads no longer see it and the aliases on it are
    removed; its number is never given again (a ``models:/`` URI never changes meaning). Files
    copied into ``registry/<name>/<version>/`` stay on disk."""
    root = get_store().root
    with changing(_where(root, f"delete version {version} of model {name!r}")) as change:
        found = version_of(_live(change, name), version)
        change.event(name, "version_deleted", found.version)
        for alias in found.aliases:
            change.event(name, "alias", None, alias, None)


def delete_registered_model(name: str) -> None:
    """Delete registered model ``name`` with its versions, aliases and tags. Registering the
    name again starts a new model whose version numbers continue after the deleted ones."""
    root = get_store().root
    with changing(_where(root, f"delete registered model {name!r}")) as change:
        _live(change, name)
        change.event(name, "model_deleted")
