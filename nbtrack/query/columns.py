"""Names users write for run columns (``metrics.acc``, ``params.lr``, ``min(metrics.loss)``,
``start_time``) and the SQL they stand for in a search over the ``runs`` table (aliased ``r``).

MLflow's spellings resolve to the same columns: ``metric.acc``, ``attributes.run_name``,
``status = 'KILLED'``. Every key is bound as a query parameter, never spliced into the SQL text.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..store.duck import sql_name
from ..store.schema import END_STATES

PREFIXES = ("params", "metrics", "tags")
TEXT_ATTRIBUTES = (
    "run_id", "experiment", "name", "status", "parent_run_id", "notebook", "cell_id", "lineage",
    "source", "user", "host", "git_commit",
)  # fmt: skip
TIME_ATTRIBUTES = ("start_time", "end_time")
NUMBER_ATTRIBUTES = ("duration",)
ATTRIBUTES = TEXT_ATTRIBUTES + TIME_ATTRIBUTES + NUMBER_ATTRIBUTES
AGGREGATES = ("min", "max")
BASE_COLUMNS = (
    "run_id", "experiment", "name", "status", "start_time", "end_time", "duration",
    "parent_run_id",
)  # fmt: skip
RUN_STATES = ("running", "crashed", *END_STATES)
# The struct of a run snapshot's column per key (see nbtrack.store.reader.WIDE_GROUPS).
WIDE_TYPES = {
    "params": "STRUCT(value VARCHAR, num DOUBLE, type VARCHAR)",
    "metrics": "STRUCT(value DOUBLE, min DOUBLE, max DOUBLE)",
    "tags": "STRUCT(value VARCHAR)",
}

# Every prefix MLflow accepts (compared lower-cased) and what it means here; None: an attribute,
# as if there were no prefix (``attributes.status`` is ``status``).
PREFIX_SPELLINGS: dict[str, str | None] = {
    "params": "params", "param": "params", "parameter": "params", "parameters": "params",
    "metrics": "metrics", "metric": "metrics", "tags": "tags", "tag": "tags",
    "datasets": "datasets", "dataset": "datasets",
    "attributes": None, "attribute": None, "attr": None, "run": None,
}  # fmt: skip
# MLflow's names for the attributes nbtrack calls otherwise (its exact spellings).
ATTRIBUTE_ALIASES = {
    "run_name": "name", "run name": "name", "Run name": "name", "Run Name": "name",
    "user_id": "user", "created": "start_time", "Created": "start_time",
}  # fmt: skip
# MLflow names with no nbtrack column: why not, and what to write instead.
NO_COLUMN = {
    "artifact_uri": "nbtrack has no artifact_uri: a run's artifacts are files in the store's "
    "artifacts/<run_id>/ folder; runs imported from MLflow keep theirs as a tag, "
    "tags.`mlflow.artifact_uri`",
    "experiment_id": "nbtrack has no experiment ids: filter on the experiment's name, "
    "e.g. experiment = 'sweep'",
    "lifecycle_stage": "nbtrack has no lifecycle_stage: deleted runs are left out of a search "
    "unless you pass include_deleted=True",
}
# What a filter can ask of the datasets a run used (``run.log_input``): true when any of them
# matches, as in MLflow.
DATASET_KEYS = ("name", "digest", "context")
# MLflow's run statuses (compared upper-cased) as nbtrack's states. MLflow cannot tell a run still
# being written from one whose process died, so RUNNING is both; it has one state for a run
# stopped from outside where nbtrack has two; nbtrack queues no runs, so SCHEDULED is none.
MLFLOW_STATUSES: dict[str, tuple[str, ...]] = {
    "FINISHED": ("finished",), "FAILED": ("failed",), "RUNNING": ("running", "crashed"),
    "KILLED": ("killed", "interrupted"), "SCHEDULED": (),
}  # fmt: skip


@dataclass(frozen=True)
class ColumnRef:
    """A run column: an attribute (``prefix=None``), or ``params``/``metrics``/``tags`` + key,
    or ``datasets`` + name/digest/context (any of the run's inputs); ``agg`` (``min``/``max``)
    is over a metric's whole history."""

    prefix: str | None
    key: str
    agg: str | None = None

    @property
    def label(self) -> str:
        name = self.key if self.prefix is None else f"{self.prefix}.{self.key}"
        return f"{self.agg}({name})" if self.agg else name


def check_ref(prefix: str | None, key: str, agg: str | None = None) -> ColumnRef:
    """A validated reference, MLflow's spellings resolved; ValueError saying what would be valid.

    >>> check_ref("Metric", "acc"), check_ref("attributes", "run_name")
    (ColumnRef(prefix='metrics', key='acc', agg=None), ColumnRef(prefix=None, key='name', agg=None))
    """
    kind = None if prefix is None else prefix_kind(prefix)
    ref = ColumnRef(kind, key) if kind else ColumnRef(None, attribute_name(key, prefix))
    if kind == "datasets" and key not in DATASET_KEYS:
        raise ValueError(
            f"datasets.{key} is not recorded; filter on datasets.name, datasets.digest or "
            "datasets.context"
        )
    if agg is not None:
        if ref.prefix != "metrics":
            raise ValueError(f"{agg}() applies to metrics only, e.g. {agg}(metrics.loss)")
        ref = ColumnRef("metrics", key, agg)
    return ref


def prefix_kind(prefix: str) -> str | None:
    """``params``, ``metrics`` or ``tags`` for any spelling of them; None for an attribute prefix.

    >>> prefix_kind("PARAMETER"), prefix_kind("run")
    ('params', None)
    """
    lowered = prefix.lower()
    if lowered in PREFIX_SPELLINGS:
        return PREFIX_SPELLINGS[lowered]
    raise ValueError(f"unknown prefix {prefix!r}; {prefix_hint(lowered)}")


def prefix_hint(lowered: str) -> str:
    """What to write instead of an unknown (lower-cased) prefix.

    >>> prefix_hint("m"), prefix_hint("parms")
    ("did you mean 'metrics'?", "did you mean 'params'?")
    """
    canonical = (*PREFIXES, "attributes")
    guess = next((p for p in canonical if p.startswith(lowered[:5])), None)
    if guess is None:
        close = difflib.get_close_matches(lowered, PREFIX_SPELLINGS, n=1)
        guess = (PREFIX_SPELLINGS[close[0]] or "attributes") if close else None
    if guess is None:
        return f"use one of {', '.join(canonical)}"
    return f"did you mean {guess!r}?"


def attribute_name(key: str, prefix: str | None = None) -> str:
    """nbtrack's name for attribute ``key`` (MLflow's aliases resolved), or ValueError."""
    name = ATTRIBUTE_ALIASES.get(key, key)
    if name in ATTRIBUTES:
        return name
    if name in NO_COLUMN:
        raise ValueError(NO_COLUMN[name])
    shown = key if prefix is None else f"{prefix}.{key}"
    hint = f"use one of {', '.join(ATTRIBUTES)} or params.<key>, metrics.<key>, tags.<key>"
    if "." in key:  # `metrics.acc` in backticks: the prefix was quoted along with the key
        head, tail = key.split(".", 1)
        hint = f"quote only the key, e.g. {head}.`{tail}`"
    raise ValueError(f"unknown column {shown!r}; {hint}")


def status_states(value: str) -> tuple[str, ...] | None:
    """The states an MLflow status (any case) stands for; None for nbtrack's own lower-case
    names, which keep their one meaning, and for any other text.

    >>> status_states("Killed"), status_states("killed"), status_states("SCHEDULED")
    (('killed', 'interrupted'), None, ())
    """
    if value in RUN_STATES:
        return None
    return MLFLOW_STATUSES.get(value.upper())


@dataclass
class Joins:
    """The LEFT JOINs a search needs: one per referenced params/metrics/tags key.

    It is also what the filter grammar asks about columns (which names exist, which are
    numbers or times, the SQL of a value), so another table's searches (the model registry's)
    compile the same grammar by subclassing it.
    """

    clauses: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    _aliases: dict[tuple[str, str], str] = field(default_factory=dict)
    # A run snapshot's per-key columns (see Snapshot.wide_columns): then a key is a column of
    # the runs, not a join.
    wide: frozenset[str] | None = None

    # Attributes compared as numbers, and as times (ISO text or epoch seconds).
    number_columns: ClassVar[tuple[str, ...]] = NUMBER_ATTRIBUTES
    time_columns: ClassVar[tuple[str, ...]] = TIME_ATTRIBUTES
    # What a filter error says a column can be.
    column_help = "a column (params.<key>, metrics.<key>, tags.<key>, or an attribute such as name)"

    def check(self, prefix: str | None, key: str, agg: str | None = None) -> ColumnRef:
        """The column a filter names (see :func:`check_ref`); ValueError if none."""
        return check_ref(prefix, key, agg)

    def special(
        self, ref: ColumnRef, op: str, kind: str, value: Any, bind: Callable[[Any], str]
    ) -> str | None:
        """SQL for comparing a column that is not a plain value (``op`` is a comparison,
        LIKE or ILIKE; ``kind`` the literal's: num, str or bool; ``bind`` adds a parameter and
        returns its placeholder); None: compare it as a value. Runs have none."""
        return None

    def alias(self, ref: ColumnRef) -> str:
        """What holds ``ref``'s fields (``value``, ``num``, ``min``...): a joined row, or a
        column of the runs."""
        assert ref.prefix is not None
        if self.wide is not None:
            name = f"{ref.prefix}.{ref.key}"
            return (
                f"r.{sql_name(name)}" if name in self.wide else f"(NULL::{WIDE_TYPES[ref.prefix]})"
            )
        found = self._aliases.get((ref.prefix, ref.key))
        if found is None:
            found = self._aliases[ref.prefix, ref.key] = f"j{len(self._aliases)}"
            table = "latest_metrics" if ref.prefix == "metrics" else ref.prefix
            self.clauses.append(
                f"LEFT JOIN {table} {found} ON {found}.run_id = r.run_id AND {found}.key = ?"
            )
            self.params.append(ref.key)
        return found

    def value(self, ref: ColumnRef) -> str:
        """SQL for the value of ``ref``: params' text, a metric's last value (or min/max)."""
        if ref.prefix is None:
            return f"r.{ref.key}"
        return f"{self.alias(ref)}.{ref.agg or 'value'}"

    def sort_exprs(self, ref: ColumnRef) -> list[str]:
        """SQL expressions that order by ``ref`` (typed params: numbers, then text; metrics:
        numbers, then NaN, then missing, either direction)."""
        if ref.prefix == "params":
            alias = self.alias(ref)
            return [f"{alias}.num", f"{alias}.value"]
        value = self.value(ref)
        if ref.prefix == "metrics":
            # DuckDB ranks NaN above +inf, which would put diverged runs first in a DESC sort;
            # as NULL first, then ranked by isnan (true before NULL), NaN comes after numbers.
            return [f"CASE WHEN isnan({value}) THEN NULL ELSE {value} END", f"isnan({value})"]
        return [value]

    def sql(self) -> str:
        return " ".join(self.clauses)

    def source(self) -> str:
        """The FROM clause of a search: the runs (aliased ``r``) and what they join."""
        return "_runs_wide r" if self.wide is not None else f"runs r {self.sql()}"
