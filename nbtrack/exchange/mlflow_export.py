"""``nbtrack.export_mlflow``: runs out to an MLflow tracking server or store, via MLflow's own
client (the reverse of :mod:`nbtrack.exchange.mlflow`).

How nbtrack's runs map onto MLflow's:

* experiment: the MLflow experiment of the same name, created when missing.
* run name, start and end times (epoch milliseconds) are kept.
* status: finished, failed and killed become FINISHED, FAILED and KILLED; interrupted becomes
  KILLED and crashed (a run whose process died) FAILED, ended at its last logged point, with
  the original state in the tag ``nbtrack.status``. Runs still running are left out (export
  them once they end).
* params: text, as MLflow keeps them: ``str(value)`` (``4`` -> ``"4"``, ``[64, 64]`` ->
  ``"[64, 64]"``), which :func:`nbtrack.import_mlflow` reads back as the same types.
* metrics: every point of every history, with its step and its time in milliseconds.
* tags: all of them, plus MLflow's system tags from the run's record (``mlflow.user``,
  ``mlflow.source.name``, ``mlflow.source.git.commit``), ``nbtrack.run_id`` (the nbtrack id)
  and, for a child run, ``mlflow.parentRunId`` (the parent's MLflow id, when the parent is in
  the target: exported now or before) and ``nbtrack.parent_run_id``.
* artifacts: the run's files, uploaded to the run's artifact location (``artifacts=False``:
  none).

Exporting again adds nothing: runs whose ``nbtrack.run_id`` is already in the target
experiment (deleted MLflow runs included) are skipped. That tag is set last, once the run is
complete; a run that fails half-way is deleted from MLflow and exported again next time.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlparse
from urllib.request import urlopen

from ..errors import NbtrackError, NbtrackWarning
from ..extras import optional

STATUS = {"finished": "FINISHED", "failed": "FAILED", "killed": "KILLED",
          "interrupted": "KILLED", "crashed": "FAILED"}  # fmt: skip
RUN_ID_TAG = "nbtrack.run_id"
# MLflow's limits on one log_batch call (mlflow.utils.validation), and a margin under its
# 1 MB request size.
LIMITS = {"params": 100, "tags": 100, "metrics": 1000}
MAX_ENTITIES = 1000
MAX_BYTES = 900_000
PAGE_SIZE = 1000  # runs per search_runs request (MLflow's maximum)
PROBE_TIMEOUT_S = 10.0
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Tags an import from MLflow adds that describe the source store, not the run.
_SOURCE_ONLY = ("mlflow.artifact_uri", "mlflow.parentRunId", "mlflow.runName", RUN_ID_TAG)


def export_mlflow(
    tracking_uri: str | os.PathLike[str],
    filter: str | None = None,
    experiment: str | Sequence[str] | None = None,
    artifacts: bool = True,
) -> int:
    """Copy runs of the current store to the MLflow tracking server or store at
    ``tracking_uri``; returns how many runs were exported (runs exported before are skipped).

    ``tracking_uri``: ``http://host:5000`` (a tracking server), ``sqlite:///path/mlflow.db``
    or anything else ``MlflowClient(tracking_uri=...)`` takes. ``filter`` and ``experiment``
    select runs as in :func:`nbtrack.search` (deleted runs are left out). ``artifacts=False``
    leaves the runs' files behind. Needs MLflow's client (``pip install 'nbtrack[mlflow]'``).
    See the module docs for how values are mapped.

    >>> import nbtrack, tempfile
    >>> from mlflow.tracking import MlflowClient
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run(experiment="wine", params={"max_depth": 4}) as run:
    ...     run.log(acc=0.8)
    ...     run.log(acc=0.9)
    >>> folder = tempfile.mkdtemp()
    >>> uri = f"sqlite:///{folder}/mlflow.db"
    >>> client = MlflowClient(uri)
    >>> _ = client.create_experiment("wine", artifact_location=folder)
    >>> nbtrack.export_mlflow(uri)
    1
    >>> nbtrack.export_mlflow(uri)  # already there
    0
    >>> exported = client.search_runs([client.get_experiment_by_name("wine").experiment_id])[0]
    >>> exported.info.status, exported.data.params, exported.data.tags["nbtrack.run_id"] == run.id
    ('FINISHED', {'max_depth': '4'}, True)
    >>> [m.value for m in client.get_metric_history(exported.info.run_id, "acc")]
    [0.8, 0.9]
    """
    from ..query.search import search
    from ..tracking import flush

    client, uri = _open_target(tracking_uri)
    flush()  # this process's own unflushed rows go out too
    selected = search(filter=filter, experiment=experiment, order_by="start_time")
    records = {str(r["run_id"]): r for r in selected[_COLUMNS].to_dict("records")}
    running = [rid for rid, r in records.items() if r["status"] not in STATUS]
    if running:
        warnings.warn(
            f"{len(running)} run(s) still running were not exported ({', '.join(running[:5])}"
            f"{', ...' if len(running) > 5 else ''}); export them once they end",
            NbtrackWarning,
            stacklevel=2,
        )
    wanted = [rid for rid in _parents_first(records) if records[rid]["status"] in STATUS]
    target = _Target(client, uri)
    exported = 0
    with _quiet():
        for rid in wanted:
            experiment_id = target.experiment_id(records[rid]["experiment"])
            if experiment_id is not None and rid not in target.exported:
                target.export_run(rid, experiment_id, artifacts)
                exported += 1
    return exported


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Without MLflow's two lines (and a request) per run ended on a server: "View run..."."""
    name = "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"
    before = os.environ.get(name)
    os.environ[name] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


