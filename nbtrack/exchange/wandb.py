"""``nbtrack.import_wandb``: runs from the folders the W&B client writes (``wandb/run-*`` and
``wandb/offline-run-*``), read from their ``.wandb`` transaction logs by W&B's own reader
(``wandb-core leet inspect --json``, shipped in the ``wandb`` package).

How W&B's runs map onto nbtrack's:

* experiment: the W&B project (``uncategorized`` when the run had none), unless
  ``experiment=`` is given; run name: the display name (offline runs often have none: then the
  W&B run id). The nbtrack run id is made from the project and the W&B run id, so importing
  again skips the runs already there; parts of a resumed run (several folders, one W&B id)
  become one run.
* params: the config with its types (numbers, bools, text, lists and dicts as they were),
  without W&B's ``_wandb`` internals; a ``{"value": …}`` wrapping is unwrapped.
* metrics: every numeric history value, with ``_step`` as step and ``_timestamp`` as time;
  images, tables and other media are not metrics (their files come with the run's files).
  Summary values of keys with no history become one point at the run's last step.
* tags: one tag per W&B tag (the tag as key, ``"true"`` as value: ``tags.baseline = 'true'``),
  plus ``wandb.run_id``, ``wandb.project``, ``wandb.path`` (the run folder) and, when set,
  ``wandb.notes``, ``wandb.group``, ``wandb.job_type``, ``wandb.entity``.
* status: exit code 0 is finished, any other failed (the code is the error); a log without an
  exit record (the process died, or still runs) gets no end, so nbtrack shows it crashed.
* artifacts: everything in the run's ``files/`` folder (saved files, media, console output).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import NbtrackError
from ..extras import missing
from ..names import stable_run_id
from ..store.artifacts import copy_artifact
from .rows import RunRows
from .segments import Import, importing

WRITER = "import-wandb"
# What a W&B server path looks like: entity/project (or entity/project/run_id).
_SERVER_PATH = re.compile(r"[\w.-]+/[\w.-]+(/[\w.-]+)?")
_NUMBER_WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def import_wandb(path_or_project: str | os.PathLike[str], experiment: str | None = None) -> int:
    """Copy W&B runs from local run folders into the current nbtrack store; returns how many
    runs were added (runs already there are skipped).

    ``path_or_project``: a ``wandb/`` folder (every ``run-*`` and ``offline-run-*`` in it), the
    folder holding it, one run folder or its ``.wandb`` file. Runs logged online leave the same
    folders as offline ones. ``experiment`` puts every run in that experiment instead of its
    W&B project. Needs the W&B client (``pip install 'nbtrack[wandb]'``). Reading a W&B server
    (``entity/project``) is not supported. See the module docs for how values are mapped.

    Example (``wandb`` wrote ``./wandb/offline-run-*`` folders)::

        nbtrack.import_wandb("wandb")              # -> 12, runs in their W&B projects
        nbtrack.import_wandb("wandb")              # -> 0, nothing new
        nbtrack.search("tags.`wandb.group` = 'sweep-3'")
    """
    logs = run_logs(path_or_project)
    core = _core()
    runs = _merge_parts([_read_log(core, log) for log in logs])
    added = 0
    with importing("wandb") as job:
        have = job.existing(runs)
        rows = RunRows()
        for run_id, run in runs.items():
            if run_id not in have:
                _add_run(rows, job, run_id, run, experiment or run.project)
                added += 1
        rows.write(job)
    return added


def run_logs(path: str | os.PathLike[str]) -> list[Path]:
    """The ``.wandb`` transaction logs at ``path`` (see :func:`import_wandb`), oldest first."""
    folder = Path(path).expanduser()
    if not folder.exists():
        if _SERVER_PATH.fullmatch(os.fspath(path)):
            raise NbtrackError(
                f"reading runs from a W&B server ({os.fspath(path)!r}) is not supported yet: "
                "import the run folders the W&B client wrote on the machine that trained "
                "(online and offline runs both leave wandb/run-* or wandb/offline-run-* "
                "folders), e.g. nbtrack.import_wandb('path/to/wandb')"
            )
        raise NbtrackError(f"no W&B run folder at {folder}: no such file or folder")
    if folder.is_file():
        if folder.suffix == ".wandb":
            return [folder]
        raise NbtrackError(f"{folder} is not a W&B transaction log (a run-<id>.wandb file)")
    for candidate in (folder, folder / "wandb"):
        own = sorted(candidate.glob("*.wandb"))
        if own:
            return own
        parts = sorted(
            log
            for run in candidate.glob("*run-*")
            if run.is_dir() and run.name.startswith(("run-", "offline-run-"))
            for log in run.glob("*.wandb")
        )
        if parts:
            return sorted(parts, key=lambda log: log.parent.name.removeprefix("offline-"))
    raise NbtrackError(
        f"{folder} holds no W&B runs: expected a wandb/ folder (with run-* or offline-run-* "
        "folders) or one run folder (with its run-<id>.wandb transaction log)"
    )


@dataclass
class _Run:
    """One W&B run as read from its transaction log(s)."""

    folders: list[Path]
    wandb_id: str = ""
    project: str = ""
    name: str = ""
    start: int | None = None
    info: dict[str, Any] = field(default_factory=dict)  # tags, notes, group, entity, ...
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[tuple[int, int | None, float]]] = field(default_factory=dict)
    last_step: int = -1
    last_time: int | None = None
    exit_code: int | None = None
    runtime_s: float = 0.0

    def read(self, record: dict[str, Any]) -> None:
        kind = record.get("type")
        body = record.get(kind or "", {})
        if kind == "run":
            self.wandb_id = body.get("run_id") or self.wandb_id
            self.project = body.get("project") or self.project
            self.name = body.get("display_name") or self.name
            if self.start is None and body.get("start_time"):
                self.start = micros(body["start_time"])
            for key in ("tags", "notes", "run_group", "job_type", "entity", "git"):
                if body.get(key):
                    self.info[key] = body[key]
            self.config.update(body.get("config", {}).get("update", {}))
        elif kind == "config":
            _update(self.config, body)
        elif kind == "summary":
            _update(self.summary, body)
        elif kind == "history":
            self._history(body)
        elif kind == "exit":
            self.exit_code = int(body.get("exit_code", 0))
            self.runtime_s += float(body.get("runtime", 0))
        elif kind == "environment" and body.get("program"):
            self.info.setdefault("program", body["program"])

    def _history(self, body: dict[str, Any]) -> None:
        item = body.get("item", {})
        step = item.get("_step", body.get("step", {}).get("num", self.last_step + 1))
        seconds = item.get("_timestamp")
        time = None if seconds is None else round(float(seconds) * 1e6)
        self.last_step = max(self.last_step, int(step))
        if time is not None:
            self.last_time = max(self.last_time or time, time)
        for key, value in metric_values(item).items():
            self.history.setdefault(key, []).append((int(step), time, value))


def _update(target: dict[str, Any], body: dict[str, Any]) -> None:
    """Apply a config or summary record (``update`` and ``remove``) to ``target``."""
    target.update(body.get("update", {}))
    for key in body.get("remove", []):
        target.pop(key if isinstance(key, str) else ".".join(key), None)


def metric_values(item: dict[str, Any]) -> dict[str, float]:
    """The numeric values of a history row or summary (keys flattened with dots), without
    W&B's ``_`` keys and media (a value with a ``_type``, such as an image or a table).

    >>> metric_values({"_step": 3, "loss": 0.5, "ok": True, "nan": "NaN", "s": "x",
    ...                "img._type": "image-file", "img.width": 4, "val": {"acc": 1}})
    {'loss': 0.5, 'nan': nan, 'val.acc': 1.0}
    """
    flat = _flatten(item)
    media = tuple(key[: -len("_type")] for key in flat if key.endswith("._type"))
    values = {}
    for key, value in flat.items():
        if key.startswith("_") or (media and key.startswith(media)):
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            values[key] = float(value)
        elif isinstance(value, str) and value in _NUMBER_WORDS:
            values[key] = _NUMBER_WORDS[value]
    return values


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_params(config: dict[str, Any]) -> dict[str, Any]:
    """A W&B config as params: ``_wandb`` left out, ``{"value": …}`` wrappings unwrapped.

    >>> config_params({"_wandb": {"t": 1}, "lr": {"value": 0.1, "desc": None}, "n": [1, 2]})
    {'lr': 0.1, 'n': [1, 2]}
    """
    params = {}
    for key, value in config.items():
        if key == "_wandb":
            continue
        if isinstance(value, dict) and "value" in value and set(value) <= {"value", "desc"}:
            value = value["value"]
        params[key] = value
    return params


def micros(text: str) -> int:
    """Epoch microseconds of an RFC 3339 time (as W&B writes them; nanoseconds cut).

    >>> micros("1970-01-01T00:00:01.5000009Z")
    1500000
    """
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return round(datetime.fromisoformat(text).timestamp() * 1e6)


def _core() -> str:
    """The path of ``wandb-core``, the W&B client's reader of transaction logs."""
    spec = importlib.util.find_spec("wandb")  # found without importing wandb (slow)
    if spec is None or spec.origin is None:  # (a wandb/ folder of runs is no package)
        raise missing("wandb", "import_wandb", "wandb")
    core = Path(spec.origin).parent / "bin" / "wandb-core"
    if not core.is_file():
        raise NbtrackError(
            f"import_wandb needs wandb-core, the W&B client's log reader, missing at {core}: "
            "pip install 'nbtrack[wandb]' (wandb 0.31 or later, a wheel for this platform)"
        )
    return str(core)


