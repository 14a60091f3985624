"""The search filter grammar: MLflow's, made typed, compiled to parameterised DuckDB SQL.

::

    filter     := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" or ")" | condition
    condition  := column op value
                | column ["not"] ("like" | "ilike") string
                | column ["not"] "in" "(" value ("," value)* ")"
                | column "is" ["not"] "null"
    column     := PREFIX "." KEY | ("min" | "max") "(" metrics "." KEY ")" | ATTRIBUTE
    PREFIX     := params | metrics | tags | attributes
    ATTRIBUTE  := run_id | name | experiment | status | start_time | end_time | duration | …
    op         := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    value      := number | string | "true" | "false"

KEY is a name (letters, digits, ``_ - / : .``) or any text in backticks or quotes:
``metrics.`val loss```, ``metrics."val loss"``. Strings take single or double quotes; a quote is
doubled to escape it (``'it''s'``). Keywords and prefixes are case-insensitive.

MLflow's spellings are accepted too: the prefixes ``param``, ``parameter(s)``, ``metric``,
``tag``, ``attribute``, ``attr`` and ``run``, also in backticks (```metric`.acc``); attribute
names in backticks or double quotes; MLflow's attribute names (``run_name``, ``user_id``,
``created``; see :mod:`nbtrack.query.columns`); and MLflow's statuses in any case other than
nbtrack's own lower-case names: ``status = 'KILLED'`` matches killed and interrupted runs.

Typed comparisons: a param compared with a number compares as a number (a param whose value
is not a number does not match), with a string as its text, with true/false as a boolean.
Metrics are numbers. Tags are text; compared with a number, a tag whose text is a number
compares as that number. ``start_time``/``end_time`` take an ISO date-time string or epoch
seconds (not MLflow's milliseconds: a number that large is refused). A comparison with a
missing value is never true (only ``IS NULL`` matches it), and ``not`` follows SQL's
three-valued logic: ``not params.lr > 1`` does not match runs without lr.

The model registry's searches compile the same grammar over their own columns (see
:mod:`nbtrack.registry.search`): the column set is a :class:`~nbtrack.query.columns.Joins`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import FilterError
from .columns import (
    AGGREGATES,
    DATASET_KEYS,
    ColumnRef,
    Joins,
    status_states,
)

_NAME = r"[A-Za-z_]\w*"
_PREFIX = rf"(?:{_NAME}|`{_NAME}`)"
_QUOTED = r"""`[^`]*`|"(?:[^"]|"")*"|'(?:[^']|'')*'"""
_TOKENS = re.compile(
    rf"""
    (?P<ws>\s+)
    |(?P<column>{_PREFIX}\.(?:{_QUOTED}|[\w\-/:.]+))
    |(?P<open_key>{_PREFIX}\.(?=[`"']))
    |(?P<no_key>{_PREFIX}\.)
    |(?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
    |(?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
    |(?P<name>`[^`]*`)
    |(?P<op><=|>=|!=|<>|==|=|<|>)
    |(?P<punct>[(),\-])
    |(?P<word>{_NAME})
    """,
    re.VERBOSE,
)
_KEYWORDS = {
    "and",
    "or",
    "not",
    "like",
    "ilike",
    "in",
    "is",
    "null",
    "true",
    "false",
    "asc",
    "desc",
}
_OPS = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# Epoch seconds of the year 5138 but epoch milliseconds of 1973: a time this large is MLflow's
# milliseconds, which would silently match nothing if read as seconds.
_EPOCH_MS_FROM = 1e11


@dataclass(frozen=True)
class Token:
    kind: str  # column, number, string, name, op, punct, word, keyword, end
    text: str
    pos: int

    def is_(self, *words: str) -> bool:
        return self.kind == "keyword" and self.text.lower() in words


def unquote(text: str) -> str:
    """The text between a token's quotes (backticks, ' or "); a doubled quote stands for one.

    >>> unquote("'it''s'"), unquote("`val loss`")
    ("it's", 'val loss')
    """
    quote = text[0]
    return text[1:-1].replace(quote * 2, quote)


def unterminated(char: str, what: str, text: str, pos: int) -> FilterError:
    """The error for a quote at ``pos`` that is never closed."""
    name = "backtick" if char == "`" else what
    return FilterError(f"unterminated {name}: end it with {char}", text, pos)


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKENS.match(text, pos)
        if match is None:
            char = text[pos]
            if char in "`'\"":
                raise unterminated(char, "string", text, pos)
            raise FilterError(
                f"unexpected character {char!r}: compare with = != < <= > >= LIKE ILIKE IN IS, "
                "join conditions with 'and'/'or', and quote any other text",
                text,
                pos,
            )
        kind = match.lastgroup
        if kind == "open_key":
            raise unterminated(text[match.end()], "quoted key", text, match.end())
        if kind == "no_key":
            raise FilterError(
                f"expected a key after {match.group()!r}: a name, or any text in backticks "
                "such as metrics.`val loss`",
                text,
                match.end(),
            )
        if kind != "ws":
            word = match.group()
            if kind == "word" and word.lower() in _KEYWORDS:
                kind = "keyword"
            tokens.append(Token(str(kind), word, pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


@dataclass(frozen=True)
class Literal:
    kind: str  # num, str, bool
    value: Any
    pos: int


class _Parser:
    """Recursive descent over the tokens, producing SQL as it goes."""

    def __init__(self, text: str, joins: Joins) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.joins = joins
        self.params: list[Any] = []

    # ---- token helpers --------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, message: str, token: Token | None = None) -> FilterError:
        token = token or self.tok
        found = "the end" if token.kind == "end" else repr(token.text)
        return FilterError(f"{message}, found {found}", self.text, token.pos)

    def expect_punct(self, char: str, context: str) -> None:
        if self.tok.kind != "punct" or self.tok.text != char:
            raise self.fail(f"expected {char!r} {context}")
        self.take()

    def at_punct(self, char: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == char

    # ---- grammar --------------------------------------------------------------------------
    def parse(self) -> str:
        sql = self.or_()
        if self.tok.kind != "end":
            raise self.fail("expected 'and', 'or' or the end of the filter")
        return sql

    def or_(self) -> str:
        return self._joined("or", self.and_)

    def and_(self) -> str:
        return self._joined("and", self.not_)

    def _joined(self, word: str, operand: Callable[[], str]) -> str:
        """One or more ``operand``s separated by ``word`` (``and``/``or``), as one condition."""
        parts = [operand()]
        while self.tok.is_(word):
            self.take()
            parts.append(operand())
        return parts[0] if len(parts) == 1 else "(" + f" {word.upper()} ".join(parts) + ")"

    def not_(self) -> str:
        if self.tok.is_("not"):
            self.take()
            return f"(NOT {self.not_()})"
        if self.at_punct("("):
            self.take()
            inner = self.or_()
            self.expect_punct(")", "to close the parenthesis")
            return inner
        return self.condition()

    def column(self) -> ColumnRef:
        token = self.tok
        if token.kind == "word" and token.text.lower() in AGGREGATES:
            return self.aggregate()
        if token.kind == "column":
            self.take()
            prefix, key = token.text.split(".", 1)
            return self._check(prefix.strip("`"), self.key(key, token), None, token)
        name = self.attribute_name(token)
        if name is None:
            raise self.fail(f"expected {self.joins.column_help}")
        self.take()
        return self._check(None, name, None, token)

    def aggregate(self) -> ColumnRef:
        token = self.take()
        agg = token.text.lower()
        self.expect_punct("(", f"after {agg}")
        ref = self.column()
        self.expect_punct(")", f"to close {agg}(")
        return self._check(ref.prefix, ref.key, agg, token)

    def key(self, key: str, token: Token) -> str:
        if key[0] in "`'\"":
            key = unquote(key)
        if not key:
            raise FilterError(
                "empty key: write it between the quotes, e.g. params.`lr`", self.text, token.pos
            )
        return key

    @staticmethod
    def attribute_name(token: Token) -> str | None:
        """The attribute a token names: a word, or (as MLflow allows) a name in backticks or
        double quotes; None if it names none."""
        if token.kind == "word":
            return token.text
        if token.kind == "name" or (token.kind == "string" and token.text[0] == '"'):
            return unquote(token.text)
        return None

    def _check(self, prefix: str | None, key: str, agg: str | None, token: Token) -> ColumnRef:
        try:
            return self.joins.check(prefix, key, agg)
        except ValueError as err:
            raise FilterError(str(err), self.text, token.pos) from err

    def literal(self) -> Literal:
        token = self.take()
        if token.kind == "punct" and token.text == "-" and self.tok.kind == "number":
            return Literal("num", -float(self.take().text), token.pos)
        if token.kind == "number":
            return Literal("num", float(token.text), token.pos)
        if token.kind == "string":
            return Literal("str", unquote(token.text), token.pos)
        if token.is_("true", "false"):
            return Literal("bool", token.text.lower() == "true", token.pos)
        raise self.fail("expected a value (a number, a 'string', true or false)", token)

    def condition(self) -> str:
        ref = self.column()
        token = self.tok
        if token.kind == "op":
            self.take()
            return self.compare(ref, _OPS[token.text], self.literal())
        if token.is_("is"):
            return self.is_null(ref)
        negate = token.is_("not")
        if negate:
            self.take()
        if self.tok.is_("like", "ilike"):
            sql = self.like(ref)
        elif self.tok.is_("in"):
            sql = self.in_list(ref)
        elif negate:
            raise self.fail("expected LIKE, ILIKE or IN after NOT")
        else:
            raise self.fail(
                f"expected a comparison (=, !=, <, <=, >, >=, LIKE, ILIKE, IN or IS) after "
                f"{ref.label}"
            )
        return f"(NOT {sql})" if negate else sql

    def like(self, ref: ColumnRef) -> str:
        op = self.take().text.upper()
        if ref.prefix == "datasets":
            return self.any_dataset(ref, op, self.literal())
        pattern = self.literal()
        if pattern.kind != "str":
            raise FilterError(
                f"{op} takes a 'string' pattern, e.g. name {op} 'base%'", self.text, pattern.pos
            )
        special = self.special(ref, op, pattern)
        if special is not None:
            return special
        if (
            ref.prefix == "metrics"
            or ref.key in self.joins.number_columns + self.joins.time_columns
        ):
            raise FilterError(
                f"{ref.label} is not text: {op} needs a text column", self.text, pattern.pos
            )
        return f"({self.joins.value(ref)} {op} {self.bind(pattern.value)})"

    def in_list(self, ref: ColumnRef) -> str:
        self.take()
        self.expect_punct("(", "after IN")
        values = [self.literal()]
        while self.at_punct(","):
            self.take()
            values.append(self.literal())
        self.expect_punct(")", "to close the IN list")
        return "(" + " OR ".join(self.compare(ref, "=", v) for v in values) + ")"

    def is_null(self, ref: ColumnRef) -> str:
        self.take()
        is_not = self.tok.is_("not")
        if is_not:
            self.take()
        if not self.tok.is_("null"):
            raise self.fail("expected NULL after IS")
        self.take()
        if ref.prefix == "datasets":  # IS NULL: no dataset has it (or the run has none)
            sql = _any_input(f"{_input(ref)} IS NOT NULL")
            return f"({sql})" if is_not else f"(NOT {sql})"
        return f"({self.joins.value(ref)} IS {'NOT ' if is_not else ''}NULL)"

    # ---- typed SQL ------------------------------------------------------------------------
    def bind(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    def special(self, ref: ColumnRef, op: str, lit: Literal) -> str | None:
        """The column set's own SQL for this comparison (see :meth:`Joins.special`), if any."""
        try:
            return self.joins.special(ref, op, lit.kind, lit.value, self.bind)
        except ValueError as err:
            raise FilterError(str(err), self.text, lit.pos) from err

    def mismatch(self, ref: ColumnRef, lit: Literal, kind: str, advice: str) -> FilterError:
        return FilterError(f"{ref.label} is {kind}: {advice}", self.text, lit.pos)

    def compare(self, ref: ColumnRef, op: str, lit: Literal) -> str:
        if lit.kind == "bool" and op not in ("=", "!="):
            raise self.mismatch(ref, lit, "compared with a boolean", "use = or !=")
        if ref.prefix == "params":
            return self.compare_param(ref, op, lit)
        if ref.prefix == "datasets":
            return self.any_dataset(ref, op, lit)
        special = self.special(ref, op, lit)
        if special is not None:
            return special
        if ref.prefix == "metrics" or ref.key in self.joins.number_columns:
            if lit.kind != "num":
                raise self.mismatch(
                    ref, lit, "a number", f"compare it with a number, e.g. {ref.label} > 0.5"
                )
            return f"({self.joins.value(ref)} {op} {self.bind(lit.value)})"
        if ref.prefix == "tags":
            return self.compare_tag(ref, op, lit)
        if ref.key in self.joins.time_columns:
            return self.compare_time(ref, op, lit)
        return self.compare_text(ref, op, lit)

    def any_dataset(self, ref: ColumnRef, op: str, lit: Literal) -> str:
        """True when any of the run's datasets matches (MLflow's meaning)."""
        if op not in ("=", "!=", "LIKE", "ILIKE"):
            raise self.mismatch(ref, lit, "text", f"use =, !=, LIKE, ILIKE or IN, not {op}")
        if lit.kind != "str":
            raise self.mismatch(ref, lit, "text", f"quote the value, e.g. {ref.label} = 'x'")
        return _any_input(f"{_input(ref)} {op} {self.bind(lit.value)}")

    def compare_param(self, ref: ColumnRef, op: str, lit: Literal) -> str:
        alias = self.joins.alias(ref)
        if lit.kind == "num":
            return f"({alias}.num {op} {self.bind(lit.value)})"
        if lit.kind == "bool":
            text = "true" if lit.value else "false"
            return f"({alias}.type = 'bool' AND {alias}.value {op} {self.bind(text)})"
        return f"({alias}.value {op} {self.bind(lit.value)})"

    def compare_tag(self, ref: ColumnRef, op: str, lit: Literal) -> str:
        value = self.joins.value(ref)
        if lit.kind == "num":
            return f"(TRY_CAST({value} AS DOUBLE) {op} {self.bind(lit.value)})"
        if lit.kind == "bool":
            return f"(lower({value}) {op} {self.bind('true' if lit.value else 'false')})"
        return f"({value} {op} {self.bind(lit.value)})"

    def compare_time(self, ref: ColumnRef, op: str, lit: Literal) -> str:
        value = self.joins.value(ref)
        if lit.kind == "num":
            if abs(lit.value) >= _EPOCH_MS_FROM:
                raise self.mismatch(
                    ref,
                    lit,
                    "in epoch seconds",
                    f"{lit.value:.0f} looks like MLflow's epoch milliseconds; "
                    "divide it by 1000 or write an ISO date-time",
                )
            return f"(epoch({value}) {op} {self.bind(lit.value)})"
        if lit.kind != "str":
            raise self.mismatch(ref, lit, "a time", "use an ISO date-time string or epoch seconds")
        try:
            moment = datetime.fromisoformat(lit.value)
        except ValueError as err:
            raise self.mismatch(
                ref, lit, "a time", f"{lit.value!r} is not an ISO date-time"
            ) from err
        return f"({value} {op} CAST({self.bind(moment.isoformat())} AS TIMESTAMPTZ))"

    def compare_text(self, ref: ColumnRef, op: str, lit: Literal) -> str:
        if lit.kind != "str":
            raise self.mismatch(ref, lit, "text", f"quote the value, e.g. {ref.label} = 'x'")
        value = self.joins.value(ref)
        states = status_states(lit.value) if ref.key == "status" else None
        if states is None:
            return f"({value} {op} {self.bind(lit.value)})"
        if op not in ("=", "!="):
            meaning = " and ".join(states) or "no nbtrack state"
            raise FilterError(
                f"{lit.value!r} is MLflow's status for {meaning}, which has no order: compare it "
                "with = or != (or IN), or use nbtrack's lower-case names",
                self.text,
                lit.pos,
            )
        matches = f"list_contains(CAST({self.bind(list(states))} AS VARCHAR[]), {value})"
        return f"({matches})" if op == "=" else f"(NOT {matches})"


def _any_input(condition: str) -> str:
    """SQL true when any dataset of the run (``r``) meets ``condition`` (over ``i``)."""
    return f"EXISTS (SELECT 1 FROM inputs i WHERE i.run_id = r.run_id AND {condition})"


def _input(ref: ColumnRef) -> str:
    """The ``inputs`` column of a ``datasets.<key>`` reference (a fixed, checked name)."""
    assert ref.key in DATASET_KEYS
    return f'i."{ref.key}"'


def compile_filter(text: str, joins: Joins) -> tuple[str, list[Any]]:
    """SQL condition over ``runs r`` (plus the joins it adds) and its parameters.

    >>> from nbtrack.query.columns import Joins
    >>> joins = Joins()
    >>> sql, params = compile_filter("params.lr < 0.01 and tags.model = 'rf'", joins)
    >>> params, joins.params
    ([0.01, 'rf'], ['lr', 'model'])
    >>> compile_filter("`metric`.\\"val loss\\" >= 0.9 or attributes.status = 'KILLED'", joins)[1]
    [0.9, ['killed', 'interrupted']]
    """
    parser = _Parser(text, joins)
    return parser.parse(), parser.params


def parse_order_by(
    terms: list[str] | str | None, joins: Joins | None = None
) -> list[tuple[ColumnRef, bool]]:
    """``["metrics.acc DESC", "min(metrics.loss)", "start_time"]`` -> [(ref, descending), ...]
    (columns as ``joins`` knows them; default: runs').

    >>> parse_order_by('metric."val loss" DESC')
    [(ColumnRef(prefix='metrics', key='val loss', agg=None), True)]
    """
    if terms is None:
        return []
    parsed = []
    for term in [terms] if isinstance(terms, str) else terms:
        parser = _Parser(term, joins if joins is not None else Joins())
        ref = parser.column()
        descending = False
        if parser.tok.is_("asc", "desc"):
            descending = parser.take().text.lower() == "desc"
        if parser.tok.kind != "end":
            raise parser.fail("expected ASC, DESC or the end of the order_by term")
        if ref.prefix == "datasets":
            raise FilterError(
                "runs cannot be ordered by their datasets (a run may have several); filter on "
                "them instead", term, 0,
            )  # fmt: skip
        parsed.append((ref, descending))
    return parsed
