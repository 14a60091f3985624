"""``nbtrack.import_csv``: runs and metric histories from a CSV file, read with pyarrow.

Two layouts, chosen by the arguments:

* wide (the default): one row per run and step, one column per metric::

      run,step,lr,loss,acc
      a,0,0.1,0.9,0.50
      a,1,0.1,0.7,0.61

  ``import_csv("sweep.csv", run_column="run", step_column="step", param_columns=["lr"])``
* long (``key_column=``): one row per run, step and metric, the metric's name in
  ``key_column`` and its value in ``value_column`` (default ``"value"``)::

      run,step,metric,value
      a,0,loss,0.9

Without ``run_column`` the whole file is one run named after the file; without
``step_column`` steps count the rows of each run (of each run and metric, in long layout).
``time_column`` gives the points' times (ISO times, or epoch seconds), else every point has the
file's modification time. Empty cells (also ``NA``, ``NULL``, ``None``) are no value; ``nan``
and ``inf`` are numbers. ``param_columns`` hold one value per run (a column whose value changes
within a run is an error). In the wide layout the other columns are the metrics (or only
``metric_columns``, when given): each must hold numbers; empty cells are left out.

Runs are identified by the file's resolved path and the run's name: importing the same file
again adds nothing, and so does importing it after it changed (the runs are already there: to
import a changed file again, delete those runs first or copy the file to a new path).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import settings
from ..errors import NbtrackError
from ..names import stable_run_id
from .rows import RunRows
from .segments import importing

WRITER = "import-csv"
# Cells read as empty; "nan", "inf" and "-inf" are numbers (a metric can be NaN).
_EMPTY = ["", "NA", "N/A", "NULL", "null", "None"]


def import_csv(
    path: str | os.PathLike[str],
    run_column: str | None = None,
    step_column: str | None = None,
    experiment: str | None = None,
    *,
    time_column: str | None = None,
    param_columns: Sequence[str] = (),
    metric_columns: Sequence[str] | None = None,
    key_column: str | None = None,
    value_column: str = "value",
) -> int:
    """Import the runs of a CSV file of metrics into the current store; returns how many runs
    were added (runs imported from the same file before are skipped).

    ``experiment``: the experiment of the runs (default: the current one, see
    :func:`nbtrack.set_experiment`). See the module docs for the layouts and the other
    arguments.

    >>> import nbtrack, pathlib, tempfile
    >>> from nbtrack.exchange.csv_import import import_csv
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "sweep.csv").write_text("run,lr,loss\\na,0.1,0.9\\na,0.1,0.7\\nb,0.2,0.8\\n")
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> import_csv(folder / "sweep.csv", run_column="run", param_columns=["lr"])
    2
    >>> nbtrack.search(order_by="name")[["name", "params.lr", "metrics.loss"]]
      name  params.lr  metrics.loss
    0    a        0.1           0.7
    1    b        0.2           0.8
    """
    import pyarrow as pa

    source = _source(path)
    table = _read(source)
    roles = {"run_column": run_column, "step_column": step_column, "time_column": time_column,
             "key_column": key_column}  # fmt: skip
    if key_column is not None:
        roles["value_column"] = value_column
    used = _check_columns(source, table, roles, param_columns, metric_columns)

    names, codes = _runs(source, table, run_column)
    mtime = round(source.stat().st_mtime * 1e6)
    times = _times(source, table, time_column, mtime)
    if key_column is None:
        metrics = [c for c in metric_columns or table.column_names if c not in used]
        groups = codes
    else:
        metrics = [value_column]
        keys = _text(table.column(key_column), source, key_column)
        key_codes, _ = _codes(keys)
        groups = _combine(codes, key_codes)
    _check_numeric(source, table, metrics, key_column is not None)
    steps = _steps(source, table, step_column, groups)
    params = _params(source, table, param_columns, names, codes)

    ids = [stable_run_id("csv", str(source), name) for name in names]
    where = str(source)
    added = 0
    with importing("csv") as job:
        have = job.existing(ids)
        new = [i for i, run_id in enumerate(ids) if run_id not in have]
        if not new:
            return 0
        spans = _spans(codes, times, len(names))
        rows = RunRows()
        for i in new:
            start, end = spans[i]
            rows.run(ids[i], experiment or settings.experiment, names[i], start, end,
                     "finished", writer=WRITER)  # fmt: skip
            rows.params(ids[i], params[i], start)
            rows.tags(ids[i], {"csv.path": where}, start)
        rows.write(job)
        keep = _isin(codes, new)
        run_ids = pa.array(ids, pa.string()).take(pa.array(codes))
        for column in metrics:
            values = table.column(column).combine_chunks()
            mask = _and(keep, values.is_valid())
            key = keys if key_column is not None else pa.array([column] * len(table), pa.string())
            job.segments.add("metrics", pa.table({
                "run_id": run_ids.filter(mask), "key": key.filter(mask),
                "step": steps.filter(mask), "timestamp": times.filter(mask),
                "value": values.cast(pa.float64()).filter(mask),
            }))  # fmt: skip
        added = len(new)
    return added


def _source(path: str | os.PathLike[str]) -> Path:
    source = Path(path).expanduser()
    if not source.is_file():
        raise NbtrackError(f"no CSV file at {source}: pass the path of a .csv file")
    return source.resolve()


def _read(source: Path) -> Any:  # pyarrow.Table
    import pyarrow as pa
    import pyarrow.csv as pcsv

    try:
        table = pcsv.read_csv(source, convert_options=pcsv.ConvertOptions(
            null_values=_EMPTY, strings_can_be_null=True))  # fmt: skip
    except pa.ArrowInvalid as err:
        if "Empty CSV file" in str(err):
            raise NbtrackError(
                f"{source} is empty: expected a header row naming the columns, then rows"
            ) from err
        raise NbtrackError(f"{source} cannot be read as CSV: {err}") from err
    names = table.column_names
    blank = [i + 1 for i, name in enumerate(names) if not name.strip()]
    if blank:
        raise NbtrackError(
            f"{source}: column {', '.join(map(str, blank))} has no name in the header row; "
            "every column needs one"
        )
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise NbtrackError(f"{source}: the header names {', '.join(twice)} more than once")
    if table.num_rows == 0:
        raise NbtrackError(f"{source} has a header but no rows")
    return table


def _check_columns(
    source: Path,
    table: Any,
    roles: dict[str, str | None],
    params: Sequence[str],
    metrics: Sequence[str] | None,
) -> set[str]:
    """The columns given a role (checked to exist); the others are metrics."""
    if isinstance(params, str) or isinstance(metrics, str):
        raise TypeError("param_columns and metric_columns take lists of names, e.g. ['lr']")
    have = set(table.column_names)
    named = [(arg, col) for arg, col in roles.items() if col is not None]
    named += [("param_columns", col) for col in params]
    named += [("metric_columns", col) for col in metrics or ()]
    for arg, column in named:
        if column not in have:
            raise NbtrackError(
                f"{source} has no column {column!r} ({arg}); its columns: "
                + ", ".join(table.column_names)
            )
    used = {col for col in roles.values() if col is not None} | set(params)
    if roles["key_column"] is not None:
        extra = [c for c in table.column_names if c not in used]
        if extra:
            raise NbtrackError(
                f"{source}: columns {', '.join(extra)} have no role in the long layout "
                f"(key_column={roles['key_column']!r}): pass the ones that are constant per "
                "run as param_columns, or remove them"
            )
    return used


def _runs(source: Path, table: Any, run_column: str | None) -> tuple[list[str], Any]:
    """Run names in order of first appearance, and each row's index into them (numpy)."""
    import numpy as np

    if run_column is None:
        return [source.stem], np.zeros(table.num_rows, dtype=np.int64)
    names = _text(table.column(run_column), source, run_column)
    codes, dictionary = _codes(names)
    return dictionary, codes


