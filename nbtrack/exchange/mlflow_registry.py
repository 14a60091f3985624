"""MLflow's model registry into nbtrack's: registered models, versions, stages, aliases, tags,
descriptions and the model files, read through MLflow's own client.

How MLflow's registry maps onto nbtrack's:

* version numbers are MLflow's (``wine`` v3 stays v3, even when v1 and v2 are not imported);
  a version's run id is MLflow's run id, which :func:`nbtrack.import_mlflow` keeps as the
  nbtrack run id, so ``get_run(version.run_id)`` is the imported run.
* a version keeps its MLflow ``source`` (``models:/m-<id>`` for MLflow 3's logged models,
  ``runs:/<run_id>/<path>`` or an artifact location for older ones), stage, tags, description
  and creation time; a model keeps its description, tags, aliases and creation time.
* the model files: a version whose folder is inside a run's artifacts that are already in the
  store (``runs:/<run_id>/model`` imported with ``artifacts=True``) points at them there; any
  other (MLflow 3's logged models, whose files are in the experiment's ``models/`` folder) is
  downloaded with MLflow's own ``models:/<name>/<version>`` download into
  ``registry/<name>/<version>/``, as :func:`nbtrack.register_model` copies a folder from outside
  the store. So ``nbtrack.load_model("models:/wine@champion")`` works after the MLflow store is
  gone.

Importing again adds nothing: a version already in the store (same name and number) is
skipped. For a model the store already has, only the versions it lacks are added (with their
stage, tags and description, and the MLflow aliases on them that the store does not have); the
model's own tags, description and the store's aliases are left as they are, and an
:class:`~nbtrack.errors.NbtrackWarning` says so when the store's history of that name is not
MLflow's (a version number both have that names another model, an alias the store has on
another version). A version MLflow cannot give the files of is skipped with a warning (a later
import tries it again).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from ..errors import NbtrackError, NbtrackWarning
from ..registry.checks import check_alias, check_name, check_stage, check_tag
from ..registry.state import ModelState, read_state
from ..registry.storage import REGISTRY_DIR, Change, changing
from ..registry.writing import read_mlmodel
from ..store import Store, get_store
from ..store.layout import fsync_path

# Registered models and versions fetched per request (MLflow's maximum for registered models).
PAGE_SIZE = 1000


def import_mlflow_registry(
    tracking_uri: str | os.PathLike[str], experiment: str | None = None
) -> int:
    """Copy the model registry of an MLflow tracking store (registered models, their versions
    with stages, aliases, tags, descriptions and model files) into the current nbtrack store;
    returns how many versions were added (those already there, by name and number, are
    skipped).

    :func:`nbtrack.import_mlflow` calls it after the runs (``registry=True``, the default); call
    it yourself to know how many versions arrived::

        runs = nbtrack.import_mlflow(uri, registry=False)
        versions = import_mlflow_registry(uri)

    ``experiment``: only the versions whose run is in that MLflow experiment (and the
    registered models they belong to). Import the runs first (and with ``artifacts=True``) so
    that versions logged with a run point at the run's files instead of a copy. See the module
    docs for how the registry is mapped.
    """
    from .mlflow import _experiments, open_client

    client, uri = open_client(tracking_uri)
    experiment_ids = None
    if experiment is not None:
        experiment_ids = {e.experiment_id for e in _experiments(client, experiment)}
    return import_registry(client, uri, experiment_ids)


# ---- reading MLflow's registry ---------------------------------------------------------------
@dataclass
class _Version:
    number: int
    source: str
    run_id: str | None
    stage: str
    tags: dict[str, str]
    description: str | None
    created_ms: int | None
    updated_ms: int | None
    status: str


@dataclass
class _Model:
    name: str
    description: str | None
    tags: dict[str, str]
    aliases: dict[str, int]
    created_ms: int | None
    updated_ms: int | None
    versions: list[_Version] = field(default_factory=list)


def _pages(search: Any, **query: Any) -> Iterator[Any]:
    token = None
    while True:
        page = search(max_results=PAGE_SIZE, page_token=token, **query)
        yield from page
        token = page.token
        if not token:
            return


def read_registry(client: Any) -> list[_Model]:
    """Every registered model of the MLflow store behind ``client``, with its versions."""
    models: dict[str, _Model] = {}
    for found in _pages(client.search_registered_models):
        aliases = {str(a): int(v) for a, v in (getattr(found, "aliases", None) or {}).items()}
        models[found.name] = _Model(
            name=found.name, description=found.description or None, tags=dict(found.tags or {}),
            aliases=aliases, created_ms=found.creation_timestamp,
            updated_ms=found.last_updated_timestamp,
        )  # fmt: skip
    for found in _pages(client.search_model_versions):
        model = models.get(found.name)
        if model is None:  # registered after the models were listed
            continue
        number = int(found.version)
        for alias in getattr(found, "aliases", None) or []:
            model.aliases.setdefault(str(alias), number)
        model.versions.append(
            _Version(
                number=number, source=str(found.source or ""), run_id=found.run_id or None,
                stage=found.current_stage or "None", tags=dict(found.tags or {}),
                description=found.description or None, created_ms=found.creation_timestamp,
                updated_ms=found.last_updated_timestamp, status=str(found.status or "READY"),
            )
        )  # fmt: skip
    for model in models.values():
        model.versions.sort(key=lambda v: v.number)
    return sorted(models.values(), key=lambda m: m.name)


class _Runs:
    """MLflow runs looked up once each: their experiment and artifact location."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.found: dict[str, Any] = {}

    def info(self, run_id: str | None) -> Any:
        if not run_id:
            return None
        if run_id not in self.found:
            try:
                self.found[run_id] = self.client.get_run(run_id).info
            except Exception:  # a run MLflow no longer has
                self.found[run_id] = None
        return self.found[run_id]


