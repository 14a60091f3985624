"""Names users write for run columns (``metrics.acc``, ``params.lr``, ``start_time``) and the SQL
they stand for in a search over the ``runs`` view (aliased ``r``).

Every key is bound as a query parameter, never spliced into the SQL text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PREFIXES = ("params", "metrics", "tags")
ATTRIBUTES = (
    "run_id", "experiment", "name", "status", "start_time", "end_time", "duration",
    "parent_run_id", "notebook", "cell_id", "source", "user", "host", "git_commit",
)  # fmt: skip
BASE_COLUMNS = (
    "run_id", "experiment", "name", "status", "start_time", "end_time", "duration",
    "parent_run_id",
)  # fmt: skip

_ORDER_TERM = re.compile(
    r"^\s*(?:(?P<prefix>\w+)\.(?:`(?P<quoted>[^`]+)`|(?P<key>\S+?))|(?P<attr>\w+))"
    r"(?:\s+(?P<dir>asc|desc))?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ColumnRef:
    """A run column: an attribute (``prefix=None``) or ``params``/``metrics``/``tags`` + key."""

    prefix: str | None
    key: str

    @property
    def label(self) -> str:
        return self.key if self.prefix is None else f"{self.prefix}.{self.key}"


def check_ref(prefix: str | None, key: str, context: str) -> ColumnRef:
    if prefix is None:
        if key not in ATTRIBUTES:
            raise ValueError(
                f"unknown column {key!r} in {context}; use one of {', '.join(ATTRIBUTES)} "
                "or params.<key>, metrics.<key>, tags.<key>"
            )
        return ColumnRef(None, key)
    lowered = prefix.lower()
    if lowered not in PREFIXES:
        guess = next((p for p in PREFIXES if p.startswith(lowered[:5])), None)
        hint = f"; did you mean {guess!r}?" if guess else f"; use one of {', '.join(PREFIXES)}"
        raise ValueError(f"unknown prefix {prefix!r} in {context}{hint}")
    return ColumnRef(lowered, key)


def parse_order_by(terms: list[str] | str | None) -> list[tuple[ColumnRef, bool]]:
    """``["metrics.acc DESC", "start_time"]`` -> [(ref, descending), ...]."""
    if terms is None:
        return []
    if isinstance(terms, str):
        terms = [terms]
    parsed = []
    for term in terms:
        match = _ORDER_TERM.match(term)
        if not match:
            raise ValueError(
                f"cannot read order_by term {term!r}; write e.g. 'metrics.acc DESC', "
                "'params.`batch size`' or 'start_time'"
            )
        key = match["quoted"] or match["key"] or match["attr"]
        ref = check_ref(match["prefix"], key, f"order_by {term!r}")
        parsed.append((ref, (match["dir"] or "asc").lower() == "desc"))
    return parsed


@dataclass
class Joins:
    """The LEFT JOINs a search needs: one per referenced params/metrics/tags key."""

    clauses: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    _aliases: dict[ColumnRef, str] = field(default_factory=dict)

    def alias(self, ref: ColumnRef) -> str:
        found = self._aliases.get(ref)
        if found is None:
            found = self._aliases[ref] = f"j{len(self._aliases)}"
            view = "latest_metrics" if ref.prefix == "metrics" else ref.prefix
            self.clauses.append(
                f"LEFT JOIN {view} {found} ON {found}.run_id = r.run_id AND {found}.key = ?"
            )
            self.params.append(ref.key)
        return found

    def sort_exprs(self, ref: ColumnRef) -> list[str]:
        """SQL expressions that order by ``ref`` (typed params: numbers, then text)."""
        if ref.prefix is None:
            return [f"r.{ref.key}"]
        alias = self.alias(ref)
        if ref.prefix == "params":
            return [f"{alias}.num", f"{alias}.value"]
        return [f"{alias}.value"]

    def sql(self) -> str:
        return " ".join(self.clauses)
