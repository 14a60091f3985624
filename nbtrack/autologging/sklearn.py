"""scikit-learn autolog: ``fit`` and ``score`` of scikit-learn's estimators, patched per class.

Each scikit-learn class that defines ``fit`` (or ``score``) gets a wrapper; classes defined
later (scikit-learn imports its submodules lazily) are patched as they are created, through
``BaseEstimator.__init_subclass__``. Like MLflow, preprocessing, imputation and feature
extraction/selection classes are left alone: they are logged as part of a Pipeline.

A fit logs, to the active run (or to a run it starts and ends): every ``get_params()`` (nested
ones as ``step__param``), training metrics with MLflow's names (``training_accuracy_score``,
``training_f1_score``, ``training_log_loss``, ``training_r2_score``, …), and the fitted model
(``runs:/<run id>/model``). Fits nested in it (a Pipeline's steps, a search's clones) are not
logged on their own. ``GridSearchCV``/``RandomizedSearchCV`` log the best params
(``best_<name>``) and ``best_cv_score``, and one child run per candidate. A later
``model.score(X_test, y_test)`` logs ``<Class>_score_X_test`` to the model's run.

>>> import nbtrack, tempfile, warnings
>>> from nbtrack.autologging import autolog
>>> from sklearn.datasets import load_iris
>>> from sklearn.tree import DecisionTreeClassifier
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> autolog(log_models=False)
>>> X, y = load_iris(return_X_y=True)
>>> tree = DecisionTreeClassifier(max_depth=2).fit(X, y)
>>> autolog(disable=True)
>>> run = nbtrack.get_run(nbtrack.search()["run_id"][0])
>>> run.params["max_depth"], round(run.metrics["training_accuracy_score"], 3)
(2, 0.96)
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import weakref
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from . import session as sessions
from .patching import Patches
from .session import Session, log_late_metric, nested

if TYPE_CHECKING:
    from ..tracking import Run

MODULE = "sklearn"
"""The top-level module this integration patches (once it is imported)."""

EXCLUDED = ("sklearn.preprocessing", "sklearn.impute", "sklearn.feature_extraction",
            "sklearn.feature_selection")  # fmt: skip
TRAINING = "training_"
EXAMPLE_ROWS = 5

# The run each autologged estimator logged to, for the scores computed after its fit.
_runs: weakref.WeakKeyDictionary[Any, Run] = weakref.WeakKeyDictionary()
_signatures: dict[Callable[..., Any], inspect.Signature] = {}


def enable(module: ModuleType, patches: Patches) -> None:
    """Patch every scikit-learn estimator class there is, and those created from now on."""
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

    for mixin in (ClassifierMixin, RegressorMixin):
        _patch_class(mixin, patches, mixin=True)
    seen: set[type] = set()
    todo: list[type] = [BaseEstimator]
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.add(cls)
            _patch_class(cls, patches)
            todo.extend(type.__subclasses__(cls))
    original = vars(BaseEstimator).get("__init_subclass__")

    def __init_subclass__(cls: type, **kwargs: Any) -> None:
        if original is None:
            super(BaseEstimator, cls).__init_subclass__(**kwargs)  # type: ignore[misc]
        else:
            original.__get__(None, cls)(**kwargs)
        _patch_class(cls, patches)

    patches.set(BaseEstimator, "__init_subclass__", classmethod(__init_subclass__))


def _patch_class(cls: type, patches: Patches, mixin: bool = False) -> None:
    module = getattr(cls, "__module__", "") or ""
    if not mixin and (
        not module.startswith("sklearn.") or module.startswith(EXCLUDED) or ".tests" in module
    ):
        return
    own: dict[str, Any] = dict(vars(cls))
    fit = own.get("fit")
    if inspect.isfunction(fit) and not mixin:
        patches.set(cls, "fit", _patched_fit(fit))
    score: Any = own.get("score")
    if inspect.isfunction(score):
        patches.set(cls, "score", _patched_score(score))
    elif hasattr(score, "fn") and hasattr(score, "check"):  # sklearn's available_if descriptor
        wrapped = type(score)(_patched_score(score.fn), score.check, score.attribute_name)
        patches.set(cls, "score", wrapped)


# ---- fit ----------------------------------------------------------------------------------------
def _patched_fit(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if sessions.inside():
            return original(self, *args, **kwargs)
        X, y, weight = _training_data(original, self, args, kwargs)
        session = Session(f"{type(self).__name__}.fit")
        return session.train(
            lambda: original(self, *args, **kwargs),
            lambda s: _before(s, self),
            lambda s, result: _after(s, self, X, y, weight),
        )

    return fit


def _training_data(
    original: Callable[..., Any], est: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, Any, Any]:
    """The ``X``, ``y`` and ``sample_weight`` a ``fit`` call was given (None where absent)."""
    try:
        signature = _signatures.get(original)
        if signature is None:
            signature = _signatures[original] = inspect.signature(original)
        bound = signature.bind_partial(est, *args, **kwargs).arguments
    except (TypeError, ValueError):
        bound = {}
    names = list(bound)[1:3]
    X = bound.get(names[0]) if names else None
    y = bound.get(names[1]) if len(names) > 1 else None
    weight = bound.get("sample_weight", kwargs.get("sample_weight"))
    return X, y, weight


def _is_search(est: Any) -> bool:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    return isinstance(est, (GridSearchCV, RandomizedSearchCV))


def _before(session: Session, est: Any) -> None:
    assert session.run is not None
    session.run.log_params(est.get_params(deep=not _is_search(est)))
    session.run.set_tags(
        {"estimator_name": type(est).__name__,
         "estimator_class": f"{type(est).__module__}.{type(est).__qualname__}"}
    )  # fmt: skip


def _after(session: Session, est: Any, X: Any, y: Any, weight: Any) -> None:
    run = session.run
    assert run is not None
    settings = sessions.settings
    if settings.log_training_metrics and y is not None:
        run.log_metrics(_training_metrics(session, est, X, y, weight))
    if _is_search(est):
        _log_search(session, est, run)
    if settings.log_models:
        with session.attempt("logging the model"):
            _log_model(est, X, run, "model")
        if _is_search(est) and hasattr(est, "best_estimator_"):
            with session.attempt("logging the best estimator"):
                _log_model(est.best_estimator_, X, run, "best_estimator")
    with contextlib.suppress(TypeError):  # not weakly referenceable: scores are not logged
        _runs[est] = run


def _training_metrics(session: Session, est: Any, X: Any, y: Any, weight: Any) -> dict[str, float]:
    """MLflow's training metrics for a classifier or a regressor, on the training data."""
    from sklearn import metrics
    from sklearn.base import is_classifier, is_regressor

    found: dict[str, float] = {}

    def add(name: str, compute: Callable[[], Any]) -> None:
        with session.attempt(f"computing {TRAINING}{name}"):
            found[TRAINING + name] = float(compute())

    if not (is_classifier(est) or is_regressor(est)) or not hasattr(est, "predict"):
        return found
    predicted = est.predict(X)
    if is_classifier(est):
        average = {"average": "weighted", "sample_weight": weight}
        add("precision_score", lambda: metrics.precision_score(y, predicted, **average))
        add("recall_score", lambda: metrics.recall_score(y, predicted, **average))
        add("f1_score", lambda: metrics.f1_score(y, predicted, **average))
        add("accuracy_score", lambda: metrics.accuracy_score(y, predicted, sample_weight=weight))
        if hasattr(est, "predict_proba"):
            proba = est.predict_proba(X)
            add(
                "log_loss",
                lambda: metrics.log_loss(
                    y, proba, sample_weight=weight, labels=getattr(est, "classes_", None)
                ),
            )
            scores = proba[:, 1] if proba.shape[1] == 2 else proba
            add(
                "roc_auc",
                lambda: metrics.roc_auc_score(
                    y, scores, average="weighted", sample_weight=weight, multi_class="ovo"
                ),
            )
    else:
        add(
            "mean_squared_error",
            lambda: metrics.mean_squared_error(y, predicted, sample_weight=weight),
        )
        found[TRAINING + "root_mean_squared_error"] = (
            found.get(TRAINING + "mean_squared_error", float("nan")) ** 0.5
        )
        add(
            "mean_absolute_error",
            lambda: metrics.mean_absolute_error(y, predicted, sample_weight=weight),
        )
        add("r2_score", lambda: metrics.r2_score(y, predicted, sample_weight=weight))
    if hasattr(est, "score"):
        add("score", lambda: est.score(X, y) if weight is None else est.score(X, y, weight))
    return found  # fmt: skip