def _only_experiments(models: list[_Model], runs: _Runs, ids: set[str]) -> list[_Model]:
    kept = []
    for model in models:
        model.versions = [
            v for v in model.versions
            if (info := runs.info(v.run_id)) is not None and info.experiment_id in ids
        ]  # fmt: skip
        if model.versions:
            model.aliases = {
                a: n for a, n in model.aliases.items() if n in {v.number for v in model.versions}
            }
            kept.append(model)
    return kept


# ---- the model files -------------------------------------------------------------------------
def _local_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(url2pathname(parsed.path))
    if len(parsed.scheme) <= 1 and uri:  # a plain path (or a Windows drive letter)
        return Path(uri)
    return None


def run_artifact(source: str, run: Any) -> tuple[str, str] | None:
    """(run id, path inside the run's artifacts) of a version's source when it names a folder
    of a run's artifacts: ``runs:/<run_id>/<path>``, or a location under the run's artifact
    URI (``run``: the MLflow run's info, or None).

    >>> run_artifact("runs:/abc/model", None)
    ('abc', 'model')
    >>> run_artifact("models:/m-123", None) is None
    True
    """
    if source.startswith("runs:"):
        run_id, _, path = source[len("runs:") :].lstrip("/").partition("/")
        return (run_id, path.strip("/")) if run_id and path.strip("/") else None
    if run is None or not run.artifact_uri:
        return None
    base, here = run.artifact_uri.rstrip("/"), source.rstrip("/")
    if here.startswith(base + "/"):
        return run.run_id, here[len(base) + 1 :]
    base_path, here_path = _local_path(run.artifact_uri), _local_path(source)
    if base_path is None or here_path is None:
        return None
    try:
        inside = here_path.resolve().relative_to(base_path.resolve())
    except ValueError:
        return None
    return (run.run_id, inside.as_posix()) if inside.parts else None


@dataclass
class _Files:
    """Where a version's model folder is: ``path`` relative to the store root, or ``staged``,
    a downloaded copy waiting to be moved to ``registry/<name>/<version>/``."""

    folder: Path
    path: str | None = None
    staged: Path | None = None
    flavors: str = "{}"
    signature: str | None = None
    placed: Path | None = None  # where the staged copy went, until its rows are written


def _in_store(store: Store, source: str, run: Any) -> str | None:
    """The store path of the version's folder when it is in an imported run's artifacts."""
    found = run_artifact(source, run)
    if found is None:
        return None
    run_id, path = found
    folder = store.layout.artifacts / run_id / path
    artifacts = store.layout.artifacts.resolve()
    if artifacts not in folder.resolve().parents or not (folder / "MLmodel").is_file():
        return None
    return folder.relative_to(store.root).as_posix()


