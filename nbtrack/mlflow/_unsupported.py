"""What MLflow has and nbtrack.mlflow does not: each name's nbtrack way, raised on access.

A module's ``__getattr__`` built here raises :class:`MissingAttributeError` (an MlflowException,
and an AttributeError so that ``hasattr`` and tools probing modules keep working) with the
message for that name; private and dunder names (Python's and tools' own probes) get a
plain AttributeError.

>>> import nbtrack.mlflow as mlflow
>>> try:
...     mlflow.start_span
... except mlflow.MlflowException as err:
...     print(str(err).partition(": ")[2])
tracing (GenAI traces and spans) is not part of nbtrack
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..adapters import missing_names, unsupported
from .exceptions import MissingAttributeError

_TRACING = "tracing (GenAI traces and spans) is not part of nbtrack"
_PROMPTS = "the prompt registry is not part of nbtrack"
_LOGGED_MODELS = (
    "MLflow 3's logged-model entities are not part of nbtrack: a model is a folder in its run's "
    "artifacts (mlflow.<flavor>.log_model returns its runs:/ URI); register it with "
    "mlflow.register_model"
)
_SYSTEM_METRICS = (
    "nbtrack logs each system-metrics sample as it is taken, from the run's own process: "
    "mlflow.enable_system_metrics_logging() and set_system_metrics_sampling_interval(s) are "
    "what it offers"
)
_WORKSPACES = "nbtrack has no server, so no workspaces or login: runs go to a store folder"
_EXPERIMENT_TAGS = (
    "nbtrack experiments are names and carry no tags: tag the runs (mlflow.set_tags) and "
    "filter runs on those tags"
)
_ONNX_OR_PYFUNC = (
    "export the model to ONNX and log it with mlflow.onnx.log_model, or wrap it in a "
    "mlflow.pyfunc.PythonModel and log it with mlflow.pyfunc.log_model"
)
FLAVORS = (
    "catboost", "diffusers", "h2o", "johnsnowlabs", "keras", "langchain", "llama_index",
    "openai", "paddle", "pmdarima", "prophet", "pyspark", "pytorch", "sentence_transformers",
    "shap", "spacy", "spark", "statsmodels", "tensorflow", "transformers", "anthropic",
    "bedrock", "crewai", "dspy", "gemini", "groq", "litellm", "mistral", "autogen", "ag2",
    "agno", "haystack", "semantic_kernel", "smolagents", "strands", "txtai", "pydantic_ai",
)  # fmt: skip

TOP_LEVEL: dict[str, str] = {
    "log_table": "write the table to a file (df.to_parquet('t.parquet') or to_csv) and log "
    "it with mlflow.log_artifact",
    "load_table": "read the logged file back with mlflow.artifacts.download_artifacts and pandas",
    "evaluate": "model evaluation is not part of nbtrack: compute the metrics (e.g. with "
    "sklearn.metrics) and log them with mlflow.log_metrics",
    "set_experiment_tag": _EXPERIMENT_TAGS,
    "set_experiment_tags": _EXPERIMENT_TAGS,
    "delete_experiment_tag": _EXPERIMENT_TAGS,
    "rename_experiment": "experiment names are part of each run's record and cannot change",
    "run": "MLflow Projects are not part of nbtrack: run the script or notebook itself",
    "projects": (
        "run an MLproject folder with `nbtrack run DIR -e ENTRY_POINT -P key=value "
        "[--env-manager venv]` (a notebook or a script too: nbtrack.run_notebook)"
    ),
    "deployments": "use nbtrack serve MODEL_URI (or nbtrack.serve) to serve a model over HTTP",
    "gateway": "the AI gateway is not part of nbtrack",
    "genai": "GenAI evaluation is not part of nbtrack",
    "Image": "log images with mlflow.log_image(array_or_PIL_image, artifact_file='x.png')",
    "doctor": "nbtrack has no doctor; nbtrack.__version__ and `nbtrack ls` show its state",
    "login": _WORKSPACES,
    "set_workspace": _WORKSPACES,
    "get_workspace": _WORKSPACES,
    "list_workspaces": _WORKSPACES,
    "create_workspace": _WORKSPACES,
    "update_workspace": _WORKSPACES,
    "delete_workspace": _WORKSPACES,
    "set_system_metrics_node_id": _SYSTEM_METRICS,
    "set_system_metrics_samples_before_logging": _SYSTEM_METRICS,
    "system_metrics": _SYSTEM_METRICS,
    "set_telemetry_client": "nbtrack sends no telemetry",
    "telemetry": "nbtrack sends no telemetry",
    "log_outputs": _LOGGED_MODELS,
    "log_model_params": _LOGGED_MODELS,
    "initialize_logged_model": _LOGGED_MODELS,
    "finalize_logged_model": _LOGGED_MODELS,
    "get_logged_model": _LOGGED_MODELS,
    "search_logged_models": _LOGGED_MODELS,
    "last_logged_model": _LOGGED_MODELS,
    "set_active_model": _LOGGED_MODELS,
    "clear_active_model": _LOGGED_MODELS,
    "get_active_model_id": _LOGGED_MODELS,
    "create_external_model": _LOGGED_MODELS,
    "set_logged_model_tags": _LOGGED_MODELS,
    "delete_logged_model_tag": _LOGGED_MODELS,
    "ActiveModel": _LOGGED_MODELS,
    "import_checkpoints": _LOGGED_MODELS,
    **{name: _PROMPTS for name in (
        "register_prompt", "load_prompt", "search_prompts", "set_prompt_alias",
        "delete_prompt_alias", "prompt")},
    **{name: _TRACING for name in (
        "trace", "tracing", "start_span", "start_span_no_context", "get_trace", "search_traces",
        "update_current_trace", "get_current_active_span", "get_active_trace_id",
        "get_last_active_trace_id", "add_trace", "log_trace", "set_trace_tag",
        "delete_trace_tag", "flush_trace_async_logging", "log_assessment", "log_expectation",
        "log_feedback", "get_assessment", "update_assessment", "delete_assessment",
        "override_feedback", "search_sessions", "log_issue", "log_stream", "otel")},
    **{name: f"the {name} flavor is not part of nbtrack: {_ONNX_OR_PYFUNC}" for name in FLAVORS},
}  # fmt: skip


COVERS = "MLflow's tracking, models (sklearn, pyfunc, xgboost, lightgbm, onnx) and registry APIs"


def message(qualified: str, hint: str | None) -> str:
    return unsupported(qualified, hint, "nbtrack.mlflow", COVERS)


def module_getattr(module: str, hints: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` raising the clear error for each name ``module`` lacks."""
    return missing_names(module, hints, message, MissingAttributeError)