_COLUMNS = ["run_id", "experiment", "status", "parent_run_id"]


def _parents_first(records: dict[str, dict[str, Any]]) -> list[str]:
    """The run ids of ``records`` ordered so that a selected parent comes before its children
    (otherwise as given: oldest first)."""
    ordered: list[str] = []
    placed: set[str] = set()
    for rid in records:
        chain = []
        while rid in records and rid not in placed:
            placed.add(rid)
            chain.append(rid)
            rid = records[rid]["parent_run_id"]
        ordered += reversed(chain)
    return ordered


def _open_target(tracking_uri: str | os.PathLike[str]) -> tuple[Any, str]:
    """MLflow's client of ``tracking_uri`` and the URI; a server must answer first."""
    tracking = optional("mlflow.tracking", "export_mlflow", "mlflow")
    uri = os.fspath(tracking_uri)
    scheme = urlparse(uri).scheme
    if len(scheme) <= 1:  # a plain path (or a Windows drive letter): a file store
        uri = Path(uri).expanduser().resolve().as_uri()
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    elif scheme in ("http", "https"):
        _probe(uri)
    try:
        return tracking.MlflowClient(tracking_uri=uri), uri
    except Exception as err:
        raise NbtrackError(f"MLflow cannot open the tracking store {uri}: {err}") from err


