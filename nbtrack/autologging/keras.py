"""Keras 3 autolog: ``keras.Model.fit`` (any backend), through a callback added to the fit.

A fit logs, to the active run (or to a run it starts and ends):

- params: fit's own (``epochs``, ``batch_size``, ``validation_split``, ``shuffle``,
  ``initial_epoch``, ``steps_per_epoch``, …; ``class_weight`` as ``class_weight__<class>``),
  the optimizer's class as ``optimizer_name`` and the scalars of its config as
  ``optimizer_<key>`` (``optimizer_learning_rate``, ``optimizer_beta_1``, …), and the model's
  ``total_params``, ``trainable_params`` and ``non_trainable_params``;
- every metric of each epoch (``loss``, ``accuracy``, ``val_loss``, …), step = the epoch;
  with ``autolog(log_every_n_steps=n)`` also every ``n``-th batch's as ``batch_<metric>``,
  step = the batch's number in the fit, counted from 1;
- with an ``EarlyStopping`` callback: its ``monitor``, ``min_delta``, ``patience``,
  ``baseline`` and ``restore_best_weights`` as params, and the metrics ``stopped_epoch`` (when it
  stopped the fit) and ``restored_epoch`` (when it restored the best weights);
- the model summary as ``model_summary.txt``.

The model itself is not logged: nbtrack has no Keras model flavor yet (save it with
``model.save(path)`` and ``nbtrack.log_artifact(path)``). A fit nested in another autologged
call is not logged on its own.

>>> import os
>>> os.environ.setdefault("KERAS_BACKEND", "jax")  # doctest: +ELLIPSIS
'...'
>>> import keras, nbtrack, numpy as np, tempfile
>>> from nbtrack.autologging import autolog
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> autolog()
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> history = model.fit(np.ones((8, 2)), np.ones(8), epochs=2, verbose=0)
>>> autolog(disable=True)
>>> run = nbtrack.get_run(nbtrack.search()["run_id"][0])
>>> run.params["epochs"], run.params["optimizer_name"], run.params["total_params"]
(2, 'SGD', 3)
>>> nbtrack.history(run.id, "loss")["step"].tolist()
[0, 1]
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from . import session as sessions
from .patching import Patches
from .session import Session, StepLogger, flat_params, log_text

MODULE = "keras"
"""The top-level module this integration patches (once it is imported)."""

# fit's arguments that are data, callbacks or verbosity, not training settings.
UNLOGGED = frozenset({"self", "x", "y", "callbacks", "validation_data", "verbose", "sample_weight"})
# What fit uses for arrays when batch_size is None (Keras documents this default); datasets
# and generators batch themselves and may say so as ``batch_size``.
DEFAULT_BATCH_SIZE = 32
EARLY_STOPPING_PARAMS = ("monitor", "min_delta", "patience", "baseline", "restore_best_weights")
SCALARS = (bool, int, float, str, type(None))


def enable(module: ModuleType, patches: Patches) -> None:
    """Patch ``keras.Model.fit`` (inherited from the backend's trainer; restoring removes it
    from ``keras.Model`` again)."""
    original = module.Model.fit
    patches.set(module.Model, "fit", _patched_fit(original))


def _patched_fit(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)
    defaults = {
        name: p.default for name, p in signature.parameters.items() if p.default is not p.empty
    }

    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if sessions.inside():
            return original(self, *args, **kwargs)
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            return original(self, *args, **kwargs)  # Keras says what is wrong with the call
        arguments = {**defaults, **bound.arguments}
        session = Session(f"{type(self).__name__}.fit")

        def call() -> Any:
            if session.run is not None:
                given = bound.arguments.get("callbacks")
                ours = _callback(session)
                if given is None or isinstance(given, (list, tuple)):
                    bound.arguments["callbacks"] = [*(given or ()), ours]
                else:  # a CallbackList: fit uses it as it is, so there is no room for ours
                    session.problems.append(
                        "per-epoch metrics: callbacks were given as a CallbackList; pass a list"
                    )
            return original(*bound.args, **bound.kwargs)

        return session.train(
            call,
            lambda s: _before(s, arguments),
            lambda s, history: _after(s, arguments),
        )

    return fit


def _before(session: Session, arguments: Mapping[str, Any]) -> None:
    assert session.run is not None
    params = {k: v for k, v in arguments.items() if k not in UNLOGGED}
    if params.get("batch_size") is None:
        params["batch_size"] = _batch_size(arguments.get("x"))
    for stopping in _early_stopping(arguments):
        params.update({name: getattr(stopping, name, None) for name in EARLY_STOPPING_PARAMS})
    session.run.log_params(flat_params(params))


def _batch_size(x: Any) -> int | None:
    for name in ("batch_size", "_batch_size"):  # a batched dataset or generator
        size = getattr(x, name, None)
        if isinstance(size, int):
            return size
    return DEFAULT_BATCH_SIZE if hasattr(x, "shape") or isinstance(x, (list, dict)) else None


def _early_stopping(arguments: Mapping[str, Any]) -> list[Any]:
    import keras

    given = arguments.get("callbacks")
    if not isinstance(given, (list, tuple)):
        return []
    return [cb for cb in given if isinstance(cb, keras.callbacks.EarlyStopping)]


def _after(session: Session, arguments: Mapping[str, Any]) -> None:
    run = session.run
    assert run is not None
    for stopping in _early_stopping(arguments):
        if getattr(stopping, "stopped_epoch", 0) > 0:
            run.log_metric("stopped_epoch", stopping.stopped_epoch)
            if stopping.restore_best_weights and stopping.best_weights is not None:
                run.log_metric("restored_epoch", stopping.best_epoch)


def _model_params(model: Any) -> dict[str, Any]:
    """The optimizer's class and config scalars, and the model's parameter counts."""
    import numpy as np

    optimizer = model.optimizer
    with warnings.catch_warnings():
        # Keras reads its float32 learning rate through a numpy call that numpy 2 deprecates:
        # Keras' own warning, which the user's code would not have met
        warnings.simplefilter("ignore", DeprecationWarning)
        raw = optimizer.get_config()
    config = flat_params({k: v for k, v in raw.items() if k != "name"})
    params: dict[str, Any] = {"optimizer_name": type(optimizer).__name__}
    for key, value in config.items():
        if isinstance(value, SCALARS):
            params[f"optimizer_{key}"] = _shortest(value)
    total = int(model.count_params())
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    params.update(
        total_params=total, trainable_params=trainable, non_trainable_params=total - trainable
    )
    return params


def _shortest(value: Any) -> Any:
    """A float that is exactly a float32 (Keras keeps the learning rate in a float32 variable)
    as the float32's shortest decimal: 0.01, not 0.009999999776482582."""
    import numpy as np

    if isinstance(value, float) and float(np.float32(value)) == value:
        return float(str(np.float32(value)))
    return value


