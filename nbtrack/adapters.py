"""What the drop-in modules ``nbtrack.mlflow`` and ``nbtrack.wandb`` share: a clear error for
every name of the upstream library that they do not offer, never a silent no-op."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def unsupported(qualified: str, hint: str | None, adapter: str, covers: str) -> str:
    """The message for ``qualified`` (e.g. ``mlflow.autolog``), which ``adapter`` lacks:
    ``hint`` says the nbtrack way when there is one, else what ``adapter`` ``covers``.

    >>> unsupported("wandb.watch", "log gradients with nbtrack.log", "nbtrack.wandb", "")
    'wandb.watch is not supported by nbtrack.wandb: log gradients with nbtrack.log'
    """
    if hint is None:
        return (
            f"{qualified} is not part of {adapter}: it covers {covers}; for anything else use "
            "nbtrack's own API (see nbtrack's README)"
        )
    return f"{qualified} is not supported by {adapter}: {hint}"


def missing_names(
    module: str,
    hints: Mapping[str, str],
    message: Callable[[str, str | None], str],
    error: type[Exception],
) -> Callable[[str], Any]:
    """A ``__getattr__`` for adapter ``module`` (``nbtrack.<library>[.sub]``) raising ``error``
    with ``message(qualified name, its hint)`` for each name it lacks."""
    adapter = ".".join(module.split(".")[:2])
    shown = adapter.removeprefix("nbtrack.") + module.removeprefix(adapter)

    def __getattr__(name: str) -> Any:
        if name.startswith("_"):  # Python's and tools' own probes (__path__, _repr_html_)
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        raise error(message(f"{shown}.{name}", hints.get(name)))

    return __getattr__
