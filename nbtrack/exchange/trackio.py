"""``nbtrack.import_trackio``: the runs of a trackio project, read from its SQLite database.

trackio keeps each project in one SQLite file, ``<project>.db``, in its folder (``$TRACKIO_DIR``,
else ``$HF_HOME/trackio``, else ``~/.cache/huggingface/trackio``). The file is read with the
standard library's ``sqlite3``, read-only, so the trackio package is not needed to import.

How trackio's runs map onto nbtrack's:

* each trackio run (its ``run_id``; older databases have only names) becomes a run named like
  it, in the experiment named like the project; the original id is the tag ``trackio.run``,
  so importing again skips the runs already there;
* config becomes params with their types (lists and dicts as JSON); trackio's own entries
  become run fields: ``_Username`` the user, ``_Created`` the start time, ``_Group`` the tag
  ``group``;
* every logged number becomes a point of a metric history with its step and time (NaN and
  infinities included, booleans as 0 and 1); a key trackio renamed because it is reserved
  (``step`` logged as ``__step``) gets its name back. Values that are not numbers (text,
  images, tables) are left out, and so are system metrics (CPU, GPU) and alerts;
* trackio records no run status: runs arrive finished, at the time of their last point.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import NbtrackError
from ..names import stable_run_id
from .rows import RunRows
from .segments import importing

WRITER = "import-trackio"
# Runs whose rows are gathered before they are written as segments (bounds memory).
RUNS_PER_BATCH = 100
_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_RESERVED = ("_Username", "_Created", "_Group")


def import_trackio(project_or_db: str | os.PathLike[str], experiment: str | None = None) -> int:
    """Copy the runs of a trackio project into the current nbtrack store; returns how many runs
    were added (runs imported before are skipped).

    ``project_or_db``: a project name, looked up in trackio's folder (``$TRACKIO_DIR``, else
    ``$HF_HOME/trackio``), or the path of a project's ``.db`` file. ``experiment``: the
    experiment of the runs (default: the project's name). See the module docs for how values
    are mapped.

    >>> import nbtrack, sqlite3, tempfile
    >>> from nbtrack.exchange.trackio import import_trackio
    >>> folder = tempfile.mkdtemp()
    >>> db = sqlite3.connect(f"{folder}/wine.db")
    >>> _ = db.execute("CREATE TABLE metrics (id INTEGER PRIMARY KEY, run_id TEXT, "
    ...                "timestamp TEXT, run_name TEXT, step INTEGER, metrics TEXT)")
    >>> _ = db.execute("INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES "
    ...                "('a1', '2025-01-01T00:00:00+00:00', 'base', 0, '{\\"loss\\": 0.5}')")
    >>> db.commit()
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> import_trackio(f"{folder}/wine.db")
    1
    >>> run = nbtrack.search()[["name", "experiment", "metrics.loss", "tags.trackio.run"]]
    >>> run.values.tolist()
    [['base', 'wine', 0.5, 'a1']]
    """
    db, project = locate(project_or_db)
    experiment = experiment or project
    added = 0
    with _open(db) as conn:
        runs = _runs(conn, db)  # checks the file before the store is touched
        with importing("trackio") as job:
            for start in range(0, len(runs), RUNS_PER_BATCH):
                chunk = runs[start : start + RUNS_PER_BATCH]
                batch = {stable_run_id("trackio", db.stem, run.id): run for run in chunk}
                have = job.existing(batch)
                rows = RunRows()
                for run_id, run in batch.items():
                    if run_id not in have:
                        points = _points(conn, db, run_id, run)
                        _add_run(rows, run_id, experiment, run, points)
                        job.segments.add("metrics", points)
                        added += 1
                rows.write(job)
    return added


def trackio_dir() -> Path:
    """trackio's folder of project databases: ``$TRACKIO_DIR``, else ``$HF_HOME/trackio``, else
    ``$XDG_CACHE_HOME/huggingface/trackio`` (``~/.cache/huggingface/trackio``)."""
    if os.environ.get("TRACKIO_DIR"):
        return Path(os.environ["TRACKIO_DIR"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "huggingface",
    )
    return Path(os.path.expandvars(home)).expanduser() / "trackio"


def locate(project_or_db: str | os.PathLike[str]) -> tuple[Path, str]:
    """The database file of a project name or ``.db`` path, and the project's name.

    >>> locate("/nowhere/wine.db")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nbtrack.errors.NbtrackError: no trackio database at /nowhere/wine.db: pass a project's .db ...
    """
    text = os.fspath(project_or_db)
    path = Path(text).expanduser()
    if isinstance(project_or_db, os.PathLike) or path.suffix == ".db" or os.sep in text:
        if not path.is_file():
            raise NbtrackError(
                f"no trackio database at {path}: pass a project's .db file or a project name"
            )
        return path.resolve(), path.stem
    # trackio names the file after the project, keeping only letters, digits, '-' and '_'
    stem = "".join(c for c in text if c.isalnum() or c in "-_") or "default"
    folder = trackio_dir()
    path = folder / f"{stem}.db"
    if not path.is_file():
        have = sorted(p.stem for p in folder.glob("*.db")) if folder.is_dir() else []
        raise NbtrackError(
            f"no trackio project {text!r} in {folder} (no {path.name}); "
            f"projects there: {', '.join(have) or 'none'}. Set TRACKIO_DIR or pass the .db path"
        )
    return path.resolve(), text


@dataclass
class _Run:
    """One trackio run: its id (the run name in databases from before run ids) and name."""

    id: str
    name: str
    ident: str  # the metrics table's column holding ``id``: run_id, or run_name in old files
    config: dict[str, Any] = field(default_factory=dict)
    config_time: int | None = None


class _open:
    """A read-only connection to ``db`` in one read transaction (a consistent snapshot)."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.conn = sqlite3.connect(f"{self.db.as_uri()}?mode=ro", uri=True)
            self.conn.isolation_level = None
            self.conn.execute("BEGIN")
        except sqlite3.Error as err:
            raise _not_trackio(self.db, err) from err
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def _not_trackio(db: Path, err: Exception | None = None) -> NbtrackError:
    why = f" ({err})" if err else ""
    return NbtrackError(
        f"{db} is not a trackio database{why}: expected a SQLite file with a 'metrics' table "
        "(run_name, step, timestamp, metrics), as trackio writes to <TRACKIO_DIR>/<project>.db"
    )


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _runs(conn: sqlite3.Connection, db: Path) -> list[_Run]:
    """Every run of the database (from its metrics and configs), in order of first appearance."""
    try:
        metric_cols = _columns(conn, "metrics")
        config_cols = _columns(conn, "configs")
    except sqlite3.Error as err:
        raise _not_trackio(db, err) from err
    if not {"run_name", "step", "timestamp", "metrics"} <= metric_cols:
        raise _not_trackio(db)
    runs: dict[str, _Run] = {}
    ident = "run_id" if "run_id" in metric_cols else "run_name"
    for run_id, name in conn.execute(
        f"SELECT {ident}, run_name FROM metrics GROUP BY {ident} ORDER BY min(id)"
    ):
        runs.setdefault(run_id, _Run(run_id, name, ident))
    if {"run_name", "config", "created_at"} <= config_cols:
        by = "run_id" if "run_id" in config_cols else "run_name"
        for run_id, name, text, created in conn.execute(
            f"SELECT {by}, run_name, config, created_at FROM configs ORDER BY id"
        ):
            run = runs.setdefault(run_id, _Run(run_id, name, ident))
            run.config = _values(text)
            run.config_time = _us(created)
    return list(runs.values())


def _values(text: str | bytes) -> dict[str, Any]:
    """A JSON object as trackio writes it, with its NaN and infinities back as floats."""
    try:
        values = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(values, dict):
        return {}
    return {key: _SPECIAL.get(v, v) if isinstance(v, str) else v for key, v in values.items()}


def _us(text: str | None) -> int | None:
    """An ISO time as trackio writes it (UTC) in epoch microseconds."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return round(when.timestamp() * 1_000_000)


def _points(conn: sqlite3.Connection, db: Path, run_id: str, run: _Run) -> Any:
    """A run's numeric values as an Arrow table of the store's ``metrics`` columns, in logging
    order (SQLite's ``json_each`` unpacks each logged dict)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # run.ident is one of two column names, never user text
    query = f"""
        SELECT m.step, m.timestamp, j.key, j.value FROM metrics AS m, json_each(m.metrics) AS j
        WHERE m.{run.ident} = ? AND (j.type IN ('integer', 'real', 'true', 'false')
            OR (j.type = 'text' AND j.value IN ('NaN', 'Infinity', '-Infinity')))
        ORDER BY m.id"""
    try:
        found = conn.execute(query, (run.id,)).fetchall()
    except sqlite3.Error as err:
        raise _not_trackio(db, err) from err
    steps, stamps, keys, values = [list(c) for c in zip(*found, strict=True)] or [[]] * 4
    key = pa.array(keys, pa.string())
    # trackio logs a reserved key (step, time, ...) and any "__x" as "__" + the key
    renamed = pc.starts_with(key, "__")
    key = pc.if_else(renamed, pc.utf8_slice_codeunits(key, 2), key)
    utc = pa.timestamp("us", tz="UTC")
    try:
        times = pa.array(stamps, pa.string()).cast(utc)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        times = pa.array([_us(stamp) for stamp in stamps], pa.int64()).cast(utc)
    return pa.table({
        "run_id": pa.array([run_id] * len(keys), pa.string()), "key": key,
        "step": pa.array(steps, pa.int64()), "timestamp": times,
        "value": pa.array([_SPECIAL.get(v, v) if isinstance(v, str) else v for v in values],
                          pa.float64()),
    })  # fmt: skip


def _add_run(rows: RunRows, run_id: str, experiment: str, run: _Run, points: Any) -> None:
    """The run's row, params and tags, timed by its config and its ``points``."""
    import pyarrow.compute as pc

    span = pc.min_max(points.column("timestamp").cast("int64"))
    config = dict(run.config)
    user, created, group = (config.pop(key, None) for key in _RESERVED)
    known = [_us(created), run.config_time, span["min"].as_py(), span["max"].as_py()]
    times = [t for t in known if t is not None]
    start, end = (min(times), max(times)) if times else (0, 0)
    rows.run(run_id, experiment, run.name, start, end, "finished", writer=WRITER,
             user=user if isinstance(user, str) else None)  # fmt: skip
    rows.params(run_id, config, start)
    tags = {"trackio.run": run.id}
    if group is not None:
        tags["group"] = str(group)
    rows.tags(run_id, tags, start)
