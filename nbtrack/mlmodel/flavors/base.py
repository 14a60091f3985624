"""What every flavor module provides: saving a model's files, loading them, predicting."""

from __future__ import annotations

import inspect
import platform
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ...errors import NbtrackWarning
from ...extras import optional

ENV = {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}


class Predictor(Protocol):
    """The generic face of a loaded model: ``predict(data, params)``."""

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any: ...


@dataclass
class Saved:
    """What a flavor wrote: its MLmodel entry, the python_function entry, the packages."""

    conf: dict[str, Any] | None
    pyfunc: dict[str, Any] | None
    packages: list[str | tuple[str, ...]] = field(default_factory=list)


def pyfunc_conf(loader_module: str, **entries: Any) -> dict[str, Any]:
    """A python_function entry as MLflow writes it (``loader_module`` is MLflow's module)."""
    return {"env": dict(ENV), "loader_module": loader_module,
            "python_version": platform.python_version(), **entries}  # fmt: skip


def module_of(model: Any) -> tuple[str, ...]:
    """The modules of ``model``'s class and its bases (nothing is imported to find them)."""
    return tuple(c.__module__ for c in type(model).__mro__)


def from_library(model: Any, library: str) -> bool:
    """Whether ``model``'s class (or a base) comes from ``library``."""
    prefix = library + "."
    return any(m == library or m.startswith(prefix) for m in module_of(model))


class Flavor:
    """Base of the flavors: subclasses set the names and implement save/load/predictor."""

    name: str = ""
    loader_module: str = ""  # MLflow's module for this flavor's python_function loader
    extra: str = ""
    library: str = ""  # the module the flavor needs

    def lib(self, module: str | None = None) -> Any:
        """The flavor's library, imported now (or one line naming the extra to install)."""
        return optional(module or self.library, f"the {self.name} model flavor", self.extra)

    def matches(self, model: Any) -> bool:
        raise NotImplementedError

    def save(self, model: Any, folder: Path, **options: Any) -> Saved:
        raise NotImplementedError

    def load(self, folder: Path, flavors: dict[str, dict[str, Any]]) -> Any:
        """The native object saved in ``folder``."""
        raise NotImplementedError

    def predictor(
        self, folder: Path, flavors: dict[str, dict[str, Any]], model: Any = None
    ) -> Predictor:
        """A predictor over ``model`` (already in memory) or the one saved in ``folder``."""
        raise NotImplementedError

    def raw(self, predictor: Predictor) -> Any:
        """The native object behind a predictor of this flavor."""
        return getattr(predictor, "model", predictor)


class MethodPredictor:
    """Predicts with one method of the native model (``predict`` unless the MLmodel says).

    ``params`` go to the method as keyword arguments when it takes them by name; a method that
    does not (scikit-learn's ``predict(X)``) gets none, with a warning naming the ones left
    out, as MLflow's own wrapper leaves them out.
    """

    def __init__(self, model: Any, method: str = "predict") -> None:
        self.model = model
        self._predict = getattr(model, method)
        try:
            kinds = [p.kind for p in inspect.signature(self._predict).parameters.values()]
        except (TypeError, ValueError):  # a builtin without a signature
            kinds = []
        self._takes_params = len(kinds) > 1 or inspect.Parameter.VAR_KEYWORD in kinds

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if params and not self._takes_params:
            warnings.warn(
                f"{type(self.model).__name__}.{self._predict.__name__} takes no parameters; "
                f"ignoring {sorted(params)}", NbtrackWarning, stacklevel=2,
            )  # fmt: skip
            params = None
        return self._predict(data, **(params or {}))