def _fetch(client: Any, store: Store, uri: str, name: str, version: _Version, run: Any) -> _Files:
    """The version's model folder: in the store already, or downloaded by MLflow."""
    import mlflow.artifacts

    path = _in_store(store, version.source, run)
    if path is not None:
        files = _Files(store.root / path, path=path)
    else:
        incoming = store.root / REGISTRY_DIR / name / f".incoming-{secrets.token_hex(6)}"
        incoming.mkdir(parents=True)
        try:
            # Where MLflow keeps the files (a logged model's folder, a run's artifact, a
            # location); MLflow resolves some models:/ URIs against its default store, not uri.
            where = client.get_model_version_download_uri(name, str(version.number))
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=where, dst_path=str(incoming), tracking_uri=uri, registry_uri=uri
            )
        except BaseException:
            shutil.rmtree(incoming, ignore_errors=True)
            raise
        files = _Files(Path(local), staged=incoming)
    model = read_mlmodel(files.folder)
    files.flavors = json.dumps(model.get("flavors") or {}, default=str)
    signature = model.get("signature")
    files.signature = None if signature is None else json.dumps(signature, default=str)
    return files


def _numbers(state: ModelState) -> set[int]:
    """Every version number the store has given ``state``'s name (deleted ones too)."""
    return set(state.versions) | state.deleted


def _say(message: str) -> None:
    warnings.warn(message, NbtrackWarning, stacklevel=4)


# ---- writing ---------------------------------------------------------------------------------
def import_registry(client: Any, uri: str, experiment_ids: set[str] | None = None) -> int:
    """Import the registry of the MLflow store behind ``client`` (tracking URI ``uri``) into
    the current store; ``experiment_ids``: only versions whose run is in these experiments.
    Returns how many versions were added."""
    runs = _Runs(client)
    models = read_registry(client)
    if experiment_ids is not None:
        models = _only_experiments(models, runs, experiment_ids)
    usable = []
    for model in models:
        try:
            check_name(model.name)
        except NbtrackError as err:
            _say(f"MLflow's registered model {model.name!r} was not imported: {err}")
            continue
        usable.append(model)
    if not usable:
        return 0
    store = get_store()
    fetched: dict[tuple[str, int], _Files] = {}
    try:
        with store.reader.snapshot() as snap:
            have = {m.name: _numbers(read_state(snap, store.root, m.name)) for m in usable}
        for model in usable:
            for version in model.versions:
                if version.number in have[model.name]:
                    continue
                if version.status.upper() != "READY":
                    _say(f"version {version.number} of MLflow's model {model.name!r} was not "
                         f"imported: its registration is {version.status}")  # fmt: skip
                    continue
                try:
                    fetched[model.name, version.number] = _fetch(
                        client, store, uri, model.name, version, runs.info(version.run_id)
                    )
                except Exception as err:
                    _say(f"version {version.number} of MLflow's model {model.name!r} was not "
                         f"imported: its model files could not be copied ({err}); importing "
                         "again tries it again")  # fmt: skip
        action = f"import MLflow's model registry into the nbtrack store at {store.root}"
        added = 0
        notes: list[str] = []
        with changing(action) as change:
            for model in usable:
                added += _write_model(change, model, fetched, notes)
    except BaseException:
        for files in fetched.values():
            if files.placed is not None:
                shutil.rmtree(files.placed, ignore_errors=True)
        raise
    finally:
        for files in fetched.values():
            if files.staged is not None:
                shutil.rmtree(files.staged, ignore_errors=True)
    for note in notes:
        _say(note)
    return added


def _micros(ms: int | None, floor: int) -> int:
    return max(int(ms) * 1000 if ms is not None else 0, floor)


def _epoch_micros(moment: datetime | None) -> int:
    if moment is None:
        return 0
    return (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)


class _Clock:
    """Times for one model's events: as MLflow recorded them where it did, and each after the
    model's latest time in the store (so the imported event is the latest of its kind)."""

    def __init__(self, last: int) -> None:
        self.last = last

    def at(self, ms: int | None) -> int:
        self.last = _micros(ms, self.last + 1)
        return self.last


def _event(
    change: Change,
    clock: _Clock,
    ms: int | None,
    name: str,
    kind: str,
    version: int | None = None,
    key: str | None = None,
    value: str | None = None,
) -> None:
    """A ``registry_events`` row timed by ``clock`` (``Change.event`` times rows now)."""
    change.rows["registry_events"].append(
        {"name": name, "version": version, "timestamp": clock.at(ms), "kind": kind,
         "key": key, "value": value}
    )  # fmt: skip


