"""The search space of a sweep: the values each param may take.

One syntax serves the command line (``nbtrack sweep train.py -p lr=0.001,0.01 -p depth=2:8``)
and strings in ``nbtrack.sweep(fn, space={...})``::

    a,b,c               a choice; each value typed like a literal (0.01 float, 3 int, adam str,
                        true bool, [64,64] list); commas inside brackets or quotes do not split
    v                   a single value: a fixed param
    2:8    2:8:2        the integers 2 to 8 inclusive (every second one)
    uniform(lo,hi)      a float drawn uniformly from [lo, hi]
    loguniform(lo,hi)   a float whose log is uniform (lo > 0): learning rates, penalties
    int_uniform(lo,hi)  an integer drawn from lo..hi inclusive (all of them under --grid)
    choice(a,b,...)     a choice, written as a call

A value that contains ``:`` or looks like a call is text only when quoted (``'10:30'``).
In a Python dict a value may also be a :class:`Dimension` (:func:`uniform`,
:func:`loguniform`, :func:`int_uniform`, :func:`choice`), a list, tuple or range (a choice),
or any other value (fixed):

>>> space = Space.from_cli(["lr=0.001,0.01", "depth=2:8:3", "opt=adam,sgd", "seed=0"])
>>> space
Space(lr=choice(0.001, 0.01), depth=2:8:3, opt=choice('adam', 'sgd'), seed=0)
>>> space.grid_size()
12
>>> for combo in space.grid()[:3]:
...     print(combo)
{'lr': 0.001, 'depth': 2, 'opt': 'adam', 'seed': 0}
{'lr': 0.001, 'depth': 2, 'opt': 'sgd', 'seed': 0}
{'lr': 0.001, 'depth': 5, 'opt': 'adam', 'seed': 0}
>>> space = Space.parse({"lr": loguniform(1e-4, 1e-1), "layers": [[64, 64], [128]]})
>>> space.grid_size() is None  # continuous: sample it (--random, --optuna) instead
True
>>> sorted(space.sample(random.Random(0)))
['layers', 'lr']
>>> Space.from_json(space.to_json()) == space
True
"""

from __future__ import annotations

import copy
import itertools
import math
import numbers
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol

from nbtrack.errors import SweepError
from nbtrack.values import parse_literal

__all__ = [
    "Choice",
    "Dimension",
    "IntRange",
    "IntUniform",
    "LogUniform",
    "Space",
    "Uniform",
    "choice",
    "int_uniform",
    "loguniform",
    "uniform",
]

SYNTAX = (
    "a,b,c (a choice) | v (fixed) | 2:8 or 2:8:2 (integers, inclusive) | uniform(lo,hi) | "
    "loguniform(lo,hi) | int_uniform(lo,hi) | choice(a,b,...)"
)
# Bumped when the layout of Space.to_json() changes, so an old sweep is not misread.
JSON_FORMAT = 1

_CALL = re.compile(r"([A-Za-z_]\w*)\s*\((.*)\)", re.DOTALL)
_INT = re.compile(r"[+-]?\d+")
_CLOSE = {"(": ")", "[": "]", "{": "}"}


class _Trial(Protocol):
    """The part of an ``optuna.trial.Trial`` a space asks for values."""

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any: ...

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1) -> int: ...

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float: ...


def _error(name: str, problem: str, fix: str, syntax: bool = True) -> SweepError:
    where = f"sweep param {name!r}" if name else "sweep space"
    accepted = f"\n  accepted: {SYNTAX}" if syntax else ""
    return SweepError(f"{where}: {problem}; {fix}{accepted}")


def _fresh(value: Any) -> Any:
    """A copy of a mutable value, so a trial that changes its list leaves the space alone."""
    return copy.deepcopy(value) if isinstance(value, (list, dict, set)) else value


def _int(name: str, what: str, value: Any) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise _error(name, f"{what} must be an integer, got {value!r}", "e.g. int_uniform(2, 8) or 2:8")


def _real(name: str, what: str, value: Any) -> float:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number):
            return number
    raise _error(name, f"{what} must be a finite number, got {value!r}", "e.g. uniform(0.1, 0.9)")