def _records(core: str, log: Path) -> Iterator[dict[str, Any]]:
    """The records of a ``.wandb`` log, as W&B's reader prints them (one JSON object a line)."""
    command = [core, "leet", "inspect", "--no-observability", "--json",
               "--run-file", str(log), str(log.parent.parent)]  # fmt: skip
    with tempfile.TemporaryFile("w+") as errors:
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.strip():
                    yield json.loads(line)
        if proc.returncode:
            errors.seek(0)
            reason = errors.read().strip().removeprefix("Error: ")
            raise NbtrackError(f"{log} is not a W&B transaction log W&B can read: {reason}")


def _read_log(core: str, log: Path) -> _Run:
    run = _Run([log.parent])
    try:
        for record in _records(core, log):
            run.read(record)
    except ValueError as err:
        raise NbtrackError(f"W&B's reader gave unreadable output for {log}: {err}") from err
    if not run.wandb_id:
        raise NbtrackError(
            f"{log} is not a W&B transaction log, or an empty one (it has no run record)"
        )
    return run


def _merge_parts(parts: list[_Run]) -> dict[str, _Run]:
    """Runs by nbtrack id; the parts of a resumed run (same project and W&B id) merged in
    the order they were written."""
    runs: dict[str, _Run] = {}
    for part in parts:
        part.project = part.project or "uncategorized"
        run_id = stable_run_id("wandb", part.project, part.wandb_id)
        run = runs.get(run_id)
        if run is None:
            runs[run_id] = part
            continue
        run.folders += part.folders
        run.name = part.name or run.name
        run.info.update(part.info)
        run.config.update(part.config)
        run.summary.update(part.summary)
        for key, points in part.history.items():
            run.history.setdefault(key, []).extend(points)
        run.last_step = max(run.last_step, part.last_step)
        run.last_time = max(run.last_time or 0, part.last_time or 0) or None
        run.exit_code = part.exit_code
        run.runtime_s += part.runtime_s
    return runs


