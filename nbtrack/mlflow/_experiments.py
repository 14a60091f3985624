"""Experiments: nbtrack names them and has no ids, so an experiment's id *is* its name.

An experiment exists once a run was logged to it, or once this process created or set it
(``create_experiment`` / ``set_experiment``): nbtrack keeps no separate list of experiments.
MLflow's default experiment id ``"0"`` is nbtrack's default experiment, ``"default"``.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from .. import config
from ..config import set_experiment as _set_nbtrack_experiment
from ._sql import sql_rows
from ._uris import artifacts_root
from .entities import Experiment, ViewType, to_ms
from .exceptions import (
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
    NotSupportedError,
)

DEFAULT_ID = "0"
DEFAULT_NAME = "default"

# Experiments this process created or set, with when (epoch ms): they exist before any run.
_known: dict[str, int] = {}
_lock = threading.Lock()


def name_of(experiment_id: Any) -> str:
    """The experiment name an MLflow experiment id stands for (the id is the name; ``"0"`` is
    ``"default"``)."""
    text = str(experiment_id)
    return DEFAULT_NAME if text == DEFAULT_ID else text


def current_name() -> str:
    """The experiment runs go to when none is given (``set_experiment``'s)."""
    return config.settings.experiment


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise MlflowException.invalid_parameter_value(
            f"an experiment name must be a non-empty string, got {name!r}"
        )
    return name


def _no_extras(artifact_location: Any, tags: Any) -> None:
    if artifact_location is not None:
        raise NotSupportedError(
            "nbtrack keeps every run's artifacts in the store (<store>/artifacts/<run_id>): "
            "leave artifact_location out"
        )
    if tags:
        raise NotSupportedError(
            "nbtrack experiments are names and carry no tags: tag the runs instead "
            "(mlflow.start_run(tags={...}) or mlflow.set_tags), and filter runs on them"
        )


def _all() -> dict[str, Experiment]:
    """Every experiment: those with runs (times from their runs) and those known here."""
    rows = sql_rows(
        "SELECT experiment, min(start_time), max(coalesce(end_time, start_time)), "
        "bool_and(deleted) FROM runs GROUP BY experiment"
    )
    location = str(artifacts_root())
    found = {
        name: Experiment(
            name,
            name,
            location,
            "deleted" if deleted else "active",
            {},
            to_ms(first),
            to_ms(last),
        )
        for name, first, last, deleted in rows
    }
    with _lock:
        for name, created in _known.items():
            if name not in found:
                found[name] = Experiment(name, name, location, "active", {}, created, created)
    return found


def get(experiment_id: Any) -> Experiment:
    """The experiment of that id (its name), or MlflowException RESOURCE_DOES_NOT_EXIST."""
    name = name_of(experiment_id)
    found = _all().get(name)
    if found is None:
        raise MlflowException(
            f"no experiment with id {experiment_id!r}: in nbtrack an experiment's id is its "
            f"name; experiments: {', '.join(sorted(_all())) or 'none yet'}",
            RESOURCE_DOES_NOT_EXIST,
        )
    return found


def get_by_name(name: str) -> Experiment | None:
    return _all().get(name)


def create(name: str, artifact_location: str | None = None, tags: Any = None) -> str:
    """Create an experiment; returns its id (its name)."""
    _check_name(name)
    _no_extras(artifact_location, tags)
    if name in _all():
        raise MlflowException(f"Experiment '{name}' already exists.", RESOURCE_ALREADY_EXISTS)
    with _lock:
        _known[name] = int(time.time() * 1000)
    return name


def set_current(name: str | None = None, experiment_id: Any = None) -> Experiment:
    """Make an experiment the one runs go to (created if new); returns it."""
    if (name is None) == (experiment_id is None):
        raise MlflowException.invalid_parameter_value(
            "give exactly one of experiment_name and experiment_id"
        )
    if name is None:
        name = get(experiment_id).name  # an unknown id is an error, as in MLflow
    _check_name(name)
    _set_nbtrack_experiment(name)
    with _lock:
        _known.setdefault(name, int(time.time() * 1000))
    return _all()[name]


_NAME_TERM = re.compile(
    r"""^\s*(?:(?:attributes?|attr)\.)?`?name`?\s*(=|!=|<>|(?:not\s+)?i?like)\s*
        ('(?:[^']|'')*'|"(?:[^"]|"")*")\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


def _matcher(filter_string: str | None) -> Any:
    """A predicate on names for MLflow's experiment filters on ``name`` joined by ``and``."""
    if not filter_string or not filter_string.strip():
        return lambda name: True
    tests = []
    for term in re.split(r"\s+and\s+", filter_string.strip(), flags=re.IGNORECASE):
        found = _NAME_TERM.match(term)
        if found is None:
            raise NotSupportedError(
                f"experiment filter {term!r} is not supported: nbtrack experiments are names; "
                "filter on them with name = 'x', name != 'x', name LIKE 'x%' or name ILIKE "
                "'x%' (joined with and)"
            )
        op = found.group(1).lower().split()
        quote = found.group(2)[0]
        value = found.group(2)[1:-1].replace(quote * 2, quote)
        tests.append((op, value))

    def like(pattern: str, name: str, fold: bool) -> bool:
        regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
        return re.fullmatch(regex, name, re.IGNORECASE if fold else 0) is not None

    def test(name: str) -> bool:
        for op, value in tests:
            if (op[0] == "=" and name != value) or (op[0] in ("!=", "<>") and name == value):
                return False
            if op[-1] in ("like", "ilike"):
                hit = like(value, name, op[-1] == "ilike")
                if hit == (op[0] == "not"):
                    return False
        return True

    return test


_ORDER_KEYS = {"name", "experiment_id", "creation_time", "last_update_time"}


def search(
    view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[Experiment]:
    """Experiments matching a filter on their name, newest activity first."""
    keep = _matcher(filter_string)
    found = [e for e in _all().values() if keep(e.name)]
    if view_type == ViewType.ACTIVE_ONLY:
        found = [e for e in found if e.lifecycle_stage == "active"]
    elif view_type == ViewType.DELETED_ONLY:
        found = [e for e in found if e.lifecycle_stage == "deleted"]
    found.sort(key=lambda e: e.name)
    terms = list(order_by or ["last_update_time DESC"])
    for term in reversed(terms):
        words = term.split()
        key = words[0].split(".")[-1].strip("`") if words else ""
        if key not in _ORDER_KEYS or len(words) > 2:
            raise NotSupportedError(
                f"experiments order by {', '.join(sorted(_ORDER_KEYS))} [ASC|DESC], not {term!r}"
            )
        descending = len(words) == 2 and words[1].upper() == "DESC"
        key = "name" if key == "experiment_id" else key
        found.sort(key=lambda e: (getattr(e, key) is None, getattr(e, key) or 0),
                   reverse=descending)  # fmt: skip
    return found[:max_results] if max_results is not None else found