@dataclass(frozen=True)
class Dimension:
    """The values one param of a sweep takes; ``name`` is its key in the :class:`Space`."""

    name: str = field(default="", kw_only=True)
    kind: ClassVar[str] = ""

    @property
    def size(self) -> int | None:
        """How many values :meth:`grid` gives; None for a continuous dimension."""
        return None

    def grid(self) -> list[Any]:
        """Every value, in order; a continuous dimension raises SweepError."""
        raise _error(
            self.name,
            f"{self} is continuous and has no grid",
            "sweep it with --random N or --optuna N (method='random' or 'optuna'), or give "
            "a list of values to --grid",
            syntax=False,
        )

    def sample(self, rng: random.Random) -> Any:
        """One value drawn with ``rng`` (the same seed draws the same values)."""
        raise NotImplementedError

    def suggest(self, trial: _Trial) -> Any:
        """The value an Optuna trial suggests for this param."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict that :meth:`from_json` reads back."""
        return {"type": self.kind, "name": self.name, **self._fields()}

    def _fields(self) -> dict[str, Any]:
        raise NotImplementedError

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Dimension:
        """The dimension :meth:`to_json` described.

        >>> Dimension.from_json({"type": "int_range", "name": "depth", "low": 2, "high": 8})
        IntRange(name='depth', low=2, high=8, step=1)
        """
        kinds = {cls.kind: cls for cls in (Choice, IntRange, Uniform, LogUniform, IntUniform)}
        kind = data.get("type") if isinstance(data, Mapping) else None
        if kind not in kinds:
            raise SweepError(
                f"a saved sweep space has a param of unknown type {kind!r} (known: "
                f"{', '.join(kinds)}); it was not written by this version of nbtrack: "
                "start the sweep afresh"
            )
        fields = {k: v for k, v in data.items() if k != "type"}
        try:
            return kinds[kind](**fields)
        except TypeError as err:
            raise SweepError(
                f"a saved sweep space has a malformed {kind!r} param {data!r} ({err}); "
                "start the sweep afresh"
            ) from err

    def named(self, name: str) -> Dimension:
        """This dimension under another param name."""
        return self if name == self.name else replace(self, name=name)

    def _param(self) -> str:
        if not self.name:
            raise SweepError(
                f"{self} has no param name, which Optuna needs; put it in a Space "
                "(Space.parse({'lr': ...})) and call the space's suggest()"
            )
        return self.name


@dataclass(frozen=True)
class Choice(Dimension):
    """One of ``values``, in order; a single value is a fixed param."""

    values: Sequence[Any]  # kept as a tuple
    kind: ClassVar[str] = "choice"

    def __post_init__(self) -> None:
        values = tuple(self.values)
        object.__setattr__(self, "values", values)
        if not values:
            raise _error(self.name, "no values to choose from", "give at least one value")
        seen: dict[tuple[type, str], Any] = {}
        for value in values:
            key = (type(value), repr(value))
            if key in seen:
                raise _error(
                    self.name,
                    f"the value {value!r} is given twice",
                    "give each value once (to sweep over list values, put each list in the "
                    "list of choices: [[64, 64], [128]])",
                )
            seen[key] = value

    @property
    def size(self) -> int:
        return len(self.values)

    def grid(self) -> list[Any]:
        return [_fresh(value) for value in self.values]

    def sample(self, rng: random.Random) -> Any:
        return _fresh(self.values[rng.randrange(len(self.values))])

    def suggest(self, trial: _Trial) -> Any:
        name = self._param()
        if _categorical(self.values):
            return trial.suggest_categorical(name, list(self.values))
        # Optuna stores None, bool, int, float and str, and confuses 1 with True or 1.0: any
        # other choice goes to it as its repr and comes back as the value itself.
        labels = [repr(value) for value in self.values]
        if len(set(labels)) < len(labels):
            labels = [f"{i}: {label}" for i, label in enumerate(labels)]
        picked = trial.suggest_categorical(name, labels)
        return _fresh(self.values[labels.index(picked)])

    def _fields(self) -> dict[str, Any]:
        return {"values": [_json_value(self.name, value) for value in self.values]}

    def __str__(self) -> str:
        if len(self.values) == 1:
            return repr(self.values[0])
        return f"choice({', '.join(map(repr, self.values))})"


def _categorical(values: Sequence[Any]) -> bool:
    """Whether Optuna's categorical distribution keeps these values apart, as they are."""
    plain = (bool, int, float, str, type(None))
    if not all(type(v) in plain for v in values):
        return False
    if any(isinstance(v, float) and math.isnan(v) for v in values):
        return False
    return len(set(values)) == len(values)  # 1 == 1.0 == True would share one slot