def _add_run(rows: RunRows, job: Import, run_id: str, run: _Run, experiment: str) -> None:
    start = run.start if run.start is not None else run.last_time or 0
    end = max(start + round(run.runtime_s * 1e6), run.last_time or start)
    git = run.info.get("git") or {}
    status = None if run.exit_code is None else "finished" if run.exit_code == 0 else "failed"
    rows.run(run_id, experiment, run.name or run.wandb_id, start, end,
             status if status == "finished" else None, writer=WRITER,
             source=run.info.get("program"), git_commit=git.get("commit"))  # fmt: skip
    if status == "failed":
        rows.add("events", {"run_id": run_id, "timestamp": end, "kind": "failed",
                            "detail": f"W&B exit code {run.exit_code}"})  # fmt: skip
    rows.params(run_id, config_params(run.config), start)
    tags: dict[str, Any] = {tag: "true" for tag in run.info.get("tags", [])}
    tags.update({"wandb.run_id": run.wandb_id, "wandb.project": run.project,
                 "wandb.path": str(run.folders[-1])})  # fmt: skip
    for key, tag in (("notes", "notes"), ("run_group", "group"), ("job_type", "job_type"),
                     ("entity", "entity")):  # fmt: skip
        if run.info.get(key):
            tags[f"wandb.{tag}"] = run.info[key]
    rows.tags(run_id, tags, start)
    for key, points in run.history.items():
        rows.points(run_id, key, points)
    for key, value in metric_values(run.summary).items():
        parts = key.split(".")  # "loss.min" (define_metric's summary) belongs to "loss"
        if not any(".".join(parts[:i]) in run.history for i in range(1, len(parts) + 1)):
            rows.points(run_id, key, [(max(run.last_step, 0), end, value)])
    for folder in run.folders:
        files = folder / "files"
        if files.is_dir():
            for entry in sorted(files.iterdir()):
                for row in copy_artifact(job.store.layout, run_id, entry, None):
                    rows.add("artifacts", {**row, "timestamp": round(row["timestamp"] * 1e6)})
