"""``run.config`` (the run's params) and ``run.summary`` (final values, kept as tags).

Config values are nbtrack params, typed (nested dicts and lists are kept as JSON); a value set
after ``init`` is logged as a param at once. As in W&B, setting a key again to another value
needs ``config.update(..., allow_val_change=True)``.

Summary: reading a key gives the value set on the summary, else the metric's summary under
``define_metric(summary=...)``, else its last logged value. A value set on the summary is
stored as the tag ``wandb.summary.<key>`` (text; a number compares as a number in filters:
``tags.`wandb.summary.best_acc` > 0.9``); the metric history is left as logged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    from ._run import Run

SUMMARY_TAG = "wandb.summary."


def as_mapping(config: Any) -> dict[str, Any]:
    """A config given to W&B: a dict, an argparse Namespace or another object with
    attributes, or None."""
    if config is None:
        return {}
    if isinstance(config, Mapping):
        return dict(config)
    if hasattr(config, "__dict__"):  # argparse.Namespace, simple objects
        return {k: v for k, v in vars(config).items() if not k.startswith("_")}
    raise TypeError(f"config must be a dict or an argparse.Namespace, not {type(config).__name__}")


class Config:
    """``wandb.config``: attribute and item access to the run's params.

    >>> import nbtrack, nbtrack.wandb as wandb, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> run = wandb.init(project="demo", config={"lr": 0.1})
    >>> wandb.config.batch_size = 32
    >>> wandb.config.update({"lr": 0.05}, allow_val_change=True)
    >>> wandb.config.as_dict(), wandb.config["lr"]
    ({'lr': 0.05, 'batch_size': 32}, 0.05)
    >>> wandb.finish()
    >>> nbtrack.get_run(run.id).params
    {'batch_size': 32, 'lr': 0.05}
    """

    def __init__(self, run: Run | None) -> None:
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_items", {})

    def update(self, d: Any, allow_val_change: bool | None = None) -> None:
        """Set several keys (a dict or argparse Namespace); logged as params."""
        self._set(as_mapping(d), bool(allow_val_change))

    def setdefaults(self, d: Mapping[str, Any]) -> None:
        """Set the keys of ``d`` that are not set yet."""
        self._set({k: v for k, v in d.items() if k not in self._items}, False)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self._items:
            self._set({key: default}, False)
        return self._items[key]

    def _set(self, values: Mapping[str, Any], allow_val_change: bool) -> None:
        values = {str(k): v for k, v in values.items()}
        if not allow_val_change:
            for key, value in values.items():
                if key in self._items and not _same(self._items[key], value):
                    raise ConfigError(
                        f'Attempted to change value of key "{key}" from {self._items[key]!r} '
                        f"to {value!r}. If you really want to do this, pass "
                        "allow_val_change=True to config.update()"
                    )
        changed = {k: v for k, v in values.items() if k not in self._items
                   or not _same(self._items[k], v)}  # fmt: skip
        if not changed:
            return
        if self._run is not None:
            self._run._nbtrack_run.log_params(changed)
        self._items.update(changed)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._items)

    def keys(self) -> Any:
        return self._items.keys()

    def items(self) -> Any:
        return self._items.items()

    def values(self) -> Any:
        return self._items.values()

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._set({key: value}, False)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._items[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self._set({key: value}, False)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(self._items)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # arrays compare elementwise
        return a is b


class Summary:
    """``wandb.summary``: dict-like final values of the run (see the module docstring).

    >>> import nbtrack, nbtrack.wandb as wandb, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> run = wandb.init()
    >>> wandb.log({"acc": 0.8})
    >>> wandb.summary["best_acc"] = 0.9
    >>> dict(wandb.summary)
    {'acc': 0.8, 'best_acc': 0.9}
    >>> wandb.finish()
    >>> nbtrack.get_run(run.id).tags["wandb.summary.best_acc"]
    '0.9'
    """

    def __init__(self, run: Run) -> None:
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_set_values", {})

    def _values(self) -> dict[str, Any]:
        return {**self._run._summary_values(), **self._set_values}

    def update(self, d: Mapping[str, Any]) -> None:
        """Set several summary values (stored as ``wandb.summary.<key>`` tags)."""
        tags = {}
        for key, value in d.items():
            tags[SUMMARY_TAG + str(key)] = _text(str(key), value)
        self._run._nbtrack_run.set_tags(tags)
        self._set_values.update({str(k): v for k, v in d.items()})

    def get(self, key: str, default: Any = None) -> Any:
        return self._values().get(key, default)

    def keys(self) -> Any:
        return self._values().keys()

    def items(self) -> Any:
        return self._values().items()

    def values(self) -> Any:
        return self._values().values()

    def __getitem__(self, key: str) -> Any:
        return self._values()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._values()[key]
        except KeyError:
            raise AttributeError(f"summary has no key {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __contains__(self, key: object) -> bool:
        return key in self._values()

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())

    def __repr__(self) -> str:
        return repr(self._values())


def _text(key: str, value: Any) -> str:
    """A summary value as tag text: numbers and strings as themselves, the rest as JSON."""
    from ._media import Image, Table

    if isinstance(value, (Image, Table)):
        raise TypeError(
            f"summary {key!r}: images and tables are logged with wandb.log, not set on the summary"
        )
    if isinstance(value, str):
        return value
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0:
        value = item()  # numpy and torch scalars
    if isinstance(value, (bool, int, float)) or value is None:
        return str(value)
    try:
        return json.dumps(value)
    except TypeError:
        raise TypeError(
            f"summary {key!r} must be a number, text, or a list or dict of those; got "
            f"{type(value).__name__}"
        ) from None
