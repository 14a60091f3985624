"""XGBoost and LightGBM autolog with real training on the breast cancer and diabetes data,
checked through the store."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from helpers import artifact_paths as paths
from helpers import records
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nbtrack
from nbtrack.autologging import autolog

XGB_PARAMS = {"max_depth": 2, "eta": 0.5, "objective": "binary:logistic",
              "eval_metric": ["logloss", "auc"], "seed": 0}  # fmt: skip
LGB_PARAMS = {"objective": "binary", "learning_rate": 0.5, "num_leaves": 8, "verbose": -1,
              "seed": 0, "deterministic": True, "num_threads": 1}  # fmt: skip


pytestmark = pytest.mark.usefixtures("autologging")


def artifact(store: Path, run: nbtrack.RunRecord, name: str) -> dict:
    return json.loads((store / "artifacts" / run.id / name).read_text())


def series(run: nbtrack.RunRecord, key: str) -> list[tuple[int, float]]:
    frame = nbtrack.history(run.id, key).sort_values("step", kind="stable")
    return list(zip(frame["step"].tolist(), frame["value"].tolist(), strict=True))


def nbtrack_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, nbtrack.NbtrackWarning)]


def cancer() -> tuple[np.ndarray, ...]:
    X, y = load_breast_cancer(return_X_y=True)
    return tuple(train_test_split(X, y, random_state=0))


def dmatrices() -> tuple[xgb.DMatrix, xgb.DMatrix, np.ndarray]:
    X_train, X_valid, y_train, y_valid = cancer()
    return xgb.DMatrix(X_train, y_train), xgb.DMatrix(X_valid, y_valid), X_valid


def lgb_datasets() -> tuple[lgb.Dataset, lgb.Dataset, np.ndarray]:
    X_train, X_valid, y_train, y_valid = cancer()
    train = lgb.Dataset(X_train, y_train)
    return train, lgb.Dataset(X_valid, y_valid, reference=train), X_valid


# ---- XGBoost ------------------------------------------------------------------------------------
def test_xgboost_train_logs_params_metrics_per_iteration_importance_and_the_model(
    tmp_store: Path,
) -> None:
    train, valid, _ = dmatrices()
    evals_result: dict = {}
    booster = xgb.train(XGB_PARAMS, train, 5, evals=[(train, "train"), (valid, "valid")],
                        evals_result=evals_result, verbose_eval=False)  # fmt: skip
    assert nbtrack.active_run() is None  # the run it started has ended
    (run,) = records()
    assert run.status == "finished"
    assert run.params["max_depth"] == 2 and run.params["eta"] == 0.5
    assert run.params["eval_metric"] == ["logloss", "auc"]
    assert run.params["num_boost_round"] == 5 and run.params["early_stopping_rounds"] is None
    assert set(run.metrics) == {"train-logloss", "train-auc", "valid-logloss", "valid-auc"}
    for data in ("train", "valid"):
        for metric in ("logloss", "auc"):
            logged = series(run, f"{data}-{metric}")
            assert logged == list(enumerate(evals_result[data][metric]))  # the user's copy too
    assert artifact(tmp_store, run, "feature_importance_weight.json") == booster.get_score()
    gain = artifact(tmp_store, run, "feature_importance_gain.json")
    assert gain == pytest.approx(booster.get_score(importance_type="gain"))
    assert "model/MLmodel" in paths(run)
    loaded = nbtrack.load_model(f"runs:/{run.id}/model")
    assert np.array_equal(loaded.predict(valid), booster.predict(valid))

    autolog(disable=True)
    plain = xgb.train(XGB_PARAMS, train, 5, evals=[(train, "train"), (valid, "valid")],
                      verbose_eval=False)  # fmt: skip
    assert len(records()) == 1  # off: no run
    assert np.array_equal(plain.predict(valid), booster.predict(valid))


def test_xgboost_early_stopping_logs_the_best_and_stopped_iterations() -> None:
    train, valid, _ = dmatrices()
    params = {**XGB_PARAMS, "eval_metric": "logloss"}
    booster = xgb.train(params, train, 200, evals=[(valid, "valid")], early_stopping_rounds=3,
                        verbose_eval=False)  # fmt: skip
    (run,) = records()
    stopped = booster.num_boosted_rounds() - 1
    assert stopped < 199  # it did stop early
    assert run.params["early_stopping_rounds"] == 3
    assert run.metrics["best_iteration"] == booster.best_iteration
    assert run.metrics["stopped_iteration"] == stopped
    assert run.metrics["best_score"] == pytest.approx(booster.best_score)
    logged = series(run, "valid-logloss")
    assert [step for step, _ in logged] == [*range(stopped + 1), stopped + 1]
    best = dict(logged[:-1])[booster.best_iteration]
    assert logged[-1] == (stopped + 1, best)  # the last value is the best model's
    assert run.metrics["valid-logloss"] == best == pytest.approx(booster.best_score)


class Counting(xgb.callback.TrainingCallback):
    def __init__(self) -> None:
        super().__init__()
        self.iterations = 0

    def after_iteration(self, model, epoch, evals_log) -> bool:
        self.iterations += 1
        return False


def test_an_xgb_classifier_logs_one_run_with_the_booster_params_and_eval_metrics() -> None:
    X_train, X_valid, y_train, y_valid = cancer()
    counting = Counting()
    callbacks = [counting]
    model = xgb.XGBClassifier(n_estimators=4, max_depth=2, callbacks=callbacks, random_state=0)
    model.fit(X_train, y_train, eval_set=[(X_valid, y_valid)], verbose=False)
    assert model.callbacks is callbacks and callbacks == [counting]  # the user's list untouched
    assert counting.iterations == 4
    model.score(X_valid, y_valid)  # sklearn autolog is on too: no second run, no late metric
    (run,) = records()
    assert run.params["max_depth"] == 2 and run.params["num_boost_round"] == 4
    assert run.params["objective"] == "binary:logistic"
    assert set(run.metrics) == {"validation_0-logloss"}
    assert [s for s, _ in series(run, "validation_0-logloss")] == [0, 1, 2, 3]
    assert {"model/MLmodel", "feature_importance_weight.json"} <= paths(run)

    autolog(disable=True)
    plain = xgb.XGBClassifier(n_estimators=4, max_depth=2, random_state=0)
    plain.fit(X_train, y_train, eval_set=[(X_valid, y_valid)], verbose=False)
    assert np.array_equal(plain.predict_proba(X_valid), model.predict_proba(X_valid))
    assert len(records()) == 1


def test_an_xgb_classifier_inside_sklearn_autologged_fits_is_logged_by_them_only() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    make_pipeline(StandardScaler(), xgb.XGBClassifier(n_estimators=3, max_depth=2)).fit(X, y)
    (pipe,) = records()
    assert pipe.tags["estimator_name"] == "Pipeline"
    assert pipe.params["xgbclassifier__max_depth"] == 2
    assert "training_accuracy_score" in pipe.metrics
    assert not any(p.startswith("feature_importance") for p in paths(pipe))
    search = GridSearchCV(xgb.XGBClassifier(n_estimators=3), {"max_depth": [1, 2]}, cv=2)
    search.fit(X, y)
    _, parent, *children = records()
    assert parent.params["best_max_depth"] == search.best_params_["max_depth"]
    assert len(children) == 2 and {c.parent_id for c in children} == {parent.id}


def test_trainings_in_an_active_run_log_to_it_and_keep_each_model() -> None:
    train, valid, _ = dmatrices()
    with nbtrack.run("mine") as run:
        xgb.train(XGB_PARAMS, train, 2, evals=[(valid, "valid")], verbose_eval=False)
        xgb.train(XGB_PARAMS, train, 3, evals=[(valid, "valid")], verbose_eval=False)
        assert run.status == "running"
    (record,) = records()
    assert record.name == "mine" and record.status == "finished"
    assert record.params["num_boost_round"] == 3  # the later value wins
    assert [s for s, _ in series(record, "valid-auc")] == [0, 0, 1, 1, 2]
    assert {"model/MLmodel", "model_1/MLmodel", "feature_importance_gain.json",
            "feature_importance_gain_1.json"} <= paths(record)  # fmt: skip


def test_a_store_that_cannot_be_written_warns_once_and_training_returns(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    nbtrack.set_store(blocker / "store")
    train = dmatrices()[0]
    lgb_train = lgb_datasets()[0]
    trainers = {
        "xgboost.train": lambda: xgb.train(XGB_PARAMS, train, 3, verbose_eval=False),
        "lightgbm.train": lambda: lgb.train(LGB_PARAMS, lgb_train, 3),
    }
    for name, trainer in trainers.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            booster = trainer()
        (message,) = nbtrack_warnings(caught)
        assert name in message and "starting a run" in message
        assert booster.num_boosted_rounds() == 3 if name.startswith("xgb") else booster.num_trees()


def test_a_run_ended_during_training_warns_once_and_training_goes_on() -> None:
    train, valid, _ = dmatrices()

    class EndTheRun(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log) -> bool:
            if epoch == 1:
                nbtrack.end_run()
            return False

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with nbtrack.run():
            booster = xgb.train(XGB_PARAMS, train, 4, evals=[(valid, "valid")],
                                callbacks=[EndTheRun()], verbose_eval=False)  # fmt: skip
    assert booster.num_boosted_rounds() == 4
    (message,) = nbtrack_warnings(caught)
    # the user's callback runs first: the run has ended when iteration 1 is to be logged
    assert "xgboost.train" in message and "'valid-logloss' at step 1" in message
    assert "InactiveRunError" in message
    (run,) = records()
    assert [s for s, _ in series(run, "valid-logloss")] == [0]


def test_a_failing_training_raises_its_own_exception_and_fails_the_run() -> None:
    train, _, _ = dmatrices()
    bad = {"objective": "no-such-objective"}
    autolog(disable=True)
    with pytest.raises(xgb.core.XGBoostError) as plain:
        xgb.train(bad, train, 2)
    autolog()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(xgb.core.XGBoostError) as logged:
            xgb.train(bad, train, 2)
    assert type(logged.value) is type(plain.value)
    assert first_line(logged.value) == first_line(plain.value)
    assert "Unknown objective function" in first_line(logged.value)
    assert not nbtrack_warnings(caught)
    (run,) = records()
    assert run.status == "failed" and "XGBoostError" in run.error
    assert run.params["objective"] == "no-such-objective"


def first_line(err: BaseException) -> str:
    """An XGBoost error's first line, after its timestamp."""
    return str(err).split("] ", 1)[-1].splitlines()[0]


