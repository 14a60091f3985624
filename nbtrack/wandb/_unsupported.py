"""What W&B has and nbtrack.wandb does not: each name's nbtrack way, raised on access.

>>> import nbtrack.wandb as wandb
>>> try:
...     wandb.Histogram
... except wandb.Error as err:
...     print(str(err).partition(": ")[2][:55])
log summary statistics as metrics (wandb.log({"w/mean":
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..adapters import missing_names, unsupported
from .errors import MissingAttributeError

_SWEEPS = (
    "nbtrack has no sweep server: loop over the configurations yourself, one "
    "wandb.init(config=...) per configuration, and compare the runs with nbtrack.search or "
    "nbtrack.compare"
)
_API = (
    "runs are read from the local store: nbtrack.search(), nbtrack.get_run(id) and "
    "nbtrack.history(id); bring runs from a W&B server or wandb/ folder in with "
    "nbtrack.import_wandb"
)
_MEDIA = (
    "save it to a file and log the file with wandb.save(path) (stored as an artifact of "
    "the run); images go through wandb.Image and tables through wandb.Table"
)
_USE_ARTIFACT = (
    "artifacts are files of the run that logged them: find them with "
    "nbtrack.get_run(run_id).artifacts, under <store>/artifacts/<run_id>/"
)
_MODELS = (
    "log the model with nbtrack.log_model(model, name) (an MLflow-style model folder) or its "
    "file with wandb.save(path); load it with nbtrack.load_model('runs:/<run_id>/<name>')"
)
_INTEGRATIONS = (
    "framework callbacks of W&B are not part of nbtrack: call wandb.log (or nbtrack.log) "
    "from the framework's own callback or your training loop"
)
_PRINT = "print the message, or use warnings.warn"
_NO_SETUP = "nbtrack.wandb needs no setup, teardown or service process: call wandb.init"

TOP_LEVEL: dict[str, str] = {
    "sweep": _SWEEPS,
    "agent": _SWEEPS,
    "controller": _SWEEPS,
    "Api": _API,
    "apis": _API,
    "public": _API,
    "Histogram": 'log summary statistics as metrics (wandb.log({"w/mean": w.mean(), '
    '"w/p99": np.percentile(w, 99)})), or save the array (np.save) and wandb.save the file',
    "plot": "chart logged metrics with nbtrack.plot(run_ids, 'loss'); log other charts as "
    "images: wandb.log({'chart': wandb.Image(matplotlib_figure)})",
    "plot_table": "chart logged metrics with nbtrack.plot; log the table with wandb.Table",
    "visualize": "chart logged metrics with nbtrack.plot; log the table with wandb.Table",
    **{name: _MEDIA for name in (
        "Audio", "Video", "Html", "Object3D", "Molecule", "Graph", "Plotly", "Bokeh", "Box3D",
        "ImageMask", "BoundingBoxes2D", "Classes", "JoinedTable", "PartitionedTable",
        "Node", "Edge", "data_types")},
    "alert": "nbtrack sends no alerts: print or log the condition (wandb.summary['alert'] = "
    "'...' stores it as a tag)",
    "AlertLevel": "nbtrack sends no alerts",
    "restore": _USE_ARTIFACT,
    "use_artifact": _USE_ARTIFACT,
    "link_artifact": _USE_ARTIFACT,
    "log_model": _MODELS,
    "use_model": _MODELS,
    "link_model": _MODELS,
    "unwatch": "nbtrack.wandb does not watch models (see wandb.watch): there is nothing "
    "to unwatch",
    "tensorboard": "bring TensorBoard logs in with nbtrack.import_tensorboard(logdir)",
    "integration": _INTEGRATIONS,
    "keras": _INTEGRATIONS,
    "sklearn": _INTEGRATIONS,
    "xgboost": _INTEGRATIONS,
    "lightgbm": _INTEGRATIONS,
    "termlog": _PRINT,
    "termwarn": _PRINT,
    "termerror": _PRINT,
    "setup": _NO_SETUP,
    "teardown": _NO_SETUP,
    "require": _NO_SETUP,
    "attach": "a run is written only by the process that started it: log from that process",
    "mark_preempting": "a run ended by SIGTERM (a preempted job) is recorded as killed",
    "sync": "nbtrack writes to its local store as you log: there is nothing to sync; bring "
    "W&B offline runs in with nbtrack.import_wandb('wandb/')",
    "jupyter": "nbtrack shows runs in the notebook with nbtrack.table() and nbtrack.plot()",
    "util": "nbtrack.wandb offers W&B's tracking API only",
    "env": "nbtrack.wandb reads no WANDB_* environment variables: pass the values to "
    "wandb.init",
}  # fmt: skip


COVERS = (
    "W&B's tracking calls (init, log, config, summary, define_metric, finish, Image, Table, "
    "save, Artifact)"
)


def message(qualified: str, hint: str | None) -> str:
    return unsupported(qualified, hint, "nbtrack.wandb", COVERS)


def module_getattr(module: str, hints: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` raising the clear error for each name ``module`` lacks."""
    return missing_names(module, hints, message, MissingAttributeError)