def _probe(uri: str) -> None:
    """Fail at once when nothing answers at ``uri`` (MLflow's client would retry for minutes).
    Any HTTP answer, an error status included, counts: MLflow's client reports those."""
    try:
        with urlopen(uri.rstrip("/") + "/health", timeout=PROBE_TIMEOUT_S):
            pass
    except HTTPError:
        pass
    except (OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise NbtrackError(
            f"no MLflow tracking server answers at {uri} ({reason}); start one, e.g. "
            "`mlflow server --host 127.0.0.1 --port 5000`, or check the URI"
        ) from err


def _ms(moment: Any) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


class _Target:
    """The MLflow side: experiment ids by name, and the MLflow ids of runs exported before."""

    def __init__(self, client: Any, uri: str) -> None:
        self.client, self.uri = client, uri
        self.experiments: dict[str, str] = {}
        self.exported: dict[str, str] = {}  # nbtrack run id -> MLflow run id

    def _fail(self, what: str, err: Exception) -> NbtrackError:
        return NbtrackError(f"{what} in the MLflow tracking store {self.uri} failed: {err}")

    def experiment_id(self, name: str, create: bool = True) -> str | None:
        """The id of MLflow experiment ``name`` (created when missing, or None without
        ``create``); on first sight, the runs exported to it before are read."""
        if name in self.experiments:
            return self.experiments[name]
        try:
            found = self.client.get_experiment_by_name(name)
            if found is None and not create:
                return None
            if found is None:
                experiment_id = str(self.client.create_experiment(name))
            elif found.lifecycle_stage == "deleted":
                raise NbtrackError(
                    f"the MLflow experiment {name!r} at {self.uri} is deleted; restore it "
                    f"(`mlflow experiments restore --experiment-id {found.experiment_id}`) "
                    "or delete it for good, then export again"
                )
            else:
                experiment_id = str(found.experiment_id)
            self.exported.update(self._tagged(experiment_id))
        except NbtrackError:
            raise
        except Exception as err:
            raise self._fail(f"finding the experiment {name!r}", err) from err
        self.experiments[name] = experiment_id
        return experiment_id

    def _tagged(self, experiment_id: str) -> Iterator[tuple[str, str]]:
        """(nbtrack id, MLflow id) of the experiment's runs that carry ``nbtrack.run_id``."""
        from mlflow.entities import ViewType

        token = None
        while True:
            page = self.client.search_runs(
                [experiment_id], filter_string=f"tags.`{RUN_ID_TAG}` LIKE '%'",
                run_view_type=ViewType.ALL, max_results=PAGE_SIZE, page_token=token,
            )  # fmt: skip
            for run in page:
                yield run.data.tags[RUN_ID_TAG], run.info.run_id
            token = page.token
            if not token:
                return

    def export_run(self, run_id: str, experiment_id: str, artifacts: bool) -> str:
        """Create the MLflow run of ``run_id`` whole; returns its MLflow id."""
        from ..query.runs import get_run

        record = get_run(run_id)
        parent = self._parent(record.parent_id)
        tags = _tags(record, parent)
        client = self.client
        start = _ms(record.start_time)
        try:
            created = client.create_run(
                experiment_id, start_time=start, run_name=record.name,
                tags={k: v for k, v in tags.items() if k.startswith("mlflow.")},
            )  # fmt: skip
        except Exception as err:
            raise self._fail(f"creating the run of {run_id} ({record.name})", err) from err
        mlflow_id = created.info.run_id
        try:
            points = _points(run_id)
            self._log(mlflow_id, record.params, tags, points)
            folder = _artifact_folder(run_id)
            if artifacts and record.artifacts and folder.is_dir():
                client.log_artifacts(mlflow_id, str(folder))
            end = _ms(record.end_time)
            if end is None:  # crashed: it ended at its last sign of life
                end = max([start or 0, *(ms for _, _, ms, _ in points)])
            client.set_terminated(mlflow_id, STATUS[record.status], end)
            client.set_tag(mlflow_id, RUN_ID_TAG, run_id)  # last: the run is complete
        except BaseException as err:
            with contextlib.suppress(Exception):
                client.delete_run(mlflow_id)
            if isinstance(err, Exception):
                raise NbtrackError(
                    f"exporting run {run_id} ({record.name}) to {self.uri} failed: {err}; the "
                    "runs exported before it are there, exporting again carries on"
                ) from err
            raise
        self.exported[run_id] = mlflow_id
        return mlflow_id

    def _parent(self, parent_id: str | None) -> str | None:
        """The MLflow id of the exported parent run, if there is one."""
        if parent_id is None:
            return None
        if parent_id not in self.exported:
            from ..query.runs import get_run

            try:
                # reads which runs were exported there, without creating it
                self.experiment_id(get_run(parent_id).experiment, create=False)
            except LookupError:
                return None
        return self.exported.get(parent_id)

    def _log(self, mlflow_id: str, params: dict[str, Any], tags: dict[str, str],
             points: Iterable[Any]) -> None:  # fmt: skip
        from mlflow.entities import Metric, Param, RunTag

        entities: dict[str, Iterable[Any]] = {
            "params": [Param(k, str(v)) for k, v in params.items()],
            "tags": [RunTag(k, v) for k, v in tags.items() if k != RUN_ID_TAG],
            "metrics": (Metric(k, v, ms, step) for k, step, ms, v in points),
        }
        for batch in batches(entities):
            self.client.log_batch(mlflow_id, **batch)


def _tags(record: Any, parent: str | None) -> dict[str, str]:
    """The MLflow tags of ``record``: its own, then system tags from its context."""
    context = record.context
    tags = {k: str(v) for k, v in record.tags.items() if k not in _SOURCE_ONLY}
    system = {"mlflow.user": context.get("user"),
              "mlflow.source.name": context.get("notebook") or context.get("source"),
              "mlflow.source.git.commit": context.get("git_commit"),
              "mlflow.parentRunId": parent, "nbtrack.parent_run_id": record.parent_id}  # fmt: skip
    for key, value in system.items():
        if value:
            tags.setdefault(key, str(value))
    if STATUS[record.status].lower() != record.status:
        tags["nbtrack.status"] = record.status
    return tags


def _points(run_id: str) -> list[tuple[str, int, int, float]]:
    """Every metric point of ``run_id``: ``(key, step, epoch ms, value)``, in order."""
    from ..store import get_store

    table = get_store().reader.points(
        [run_id], None,
        lambda p: f"SELECT key, step, epoch_us(timestamp) // 1000 AS ms, value FROM {p} "
        "ORDER BY key, step, timestamp",
    )  # fmt: skip
    return list(zip(*(table[c].to_pylist() for c in ("key", "step", "ms", "value")), strict=True))


def _artifact_folder(run_id: str) -> Path:
    from ..store import get_store

    return get_store().layout.artifact_dir(run_id)


def batches(entities: dict[str, Iterable[Any]]) -> Iterator[dict[str, list[Any]]]:
    """``log_batch`` arguments for ``entities`` (``params``, ``tags``, ``metrics``), each
    within MLflow's limits: 100 params, 100 tags, 1,000 metrics and 1,000 entities in all,
    under 1 MB.

    >>> from mlflow.entities import Metric, Param
    >>> params = [Param(f"p{i}", "x") for i in range(150)]
    >>> metrics = (Metric("loss", 0.5, 0, step) for step in range(2000))
    >>> [{k: len(v) for k, v in b.items()} for b in batches({"params": params, "metrics": metrics})]
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'params': 100, 'tags': 0, 'metrics': 0}, {'params': 50, 'tags': 0, 'metrics': 950},
     {'params': 0, 'tags': 0, 'metrics': 1000}, {'params': 0, 'tags': 0, 'metrics': 50}]
    """
    batch: dict[str, list[Any]] = {kind: [] for kind in LIMITS}
    count = size = 0
    for kind, items in entities.items():
        for item in items:
            weight = 64 + len(item.key) + len(str(item.value))
            if (
                len(batch[kind]) == LIMITS[kind]
                or count == MAX_ENTITIES
                or size + weight > MAX_BYTES
            ):
                yield batch
                batch, count, size = {kind: [] for kind in LIMITS}, 0, 0
            batch[kind].append(item)
            count += 1
            size += weight
    if count:
        yield batch