def _summary(model: Any) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines)


def _callback(session: Session) -> Any:
    n = sessions.settings.log_every_n_steps
    epochs, batches = _callback_classes()
    return batches(session, n) if n else epochs(session)


@functools.cache
def _callback_classes() -> tuple[type, type]:
    """The callback classes, defined once Keras is imported: one logging each epoch, and one
    logging every n-th batch too (Keras dispatches batch hooks only to callbacks that define
    them, so the per-epoch one stays off the per-batch path)."""
    import keras

    class AutologCallback(keras.callbacks.Callback):  # type: ignore[misc]
        def __init__(self, session: Session) -> None:
            super().__init__()
            self.session = session
            self.epochs = StepLogger(session)

        def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
            run = self.session.run
            if run is None:
                return
            with self.session.attempt("logging the optimizer and the model's size"):
                run.log_params(_model_params(self.model))
            with self.session.attempt("logging the model summary"):
                log_text(run, "model_summary", ".txt", _summary(self.model))

        def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
            self.epochs.log(logs or {}, step=epoch)

    class BatchAutologCallback(AutologCallback):
        def __init__(self, session: Session, every: int) -> None:
            super().__init__(session)
            self.every = every
            self.batches = StepLogger(session)
            self.batch = 0

        def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
            self.batch += 1
            if self.batch % self.every == 0:
                values = {f"batch_{k}": v for k, v in (logs or {}).items()}
                self.batches.log(values, step=self.batch)

    return AutologCallback, BatchAutologCallback