def _log_search(session: Session, search: Any, parent: Run) -> None:
    """Best params and score on ``parent``; one child run per candidate (the best ones first
    when ``max_tuning_runs`` limits them)."""
    from ..tracking import start_run

    if hasattr(search, "best_params_"):
        parent.log_params({f"best_{k}": v for k, v in search.best_params_.items()})
    if hasattr(search, "best_score_"):
        parent.log_metric("best_cv_score", search.best_score_)
    results = getattr(search, "cv_results_", None)
    if not results:
        return
    candidates = list(range(len(results["params"])))
    limit = sessions.settings.max_tuning_runs
    if limit is not None:
        ranks = results.get("rank_test_score")
        if ranks is not None:
            candidates.sort(key=lambda i: ranks[i])
        candidates = sorted(candidates[:limit])
    seed = search.estimator
    base = seed.get_params(deep=not _is_search(seed)) if hasattr(seed, "get_params") else {}
    columns = [k for k in results if k.startswith(("mean_", "std_", "rank_"))]
    with session.attempt("logging the search's candidates"):
        for i in candidates:
            with start_run(parent=parent) as child:
                child.log_params({**base, **results["params"][i]})
                child.log_metrics({k: float(results[k][i]) for k in columns})


def _log_model(est: Any, X: Any, run: Run, name: str) -> None:
    from ..mlmodel import log_model
    from ..mlmodel.signature import infer_signature

    folder = run.store.layout.artifacts / run.id
    free, n = name, 0
    while (folder / free).exists():
        n += 1
        free = f"{name}_{n}"
    signature = None
    if X is not None and hasattr(est, "predict"):
        try:
            head = X.iloc[:EXAMPLE_ROWS] if hasattr(X, "iloc") else X[:EXAMPLE_ROWS]
            signature = infer_signature(head, est.predict(head))
        except Exception:  # no signature for this input type: the model is logged without
            signature = None
    log_model(est, free, run=run, signature=signature, flavor="sklearn")


# ---- score after fit ----------------------------------------------------------------------------
def _patched_score(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def score(self: Any, *args: Any, **kwargs: Any) -> Any:
        if sessions.inside() or not sessions.settings.log_post_training_metrics:
            return original(self, *args, **kwargs)
        try:
            run = _runs.get(self)
        except TypeError:
            run = None
        if run is None:
            return original(self, *args, **kwargs)
        with nested():
            value = original(self, *args, **kwargs)
        session = Session(f"{type(self).__name__}.score")
        with session.attempt("logging the score"):
            data = args[0] if args else kwargs.get("X")
            key = f"{type(self).__name__}_score{_data_name(data, sys._getframe(1))}"
            log_late_metric(run, key, value)
        session.warn()
        return value

    return score


def _data_name(data: Any, frame: Any) -> str:
    """``_X_test`` when the caller holds ``data`` in a variable ``X_test`` (MLflow's naming of
    scores by their dataset), else ``""``."""
    if data is None or frame is None:
        return ""
    for scope in (frame.f_locals, frame.f_globals):
        for name, value in scope.items():
            if value is data and not name.startswith("_"):
                return f"_{name}"
    return ""
