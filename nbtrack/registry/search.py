"""Searching the registry with the runs' typed filter grammar (see :mod:`nbtrack.query.filter`).

Columns of a model version: ``name``, ``version`` (a number), ``stage`` (MLflow's
``current_stage``; compared in any case), ``alias`` (true when any of the version's aliases
matches), ``run_id``, ``source``, ``status``, ``description``, ``created_at`` and ``updated_at``
(times: ISO text or epoch seconds; MLflow's ``creation_timestamp``/``last_updated_timestamp``
name them too) and ``tags.<key>``. A registered model has ``name``, ``description``, ``alias``
(any of its aliases), ``latest_version``, ``created_at``, ``updated_at`` and ``tags.<key>``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, ClassVar

from ..errors import RegistryError
from ..query.columns import ColumnRef, Joins
from ..query.filter import compile_filter, parse_order_by
from ..store import get_store
from ..store.duck import sql_string
from .checks import check_stage
from .reading import select_models, select_versions
from .records import ModelVersion, RegisteredModel

_TAG_PREFIXES = ("tags", "tag")
_ATTRIBUTE_PREFIXES = ("attributes", "attribute", "attr")
# MLflow's names for registry columns.
_ALIASES = {
    "current_stage": "stage", "creation_timestamp": "created_at",
    "last_updated_timestamp": "updated_at", "source_path": "source", "version_number": "version",
    "aliases": "alias",
}  # fmt: skip


class RegistryColumns(Joins):
    """The columns of a registry view (aliased ``m``) as the filter grammar sees them."""

    text_columns: ClassVar[tuple[str, ...]] = ("name", "description")
    number_columns: ClassVar[tuple[str, ...]] = ()
    time_columns: ClassVar[tuple[str, ...]] = ("created_at", "updated_at")
    aliases_sql = "m.aliases"  # SQL of the row's list of aliases
    column_help = "a column (such as name, or tags.<key>)"

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.text_columns, *self.number_columns, *self.time_columns, "alias")

    def check(self, prefix: str | None, key: str, agg: str | None = None) -> ColumnRef:
        if agg is not None:
            raise ValueError(f"{agg}() applies to run metrics; compare the value itself")
        if prefix is not None and prefix.lower() in _TAG_PREFIXES:
            return ColumnRef("tags", key)
        if prefix is not None and prefix.lower() not in _ATTRIBUTE_PREFIXES:
            raise ValueError(
                f"unknown prefix {prefix!r}; use tags.<key> or a column: {', '.join(self.columns)}"
            )
        name = _ALIASES.get(key, key)
        if name in self.columns:
            return ColumnRef(None, name)
        close = difflib.get_close_matches(key, [*self.columns, *_ALIASES], n=1)
        hint = f"did you mean {_ALIASES.get(close[0], close[0])!r}? " if close else ""
        raise ValueError(
            f"unknown column {key!r}; {hint}columns: {', '.join(self.columns)} or tags.<key>"
        )

    def value(self, ref: ColumnRef) -> str:
        if ref.prefix == "tags":
            return f"m.tags[{sql_string(ref.key)}]"
        if ref.key == "alias":  # (for IS NULL and sorting: the aliases as one text)
            return f"nullif(array_to_string(list_sort({self.aliases_sql}), ','), '')"
        return f"m.{ref.key}"

    def special(
        self, ref: ColumnRef, op: str, kind: str, value: Any, bind: Callable[[Any], str]
    ) -> str | None:
        if ref.prefix is not None or ref.key != "alias":
            return None
        if kind != "str":
            raise ValueError("alias is text: quote the value, e.g. alias = 'champion'")
        if op in ("=", "!="):
            found = f"list_contains({self.aliases_sql}, {bind(value)})"
            return f"({found})" if op == "=" else f"(NOT {found})"
        if op in ("LIKE", "ILIKE"):
            return (
                f"EXISTS (SELECT 1 FROM unnest({self.aliases_sql}) t(a) WHERE a {op} {bind(value)})"
            )
        raise ValueError(f"alias has no order: compare it with =, !=, LIKE, ILIKE or IN, not {op}")


class VersionColumns(RegistryColumns):
    """The columns of the ``model_versions`` view."""

    text_columns = ("name", "stage", "run_id", "source", "status", "description")
    number_columns = ("version",)

    def special(
        self, ref: ColumnRef, op: str, kind: str, value: Any, bind: Callable[[Any], str]
    ) -> str | None:
        if ref.prefix is None and ref.key == "stage" and kind == "str" and op in ("=", "!="):
            try:
                return f"(m.stage {op} {bind(check_stage(value))})"
            except RegistryError as err:
                raise ValueError(str(err)) from err
        return super().special(ref, op, kind, value, bind)


class ModelColumns(RegistryColumns):
    """The columns of the ``registered_models`` view."""

    number_columns = ("latest_version",)
    aliases_sql = "map_keys(m.aliases)"


def _compile(
    columns: RegistryColumns,
    filter: str | None,
    order_by: list[str] | str | None,
    default_order: str,
    limit: int | None,
) -> tuple[str, list[Any], str]:
    """WHERE condition, its parameters and ORDER BY of a registry search."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be a whole number of at least 0, not {limit!r}")
    where, args = "true", list[Any]()
    if filter is not None and filter.strip():
        where, args = compile_filter(filter, columns)
    order = []
    for ref, descending in parse_order_by(order_by, columns):
        direction = "DESC" if descending else "ASC"
        order += [f"{expr} {direction} NULLS LAST" for expr in columns.sort_exprs(ref)]
    return where, args, ", ".join([*order, default_order])


def search_model_versions(
    filter: str | None = None, order_by: list[str] | str | None = None, limit: int | None = None
) -> list[ModelVersion]:
    """The live model versions matching ``filter`` (the typed grammar of :func:`nbtrack.search`
    over the columns in :mod:`nbtrack.registry.search`), e.g. ``"name = 'wine' and version >=
    2"``, ``"run_id = '...'"``, ``"current_stage = 'Production'"``, ``"alias = 'champion'"``,
    ``"tags.team = 'a'"``. ``order_by`` as in search (``"version DESC"``); default: by name,
    newest version first. A malformed filter is a FilterError pointing at the problem.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> from nbtrack.registry import search_model_versions
    >>> search_model_versions("name LIKE 'wine%' and version >= 2")
    []
    """
    where, args, order = _compile(VersionColumns(), filter, order_by, "m.name, m.version DESC",
                                  limit)  # fmt: skip
    store = get_store()
    with store.reader.snapshot() as snap:
        return select_versions(snap, store.root, where, args, order, limit)


def search_registered_models(
    filter: str | None = None, order_by: list[str] | str | None = None, limit: int | None = None
) -> list[RegisteredModel]:
    """The registered models matching ``filter`` (e.g. ``"name LIKE 'wine%' and tags.team =
    'a'"``; columns in :mod:`nbtrack.registry.search`), each with its latest version per stage.
    ``order_by`` as in search (``"updated_at DESC"``); default: by name.

    >>> import nbtrack, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> from nbtrack.registry import search_registered_models
    >>> [m.name for m in search_registered_models("tags.team = 'a'")]
    []
    """
    where, args, order = _compile(ModelColumns(), filter, order_by, "m.name", limit)
    store = get_store()
    with store.reader.snapshot() as snap:
        return select_models(snap, store.root, where, args, order, limit)
