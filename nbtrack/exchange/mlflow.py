"""``nbtrack.import_mlflow``: runs from an MLflow tracking store (file or sqlite), via MLflow's
own client.

How MLflow's runs map onto nbtrack's:

* run id, experiment name, run name and parent (``mlflow.parentRunId``) are kept; so re-importing
  skips the runs already there.
* params: MLflow keeps them as text; a text that is exactly how Python writes an int, a float or
  a bool (``"4"``, ``"0.01"``, ``"1e-05"``, ``"True"``, also ``"true"``/``"false"``) becomes
  that type again, anything else (``"[64, 64]"``, ``"007"``, ``"None"``) stays text.
* metrics: every point of every history, with its step and millisecond timestamp.
* tags: all of them, ``mlflow.*`` included, plus ``mlflow.artifact_uri``.
* dataset inputs: name, digest, source, schema, context (``mlflow.data.context``) and the row
  count of the dataset's profile, as ``log_input`` records them.
* status: FINISHED, FAILED and KILLED become finished, failed and killed at the run's end
  time; a run still RUNNING (or SCHEDULED) gets no end event, so nbtrack shows it as crashed (no
  live nbtrack process writes it). Runs deleted in MLflow arrive deleted.
* params and tags are timestamped at the run's start (MLflow does not time them).
* then the model registry (``registry=True``): see :mod:`nbtrack.exchange.mlflow_registry`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from ..errors import NbtrackError
from ..extras import optional
from ..store.artifacts import copy_artifact
from .rows import RunRows
from .segments import Import, importing

WRITER = "import-mlflow"
STATUS = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "killed"}
# Runs fetched per request (MLflow's own maximum for search_runs).
PAGE_SIZE = 1000


def import_mlflow(
    tracking_uri: str | os.PathLike[str],
    experiment: str | None = None,
    artifacts: bool = False,
    registry: bool = True,
) -> int:
    """Copy the runs of an MLflow tracking store, then its model registry, into the current
    nbtrack store; returns how many runs were added (runs already there, by run id, are
    skipped).

    ``tracking_uri``: ``sqlite:///path/mlflow.db``, ``file:///path/mlruns`` or a plain path to an
    ``mlruns`` folder. ``experiment`` limits the import to the experiment of that name (and the
    registry to the versions of its runs). ``artifacts=True`` downloads each run's artifacts
    into the store. ``registry=True`` (the default) also imports MLflow's registered models,
    their versions (MLflow's numbers), stages, aliases, tags, descriptions and model files, so
    ``nbtrack.load_model("models:/name@alias")`` works without the MLflow store; versions
    already in the store are skipped. The number of versions added is what
    :func:`nbtrack.exchange.mlflow_registry.import_mlflow_registry` returns: call that after
    ``import_mlflow(..., registry=False)`` to know it. Needs MLflow's client
    (``pip install 'nbtrack[mlflow]'``). See the module docs for how values are mapped.

    >>> import nbtrack, tempfile
    >>> from mlflow.entities import Metric, Param
    >>> from mlflow.tracking import MlflowClient
    >>> folder = tempfile.mkdtemp()
    >>> uri = f"sqlite:///{folder}/mlflow.db"
    >>> client = MlflowClient(uri)
    >>> run = client.create_run(client.create_experiment("wine", artifact_location=folder))
    >>> client.log_batch(run.info.run_id, params=[Param("max_depth", "4")],
    ...                  metrics=[Metric("acc", 0.9, 1700000000000, 0)])
    >>> client.set_terminated(run.info.run_id)
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> nbtrack.import_mlflow(uri)
    1
    >>> record = nbtrack.get_run(run.info.run_id)
    >>> record.experiment, record.status, record.params, record.metrics
    ('wine', 'finished', {'max_depth': 4}, {'acc': 0.9})
    """
    client, uri = open_client(tracking_uri)
    added = 0
    experiments = _experiments(client, experiment)
    with importing("mlflow") as job:
        for exp in experiments:
            for page in _run_pages(client, exp.experiment_id):
                have = job.existing(r.info.run_id for r in page)
                rows = _Rows()
                for run in page:
                    if run.info.run_id not in have:
                        rows.add_run(client, exp.name, run)
                        if artifacts:
                            for row in _download(client, job, run.info.run_id):
                                rows.add("artifacts", row)
                        have.add(run.info.run_id)  # listed twice across pages: once only
                        added += 1
                rows.write(job)
    if registry:
        from .mlflow_registry import import_registry

        chosen = None if experiment is None else {e.experiment_id for e in experiments}
        import_registry(client, uri, chosen)
    return added


def param_value(text: str) -> Any:
    """An MLflow param (always text) back as int, float or bool when it is exactly one.

    >>> [param_value(t) for t in ("4", "0.01", "True", "false", "007", "[1, 2]", "1e5")]
    [4, 0.01, True, False, '007', '[1, 2]', '1e5']
    """
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    try:
        number = int(text)
        if str(number) == text:
            return number
    except ValueError:
        pass
    try:
        real = float(text)
        if repr(real) == text:
            return real
    except ValueError:
        pass
    return text


def open_client(tracking_uri: str | os.PathLike[str]) -> tuple[Any, str]:
    """MLflow's client of the tracking store at ``tracking_uri`` (checked to exist), and its
    URI as MLflow takes it (a plain path becomes a ``file:`` URI)."""
    tracking = optional("mlflow.tracking", "import_mlflow", "mlflow")
    uri = os.fspath(tracking_uri)
    scheme = urlparse(uri).scheme
    if len(scheme) <= 1:  # a plain path (or a Windows drive letter)
        uri, scheme = Path(uri).expanduser().resolve().as_uri(), "file"
    if scheme == "file":
        folder = Path(url2pathname(urlparse(uri).path))
        if not folder.is_dir():
            raise NbtrackError(
                f"no MLflow file store at {folder}: pass the mlruns folder, e.g. "
                "import_mlflow('file:///path/to/mlruns')"
            )
        # MLflow 3 refuses file stores unless told to (it wants users to move to a database).
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    elif scheme == "sqlite":
        database = uri[len("sqlite:///") :]
        if database and database != ":memory:" and not Path(database).is_file():
            # MLflow would create an empty database there and import nothing
            raise NbtrackError(
                f"no MLflow database at {database}: pass an existing one, e.g. "
                "import_mlflow('sqlite:////path/to/mlflow.db')"
            )
    try:
        return tracking.MlflowClient(tracking_uri=uri), uri
    except Exception as err:
        raise NbtrackError(f"MLflow cannot open the tracking store {uri}: {err}") from err


def _experiments(client, name: str | None) -> list:
    if name is not None:
        found = client.get_experiment_by_name(name)
        if found is None:
            names = ", ".join(repr(e.name) for e in _all_experiments(client))
            raise NbtrackError(
                f"the MLflow store has no experiment {name!r}; it has: {names or 'none'}"
            )
        return [found]
    return _all_experiments(client)


def _all_experiments(client) -> list:
    found, token = [], None
    while True:
        page = client.search_experiments(max_results=PAGE_SIZE, page_token=token)
        found += list(page)
        token = page.token
        if not token:
            return found


def _run_pages(client, experiment_id: str) -> Iterator[list]:
    from mlflow.entities import ViewType

    token = None
    while True:
        page = client.search_runs(
            [experiment_id], run_view_type=ViewType.ALL, max_results=PAGE_SIZE, page_token=token
        )
        yield list(page)
        token = page.token
        if not token:
            return


def _us(ms: int | None) -> int | None:
    return None if ms is None else int(ms) * 1000


class _Rows(RunRows):
    """Rows of the store's tables for a page of MLflow runs (times in epoch microseconds)."""

    def add_run(self, client, experiment: str, run) -> None:
        info, data = run.info, run.data
        run_id = info.run_id
        tags = dict(data.tags)
        start = _us(info.start_time if info.start_time is not None else info.end_time) or 0
        end = _us(info.end_time)
        name = info.run_name or tags.get("mlflow.runName") or run_id[:10]
        self.run(run_id, experiment, name, start, end, STATUS.get(info.status),
                 parent_run_id=tags.get("mlflow.parentRunId"), writer=WRITER,
                 user=tags.get("mlflow.user") or info.user_id,
                 source=tags.get("mlflow.source.name"),
                 git_commit=tags.get("mlflow.source.git.commit"))  # fmt: skip
        self.params(run_id, {key: param_value(text) for key, text in data.params.items()}, start)
        if info.artifact_uri:
            tags["mlflow.artifact_uri"] = info.artifact_uri
        self.tags(run_id, tags, start)
        for key in data.metrics:
            history = client.get_metric_history(run_id, key)
            self.points(run_id, key, ((m.step, _us(m.timestamp), m.value) for m in history))
        for used in getattr(getattr(run, "inputs", None), "dataset_inputs", None) or []:
            self.add("inputs", _input_row(run_id, used, start))
        if info.lifecycle_stage == "deleted":
            self.add("events", {"run_id": run_id, "timestamp": max(end or start, start),
                                "kind": "deleted", "detail": "deleted in MLflow"})  # fmt: skip


def _input_row(run_id: str, used: Any, start: int) -> dict[str, Any]:
    """An ``inputs`` row from an MLflow ``DatasetInput`` (its context is an input tag; its row
    count, if any, is in the dataset's JSON profile)."""
    dataset = used.dataset
    tags = {tag.key: tag.value for tag in used.tags or []}
    try:
        rows = json.loads(dataset.profile or "{}").get("num_rows")
    except (ValueError, AttributeError):
        rows = None
    return {"run_id": run_id, "name": dataset.name, "digest": dataset.digest,
            "context": tags.get("mlflow.data.context"), "source": dataset.source,
            "schema": dataset.schema, "num_rows": rows if isinstance(rows, int) else None,
            "timestamp": start}  # fmt: skip


def _download(client, job: Import, run_id: str) -> list[dict[str, Any]]:
    """Download a run's artifacts into the store; rows for the ``artifacts`` table."""
    listed = client.list_artifacts(run_id)
    if not listed:
        return []
    scratch = Path(tempfile.mkdtemp(prefix="nbtrack-mlflow-"))
    try:
        local = Path(client.download_artifacts(run_id, "", str(scratch)))
        rows = []
        for entry in sorted(local.iterdir()):
            rows += copy_artifact(job.store.layout, run_id, entry, None)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [{**row, "timestamp": round(row["timestamp"] * 1e6)} for row in rows]
