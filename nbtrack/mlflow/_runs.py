"""nbtrack's runs as MLflow's Run entities, and MLflow's ``search_runs`` over nbtrack.search."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ._experiments import current_name, name_of
from ._filters import translate, translate_order
from ._sql import quoted, sql_rows
from ._uris import run_artifacts
from .entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    ViewType,
    to_mlflow_status,
    to_ms,
)
from .exceptions import MlflowException

_RUN_COLUMNS = (
    "run_id, experiment, name, status, start_time, end_time, deleted, parent_run_id, user, "
    "source, notebook, git_commit"
)


def _param_text(kind: str | None, text: str | None) -> str:
    """The params view's (type, text) as the text MLflow would have stored: ``str(value)``."""
    if kind == "bool":
        return "True" if text == "true" else "False"
    if kind in ("none", None) or text is None:
        return "None"
    if kind == "json":
        return str(json.loads(text))
    return text


def system_tags(info: dict[str, Any]) -> dict[str, str]:
    """MLflow's system tags from a ``runs`` row: name, user, source, git commit, parent."""
    tags = {"mlflow.runName": info["name"]}
    source = info.get("notebook") or info.get("source")
    if info.get("user"):
        tags["mlflow.user"] = info["user"]
    if source:
        tags["mlflow.source.name"] = source
    tags["mlflow.source.type"] = "LOCAL"
    if info.get("git_commit"):
        tags["mlflow.source.git.commit"] = info["git_commit"]
    if info.get("parent_run_id"):
        tags["mlflow.parentRunId"] = info["parent_run_id"]
    return tags


def make_info(info: dict[str, Any]) -> RunInfo:
    """A RunInfo from a ``runs`` row (as a dict)."""
    return RunInfo(
        run_id=info["run_id"],
        experiment_id=info["experiment"],
        run_name=info["name"],
        user_id=info.get("user"),
        status=to_mlflow_status(info["status"]),
        start_time=to_ms(_moment(info["start_time"])),
        end_time=to_ms(_moment(info.get("end_time"))),
        artifact_uri=str(run_artifacts(info["run_id"])),
        lifecycle_stage="deleted" if info.get("deleted") else "active",
    )


def _moment(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) or value is None else None


def fetch(run_ids: Sequence[str]) -> list[Run]:
    """Run entities for ``run_ids`` (full ids), in that order; unknown ids are left out."""
    if not run_ids:
        return []
    where = f"WHERE run_id IN ({quoted(run_ids)})"
    names = [c.strip() for c in _RUN_COLUMNS.split(",")]
    infos = {row[0]: dict(zip(names, row, strict=True))
             for row in sql_rows(f"SELECT {_RUN_COLUMNS} FROM runs {where}")}  # fmt: skip
    params: dict[str, dict[str, str]] = {i: {} for i in infos}
    metrics: dict[str, dict[str, float]] = {i: {} for i in infos}
    tags: dict[str, dict[str, str]] = {i: system_tags(info) for i, info in infos.items()}
    for run_id, key, kind, text in sql_rows(
        f"SELECT run_id, key, type, value FROM params {where} ORDER BY key"
    ):
        params[run_id][key] = _param_text(kind, text)
    for run_id, key, value in sql_rows(
        f"SELECT run_id, key, value FROM latest_metrics {where} ORDER BY key"
    ):
        metrics[run_id][key] = value
    for run_id, key, value in sql_rows(f"SELECT run_id, key, value FROM tags {where} ORDER BY key"):
        tags[run_id][key] = value
    return [
        Run(make_info(infos[i]), RunData(metrics[i], params[i], tags[i]))
        for i in run_ids
        if i in infos
    ]


