"""Generic Python models: a :class:`PythonModel` subclass with ``predict(context, model_input,
params=None)`` and optional ``load_context(context)``, cloudpickled with the files it needs
(``artifacts={"name": path}``, copied into the folder), exactly as MLflow's pyfunc saves one.

>>> import tempfile
>>> from pathlib import Path
>>> from nbtrack.mlmodel import save_model, load_model
>>> class Doubler(PythonModel):
...     def predict(self, context, model_input, params=None):
...         return [2 * x for x in model_input]
>>> folder = Path(tempfile.mkdtemp()) / "doubler"
>>> _ = save_model(Doubler(), folder)
>>> load_model(folder, generic=True).predict([1, 2])
[2, 4]
"""

from __future__ import annotations

import inspect
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import Flavor, Predictor, Saved, pyfunc_conf

MODEL_FILE = "python_model.pkl"
ARTIFACTS_DIR = "artifacts"


@dataclass
class PythonModelContext:
    """What ``load_context`` and ``predict`` get: ``artifacts`` (name -> local path of the
    copy inside the model folder) and ``model_config``."""

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _TypeHints:
    input: Any = None
    output: Any = None


class PythonModel:
    """Base class of generic Python models (like ``mlflow.pyfunc.PythonModel``).

    Override ``predict(self, context, model_input, params=None)``; override
    ``load_context(self, context)`` to load what ``context.artifacts`` points to.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Load artifacts (``context.artifacts[name]`` is a path); called once on load."""

    def predict(self, context: PythonModelContext, model_input: Any, params: Any = None) -> Any:
        raise NotImplementedError("a PythonModel must define predict(context, model_input)")

    @property
    def predict_type_hints(self) -> _TypeHints:
        # MLflow's pyfunc wrapper reads this to convert input; no hints: input passes as is.
        return _TypeHints()


def _is_python_model(model: Any) -> bool:
    return any(
        c.__name__ == "PythonModel" and c.__module__.split(".")[0] in ("nbtrack", "mlflow")
        for c in type(model).__mro__
    )


class PythonFunctionFlavor(Flavor):
    name = "python_function"
    loader_module = "mlflow.pyfunc.model"
    extra = ""
    library = "cloudpickle"

    def matches(self, model: Any) -> bool:
        return _is_python_model(model)

    def save(self, model: Any, folder: Path, **options: Any) -> Saved:
        import cloudpickle

        if not callable(getattr(model, "predict", None)):
            raise TypeError(
                f"a {type(model).__name__} has no predict method; subclass "
                "nbtrack.pyfunc.PythonModel and define predict(context, model_input)"
            )
        saved_artifacts = {}
        for key, source in (options.get("artifacts") or {}).items():
            source_path = Path(source)
            if not source_path.exists():
                raise FileNotFoundError(f"artifact {key!r}: no such file or folder {source}")
            target = folder / ARTIFACTS_DIR / source_path.name
            target.parent.mkdir(exist_ok=True)
            if source_path.is_dir():
                shutil.copytree(source_path, target)
            else:
                shutil.copy2(source_path, target)
            saved_artifacts[key] = {"path": target.relative_to(folder).as_posix(),
                                    "uri": str(source)}  # fmt: skip
        with open(folder / MODEL_FILE, "wb") as f:
            cloudpickle.dump(model, f)
        conf = pyfunc_conf(
            self.loader_module, artifacts=saved_artifacts or None,
            cloudpickle_version=cloudpickle.__version__, code=None, python_model=MODEL_FILE,
            streamable=False,
        )  # fmt: skip
        if not saved_artifacts:
            del conf["artifacts"]
        return Saved(None, conf, ["cloudpickle"])

    def load(self, folder: Path, flavors: dict[str, dict[str, Any]]) -> Any:
        return self.predictor(folder, flavors)

    def predictor(
        self, folder: Path, flavors: dict[str, dict[str, Any]], model: Any = None
    ) -> Predictor:
        import cloudpickle

        conf = flavors.get("python_function") or {}
        if "python_model" not in conf:
            raise ValueError(
                f"the MLmodel in {folder} has no python_model entry; nbtrack loads generic "
                "Python models saved as a pickled PythonModel (not models-from-code)"
            )
        with open(folder / conf["python_model"], "rb") as f:
            python_model = cloudpickle.load(f)
        artifacts = {k: str(folder / v["path"]) for k, v in (conf.get("artifacts") or {}).items()}
        context = PythonModelContext(artifacts, conf.get("model_config") or {})
        if callable(getattr(python_model, "load_context", None)):
            python_model.load_context(context)
        return PythonModelPredictor(python_model, context)

    def raw(self, predictor: Predictor) -> Any:
        return getattr(predictor, "python_model", predictor)


class PythonModelPredictor:
    def __init__(self, python_model: Any, context: PythonModelContext) -> None:
        self.python_model = python_model
        self.context = context
        parameters = inspect.signature(python_model.predict).parameters
        self._with_context = "context" in parameters or (len(parameters) >= 2 and (
            next(iter(parameters)) not in ("model_input", "params")))  # fmt: skip
        self._with_params = "params" in parameters

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        kwargs = {"params": params} if self._with_params else {}
        if self._with_context:
            return self.python_model.predict(self.context, data, **kwargs)
        return self.python_model.predict(data, **kwargs)


FLAVOR = PythonFunctionFlavor()