def _text(column: Any, source: Path, name: str) -> Any:
    """A column as strings, with no empty cells."""
    import pyarrow as pa

    if column.null_count:
        rows = column.is_null().combine_chunks().to_numpy(zero_copy_only=False).nonzero()[0][:5]
        raise NbtrackError(
            f"{source}: column {name!r} is empty in rows {', '.join(str(r + 2) for r in rows)} "
            "(line numbers of the file); every row needs a value there"
        )
    return column.cast(pa.string()).combine_chunks()


def _codes(strings: Any) -> tuple[Any, list[str]]:
    """Each value's index into the distinct values (numpy), and the values in order."""
    encoded = strings.dictionary_encode()
    return encoded.indices.to_numpy(zero_copy_only=False).astype("int64"), (
        encoded.dictionary.to_pylist()
    )


def _combine(codes: Any, other: Any) -> Any:
    return codes * (int(other.max()) + 1) + other


def _steps(source: Path, table: Any, step_column: str | None, groups: Any) -> Any:
    """Each row's step: the step column, or its position among the rows of its group."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if step_column is None:
        order = np.argsort(groups, kind="stable")
        ordered = groups[order]
        firsts = np.r_[0, np.flatnonzero(ordered[1:] != ordered[:-1]) + 1]
        counts = np.diff(np.r_[firsts, len(groups)])
        position = np.arange(len(groups)) - np.repeat(firsts, counts)
        steps = np.empty(len(groups), dtype=np.int64)
        steps[order] = position
        return pa.array(steps)
    column = table.column(step_column).combine_chunks()
    integral = pa.types.is_integer(column.type) or (
        pa.types.is_floating(column.type)
        and pc.all(pc.equal(column, pc.floor(column))).as_py() is not False
    )
    if column.null_count or not integral:
        raise NbtrackError(
            f"{source}: step column {step_column!r} must hold whole numbers in every row "
            f"(it holds {column.type}{', with empty cells' if column.null_count else ''})"
        )
    return column.cast(pa.int64())


def _times(source: Path, table: Any, time_column: str | None, default: int) -> Any:
    """Each row's time (Arrow timestamps, UTC): ISO times or epoch seconds, else ``default``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    utc = pa.timestamp("us", tz="UTC")
    if time_column is None:
        return pa.array([default] * table.num_rows, pa.int64()).cast(utc)
    column = table.column(time_column).combine_chunks()
    kind = column.type
    try:
        if pa.types.is_timestamp(kind):
            micros = column.cast(pa.timestamp("us", tz=kind.tz)).cast(pa.int64())
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
            micros = pc.round(pc.multiply(column.cast(pa.float64()), 1e6)).cast(pa.int64())
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            micros = pa.array([_iso(text) for text in column.to_pylist()], pa.int64())
        else:
            raise ValueError(kind)
    except (ValueError, TypeError, pa.ArrowInvalid) as err:
        raise NbtrackError(
            f"{source}: time column {time_column!r} must hold ISO times (2024-05-01T12:00:00Z) "
            f"or epoch seconds in every row ({err})"
        ) from err
    if micros.null_count:
        raise NbtrackError(f"{source}: time column {time_column!r} has empty cells")
    return micros.cast(utc)


