"""LightGBM autolog: ``lightgbm.train``, which the scikit-learn API (``LGBMClassifier.fit``, …)
calls too.

A training logs, to the active run (or to a run it starts and ends):

- params: the params dict (nested dicts as ``key__sub``) and ``num_boost_round`` (a
  ``num_iterations`` alias in the params is logged as given, beside it);
- every metric of ``valid_sets`` at every iteration, as it is computed, as
  ``<valid name>-<metric>`` (``valid_0-binary_logloss``; ``training-…`` for the training set),
  step = the iteration (0-based);
- feature importance (``split`` and ``gain``) as ``feature_importance_<type>.json``;
- with early stopping: the metrics ``best_iteration`` (LightGBM's: the best model's number of
  iterations, 1-based) and ``stopped_iteration`` (the last iteration run, 0-based), and every
  evaluation metric of the best iteration once more, one step after the last (so a metric's
  last value is the best model's, as MLflow logs them);
- the Booster as ``model`` (``runs:/<run id>/model``, the lightgbm flavor) unless
  ``autolog(log_models=False)``.

A training nested in another autologged call (an ``LGBMClassifier`` in a scikit-learn
``Pipeline`` or ``GridSearchCV``) belongs to that call's run and is not logged on its own.

>>> import nbtrack, tempfile, lightgbm
>>> from nbtrack.autologging import autolog
>>> from sklearn.datasets import load_diabetes
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> autolog(log_models=False)
>>> X, y = load_diabetes(return_X_y=True)
>>> data = lightgbm.Dataset(X, y)
>>> params = {"num_leaves": 4, "verbose": -1}
>>> booster = lightgbm.train(params, data, 3, valid_sets=[data], valid_names=["train"])
>>> autolog(disable=True)
>>> run = nbtrack.get_run(nbtrack.search()["run_id"][0])
>>> run.params["num_leaves"], run.params["num_boost_round"], "train-l2" in run.metrics
(4, 3, True)
>>> nbtrack.history(run.id, "train-l2")["step"].tolist()
[0, 1, 2]
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from . import session as sessions
from .boosting import patch_train
from .patching import Patches
from .session import Session, StepLogger, flat_params, free_name, log_text

MODULE = "lightgbm"
"""The top-level module this integration patches (once it is imported)."""

# train's arguments that are hyperparameters (the others are data, functions or outputs); the
# params dict is logged beside them.
LOGGED = ("num_boost_round",)
IMPORTANCE_TYPES = ("split", "gain")

# LightGBM runs its callbacks by their ``order``: log_evaluation is 10, record_evaluation 20,
# early_stopping 30. Ours runs before early stopping, which ends the training by raising, so
# the last iteration is logged too.
CALLBACK_ORDER = 25


def enable(module: ModuleType, patches: Patches) -> None:
    """Patch ``train`` wherever LightGBM holds it (see ``boosting.py``)."""
    patch_train(module, patches, _Callback, _before, _after)


def _before(session: Session, arguments: Mapping[str, Any]) -> None:
    assert session.run is not None
    params = {key: arguments[key] for key in LOGGED if key in arguments}
    params.update(flat_params(arguments.get("params") or {}))
    session.run.log_params(params)


class _Callback:
    """Logs each iteration's evaluation metrics (a LightGBM callback is any callable)."""

    before_iteration = False

    def __init__(self, steps: StepLogger) -> None:
        self.steps = steps
        self.order = CALLBACK_ORDER  # on the instance: LightGBM sets a missing one there

    def __call__(self, env: Any) -> None:
        try:
            values = {f"{r[0]}-{r[1]}": r[2] for r in env.evaluation_result_list or ()}
        except Exception as err:
            self.steps.fail("reading the evaluation metrics", err)
        else:
            self.steps.log(values, step=env.iteration)


def _after(session: Session, steps: StepLogger, arguments: Mapping[str, Any], booster: Any) -> None:
    run = session.run
    assert run is not None
    best = getattr(booster, "best_iteration", 0) or 0
    if best > 0:  # only early stopping sets it
        with session.attempt("logging the early stopping"):
            stopped = steps.last_step if steps.last_step is not None else best - 1
            run.log_metrics({"best_iteration": best, "stopped_iteration": stopped})
            if best - 1 in steps.history:
                steps.log(steps.history[best - 1], step=stopped + 1)
    for kind in IMPORTANCE_TYPES:
        with session.attempt(f"logging the {kind} feature importance"):
            values = booster.feature_importance(importance_type=kind).tolist()
            scores = dict(zip(booster.feature_name(), values, strict=True))
            log_text(run, f"feature_importance_{kind}", ".json", json.dumps(scores, indent=2))
    if sessions.settings.log_models:
        with session.attempt("logging the model"):
            from ..mlmodel import log_model

            log_model(booster, free_name(run, "model"), run=run, flavor="lightgbm")
