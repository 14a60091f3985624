"""Names users write for run columns (``metrics.acc``, ``params.lr``, ``min(metrics.loss)``,
``start_time``) and the SQL they stand for in a search over the ``runs`` table (aliased ``r``).

Every key is bound as a query parameter, never spliced into the SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class ColumnRef:
    """A run column: an attribute (``prefix=None``), or ``params``/``metrics``/``tags`` + key;
    ``agg`` (``min``/``max``) is over a metric's whole history."""

    prefix: str | None
    key: str
    agg: str | None = None

    @property
    def label(self) -> str:
        name = self.key if self.prefix is None else f"{self.prefix}.{self.key}"
        return f"{self.agg}({name})" if self.agg else name


def check_ref(prefix: str | None, key: str, agg: str | None = None) -> ColumnRef:
    """A validated reference; ValueError saying what would be valid otherwise."""
    if prefix is None:
        if key not in ATTRIBUTES:
            raise ValueError(
                f"unknown column {key!r}; use one of {', '.join(ATTRIBUTES)} "
                "or params.<key>, metrics.<key>, tags.<key>"
            )
        ref = ColumnRef(None, key)
    else:
        lowered = prefix.lower()
        if lowered not in PREFIXES:
            guess = next((p for p in PREFIXES if p.startswith(lowered[:5])), None)
            hint = f"; did you mean {guess!r}?" if guess else f"; use one of {', '.join(PREFIXES)}"
            raise ValueError(f"unknown prefix {prefix!r}{hint}")
        ref = ColumnRef(lowered, key)
    if agg is not None:
        if ref.prefix != "metrics":
            raise ValueError(f"{agg}() applies to metrics only, e.g. {agg}(metrics.loss)")
        ref = ColumnRef("metrics", key, agg)
    return ref


@dataclass
class Joins:
    """The LEFT JOINs a search needs: one per referenced params/metrics/tags key."""

    clauses: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    _aliases: dict[tuple[str, str], str] = field(default_factory=dict)

    def alias(self, ref: ColumnRef) -> str:
        assert ref.prefix is not None
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
        """SQL expressions that order by ``ref`` (typed params: numbers, then text)."""
        if ref.prefix == "params":
            alias = self.alias(ref)
            return [f"{alias}.num", f"{alias}.value"]
        return [self.value(ref)]

    def sql(self) -> str:
        return " ".join(self.clauses)