def _iso(text: str | None) -> int | None:
    from datetime import datetime, timezone

    if text is None:
        return None
    when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return round(when.timestamp() * 1e6)


def _check_numeric(source: Path, table: Any, metrics: list[str], long: bool) -> None:
    import pyarrow as pa

    def numeric(kind: Any) -> bool:
        return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind)) or (
            pa.types.is_null(kind)
        )

    bad = [c for c in metrics if not numeric(table.column(c).type)]
    if not bad:
        return
    what = ", ".join(f"{c!r} ({table.column(c).type})" for c in bad)
    if long:
        raise NbtrackError(f"{source}: the value column {what} must hold numbers")
    raise NbtrackError(
        f"{source}: metric columns must hold numbers, and {what} do not: pass the ones that are "
        f"constant per run as param_columns=[{', '.join(repr(c) for c in bad)}], or choose "
        "the metrics with metric_columns=[...]"
    )


def _params(
    source: Path, table: Any, columns: Sequence[str], names: list[str], codes: Any
) -> list[dict[str, Any]]:
    """Each run's params: the value its rows hold in each param column (empty cells aside)."""
    params: list[dict[str, Any]] = [{} for _ in names]
    for column in columns:
        for code, value in zip(codes.tolist(), table.column(column).to_pylist(), strict=True):
            if value is None:
                continue
            seen = params[code].setdefault(column, value)
            if seen != value:
                raise NbtrackError(
                    f"{source}: param column {column!r} changes within run {names[code]!r} "
                    f"({seen!r}, then {value!r}); a param has one value per run: leave it out "
                    "of param_columns to import it as a metric"
                )
    return params


def _spans(codes: Any, times: Any, runs: int) -> list[tuple[int, int]]:
    """Each run's first and last time (epoch microseconds)."""
    import numpy as np
    import pyarrow as pa

    micros = times.cast(pa.int64()).to_numpy()
    first = np.full(runs, np.iinfo(np.int64).max)
    last = np.full(runs, np.iinfo(np.int64).min)
    np.minimum.at(first, codes, micros)
    np.maximum.at(last, codes, micros)
    return list(zip(first.tolist(), last.tolist(), strict=True))


def _isin(codes: Any, chosen: list[int]) -> Any:
    import numpy as np
    import pyarrow as pa

    return pa.array(np.isin(codes, chosen))


def _and(left: Any, right: Any) -> Any:
    import pyarrow.compute as pc

    return pc.and_(left, right)
