"""Keras 3 autolog (JAX backend, CPU) with real training on the breast cancer data, checked
through the store."""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "jax"  # before Keras is first imported

import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
from helpers import artifact_paths as paths
from helpers import records
from sklearn.datasets import load_breast_cancer

import nbtrack
from nbtrack.autologging import autolog

# Keras' own, on numpy 2 (reading a variable, as EarlyStopping and predict do), autolog or not.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


pytestmark = pytest.mark.usefixtures("autologging")


def series(run: nbtrack.RunRecord, key: str) -> list[tuple[int, float]]:
    frame = nbtrack.history(run.id, key).sort_values("step", kind="stable")
    return list(zip(frame["step"].tolist(), frame["value"].tolist(), strict=True))


def nbtrack_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, nbtrack.NbtrackWarning)]


def cancer() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X.astype("float32"), y.astype("float32")


def classifier(lr: float = 0.01) -> keras.Model:
    """A small network, the same weights (and layer names) every time."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((30,)), keras.layers.Dense(8, activation="relu"),
         keras.layers.BatchNormalization(), keras.layers.Dense(1, activation="sigmoid")]
    )  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="binary_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    return model


def test_a_fit_logs_params_epoch_metrics_and_the_summary_in_a_run_of_its_own(
    tmp_store: Path,
) -> None:
    X, y = cancer()
    model = classifier()
    history = model.fit(X, y, epochs=3, validation_split=0.25, verbose=0)
    assert nbtrack.active_run() is None  # the run it started has ended
    (run,) = records()
    assert run.status == "finished"
    assert run.params["epochs"] == 3 and run.params["batch_size"] == 32
    assert run.params["validation_split"] == 0.25 and run.params["shuffle"] is True
    assert run.params["optimizer_name"] == "Adam"
    assert run.params["optimizer_learning_rate"] == 0.01
    assert run.params["optimizer_beta_1"] == 0.9
    assert run.params["total_params"] == model.count_params() == 8 * 31 + 4 * 8 + 9
    assert run.params["non_trainable_params"] == 16  # the batch norm's moving mean and variance
    assert run.params["trainable_params"] == run.params["total_params"] - 16
    assert set(run.metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key, values in history.history.items():
        assert series(run, key) == list(enumerate(values))
    assert "model_summary.txt" in paths(run)
    summary = (tmp_store / "artifacts" / run.id / "model_summary.txt").read_text()
    assert "Total params" in summary and "dense" in summary
    assert not any(p.startswith("model/") for p in paths(run))  # no Keras model flavor

    autolog(disable=True)
    plain = classifier()
    plain.fit(X, y, epochs=3, validation_split=0.25, verbose=0)
    assert len(records()) == 1  # off: no run
    assert np.array_equal(plain.predict(X, verbose=0), model.predict(X, verbose=0))


def test_log_every_n_steps_adds_batch_metrics() -> None:
    autolog(log_every_n_steps=5)
    X, y = cancer()
    callbacks: list = []
    classifier().fit(X[:320], y[:320], batch_size=32, epochs=2, verbose=0, callbacks=callbacks)
    assert callbacks == []  # the user's list untouched
    (run,) = records()
    assert [s for s, _ in series(run, "batch_loss")] == [5, 10, 15, 20]  # 10 batches an epoch
    assert [s for s, _ in series(run, "loss")] == [0, 1]
    assert {"batch_loss", "batch_accuracy", "loss", "accuracy"} == set(run.metrics)
    with pytest.raises(ValueError, match="log_every_n_steps must be a positive int"):
        autolog(log_every_n_steps=0)


def test_early_stopping_logs_its_settings_and_the_stopped_and_restored_epochs() -> None:
    X, y = cancer()
    # An improvement no epoch makes: it stops at the first epoch it may (1, with patience 1),
    # and restores epoch 0's weights.
    stopping = keras.callbacks.EarlyStopping(
        monitor="loss", mode="max", min_delta=1e9, patience=1, restore_best_weights=True
    )
    classifier().fit(X, y, epochs=10, verbose=0, callbacks=[stopping])
    (run,) = records()
    assert stopping.stopped_epoch == 1 and stopping.best_epoch == 0
    assert run.params["monitor"] == "loss" and run.params["patience"] == 1
    assert run.params["min_delta"] == 1e9 and run.params["baseline"] is None
    assert run.params["restore_best_weights"] is True
    assert run.metrics["stopped_epoch"] == 1 and run.metrics["restored_epoch"] == 0
    assert [s for s, _ in series(run, "loss")] == [0, 1]


def test_fits_in_an_active_run_log_to_it() -> None:
    X, y = cancer()
    model = classifier()
    with nbtrack.run("mine") as run:
        model.fit(X, y, epochs=2, verbose=0)
        model.fit(X, y, epochs=4, initial_epoch=2, verbose=0)  # resumed: epochs 2 and 3
        assert run.status == "running"
    (record,) = records()
    assert record.name == "mine" and record.status == "finished"
    assert record.params["epochs"] == 4 and record.params["initial_epoch"] == 2
    assert [s for s, _ in series(record, "loss")] == [0, 1, 2, 3]
    assert {"model_summary.txt", "model_summary_1.txt"} <= paths(record)


def test_a_store_that_cannot_be_written_warns_once_and_the_fit_returns(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    nbtrack.set_store(blocker / "store")
    X, y = cancer()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = classifier().fit(X, y, epochs=2, verbose=0)
    (message,) = nbtrack_warnings(caught)
    assert "Sequential.fit" in message and "starting a run" in message
    assert len(history.history["loss"]) == 2


def test_a_run_ended_during_the_fit_warns_once_and_the_fit_goes_on() -> None:
    X, y = cancer()
    end_after_first = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: nbtrack.end_run() if epoch == 1 else None
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with nbtrack.run():
            history = classifier().fit(X, y, epochs=3, verbose=0, callbacks=[end_after_first])
    assert len(history.history["loss"]) == 3
    (message,) = nbtrack_warnings(caught)
    assert "Sequential.fit" in message and "'loss' at step 1" in message
    (run,) = records()
    assert [s for s, _ in series(run, "loss")] == [0]


def test_the_user_s_exception_from_fit_propagates_unchanged_and_fails_the_run() -> None:
    X, y = cancer()
    autolog(disable=True)
    with pytest.raises(ValueError) as plain:
        classifier().fit(X[:, :5], y, epochs=1, verbose=0)  # the model expects 30 features
    autolog()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError) as logged:
            classifier().fit(X[:, :5], y, epochs=1, verbose=0)
    assert str(logged.value) == str(plain.value)
    assert not nbtrack_warnings(caught)
    (run,) = records()
    assert run.status == "failed" and "ValueError" in run.error


def test_disable_restores_keras_model_fit_exactly() -> None:
    autolog(disable=True)
    original = keras.Model.fit
    assert "fit" not in vars(keras.Model)
    autolog()
    assert "fit" in vars(keras.Model) and keras.Model.fit is not original
    autolog(disable=True)
    assert "fit" not in vars(keras.Model) and keras.Model.fit is original
    assert keras.Sequential.fit is original
