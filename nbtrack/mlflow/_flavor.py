"""What ``mlflow.<flavor>.log_model`` / ``save_model`` / ``load_model`` share: MLflow's
arguments mapped onto nbtrack.mlmodel, and a clear error for the ones nbtrack has no use for.

Each ``mlflow.<flavor>`` module describes its flavor with a :class:`Flavor` (MLflow's name of
the model argument and the order of MLflow's arguments) and gets its functions from it; they
show MLflow's parameters in ``help()`` and ``inspect.signature``.

MLflow 3 renamed ``log_model``'s ``artifact_path`` to ``name``: both are accepted. Outside a
run, ``log_model`` starts one (as MLflow 2 did) and leaves it active.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .. import mlmodel
from .exceptions import MlflowException, NotSupportedError, mlflow_errors
from .fluent import _get_or_start_run

_REQUIRED = inspect.Parameter.empty
_POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD
_VAR_KEYWORD = inspect.Parameter.VAR_KEYWORD
F = TypeVar("F", bound=Callable[..., Any])

# Every argument of MLflow's flavor functions: its annotation and its default in MLflow
# (arguments missing here are the model itself: required, of any type).
_PARAMS: dict[str, tuple[str, Any]] = {
    "artifact_path": ("str | None", None),
    "name": ("str | None", None),
    "path": ("str | os.PathLike[str]", _REQUIRED),
    "python_model": ("Any", None),
    "registered_model_name": ("str | None", None),
    "signature": ("Any", None),
    "input_example": ("Any", None),
    "pip_requirements": ("Any", None),
    "extra_pip_requirements": ("Any", None),
    "metadata": ("dict[str, Any] | None", None),
    "artifacts": ("dict[str, Any] | None", None),
    "await_registration_for": ("int", 300),
    "conda_env": ("Any", None),
    "code_paths": ("Any", None),
    "infer_code_paths": ("bool", False),
    "mlflow_model": ("Any", None),
    "extra_files": ("Any", None),
    "serialization_format": ("str | None", None),
    "skops_trusted_types": ("Any", None),
    "pyfunc_predict_fn": ("str", "predict"),
    "model_format": ("str", "ubj"),
    "onnx_execution_providers": ("Any", None),
    "onnx_session_options": ("Any", None),
    "save_as_external_data": ("bool", True),
    "loader_module": ("str | None", None),
    "data_path": ("str | None", None),
    "model_config": ("Any", None),
    "streamable": ("bool | None", None),
    "resources": ("Any", None),
    "auth_policy": ("Any", None),
    "prompts": ("Any", None),
    "params": ("dict[str, Any] | None", None),
    "tags": ("dict[str, Any] | None", None),
    "model_type": ("str | None", None),
    "step": ("int", 0),
    "model_id": ("str | None", None),
}
# MLflow's default for arguments whose default is not None: accepted when left at it.
_DEFAULTS = {
    key: default for key, (_, default) in _PARAMS.items() if default not in (None, _REQUIRED)
}
# Where the model goes: passed on.
_NAMES = ("name", "artifact_path", "path")
# Arguments passed on to nbtrack.mlmodel as they are, and ones that make no difference.
_MAPPED = (
    "signature", "input_example", "pip_requirements", "extra_pip_requirements", "metadata",
    "artifacts", "registered_model_name",
)  # fmt: skip
_IGNORED = ("await_registration_for",)  # nbtrack registers at once
_HINTS = {
    "conda_env": "nbtrack writes conda.yaml from the requirements: pass pip_requirements= "
    "or extra_pip_requirements= instead",
    "code_paths": "nbtrack does not copy code into the model: make the code importable "
    "where the model loads (install it as a package)",
    "infer_code_paths": "nbtrack does not copy code into the model",
    "extra_files": "log extra files with mlflow.log_artifact beside the model",
    "pyfunc_predict_fn": "the generic predict calls the model's predict(); wrap the model in "
    "a mlflow.pyfunc.PythonModel to call another method",
    "mlflow_model": "nbtrack writes the MLmodel file itself",
    "dst_path": "nbtrack loads the model from the store directly; copy the folder with "
    "mlflow.artifacts.download_artifacts if you need a copy",
    "model_config": "pass settings to the model through its artifacts",
    "tags": "MLflow 3's logged-model tags are not part of nbtrack: tag the run "
    "(mlflow.set_tags) or the registered version (MlflowClient.set_model_version_tag)",
    "params": "MLflow 3's logged-model params are not part of nbtrack: log them on the run "
    "(mlflow.log_params)",
    "model_id": "MLflow 3's logged-model entities are not part of nbtrack",
    "model_type": "MLflow 3's logged-model entities are not part of nbtrack",
    "step": "MLflow 3's logged-model entities are not part of nbtrack",
    "prompts": "the prompt registry is not part of nbtrack",
    "resources": "model resources are not part of nbtrack",
    "auth_policy": "model auth policies are not part of nbtrack",
    "streamable": "streaming predictions are not part of nbtrack",
    "loader_module": "nbtrack's generic models are PythonModel subclasses: pass "
    "python_model=, with artifacts= for its files",
    "data_path": "pass the files as artifacts={'name': path} with a PythonModel",
    "serialization_format": "nbtrack pickles scikit-learn and LightGBM models with "
    "cloudpickle (MLflow's 'cloudpickle' format)",
    "skops_trusted_types": "nbtrack pickles scikit-learn models with cloudpickle",
    "model_format": "nbtrack saves XGBoost models in MLflow's default format, 'ubj'",
    "onnx_execution_providers": "nbtrack runs ONNX models with onnxruntime's default providers",
    "onnx_session_options": "nbtrack runs ONNX models with onnxruntime's default options",
    "save_as_external_data": "nbtrack saves ONNX models as one file",
    "env_pack": "nbtrack registers models in the store; there is nothing to pack",
    "uv_project_path": "pass pip_requirements= instead",
    "uv_groups": "pass pip_requirements= instead",
    "uv_extras": "pass pip_requirements= instead",
}
# Values of an argument that mean what nbtrack does anyway.
_SAME = {
    "serialization_format": ("cloudpickle",),
    "model_format": ("ubj",),
}
# MLflow's arguments of most flavors, around the flavor's own ones.
_LOG_HEAD = (
    "artifact_path conda_env code_paths registered_model_name signature input_example "
    "await_registration_for pip_requirements extra_pip_requirements"
)
_LOG_TAIL = "metadata extra_files name params tags model_type step model_id **kwargs"
_SAVE_HEAD = (
    "path conda_env code_paths mlflow_model signature input_example pip_requirements "
    "extra_pip_requirements"
)
_SAVE_TAIL = "metadata extra_files **kwargs"


def refuse_unsupported(function: str, options: Mapping[str, Any]) -> None:
    """NotSupportedError for the first argument given a value nbtrack cannot honour."""
    for key, value in options.items():
        if value is None or value == _DEFAULTS.get(key) or value in _SAME.get(key, ()):
            continue
        hint = _HINTS.get(key, "nbtrack.mlflow does not take it")
        raise NotSupportedError(f"{function}(..., {key}=...) is not supported: {hint}")


def model_name(name: str | None, artifact_path: str | None) -> str:
    """The model's name in the run (MLflow 3's ``name``, or MLflow 2's ``artifact_path``)."""
    if name is not None and artifact_path is not None and name != artifact_path:
        raise MlflowException.invalid_parameter_value(
            f"give name= or artifact_path= (MLflow 2's name for it), not both: {name!r}, "
            f"{artifact_path!r}"
        )
    return name or artifact_path or "model"