# ---- LightGBM -----------------------------------------------------------------------------------
def test_lightgbm_train_logs_params_metrics_importance_and_the_model(tmp_store: Path) -> None:
    train, valid, X_valid = lgb_datasets()
    evals: dict = {}
    params = {**LGB_PARAMS, "metric": ["binary_logloss", "auc"]}
    booster = lgb.train(params, train, 5, valid_sets=[train, valid],
                        valid_names=["train", "valid"],
                        callbacks=[lgb.record_evaluation(evals)])  # fmt: skip
    (run,) = records()
    assert run.status == "finished"
    assert run.params["num_leaves"] == 8 and run.params["num_boost_round"] == 5
    assert run.params["metric"] == ["binary_logloss", "auc"]
    assert set(run.metrics) == {"train-binary_logloss", "train-auc", "valid-binary_logloss",
                                "valid-auc"}  # fmt: skip
    assert series(run, "valid-auc") == list(enumerate(evals["valid"]["auc"]))
    names = booster.feature_name()
    for kind in ("split", "gain"):
        values = booster.feature_importance(importance_type=kind).tolist()
        expected = dict(zip(names, values, strict=True))
        logged = artifact(tmp_store, run, f"feature_importance_{kind}.json")
        assert logged == pytest.approx(expected)
    loaded = nbtrack.load_model(f"runs:/{run.id}/model")
    assert np.array_equal(loaded.predict(X_valid), booster.predict(X_valid))

    autolog(disable=True)
    train, valid, _ = lgb_datasets()
    plain = lgb.train(params, train, 5, valid_sets=[train, valid], valid_names=["train", "valid"])
    assert np.array_equal(plain.predict(X_valid), booster.predict(X_valid))
    assert len(records()) == 1


