"""Autologging: training calls of ML libraries record their run without code changes.

``autolog()`` patches each supported library that is installed, now if it is imported, else
as soon as it is; ``autolog(disable=True)`` puts back the libraries' original functions. One
module per library (``sklearn.py``, ``xgboost.py``, ``lightgbm.py``, ``keras.py``; each says what
it logs) does the patching, sharing ``patching.py`` (reversible patches, post-import hooks) and
``session.py`` (the run of one training call, failures turned into one warning, metrics logged
step by step).

>>> import nbtrack, tempfile
>>> from sklearn.datasets import load_wine
>>> from sklearn.linear_model import LinearRegression
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> nbtrack.autolog()
>>> X, y = load_wine(return_X_y=True)
>>> model = LinearRegression().fit(X, y)
>>> nbtrack.autolog(disable=True)
>>> run = nbtrack.get_run(nbtrack.search()["run_id"][0])
>>> run.params["fit_intercept"], "model/MLmodel" in {a["path"] for a in run.artifacts}
(True, True)
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import sys
import threading
import types
import warnings
from collections.abc import Callable, Collection

from ..errors import NbtrackWarning
from . import session as sessions
from .patching import Patches, cancel_hooks, when_imported

# library name -> (the top-level module it patches, nbtrack's module for it)
INTEGRATIONS = {
    "sklearn": ("sklearn", ".sklearn"),
    "xgboost": ("xgboost", ".xgboost"),
    "lightgbm": ("lightgbm", ".lightgbm"),
    "keras": ("keras", ".keras"),
}

_patches: dict[str, Patches] = {}
_waiting: set[str] = set()
_lock = threading.RLock()


def autolog(
    disable: bool = False,
    log_models: bool = True,
    log_training_metrics: bool = True,
    log_post_training_metrics: bool = True,
    max_tuning_runs: int | None = None,
    silent: bool = False,
    libraries: Collection[str] | None = None,
    log_every_n_steps: int | None = None,
) -> None:
    """Turn autologging on (again, with these settings) or, with ``disable=True``, off.

    A training call (scikit-learn's ``fit``, ``xgboost.train``, ``lightgbm.train`` and their
    scikit-learn APIs, Keras 3's ``Model.fit``) logs to the active run, or to a run of its own
    when none is active: params, metrics, and the trained model (``log_models``; not for Keras,
    which has no model flavor yet). ``log_training_metrics``: scikit-learn's metrics on the
    training data (``training_accuracy_score``, …); the per-iteration and per-epoch metrics the
    other libraries report are always logged. ``log_post_training_metrics``:
    ``model.score(X_test, y_test)`` after a scikit-learn fit is logged to the model's run.
    ``max_tuning_runs``: child runs a hyperparameter search logs (the best ones; default: every
    candidate). ``silent``: no warnings when logging fails (the training goes on either way).
    ``libraries``: some of ``INTEGRATIONS`` only. ``log_every_n_steps``: Keras also logs the
    metrics of every n-th batch, as ``batch_<metric>`` (default: epochs only).

    >>> import nbtrack, tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> original = LogisticRegression.fit
    >>> autolog()
    >>> LogisticRegression.fit is original
    False
    >>> autolog(disable=True)
    >>> LogisticRegression.fit is original
    True
    """
    unknown = set(libraries or ()) - set(INTEGRATIONS)
    if unknown:
        raise ValueError(
            f"autolog supports {', '.join(INTEGRATIONS)}; got {', '.join(sorted(unknown))}"
        )
    if log_every_n_steps is not None and (
        isinstance(log_every_n_steps, bool)
        or not isinstance(log_every_n_steps, int)
        or log_every_n_steps < 1
    ):
        raise ValueError(
            f"log_every_n_steps must be a positive int (log every n-th batch) or None (epochs "
            f"only); got {log_every_n_steps!r}"
        )
    with _lock:
        cancel_hooks()
        _waiting.clear()
        while _patches:
            _patches.popitem()[1].restore()
        if disable:
            return
        sessions.settings = sessions.Settings(
            log_models, log_training_metrics, log_post_training_metrics, max_tuning_runs, silent,
            log_every_n_steps,
        )  # fmt: skip
        for library, (module, _) in INTEGRATIONS.items():
            if libraries is not None and library not in libraries:
                continue
            if module not in sys.modules and importlib.util.find_spec(module) is None:
                continue  # not installed
            _waiting.add(library)
            when_imported(module, functools.partial(_enable, library))


def enabled() -> list[str]:
    """The libraries autolog patched, or will patch when they are imported."""
    with _lock:
        return sorted({*_patches, *_waiting})


def _enable(library: str, module: types.ModuleType) -> None:
    patches = Patches()
    try:
        integration = importlib.import_module(INTEGRATIONS[library][1], __name__)
        integration.enable(module, patches)
    except Exception as err:
        patches.restore()
        warnings.warn(
            f"nbtrack autolog could not patch {library} ({type(err).__name__}: {err}); it runs "
            "without autologging",
            NbtrackWarning,
            stacklevel=2,
        )
        return
    with _lock:
        _waiting.discard(library)
        _patches[library] = patches


def switched(on: bool) -> Callable[[], None]:
    """Turn autologging on (as ``autolog()`` does, unless it is on already) or off for a while;
    returns the function that puts back what was there (the libraries and settings): a run
    started with ``autolog=True`` or ``False`` calls it as it ends.

    >>> undo = switched(True)
    >>> enabled()
    ['keras', 'lightgbm', 'sklearn', 'xgboost']
    >>> undo()
    >>> enabled()
    []
    """
    before, kept = enabled(), sessions.settings
    if bool(before) == on:
        return lambda: None
    if on:
        autolog()
    else:
        autolog(disable=True)

    def undo() -> None:
        if before:
            fields = dataclasses.asdict(kept)
            autolog(libraries=before, **fields)
        else:
            autolog(disable=True)

    return undo
