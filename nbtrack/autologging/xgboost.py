"""XGBoost autolog: ``xgboost.train``, which the scikit-learn API (``XGBClassifier.fit``, …)
calls too.

A training logs, to the active run (or to a run it starts and ends):

- params: the booster params (nested dicts as ``key__sub``, repeated keys of a list of pairs as
  a list), ``num_boost_round``, ``early_stopping_rounds`` and ``maximize``;
- every metric of ``evals`` at every iteration, as it is computed, as ``<eval name>-<metric>``
  (``validation_0-logloss`` for the scikit-learn API's ``eval_set``), step = the iteration;
- feature importance (``weight`` and ``gain``) as ``feature_importance_<type>.json``;
- with early stopping: the metrics ``best_iteration`` (XGBoost's, 0-based), ``best_score`` and
  ``stopped_iteration`` (the last iteration run), and every evaluation metric of the best
  iteration once more, one step after the last (so a metric's last value is the best model's,
  as MLflow logs them);
- the Booster as ``model`` (``runs:/<run id>/model``, the xgboost flavor) unless
  ``autolog(log_models=False)``.

A training nested in another autologged call (an ``XGBClassifier`` in a scikit-learn
``Pipeline`` or ``GridSearchCV``) belongs to that call's run and is not logged on its own.

>>> import nbtrack, tempfile, xgboost
>>> from nbtrack.autologging import autolog
>>> from sklearn.datasets import load_diabetes
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> autolog(log_models=False)
>>> X, y = load_diabetes(return_X_y=True)
>>> data = xgboost.DMatrix(X, y)
>>> booster = xgboost.train({"max_depth": 2}, data, 3, evals=[(data, "train")], verbose_eval=False)
>>> autolog(disable=True)
>>> run = nbtrack.get_run(nbtrack.search()["run_id"][0])
>>> run.params["max_depth"], run.params["num_boost_round"], "train-rmse" in run.metrics
(2, 3, True)
>>> nbtrack.history(run.id, "train-rmse")["step"].tolist()
[0, 1, 2]
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

from . import session as sessions
from .boosting import patch_train
from .patching import Patches
from .session import Session, StepLogger, flat_params, free_name, log_text

MODULE = "xgboost"
"""The top-level module this integration patches (once it is imported)."""

# train's arguments that are hyperparameters (the others are data, functions, outputs or
# verbosity); the params dict is logged beside them.
LOGGED = ("num_boost_round", "early_stopping_rounds", "maximize")
IMPORTANCE_TYPES = ("weight", "gain")
LINEAR_IMPORTANCE_TYPES = ("weight",)  # gblinear has no trees, so no gain


def enable(module: ModuleType, patches: Patches) -> None:
    """Patch ``train`` wherever XGBoost holds it (see ``boosting.py``)."""
    patch_train(module, patches, lambda steps: _callback_class()(steps), _before, _after)


def _before(session: Session, arguments: Mapping[str, Any]) -> None:
    assert session.run is not None
    params = {key: arguments[key] for key in LOGGED if key in arguments}
    params.update(flat_params(_as_mapping(arguments.get("params") or {})))
    session.run.log_params(params)


def _as_mapping(params: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> Mapping[str, Any]:
    """XGBoost's params: a dict, or a list of pairs where a key may repeat (``eval_metric``)."""
    if isinstance(params, Mapping):
        return params
    merged: dict[str, Any] = {}
    for key, value in params:
        if key in merged:
            known = merged[key]
            merged[key] = [*known, value] if isinstance(known, list) else [known, value]
        else:
            merged[key] = value
    return merged


@functools.cache
def _callback_class() -> type:
    """A ``TrainingCallback`` subclass (defined once XGBoost is imported) logging each
    iteration's evaluation metrics."""
    from xgboost.callback import TrainingCallback

    class AutologCallback(TrainingCallback):  # type: ignore[misc]
        def __init__(self, steps: StepLogger) -> None:
            super().__init__()
            self.steps = steps

        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            try:
                values = {
                    f"{data}-{metric}": history[-1]
                    for data, metrics in evals_log.items()
                    for metric, history in metrics.items()
                }
            except Exception as err:
                self.steps.fail("reading the evaluation metrics", err)
            else:
                self.steps.log(values, step=epoch)
            return False  # never stops the training

    return AutologCallback


def _after(session: Session, steps: StepLogger, arguments: Mapping[str, Any], booster: Any) -> None:
    run = session.run
    assert run is not None
    if _early_stopping(arguments) and booster.attr("best_iteration") is not None:
        with session.attempt("logging the early stopping"):
            best = booster.best_iteration
            stopped = steps.last_step if steps.last_step is not None else best
            run.log_metrics(
                {"best_iteration": best, "best_score": booster.best_score,
                 "stopped_iteration": stopped}
            )  # fmt: skip
            if best in steps.history:
                steps.log(steps.history[best], step=stopped + 1)
    linear = _is_linear(booster)
    for kind in LINEAR_IMPORTANCE_TYPES if linear else IMPORTANCE_TYPES:
        with session.attempt(f"logging the {kind} feature importance"):
            scores = booster.get_score(importance_type=kind)
            log_text(run, f"feature_importance_{kind}", ".json", json.dumps(scores, indent=2))
    if sessions.settings.log_models:
        with session.attempt("logging the model"):
            from ..mlmodel import log_model

            log_model(booster, free_name(run, "model"), run=run, flavor="xgboost")


def _early_stopping(arguments: Mapping[str, Any]) -> bool:
    from xgboost.callback import EarlyStopping

    callbacks = arguments.get("callbacks") or ()
    return bool(arguments.get("early_stopping_rounds")) or any(
        isinstance(cb, EarlyStopping) for cb in callbacks
    )


def _is_linear(booster: Any) -> bool:
    try:
        config = json.loads(booster.save_config())
        return config["learner"]["gradient_booster"]["name"] == "gblinear"  # type: ignore[no-any-return]
    except Exception:  # an unexpected config: try every importance type
        return False
