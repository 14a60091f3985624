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
    column     := params.KEY | metrics.KEY | tags.KEY | ("min" | "max") "(" metrics.KEY ")"
                | run_id | name | experiment | status | start_time | end_time | duration | …
    op         := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    value      := number | string | "true" | "false"

KEY is a name (letters, digits, ``_ - / : .``) or any text in backticks: ``metrics.`val loss```.
Strings take single or double quotes; a quote is doubled to escape it (``'it''s'``). Keywords
are case-insensitive.

Typed comparisons: a param compared with a number compares as a number (a param whose value
is not a number does not match), with a string as its text, with true/false as a boolean.
Metrics are numbers. Tags are text; compared with a number, a tag whose text is a number
compares as that number. ``start_time``/``end_time`` take an ISO date-time string or epoch
seconds. A comparison with a missing value is never true (only ``IS NULL`` matches it), and
``not`` follows SQL's three-valued logic: ``not params.lr > 1`` does not match runs without lr.
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
    NUMBER_ATTRIBUTES,
    TEXT_ATTRIBUTES,
    TIME_ATTRIBUTES,
    ColumnRef,
    Joins,
    check_ref,
)

_TOKENS = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<column>[A-Za-z_]\w*\.(?:`[^`]*`|[\w\-/:.]+))
    |(?P<open_tick>[A-Za-z_]\w*\.`)
    |(?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
    |(?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
    |(?P<op><=|>=|!=|<>|==|=|<|>)
    |(?P<punct>[(),\-])
    |(?P<word>[A-Za-z_]\w*)
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
_COLUMN_HELP = "a column (params.<key>, metrics.<key>, tags.<key>, or an attribute such as name)"


@dataclass(frozen=True)
class Token:
    kind: str  # column, number, string, op, punct, word, keyword, end
    text: str
    pos: int

    def is_(self, *words: str) -> bool:
        return self.kind == "keyword" and self.text.lower() in words


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKENS.match(text, pos)
        if match is None:
            char = text[pos]
            unterminated = {"'": "string", '"': "string", "`": "backtick"}.get(char)
            what = (
                f"unterminated {unterminated}" if unterminated else f"unexpected character {char!r}"
            )
            raise FilterError(what, text, pos)
        kind = match.lastgroup
        if kind == "open_tick":
            raise FilterError("unterminated backtick", text, match.end() - 1)
        if kind != "ws":
            word = match.group()
            if kind == "word" and word.lower() in _KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, word, pos))
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
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.take()
            inner = self.or_()
            self.expect_punct(")", "to close the parenthesis")
            return inner
        return self.condition()

    def column(self) -> ColumnRef:
        token = self.tok
        agg = None
        if token.kind == "word" and token.text.lower() in AGGREGATES:
            self.take()
            agg = token.text.lower()
            self.expect_punct("(", f"after {agg}")
            ref = self.column()
            self.expect_punct(")", f"to close {agg}(")
            return self._check(ref.prefix, ref.key, agg, token)
        if token.kind == "column":
            self.take()
            prefix, key = token.text.split(".", 1)
            if key.startswith("`"):
                key = key[1:-1]
            if not key:
                raise FilterError("empty key in backticks", self.text, token.pos)
            return self._check(prefix, key, None, token)
        if token.kind == "word":
            self.take()
            return self._check(None, token.text, None, token)
        raise self.fail(f"expected {_COLUMN_HELP}")

    def _check(self, prefix: str | None, key: str, agg: str | None, token: Token) -> ColumnRef:
        try:
            return check_ref(prefix, key, agg)
        except ValueError as err:
            raise FilterError(str(err), self.text, token.pos) from err

    def literal(self) -> Literal:
        token = self.take()
        if token.kind == "punct" and token.text == "-" and self.tok.kind == "number":
            return Literal("num", -float(self.take().text), token.pos)
        if token.kind == "number":
            return Literal("num", float(token.text), token.pos)
        if token.kind == "string":
            quote = token.text[0]
            return Literal("str", token.text[1:-1].replace(quote * 2, quote), token.pos)
        if token.is_("true", "false"):
            return Literal("bool", token.text.lower() == "true", token.pos)
        raise self.fail("expected a value (a number, a 'string', true or false)", token)

    def condition(self) -> str:
        ref = self.column()
        token = self.tok
        if token.kind == "op":
            self.take()
            return self.compare(ref, _OPS[token.text], self.literal())
        negate = False
        if token.is_("not"):
            self.take()
            negate = True
            token = self.tok
        if token.is_("like", "ilike"):
            self.take()
            pattern = self.literal()
            if pattern.kind != "str":
                raise FilterError(f"{token.text.upper()} takes a 'string' pattern", self.text,
                                  pattern.pos)  # fmt: skip
            sql = self.like(ref, token.text.upper(), pattern)
            return f"(NOT {sql})" if negate else sql
        if token.is_("in"):
            self.take()
            self.expect_punct("(", "after IN")
            values = [self.literal()]
            while self.tok.kind == "punct" and self.tok.text == ",":
                self.take()
                values.append(self.literal())
            self.expect_punct(")", "to close the IN list")
            sql = "(" + " OR ".join(self.compare(ref, "=", v) for v in values) + ")"
            return f"(NOT {sql})" if negate else sql
        if negate:
            raise self.fail("expected LIKE, ILIKE or IN after NOT")
        if token.is_("is"):
            self.take()
            is_not = self.tok.is_("not")
            if is_not:
                self.take()
            if not self.tok.is_("null"):
                raise self.fail("expected NULL after IS")
            self.take()
            return f"({self.joins.value(ref)} IS {'NOT ' if is_not else ''}NULL)"
        raise self.fail(
            f"expected a comparison (=, !=, <, <=, >, >=, LIKE, ILIKE, IN or IS) after {ref.label}"
        )

    # ---- typed SQL ------------------------------------------------------------------------
    def bind(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    def compare(self, ref: ColumnRef, op: str, lit: Literal) -> str:
        value = self.joins.value(ref)

        def wrong(kind: str, advice: str) -> FilterError:
            return FilterError(f"{ref.label} is {kind}: {advice}", self.text, lit.pos)

        if lit.kind == "bool" and op not in ("=", "!="):
            raise wrong("compared with a boolean", "use = or !=")
        if ref.prefix == "params":
            alias = self.joins.alias(ref)
            if lit.kind == "num":
                return f"({alias}.num {op} {self.bind(lit.value)})"
            if lit.kind == "bool":
                text = "true" if lit.value else "false"
                return f"({alias}.type = 'bool' AND {alias}.value {op} {self.bind(text)})"
            return f"({value} {op} {self.bind(lit.value)})"
        if ref.prefix == "metrics" or ref.key in NUMBER_ATTRIBUTES:
            if lit.kind != "num":
                raise wrong("a number", f"compare it with a number, e.g. {ref.label} > 0.5")
            return f"({value} {op} {self.bind(lit.value)})"
        if ref.prefix == "tags":
            if lit.kind == "num":
                return f"(TRY_CAST({value} AS DOUBLE) {op} {self.bind(lit.value)})"
            if lit.kind == "bool":
                return f"(lower({value}) {op} {self.bind('true' if lit.value else 'false')})"
            return f"({value} {op} {self.bind(lit.value)})"
        if ref.key in TIME_ATTRIBUTES:
            if lit.kind == "num":
                return f"(epoch({value}) {op} {self.bind(lit.value)})"
            if lit.kind != "str":
                raise wrong("a time", "use an ISO date-time string or epoch seconds")
            try:
                moment = datetime.fromisoformat(lit.value)
            except ValueError as err:
                raise wrong("a time", f"{lit.value!r} is not an ISO date-time") from err
            return f"({value} {op} CAST({self.bind(moment.isoformat())} AS TIMESTAMPTZ))"
        assert ref.key in TEXT_ATTRIBUTES
        if lit.kind != "str":
            raise wrong("text", f"quote the value, e.g. {ref.label} = 'x'")
        return f"({value} {op} {self.bind(lit.value)})"

    def like(self, ref: ColumnRef, op: str, pattern: Literal) -> str:
        if ref.prefix == "metrics" or ref.key in NUMBER_ATTRIBUTES + TIME_ATTRIBUTES:
            raise FilterError(f"{ref.label} is not text: {op} needs a text column", self.text,
                              pattern.pos)  # fmt: skip
        return f"({self.joins.value(ref)} {op} {self.bind(pattern.value)})"


def compile_filter(text: str, joins: Joins) -> tuple[str, list[Any]]:
    """SQL condition over ``runs r`` (plus the joins it adds) and its parameters.

    >>> from nbtrack.query.columns import Joins
    >>> joins = Joins()
    >>> sql, params = compile_filter("params.lr < 0.01 and tags.model = 'rf'", joins)
    >>> params, joins.params
    ([0.01, 'rf'], ['lr', 'model'])
    """
    parser = _Parser(text, joins)
    return parser.parse(), parser.params


def parse_order_by(terms: list[str] | str | None) -> list[tuple[ColumnRef, bool]]:
    """``["metrics.acc DESC", "min(metrics.loss)", "start_time"]`` -> [(ref, descending), ...]."""
    if terms is None:
        return []
    parsed = []
    for term in [terms] if isinstance(terms, str) else terms:
        parser = _Parser(term, Joins())
        ref = parser.column()
        descending = False
        if parser.tok.is_("asc", "desc"):
            descending = parser.take().text.lower() == "desc"
        if parser.tok.kind != "end":
            raise parser.fail("expected ASC, DESC or the end of the order_by term")
        parsed.append((ref, descending))
    return parsed