@dataclass(frozen=True)
class Flavor:
    """An ``mlflow.<flavor>`` module's flavor: ``model`` is MLflow's name of the model
    argument, ``what`` the kind of model (for the docstrings), ``check`` what the model must
    pass; ``log_args`` and ``save_args`` are MLflow's arguments in order (``**kwargs`` last
    when MLflow takes more), by default the model, the arguments of all flavors and the
    flavor's ``own`` ones."""

    module: str
    flavor: str
    model: str
    what: str
    own: str = ""
    log_args: str = ""
    save_args: str = ""
    check: Callable[[Any], Any] | None = None

    def log_model(self) -> Callable[..., mlmodel.ModelInfo]:
        """``log_model``: nbtrack.mlmodel.log_model into the active run."""

        def log_model(*args: Any, **kwargs: Any) -> mlmodel.ModelInfo:
            model, given = self._arguments(log_model, args, kwargs)
            run = _get_or_start_run()
            name = model_name(given.pop("name", None), given.pop("artifact_path", None))
            return mlmodel.log_model(model, name, flavor=self.flavor, run=run, **given)

        args = self.log_args or f"{self.model} {_LOG_HEAD} {self.own} {_LOG_TAIL}"
        doc = f"Log {self.what} into the active run (started if there is none)."
        return self._public(log_model, doc, _signature(args))

    def save_model(self) -> Callable[..., mlmodel.ModelInfo]:
        """``save_model``: nbtrack.mlmodel.save_model to a folder."""

        def save_model(*args: Any, **kwargs: Any) -> mlmodel.ModelInfo:
            model, given = self._arguments(save_model, args, kwargs)
            path = Path(given.pop("path"))
            return mlmodel.save_model(model, path, flavor=self.flavor, **given)

        args = self.save_args or f"{self.model} {_SAVE_HEAD} {self.own} {_SAVE_TAIL}"
        return self._public(save_model, f"Save {self.what} to a folder.", _signature(args))

    def load_model(self, doc: str) -> Callable[..., Any]:
        """``load_model``, returning the native model; ``doc``: its docstring."""

        def load_model(model_uri: Any, dst_path: str | None = None) -> Any:
            refuse_unsupported(f"{self.shown}.load_model", {"dst_path": dst_path})
            return mlmodel.load_model(model_uri, flavor=self.flavor)

        return self._public(load_model, doc)

    @property
    def shown(self) -> str:
        """The module's name as MLflow's users know it (``mlflow.sklearn``)."""
        return "mlflow" + self.module.removeprefix("nbtrack.mlflow")

    def _arguments(
        self, function: Callable[..., Any], args: Any, kwargs: Any
    ) -> tuple[Any, dict[str, Any]]:
        """The model, and the arguments nbtrack uses; NotSupportedError for the others."""
        try:
            given = inspect.signature(function).bind(*args, **kwargs).arguments
        except TypeError as err:  # as Python words it for a function of its own
            raise TypeError(f"{function.__name__}() {err}") from None
        more = given.pop("kwargs", {})
        model = given.pop(self.model, None)
        if self.check is not None:
            model = self.check(model)
        used = {key: given.pop(key) for key in (*_NAMES, *_MAPPED) if key in given}
        for key in _IGNORED:
            given.pop(key, None)
        refuse_unsupported(f"{self.shown}.{function.__name__}", {**given, **more})
        return model, used

    def _public(self, function: F, doc: str, signature: inspect.Signature | None = None) -> F:
        """``function`` named as in its module, with ``doc`` and MLflow's ``signature``."""
        function.__module__, function.__qualname__, function.__doc__ = (
            self.module, function.__name__, doc
        )  # fmt: skip
        if signature is not None:
            function.__signature__ = signature  # type: ignore[attr-defined]
        return mlflow_errors(function)


def _signature(args: str) -> inspect.Signature:
    """MLflow's signature for the arguments named in ``args``."""
    parameters = []
    for arg in args.split():
        if arg == "**kwargs":
            parameters.append(inspect.Parameter("kwargs", _VAR_KEYWORD, annotation="Any"))
            continue
        annotation, default = _PARAMS.get(arg, ("Any", _REQUIRED))
        parameters.append(inspect.Parameter(arg, _POSITIONAL, annotation=annotation,
                                            default=default))  # fmt: skip
    return inspect.Signature(parameters, return_annotation="ModelInfo")