def test_lightgbm_early_stopping_logs_the_best_and_stopped_iterations() -> None:
    train, valid, _ = lgb_datasets()
    callbacks = [lgb.early_stopping(3, verbose=False)]
    booster = lgb.train(LGB_PARAMS, train, 200, valid_sets=[valid], callbacks=callbacks)
    assert len(callbacks) == 1  # the user's list untouched
    (run,) = records()
    logged = series(run, "valid_0-binary_logloss")
    stopped = logged[-2][0]
    assert stopped < 199 and stopped == booster.best_iteration - 1 + 3
    assert run.metrics["best_iteration"] == booster.best_iteration
    assert run.metrics["stopped_iteration"] == stopped
    best = dict(logged[:-1])[booster.best_iteration - 1]
    assert logged[-1] == (stopped + 1, best)
    assert best == pytest.approx(booster.best_score["valid_0"]["binary_logloss"])


def test_an_lgbm_regressor_logs_one_run_and_a_rejected_metric_only_warns() -> None:
    X, y = load_diabetes(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, random_state=0)

    def verdict(y_true, y_pred):
        return "verdict", "fine", False  # not a number: nbtrack refuses it as a metric

    model = lgb.LGBMRegressor(n_estimators=3, num_leaves=4, verbose=-1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X_train, y_train, eval_X=(X_valid,), eval_y=(y_valid,), eval_metric=verdict)
    (message,) = nbtrack_warnings(caught)
    assert "'valid_0-verdict' at step 0" in message and "must be a number" in message
    assert model.predict(X_valid).shape == y_valid.shape
    (run,) = records()
    assert run.status == "finished" and run.params["num_leaves"] == 4
    assert set(run.metrics) == {"valid_0-l2"}
    assert [s for s, _ in series(run, "valid_0-l2")] == [0, 1, 2]
    assert "model/MLmodel" in paths(run)