def _json_value(name: str, value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_json_value(name, item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _json_value(name, item) for key, item in value.items()}
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:  # a numpy scalar
        return _json_value(name, item())
    raise _error(
        name,
        f"the value {value!r} cannot be saved with the sweep",
        "use values JSON can hold (None, bool, int, float, str, and lists or dicts of them; "
        "tuples come back as lists), e.g. a model's name rather than the model",
        syntax=False,
    )


@dataclass(frozen=True)
class IntRange(Dimension):
    """The integers ``low``, ``low + step``, ... up to ``high`` inclusive (``2:8``, ``2:8:2``)."""

    low: int
    high: int
    step: int = 1
    kind: ClassVar[str] = "int_range"

    def __post_init__(self) -> None:
        low, high = _int(self.name, "the start", self.low), _int(self.name, "the end", self.high)
        step = _int(self.name, "the step", self.step)
        if step < 1:
            raise _error(self.name, f"the step must be 1 or more, got {step}", "e.g. 2:8:2")
        if low > high:
            raise _error(
                self.name, f"the range {low}:{high} is empty", f"write it upwards: {high}:{low}"
            )
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "step", step)

    @property
    def _range(self) -> range:
        return range(self.low, self.high + 1, self.step)

    @property
    def size(self) -> int:
        return len(self._range)

    def grid(self) -> list[Any]:
        return list(self._range)

    def sample(self, rng: random.Random) -> int:
        return self._range[rng.randrange(len(self._range))]

    def suggest(self, trial: _Trial) -> int:
        # the last value reached, as Optuna wants high - low to be a multiple of the step
        return trial.suggest_int(self._param(), self.low, self._range[-1], step=self.step)

    def _fields(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "step": self.step}

    def __str__(self) -> str:
        step = f":{self.step}" if self.step != 1 else ""
        return f"{self.low}:{self.high}{step}"


@dataclass(frozen=True)
class IntUniform(Dimension):
    """An integer from ``low`` to ``high`` inclusive, drawn uniformly; a grid takes them all."""

    low: int
    high: int
    kind: ClassVar[str] = "int_uniform"

    def __post_init__(self) -> None:
        low, high = _int(self.name, "lo", self.low), _int(self.name, "hi", self.high)
        if low > high:
            raise _error(
                self.name, f"int_uniform({low}, {high}) is empty", "lo must not be above hi"
            )
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    @property
    def size(self) -> int:
        return self.high - self.low + 1

    def grid(self) -> list[Any]:
        return list(range(self.low, self.high + 1))

    def sample(self, rng: random.Random) -> int:
        return rng.randint(self.low, self.high)

    def suggest(self, trial: _Trial) -> int:
        return trial.suggest_int(self._param(), self.low, self.high)

    def _fields(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}

    def __str__(self) -> str:
        return f"int_uniform({self.low}, {self.high})"


@dataclass(frozen=True)
class _Interval(Dimension):
    low: float
    high: float

    def __post_init__(self) -> None:
        low, high = _real(self.name, "lo", self.low), _real(self.name, "hi", self.high)
        if low >= high:
            raise _error(
                self.name,
                f"{self.kind}({low!r}, {high!r}) is empty",
                "lo must be below hi (for a single value, give the value itself)",
            )
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def _fields(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}

    def __str__(self) -> str:
        return f"{self.kind}({self.low!r}, {self.high!r})"


@dataclass(frozen=True)
class Uniform(_Interval):
    """A float drawn uniformly from ``[low, high]``."""

    kind: ClassVar[str] = "uniform"

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)

    def suggest(self, trial: _Trial) -> float:
        return trial.suggest_float(self._param(), self.low, self.high)


@dataclass(frozen=True)
class LogUniform(_Interval):
    """A float in ``[low, high]`` whose logarithm is uniform: each decade is as likely."""

    kind: ClassVar[str] = "loguniform"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.low <= 0:
            raise _error(
                self.name,
                f"loguniform needs lo above 0, got {self.low!r}",
                "e.g. loguniform(1e-5, 1e-1), or uniform(lo, hi) to include 0",
            )

    def sample(self, rng: random.Random) -> float:
        value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return min(max(value, self.low), self.high)  # exp(log(x)) may round past an end

    def suggest(self, trial: _Trial) -> float:
        return trial.suggest_float(self._param(), self.low, self.high, log=True)


def uniform(low: float, high: float) -> Uniform:
    """A float drawn uniformly from ``[low, high]``.

    >>> uniform(0, 1).sample(random.Random(1))
    0.13436424411240122
    """
    return Uniform(low, high)


