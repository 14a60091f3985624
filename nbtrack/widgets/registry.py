"""``nbtrack.models()``: the model registry inline: registered models, their versions (stage,
aliases, source run, the run's key metrics) and the selected version's detail (URIs, flavors,
signature, the run's params and metrics). Follows the store as the run table does."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

import anywidget
import traitlets as t

from ..errors import FilterError, ModelNotFoundError, RegistryError, RunNotFoundError
from ..query import get_run
from ..query.runs import run_summaries
from ..registry import get_model_version, search_model_versions, search_registered_models
from .base import bundle, follow_store, json_value
from .formatting import html_cell
from .saved import SavedView

# How many of its runs' metrics each model shows beside its versions (those most runs share).
KEY_METRICS = 4
# How many versions of each model a saved notebook lists (newest first).
SAVED_VERSIONS = 10
# A column that html_cell formats as a date-time, as the run table shows its times.
_TIME = "start_time"


class ModelRegistry(SavedView, anywidget.AnyWidget):
    """The registered models; click one to see its versions, click a version to see its source
    run's params and metrics, its signature and the URIs that load it. ``.selected`` holds the
    selected version as ``"name/version"`` (and setting it selects one). Updates as the
    registry changes.

    >>> import nbtrack
    >>> registry = nbtrack.models("name LIKE 'wine%'")  # doctest: +SKIP
    >>> registry.selected = "wine/2"  # doctest: +SKIP
    """

    _esm = bundle("registry.js")
    _css = bundle("styles.css")

    filter = t.Unicode("").tag(sync=True)
    _filter_error = t.Unicode("").tag(sync=True)
    _models = t.List(t.Dict()).tag(sync=True)
    expanded = t.List(t.Unicode()).tag(sync=True)
    selected = t.Unicode("").tag(sync=True)
    _detail = t.Dict().tag(sync=True)

    def __init__(self, filter: str | None = None, live: bool = True) -> None:
        super().__init__(filter=filter or "")
        self.refresh()
        self.observe(lambda _: self._changed(self._load_models), names=["filter"])
        self.observe(lambda _: self._changed(self._load_detail), names=["selected"])
        self.observe(lambda _: self.update_saved(), names=["expanded"])
        if live:
            follow_store(self)

    @t.validate("selected")
    def _check_selected(self, proposal: Any) -> str:
        key = str(proposal["value"])
        if key:
            name, version = parse_version_key(key)
            try:
                get_model_version(name, version)
            except ModelNotFoundError as err:
                raise t.TraitError(str(err)) from err
        return key

    # ---- reading the registry ---------------------------------------------------------------
    def refresh(self) -> None:
        """Read the registry again (the models shown and the selected version's detail)."""
        self._load_models()
        self._load_detail()

    def _changed(self, load: Any) -> None:
        load()
        self.update_saved()

    def _load_models(self) -> None:
        try:
            models = registry_entries(self.filter)
        except (FilterError, RegistryError, ValueError) as err:
            self._filter_error = str(err)
            return
        with self.hold_sync():
            self._filter_error = ""
            self._models = models

    def _load_detail(self) -> None:
        if not self.selected:
            self._detail = {}
            return
        name, version = parse_version_key(self.selected)
        try:
            detail = version_detail(name, version)
        except ModelNotFoundError:  # deleted meanwhile
            with self.hold_sync():
                self.selected = ""
                self._detail = {}
            return
        with self.hold_sync():
            if name not in self.expanded:
                self.expanded = [*self.expanded, name]
            self._detail = detail

    # ---- a saved notebook shows the registry without a kernel -----------------------------
    def saved_html(self) -> str:
        return self.to_html()

    def to_html(self) -> str:
        """The models, each one's latest versions and the selected version as plain HTML tables
        whose cells read as in the live widget."""
        error = f"<pre>{html.escape(self._filter_error)}</pre>" if self._filter_error else ""
        parts = [error, models_html(self._models)]
        parts += [versions_html(entry) for entry in self._models if entry["versions"]]
        if self._detail:
            parts.append(detail_html(self._detail))
        return "".join(parts)


def models(filter: str | None = None) -> ModelRegistry:
    """The model registry as an interactive widget; ``filter`` uses the registry's filter
    grammar (``name LIKE 'wine%' and tags.team = 'a'``); ``.selected`` is ``"name/version"``.

    >>> import nbtrack
    >>> nbtrack.models()  # doctest: +SKIP
    """
    return ModelRegistry(filter=filter)


# ---- what the widget sends ------------------------------------------------------------------
def parse_version_key(key: str) -> tuple[str, int]:
    """``"name/version"`` split into the model's name and the version number.

    >>> parse_version_key("team/wine/3")
    ('team/wine', 3)
    >>> parse_version_key("wine")
    Traceback (most recent call last):
    ...
    ValueError: a version is selected as 'name/version', e.g. 'wine/3'; got 'wine'
    """
    name, _, number = key.rpartition("/")
    if not name or not number.isdigit() or int(number) < 1:
        raise ValueError(f"a version is selected as 'name/version', e.g. 'wine/3'; got {key!r}")
    return name, int(number)


def registry_entries(filter: str | None = None) -> list[dict[str, Any]]:
    """The registered models matching ``filter``, each with its versions (newest first) and
    the key metrics of their source runs, as the widget sends them."""
    found = search_registered_models(filter or None)
    names = {model.name for model in found}
    versions: dict[str, list[Any]] = {name: [] for name in names}
    for version in search_model_versions() if names else []:
        if version.name in names:
            versions[version.name].append(version)
    runs = run_summaries(v.run_id for group in versions.values() for v in group if v.run_id)
    entries = [
        _entry(model, sorted(versions[model.name], key=lambda v: -v.version), runs)
        for model in found
    ]
    return sorted(entries, key=lambda entry: entry["name"])


def _entry(model: Any, versions: list[Any], runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    keys = key_metrics(runs[v.run_id]["metrics"] for v in versions if v.run_id in runs)
    return {
        "name": model.name,
        "description": model.description or "",
        "aliases": {alias: int(number) for alias, number in (model.aliases or {}).items()},
        "tags": {str(k): str(v) for k, v in (model.tags or {}).items()},
        "latest_version": versions[0].version if versions else None,
        "created_at": json_value(model.created_at),
        "updated_at": json_value(model.updated_at),
        "metric_keys": keys,
        "versions": [_version_row(v, runs.get(v.run_id or ""), keys) for v in versions],
    }


def _version_row(version: Any, run: dict[str, Any] | None, keys: list[str]) -> dict[str, Any]:
    metrics = run["metrics"] if run else {}
    return {
        "version": int(version.version),
        "stage": version.stage,
        "aliases": sorted(version.aliases),
        "run_id": version.run_id,
        "run_name": run["name"] if run else None,
        "created_at": json_value(version.created_at),
        "description": version.description or "",
        "metrics": {key: json_value(metrics.get(key)) for key in keys},
    }


def key_metrics(metric_sets: Iterable[dict[str, Any]], limit: int = KEY_METRICS) -> list[str]:
    """The metric keys that most of the runs have (ties by name), at most ``limit``.

    >>> key_metrics([{"acc": 1, "f1": 1}, {"acc": 1, "loss": 1}, {"acc": 1, "f1": 1}], 2)
    ['acc', 'f1']
    """
    counts = Counter(key for metrics in metric_sets for key in metrics)
    return sorted(counts, key=lambda key: (-counts[key], key))[:limit]


def version_detail(name: str, version: int) -> dict[str, Any]:
    """What the detail pane shows of version ``version`` of model ``name``."""
    found = get_model_version(name, version)
    signature = found.signature or {}
    detail: dict[str, Any] = {
        "name": found.name,
        "version": int(found.version),
        "stage": found.stage,
        "aliases": sorted(found.aliases),
        "description": found.description or "",
        "source": str(found.source or ""),
        "path": str(found.path or ""),
        "created_at": json_value(found.created_at),
        "tags": {str(k): str(v) for k, v in (found.tags or {}).items()},
        "flavors": [str(flavor) for flavor in found.flavors or []],
        "inputs": schema_fields(signature.get("inputs")),
        "outputs": schema_fields(signature.get("outputs")),
        "run": None,
        "run_note": "" if found.run_id else "registered from a folder, not from a run",
    }
    if found.run_id:
        try:
            record = get_run(found.run_id)
        except RunNotFoundError:
            detail["run_note"] = f"run {found.run_id} is no longer in the store"
        else:
            detail["run"] = {
                "id": record.id,
                "name": record.name,
                "experiment": record.experiment,
                "status": record.status,
                "params": {k: json_value(v) for k, v in record.params.items()},
                "metrics": {k: json_value(v) for k, v in record.metrics.items()},
            }
            if record.deleted:
                detail["run_note"] = f"run {record.name} was deleted"
    return detail


def schema_fields(spec: Any) -> list[dict[str, str]]:
    """The columns or tensors of a signature's ``inputs`` or ``outputs`` (MLflow's format: a
    list of specs, or that list as JSON text), as ``{"name", "type"}`` for the widget (an
    unnamed column or tensor has the name "").

    >>> schema_fields('[{"name": "alcohol", "type": "double"}, {"name": "id", "type": "long",'
    ...               ' "required": false}]')
    [{'name': 'alcohol', 'type': 'double'}, {'name': 'id', 'type': 'long (optional)'}]
    >>> schema_fields([{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 13]}}])
    [{'name': '', 'type': 'tensor float64 (-1, 13)'}]
    >>> schema_fields(None)
    []
    """
    if isinstance(spec, str):
        spec = json.loads(spec)
    fields = []
    for item in spec or []:
        kind = str(item.get("type", "?"))
        if kind == "tensor":
            tensor = item.get("tensor-spec") or {}
            shape = ", ".join(str(n) for n in tensor.get("shape") or [])
            kind = f"tensor {tensor.get('dtype', '?')} ({shape})"
        if item.get("required") is False:
            kind += " (optional)"
        fields.append({"name": str(item.get("name") or ""), "type": kind})
    return fields


# ---- static HTML ------------------------------------------------------------------------------
_RIGHT = ' style="text-align: right"'


def _th(text: str, right: bool = False) -> str:
    return f"<th{_RIGHT if right else ''}>{html.escape(text)}</th>"


def _text_cell(text: str) -> str:
    """A ``<td>`` of text; a dash (as the live widget shows) when there is none."""
    return f"<td>{html.escape(text)}</td>" if text else html_cell(None)


def _table(head: list[str], rows: list[str]) -> str:
    return f"<table><thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def models_html(entries: list[dict[str, Any]]) -> str:
    """The models as the live widget lists them.

    >>> models_html([])
    '<p>no registered models</p>'
    """
    if not entries:
        return "<p>no registered models</p>"
    head = [_th("model"), _th("latest", True), _th("aliases"), _th("description"), _th("updated")]
    rows = []
    for entry in entries:
        latest = entry["latest_version"]
        aliases = ", ".join(
            f"@{alias} v{number}" for alias, number in sorted(entry["aliases"].items())
        )
        cells = [
            f"<td><b>{html.escape(entry['name'])}</b></td>",
            html_cell(None, attrs=_RIGHT) if latest is None else f"<td{_RIGHT}>v{latest}</td>",
            _text_cell(aliases),
            _text_cell(entry["description"]),
            html_cell(entry["updated_at"], _TIME),
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    count = len(entries)
    return _table(head, rows) + f"<p>{count} registered model{'' if count == 1 else 's'}</p>"


def versions_html(entry: dict[str, Any]) -> str:
    """A model's newest versions, with their runs' key metrics."""
    keys = entry["metric_keys"]
    head = [_th("version", True), _th("stage"), _th("aliases"), _th("source run"), _th("created")]
    head += [_th(f"metrics.{key}", True) for key in keys]
    rows = []
    for version in entry["versions"][:SAVED_VERSIONS]:
        run_id = version["run_id"]
        run = f"{version['run_name'] or ''} ({run_id[:8]})" if run_id else ""
        cells = [
            f"<td{_RIGHT}><b>v{version['version']}</b></td>",
            _text_cell(version["stage"]),
            _text_cell(", ".join(f"@{alias}" for alias in version["aliases"])),
            _text_cell(run),
            html_cell(version["created_at"], _TIME),
        ]
        cells += [
            html_cell(version["metrics"].get(key), f"metrics.{key}", "metrics", _RIGHT)
            for key in keys
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    more = len(entry["versions"]) - SAVED_VERSIONS
    note = f"<p>{more} older versions not shown</p>" if more > 0 else ""
    return f"<p><b>{html.escape(entry['name'])}</b> versions</p>{_table(head, rows)}{note}"


def detail_html(detail: dict[str, Any]) -> str:
    """The selected version: its URI, and its run's params and last metrics."""
    uri = f"models:/{detail['name']}/{detail['version']}"
    label = ", ".join([detail["stage"], *(f"@{alias}" for alias in detail["aliases"])])
    run = detail["run"] or {}
    source = f" from run {html.escape(run['name'])} ({html.escape(run['id'])})" if run else ""
    rows = [
        f"<tr><th>{html.escape(f'{group}.{key}')}</th>"
        f"{html_cell(value, f'{group}.{key}', group)}</tr>"
        for group in ("params", "metrics")
        for key, value in sorted(run.get(group, {}).items())
    ]
    table = f"<table><tbody>{''.join(rows)}</tbody></table>" if rows else ""
    title = f"<b>{html.escape(detail['name'])} v{detail['version']}</b> ({html.escape(label)})"
    return f"<p>selected: {title}, <code>{html.escape(uri)}</code>{source}</p>{table}"