def _write_model(
    change: Change, model: _Model, fetched: dict[tuple[str, int], _Files], notes: list[str]
) -> int:
    """Under the registry lock: add ``model``'s versions the store lacks (and, for a model the
    store does not have now, the model itself); returns how many versions were added."""
    name = model.name
    state = change.state(name)
    clock = _Clock(state.last_micros)
    numbers = _numbers(state)
    new = [v for v in model.versions if v.number not in numbers and (name, v.number) in fetched]
    fresh = not state.live
    if not new and (numbers or not fresh):
        if not fresh:
            _compare(state, model, notes)
        return 0  # nothing MLflow has that the store lacks (or a model deleted there)
    if fresh:
        if numbers:
            skipped = sorted(v.number for v in model.versions if v.number in numbers)
            if skipped:
                notes.append(
                    f"registered model {name!r} was deleted from the nbtrack store, which keeps "
                    f"its version numbers: MLflow's versions {_listing(skipped)} were not "
                    "imported"
                )
        _event(change, clock, model.created_ms, name, "model_created")
        born = clock.last
    else:
        born = _epoch_micros(state.created_at)
        _compare(state, model, notes)
    for version in new:
        _write_version(change, clock, name, version, fetched[name, version.number], born)
    added = {v.number for v in new}
    if fresh:
        if model.description is not None:
            _event(change, clock, model.updated_ms, name, "description", value=model.description)
        for key, value in sorted(model.tags.items()):
            _event(change, clock, model.updated_ms, name, "tag", None, *check_tag(key, value))
    for alias, number in sorted(model.aliases.items()):
        if number not in added or alias in state.aliases:
            continue  # an alias of a version not imported now, or one the store has
        try:
            check_alias(alias)
        except NbtrackError as err:
            notes.append(f"alias {alias!r} of MLflow's model {name!r} was not imported: {err}")
            continue
        _event(change, clock, model.updated_ms, name, "alias", None, alias, str(number))
    return len(new)


def _write_version(
    change: Change, clock: _Clock, name: str, version: _Version, files: _Files, born: int
) -> None:
    path = files.path
    if files.staged is not None:
        final = change.root / REGISTRY_DIR / name / str(version.number)
        if final.exists():  # left by an import that crashed before its rows were written
            shutil.rmtree(final)
        os.replace(files.folder, final)
        fsync_path(final.parent)
        files.placed = final
        if files.folder == files.staged:
            files.staged = None
        path = final.relative_to(change.root).as_posix()
    created = _micros(version.created_ms, born)
    change.add_version(
        name=name, version=version.number, run_id=version.run_id, source=version.source,
        path=path, flavors=files.flavors, signature=files.signature,
        description=version.description, created_at=created,
    )  # fmt: skip
    clock.last = max(clock.last, created)
    updated = max(version.updated_ms or 0, created // 1000)
    try:
        stage = check_stage(version.stage)
    except NbtrackError:
        stage = "None"
    if stage != "None":
        _event(change, clock, updated, name, "stage", version.number, value=stage)
    for key, value in sorted(version.tags.items()):
        _event(change, clock, updated, name, "tag", version.number, *check_tag(key, value))


def _compare(state: ModelState, model: _Model, notes: list[str]) -> None:
    """Note where the store's model ``state`` has another history than MLflow's ``model``."""
    other = sorted(
        v.number for v in model.versions
        if (have := state.versions.get(v.number)) is not None
        and (have.source, have.run_id) != (v.source, v.run_id)
    )  # fmt: skip
    gone = sorted(v.number for v in model.versions if v.number in state.deleted)
    moved = sorted(
        f"{alias!r} (MLflow: version {number}, kept: version {state.aliases[alias]})"
        for alias, number in model.aliases.items()
        if alias in state.aliases and state.aliases[alias] != number
    )  # fmt: skip
    parts = []
    if other:
        parts.append(f"its versions {_listing(other)} are other models than MLflow's")
    if gone:
        parts.append(f"its versions {_listing(gone)} were deleted there")
    if moved:
        parts.append(f"its aliases {', '.join(moved)} point elsewhere")
    if parts:
        notes.append(
            f"registered model {model.name!r} has another history in the nbtrack store "
            f"({'; '.join(parts)}): the store's versions and aliases were kept, only MLflow's "
            "versions it lacks were added"
        )


def _listing(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)