def fetch_one(run_id: str) -> Run:
    """One run (``run_id`` may be a unique prefix), with the datasets it used."""
    from ..query import get_run

    record = get_run(run_id)
    run = fetch([record.id])[0]
    inputs = []
    for i in record.inputs:
        rows = i.get("num_rows")
        profile = json.dumps({"num_rows": rows}) if rows is not None else None
        dataset = Dataset(i["name"], i["digest"], None, i.get("source"), i.get("schema"), profile)
        tags = [InputTag("mlflow.data.context", i["context"])] if i.get("context") else []
        inputs.append(DatasetInput(dataset, tags))
    return Run(run.info, run.data, RunInputs(inputs))


def experiment_names(
    experiment_ids: Sequence[Any] | Any | None,
    experiment_names: Sequence[str] | None,
    search_all_experiments: bool = False,
) -> list[str] | None:
    """The experiments a search covers, as names (None: every experiment)."""
    if experiment_ids is not None and not isinstance(experiment_ids, (list, tuple, set)):
        experiment_ids = [experiment_ids]
    if experiment_ids and experiment_names:
        raise MlflowException.invalid_parameter_value(
            "give only one of experiment_ids and experiment_names"
        )
    if experiment_ids:
        return [name_of(i) for i in experiment_ids]
    if experiment_names:
        return list(experiment_names)
    return None if search_all_experiments else [current_name()]


def search(
    names: list[str] | None,
    filter_string: str | None = None,
    run_view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    order_by: list[str] | str | None = None,
    offset: int = 0,
) -> list[Run]:
    """Runs as MLflow's search returns them: ``nbtrack.search`` with MLflow's names translated."""
    from ..query import search as nbtrack_search

    if run_view_type not in (ViewType.ACTIVE_ONLY, ViewType.DELETED_ONLY, ViewType.ALL):
        raise MlflowException.invalid_parameter_value(
            f"run_view_type must be ViewType.ACTIVE_ONLY, DELETED_ONLY or ALL, "
            f"not {run_view_type!r}"
        )
    if names is not None and not names:
        return []
    table = nbtrack_search(
        translate(filter_string) if filter_string and filter_string.strip() else None,
        experiment=names,
        order_by=translate_order(order_by),
        limit=max_results,
        include_deleted=run_view_type != ViewType.ACTIVE_ONLY,
        output="arrow",
        offset=offset,
    )
    runs = fetch(table.column("run_id").to_pylist())
    if run_view_type == ViewType.DELETED_ONLY:
        runs = [r for r in runs if r.info.lifecycle_stage == "deleted"]
    return runs


def to_frame(runs: list[Run]) -> Any:  # pandas.DataFrame
    """MLflow's search_runs DataFrame, built as MLflow builds it (so dtypes match): ``run_id,
    experiment_id, status, artifact_uri, start_time, end_time``, then ``metrics.*``,
    ``params.*`` (text) and ``tags.*``."""
    import numpy as np
    import pandas as pd

    info: dict[str, list[Any]] = {k: [] for k in (
        "run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time")}  # fmt: skip
    groups: dict[str, dict[str, list[Any]]] = {"metrics": {}, "params": {}, "tags": {}}
    missing = {"metrics": np.nan, "params": None, "tags": None}
    for i, run in enumerate(runs):
        for key in ("run_id", "experiment_id", "status", "artifact_uri"):
            info[key].append(getattr(run.info, key))
        info["start_time"].append(pd.to_datetime(run.info.start_time, unit="ms", utc=True))
        info["end_time"].append(pd.to_datetime(run.info.end_time, unit="ms", utc=True))
        for group, values in (("metrics", run.data.metrics), ("params", run.data.params),
                              ("tags", run.data.tags)):  # fmt: skip
            columns = groups[group]
            new = [key for key in values if key not in columns]
            for key, column in columns.items():
                column.append(values.get(key, missing[group]))
            for key in new:
                columns[key] = [missing[group]] * i + [values[key]]
    data: dict[str, list[Any]] = dict(info)
    for group, columns in groups.items():
        data.update({f"{group}.{key}": column for key, column in columns.items()})
    return pd.DataFrame(data)