def loguniform(low: float, high: float) -> LogUniform:
    """A float in ``[low, high]`` (``low > 0``) whose log is uniform, e.g. a learning rate.

    >>> 1e-4 <= loguniform(1e-4, 1e-1).sample(random.Random(1)) <= 1e-1
    True
    """
    return LogUniform(low, high)


def int_uniform(low: int, high: int) -> IntUniform:
    """An integer from ``low`` to ``high`` inclusive.

    >>> int_uniform(1, 3).grid()
    [1, 2, 3]
    """
    return IntUniform(low, high)


def choice(*values: Any) -> Choice:
    """One of ``values``.

    >>> choice("adam", "sgd").grid()
    ['adam', 'sgd']
    """
    return Choice(values)


class Space:
    """The params of a sweep, each with its :class:`Dimension`, in the order given."""

    def __init__(self, dims: Mapping[str, Dimension] | None = None) -> None:
        self.dims: dict[str, Dimension] = {}
        for name, dim in (dims or {}).items():
            _check_name(name)
            if not isinstance(dim, Dimension):
                raise _error(name, f"{dim!r} is not a Dimension", "use Space.parse() for values")
            self.dims[name] = dim.named(name)

    @classmethod
    def parse(cls, space: Mapping[str, Any] | Space) -> Space:
        """A space from a dict of param name → values (strings in the command line syntax).

        >>> Space.parse({"lr": "0.1,0.01", "depth": range(2, 4), "opt": choice("adam")})
        Space(lr=choice(0.1, 0.01), depth=choice(2, 3), opt='adam')
        """
        if isinstance(space, Space):
            return space
        if not isinstance(space, Mapping):
            raise SweepError(
                f"a sweep space must be a dict of param name to values, got "
                f"{type(space).__name__}; e.g. {{'lr': loguniform(1e-4, 1e-1), 'depth': '2:8'}}"
            )
        return cls({name: _dimension(_check_name(name), value) for name, value in space.items()})

    @classmethod
    def from_cli(cls, items: Sequence[str]) -> Space:
        """A space from ``-p KEY=VALUES`` options.

        >>> Space.from_cli(["depth=2:4", "lr=loguniform(1e-4,0.1)"])
        Space(depth=2:4, lr=loguniform(0.0001, 0.1))
        """
        dims: dict[str, Dimension] = {}
        for item in items:
            key, sep, text = str(item).partition("=")
            key = key.strip()
            if not sep or not key:
                raise SweepError(
                    f"sweep param {item!r} must be KEY=VALUES, e.g. -p lr=0.001,0.01 or "
                    f"-p depth=2:8\n  accepted VALUES: {SYNTAX}"
                )
            if key in dims:
                raise _error(
                    key, "given twice", f"give all its values in one option: -p {key}=a,b,c"
                )
            dims[key] = _parse_text(key, text)
        return cls(dims)

    def grid(self) -> list[dict[str, Any]]:
        """Every combination, the last param varying fastest; SweepError if one is continuous."""
        continuous = [dim for dim in self.dims.values() if dim.size is None]
        if len(continuous) > 1:
            listed = ", ".join(repr(dim.name) for dim in continuous)
            raise SweepError(
                f"sweep params {listed} are continuous and have no grid; sweep them with "
                "--random N or --optuna N (method='random' or 'optuna'), or give lists of "
                "values to --grid"
            )
        names = list(self.dims)
        grids = [dim.grid() for dim in self.dims.values()]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grids)]

    def grid_size(self) -> int | None:
        """How many combinations :meth:`grid` gives; None when a param is continuous."""
        sizes = [dim.size for dim in self.dims.values()]
        return None if None in sizes else math.prod(size or 0 for size in sizes)

    def sample(self, rng: random.Random) -> dict[str, Any]:
        """One combination drawn with ``rng``; the same seed draws the same combinations."""
        return {name: dim.sample(rng) for name, dim in self.dims.items()}

    def suggest(self, trial: _Trial) -> dict[str, Any]:
        """One combination suggested by an Optuna trial (``study.ask()``)."""
        return {name: dim.suggest(trial) for name, dim in self.dims.items()}

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict that :meth:`from_json` reads back, to save and resume a sweep
        (tuple values come back as lists, as params do from the store)."""
        return {"format": JSON_FORMAT, "params": [dim.to_json() for dim in self.dims.values()]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Space:
        """The space :meth:`to_json` described."""
        if not isinstance(data, Mapping) or data.get("format") != JSON_FORMAT:
            found = data.get("format") if isinstance(data, Mapping) else type(data).__name__
            raise SweepError(
                f"a saved sweep space has format {found!r}, this nbtrack reads format "
                f"{JSON_FORMAT}; start the sweep afresh (or resume it with the nbtrack that "
                "began it)"
            )
        params = data.get("params")
        if not isinstance(params, list):
            raise SweepError("a saved sweep space has no list of params; start the sweep afresh")
        dims = [Dimension.from_json(item) for item in params]
        return cls({dim.name: dim for dim in dims})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Space):
            return NotImplemented
        return list(self.dims.items()) == list(other.dims.items())

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dict

    def __repr__(self) -> str:
        return f"Space({', '.join(f'{name}={dim}' for name, dim in self.dims.items())})"


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise SweepError(f"sweep param names must be non-empty strings, got {name!r}")
    return name


def _dimension(name: str, value: Any) -> Dimension:
    """The dimension a Python value stands for."""
    if isinstance(value, Dimension):
        return value.named(name)
    if isinstance(value, str):
        return _parse_text(name, value)
    if isinstance(value, range):
        return Choice(tuple(value), name=name)
    if isinstance(value, (list, tuple)):
        return Choice(value, name=name)
    if isinstance(value, (set, frozenset)):
        raise _error(name, "a set has no order", "give a list, so the grid keeps your order")
    if getattr(value, "ndim", None) == 1 and callable(getattr(value, "tolist", None)):
        return Choice(value.tolist(), name=name)  # a numpy array, e.g. np.linspace(...)
    return Choice((value,), name=name)


def _parse_text(name: str, text: str) -> Dimension:
    """The dimension one command line value stands for (everything after ``KEY=``)."""
    parts = _split(name, text, ",")
    if len(parts) == 1:
        part = parts[0]
        call = _CALL.fullmatch(part)
        if call:
            return _parse_call(name, call.group(1), call.group(2))
        bounds = _split(name, part, ":")
        if len(bounds) > 1:
            return _parse_range(name, bounds)
    values = []
    for part in parts:
        if _CALL.fullmatch(part) or len(_split(name, part, ":")) > 1:
            raise _error(
                name,
                f"{part!r} cannot be one of several values",
                "a range or a function stands alone (quote text that holds ':' or '(': "
                "'10:30'; in Python, put such text in a list)",
            )
        values.append(parse_literal(part))
    return Choice(values, name=name)


def _split(name: str, text: str, sep: str) -> list[str]:
    """``text`` split at each ``sep`` outside brackets and quotes; empty pieces are errors."""
    parts, closers, quote, start, i = [], [], "", 0, 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in _CLOSE:
            closers.append(_CLOSE[char])
        elif char in ")]}":
            if not closers or closers.pop() != char:
                raise _error(name, f"unbalanced {char!r} in {text!r}", "close every bracket")
        elif char == sep and not closers:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if quote or closers:
        missing = quote or closers[-1]
        raise _error(name, f"{text!r} lacks a closing {missing!r}", "close every bracket and quote")
    parts.append(text[start:])
    parts = [part.strip() for part in parts]
    if "" in parts:
        what = "no value" if len(parts) == 1 else f"an empty value in {text!r}"
        raise _error(name, f"{what}", "give a value (quote an empty text: '')")
    return parts


def _parse_range(name: str, bounds: list[str]) -> IntRange:
    if len(bounds) > 3 or not all(_INT.fullmatch(bound) for bound in bounds):
        shown = ":".join(bounds)
        raise _error(
            name,
            f"{shown!r} is not a range of integers (start:end or start:end:step)",
            "both ends must be integers, e.g. 2:8; for floats use uniform(lo,hi); quote text "
            "that holds ':' ('10:30')",
        )
    return IntRange(*(int(bound) for bound in bounds), name=name)


_CALLS = {"uniform": Uniform, "loguniform": LogUniform, "int_uniform": IntUniform}


def _parse_call(name: str, function: str, inner: str) -> Dimension:
    args = [] if not inner.strip() else [parse_literal(arg) for arg in _split(name, inner, ",")]
    if function == "choice":
        return Choice(args, name=name)
    if function not in _CALLS:
        raise _error(
            name,
            f"unknown function {function}()",
            "use uniform, loguniform, int_uniform or choice (quote text that looks like a "
            "call: 'f(x)')",
        )
    if len(args) != 2:
        raise _error(
            name,
            f"{function}() takes lo and hi, got {len(args)} argument(s)",
            f"e.g. {function}({'2, 8' if function == 'int_uniform' else '0.001, 0.1'})",
        )
    dim: Dimension = _CALLS[function](*args, name=name)
    return dim
