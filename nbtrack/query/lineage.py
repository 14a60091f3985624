"""Cell lineage: every run of one notebook cell, and what changed between two runs."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import NbtrackError
from ..store import get_store
from .runs import RunRef, get_run, resolve_id
from .search import select_runs, widen

if TYPE_CHECKING:
    import pandas as pd


def cell_runs(run: RunRef) -> pd.DataFrame:
    """Every run of the notebook cell that made ``run``, oldest first (``search``'s columns).

    Runs of one cell share a ``lineage``: the cell's id in its notebook or, where the front end
    gives no cell id, the notebook and the cell's source.

    >>> import nbtrack
    >>> nbtrack.cell_runs(run_id)  # doctest: +SKIP
    """
    with get_store().reader.snapshot() as snap:
        rid = resolve_id(snap, run)
        lineage = snap.query("SELECT lineage FROM runs WHERE run_id = ?", [rid])[0][0].as_py()
        if lineage is None:
            raise NbtrackError(
                f"run {rid} was not made by a %%track cell, so it has no cell lineage; "
                "use nbtrack.search() to find related runs"
            )
        sql = select_runs("r.lineage = ? AND NOT r.deleted") + " ORDER BY r.start_time, r.run_id"
        return widen(snap, snap.query(sql, [lineage]))


@dataclass
class RunDiff:
    """What differs between two runs: ``{key: (before, after)}`` maps and a code diff."""

    before: str
    after: str
    params: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    metrics: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    tags: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    code: str = ""


def _changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    keys = sorted(set(before) | set(after))
    return {
        k: (before.get(k), after.get(k))
        for k in keys
        if before.get(k) != after.get(k) or type(before.get(k)) is not type(after.get(k))
    }


def diff(run: RunRef, before: RunRef | None = None) -> RunDiff:
    """What changed from ``before`` to ``run``: params, last metrics, tags and code.

    ``before`` defaults to the previous run of the same notebook cell.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with nbtrack.run(params={"lr": 0.1}) as a:
    ...     a.log(acc=0.8)
    >>> with nbtrack.run(params={"lr": 0.01}) as b:
    ...     b.log(acc=0.9)
    >>> change = nbtrack.diff(b, before=a)
    >>> change.params, change.metrics
    ({'lr': (0.1, 0.01)}, {'acc': (0.8, 0.9)})
    """
    after = get_run(run)
    if before is None:
        earlier = cell_runs(after.id)["run_id"].tolist()
        position = earlier.index(after.id)
        if position == 0:
            raise NbtrackError(f"run {after.id} is the first run of its cell; pass before=")
        before = earlier[position - 1]
    prior = get_run(before)
    code = "".join(
        difflib.unified_diff(
            (prior.context.get("code") or "").splitlines(keepends=True),
            (after.context.get("code") or "").splitlines(keepends=True),
            fromfile=prior.id, tofile=after.id,
        )
    )  # fmt: skip
    return RunDiff(
        prior.id,
        after.id,
        _changed(prior.params, after.params),
        _changed(prior.metrics, after.metrics),
        _changed(prior.tags, after.tags),
        code,
    )