# ---- switching off ------------------------------------------------------------------------------
def test_disable_restores_the_original_train_functions_exactly() -> None:
    autolog(disable=True)
    modules = [xgb, xgb.training, xgb.sklearn, lgb, lgb.engine, lgb.sklearn]
    before = {m: vars(m)["train"] for m in modules}
    autolog()
    assert all(vars(m)["train"] is not before[m] for m in modules)
    kept = xgb.train  # a reference taken while autolog is on
    autolog(disable=True)
    assert all(vars(m)["train"] is before[m] for m in modules)
    assert xgb.train is xgb.training.train and lgb.train is lgb.engine.train
    train, _, _ = dmatrices()
    kept(XGB_PARAMS, train, 2)  # passes straight through now
    assert nbtrack.search().empty
    autolog(disable=True)  # idempotent
    assert xgb.train is before[xgb]


def test_autolog_patches_boosting_libraries_imported_after_it() -> None:
    code = (
        "import sys, nbtrack.autologging as a\n"
        "a.autolog(libraries=['xgboost', 'lightgbm'])\n"
        "assert 'xgboost' not in sys.modules and 'lightgbm' not in sys.modules\n"
        "assert a.enabled() == ['lightgbm', 'xgboost'], a.enabled()\n"
        "import xgboost, lightgbm\n"
        "assert 'nbtrack' in xgboost.train.__code__.co_filename\n"
        "assert 'nbtrack' in lightgbm.sklearn.train.__code__.co_filename\n"
        "a.autolog(disable=True)\n"
        "assert 'nbtrack' not in xgboost.sklearn.train.__code__.co_filename\n"
        "assert 'nbtrack' not in lightgbm.train.__code__.co_filename\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
