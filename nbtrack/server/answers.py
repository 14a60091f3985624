"""The API's answers as JSON-ready values, read from the store chosen for the calling thread
(:func:`nbtrack.config.using_store`) with nbtrack's query functions.

Values are made JSON-safe here: times as ISO text, NaN as null, infinities as ``"inf"`` and
``"-inf"`` (in curves, where a chart wants numbers, every non-finite value is null).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..query import browse
from ..query.curves import curves as downsampled
from ..query.lineage import diff
from ..query.runs import child_ids, delete_run, get_run, resolve_ids, restore_run
from ..store import get_store
from .artifacts import confined
from .stores import contents_path


def jsonable(value: Any) -> Any:
    """``value`` with everything JSON cannot carry replaced (see the module's docstring).

    >>> jsonable({"a": float("nan"), "b": [1, float("inf")], "c": Path("/x")})
    {'a': None, 'b': [1, 'inf'], 'c': '/x'}
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return jsonable(item())
    return str(value)


def store_summary() -> dict[str, Any]:
    """``experiments`` (see :func:`browse.experiments`), ``active`` (runs running now) and
    ``version`` (changes whenever anything in the store does)."""
    found, version = browse.experiments_and_version()
    active = sum(e["running"] for e in found)
    return jsonable({"experiments": found, "active": active, "version": version})


def runs(
    root: Path,
    filter: str | None,
    experiment: str | list[str] | None,
    order_by: list[str],
    limit: int,
    offset: int,
    include_deleted: bool,
) -> dict[str, Any]:
    """A page of runs (see :func:`browse.runs_page`), each with ``notebook_path``: its notebook
    as a contents path under server root ``root`` (None when outside it, or none)."""
    page = browse.runs_page(filter, experiment, order_by or None, limit, offset, include_deleted)
    for run in page.runs:
        run["notebook_path"] = contents_path(root, run["notebook"])
    return jsonable({"runs": page.runs, "total": page.total, "columns": page.columns})


def _model(info: Any) -> dict[str, Any]:
    signature = getattr(info, "signature", None)
    return {
        "model_uri": info.model_uri,
        "artifact_path": info.artifact_path,
        "run_id": info.run_id,
        "flavors": info.flavors,
        "signature": signature.to_dict() if signature is not None else None,
        "model_uuid": info.model_uuid,
        "utc_time_created": info.utc_time_created,
        "registered_model_version": info.registered_model_version,
        "metadata": info.metadata,
    }


def run(root: Path, run_id: str) -> dict[str, Any]:
    """Everything :func:`nbtrack.get_run` says about a run (``run_id`` may be a prefix), plus
    ``metric_summaries``, ``children``, ``previous`` (the run of the same cell before it) and
    ``diff`` against that run; ``context.notebook_path`` as in :func:`runs`."""
    record = get_run(run_id)
    previous = browse.previous_run(record.id)
    change = None
    if previous is not None:
        found = diff(record.id, before=previous)
        change = {"before": found.before, "after": found.after, "params": found.params,
                  "metrics": found.metrics, "tags": found.tags, "code": found.code}  # fmt: skip
    context = {**record.context,
               "notebook_path": contents_path(root, record.context.get("notebook"))}  # fmt: skip
    return jsonable({
        "run_id": record.id, "name": record.name, "experiment": record.experiment,
        "status": record.status, "start_time": record.start_time, "end_time": record.end_time,
        "duration": record.duration, "parent_id": record.parent_id,
        "parent_run_id": record.parent_id, "deleted": record.deleted, "error": record.error,
        "params": record.params, "metrics": record.metrics, "tags": record.tags,
        "artifacts": record.artifacts, "inputs": record.inputs, "context": context,
        "models": [_model(m) for m in record.models],
        "metric_summaries": browse.metric_summary(record.id),
        "children": child_ids(record.id), "previous": previous, "diff": change,
    })  # fmt: skip


def _numbers(values: np.ndarray) -> list[float | None]:
    """Chart values: each float32 written as short as it reads back, non-finite as null."""
    return [float(str(v)) if np.isfinite(v) else None for v in values]


def curves(
    run_ids: Sequence[str],
    keys: Sequence[str] | None,
    x: str,
    buckets: int,
    x_range: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """The downsampled curves of ``keys`` (None: every metric the runs logged) of ``run_ids``
    (ids or prefixes; an unknown one raises RunNotFoundError), whole or within ``x_range``, one
    series per run and key: ``run_id, name, key, count, x, y``."""
    ids = resolve_ids(run_ids)
    wanted = list(keys) if keys else browse.metric_keys(ids)
    found = downsampled(ids, wanted, x=x, buckets=buckets, x_range=x_range)
    series = [
        {**info, "x": xs.tolist(), "y": _numbers(ys)}
        for info, (xs, ys) in zip(found.series, found.split(), strict=True)
    ]
    return jsonable({"series": series})


def cells(names: Sequence[str]) -> dict[str, Any]:
    """The latest run of each cell of a notebook recorded under any of ``names``."""
    return jsonable({"cells": browse.cell_badges(names)})


def set_tag(run_id: str, key: str, value: Any) -> dict[str, Any]:
    """Set tag ``key`` of a run; its ``run_id`` and ``tags`` after the change (written to the
    store before the answer, so a change the browser saw done survives the server)."""
    rid = browse.set_run_tag(run_id, key, value)
    get_store().writer.flush()
    return {"run_id": rid, "tags": browse.run_tags(rid)}


def tags(run_id: str) -> dict[str, Any]:
    """A run's ``run_id`` and ``tags``."""
    rid = resolve_ids([run_id])[0]
    return {"run_id": rid, "tags": browse.run_tags(rid)}


def set_deleted(run_id: str, deleted: bool) -> dict[str, Any]:
    """Delete (hide) or restore a run; its ``run_id`` and ``deleted`` state."""
    rid = resolve_ids([run_id])[0]
    (delete_run if deleted else restore_run)(rid)
    get_store().writer.flush()
    return {"run_id": rid, "deleted": deleted}


def artifact(run_id: str, path: str) -> Path:
    """The file of artifact ``path`` of a run (see :func:`artifacts.confined`)."""
    rid = resolve_ids([run_id])[0]
    return confined(get_store().layout.artifact_dir(rid), path)


def view(kind: str, run_ids: Sequence[str], keys: Sequence[str], traits: Any) -> dict[str, Any]:
    """A widget view's state (``plot`` or ``compare``) for the extension's pages to draw with
    the widgets' own code (see :mod:`nbtrack.widgets.remote`)."""
    from ..widgets.remote import view_state

    return jsonable(view_state(kind, run_ids, keys, traits))
