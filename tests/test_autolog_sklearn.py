"""scikit-learn autolog with real training on the wine and iris data, checked through the store."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers import artifact_paths as paths
from helpers import records
from kernels import errors, run_cells, text
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import nbtrack
from nbtrack.autologging import autolog
from nbtrack.autologging import enabled as autolog_enabled

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CLASSIFIER_METRICS = {
    "training_accuracy_score", "training_f1_score", "training_precision_score",
    "training_recall_score", "training_log_loss", "training_roc_auc", "training_score",
}  # fmt: skip
REGRESSOR_METRICS = {
    "training_mean_squared_error", "training_root_mean_squared_error",
    "training_mean_absolute_error", "training_r2_score", "training_score",
}  # fmt: skip


pytestmark = pytest.mark.usefixtures("autologging")


def nbtrack_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, nbtrack.NbtrackWarning)]


def wine() -> tuple[np.ndarray, ...]:
    X, y = load_wine(return_X_y=True)
    return tuple(train_test_split(X, y, random_state=0))


def test_a_fit_without_a_run_logs_params_metrics_and_the_model_in_a_run_of_its_own() -> None:
    X_train, X_test, y_train, _ = wine()
    model = LogisticRegression(C=0.5, max_iter=300).fit(X_train, y_train)
    assert nbtrack.active_run() is None  # the run it started has ended
    (run,) = records()
    assert run.status == "finished"
    assert run.params["C"] == 0.5 and run.params["max_iter"] == 300
    assert set(run.params) == set(LogisticRegression().get_params())
    assert set(run.metrics) == CLASSIFIER_METRICS
    assert run.metrics["training_accuracy_score"] == model.score(X_train, y_train)
    assert run.tags["estimator_name"] == "LogisticRegression"
    assert "model/MLmodel" in paths(run)
    loaded = nbtrack.load_model(f"runs:/{run.id}/model")
    autolog(disable=True)
    plain = LogisticRegression(C=0.5, max_iter=300).fit(X_train, y_train)
    assert (loaded.predict(X_test) == plain.predict(X_test)).all()  # same with autolog off
    assert np.array_equal(model.coef_, plain.coef_)


def test_a_score_after_the_fit_is_logged_to_the_model_s_run() -> None:
    X_train, X_test, y_train, y_test = wine()
    model = LogisticRegression(max_iter=300).fit(X_train, y_train)
    first = model.score(X_test, y_test)
    second = model.score(X_test, y_test)
    (run,) = records()
    assert first == second and run.metrics["LogisticRegression_score_X_test"] == first
    steps = nbtrack.history(run.id, "LogisticRegression_score_X_test")["step"].tolist()
    assert steps == [0, 1]
    LogisticRegression().fit(X_train, y_train)
    assert len(records()) == 2


def test_a_regressor_logs_regression_metrics() -> None:
    X_train, _, y_train, _ = wine()
    LinearRegression().fit(X_train, y_train)
    (run,) = records()
    assert set(run.metrics) == REGRESSOR_METRICS
    assert 0 < run.metrics["training_r2_score"] <= 1


def test_a_pipeline_and_a_meta_estimator_log_one_run_each_not_one_per_inner_fit() -> None:
    X, y = load_iris(return_X_y=True)
    make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    OneVsRestClassifier(DecisionTreeClassifier(max_depth=2)).fit(X, y)  # fits 3 clones
    pipe_run, ovr_run = records()
    assert pipe_run.tags["estimator_name"] == "Pipeline"
    assert pipe_run.params["logisticregression__C"] == 1.0
    assert pipe_run.params["standardscaler__with_mean"] is True
    assert set(pipe_run.metrics) == CLASSIFIER_METRICS
    assert ovr_run.tags["estimator_name"] == "OneVsRestClassifier"
    assert ovr_run.params["estimator__max_depth"] == 2
    assert {p.split("/")[0] for p in paths(pipe_run)} == {"model"}


def test_a_fit_in_an_active_run_logs_to_it_and_leaves_it_running() -> None:
    X_train, _, y_train, _ = wine()
    with nbtrack.run("mine") as run:
        LogisticRegression(max_iter=300).fit(X_train, y_train)
        DecisionTreeClassifier(max_depth=3).fit(X_train, y_train)
        assert run.status == "running"
        run.log(extra=1)
    (record,) = records()
    assert record.name == "mine" and record.status == "finished"
    assert record.params["max_iter"] == 300 and record.params["max_depth"] == 3
    assert {"model/MLmodel", "model_1/MLmodel"} <= paths(record)
    assert record.metrics["extra"] == 1


def test_a_grid_search_logs_the_best_params_and_one_child_run_per_candidate() -> None:
    X, y = load_iris(return_X_y=True)
    grid = {"C": [0.1, 1.0, 10.0]}
    search = GridSearchCV(LogisticRegression(max_iter=500), grid, cv=3).fit(X, y)
    parent, *children = records()
    assert parent.parent_id is None
    assert parent.params["best_C"] == search.best_params_["C"]
    assert parent.metrics["best_cv_score"] == search.best_score_
    assert {"model/MLmodel", "best_estimator/MLmodel"} <= paths(parent)
    assert len(children) == 3 and {c.parent_id for c in children} == {parent.id}
    by_c = {c.params["C"]: c for c in children}
    assert set(by_c) == set(grid["C"])
    for i, c in enumerate(search.cv_results_["param_C"]):
        assert by_c[c].metrics["mean_test_score"] == search.cv_results_["mean_test_score"][i]
        assert by_c[c].metrics["std_test_score"] == search.cv_results_["std_test_score"][i]
        assert by_c[c].params["max_iter"] == 500


def test_a_randomized_search_of_a_pipeline_with_max_tuning_runs_keeps_the_best() -> None:
    autolog(max_tuning_runs=2, log_models=False)
    X, y = load_iris(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()), ("tree", DecisionTreeClassifier())])
    search = RandomizedSearchCV(
        pipe, {"tree__max_depth": [1, 2, 3, 4]}, n_iter=4, cv=3, random_state=0
    ).fit(X, y)
    parent, *children = records()
    assert len(children) == 2 and not paths(parent)
    best = sorted(search.cv_results_["mean_test_score"])[-2:]
    assert sorted(c.metrics["mean_test_score"] for c in children) == best


def test_disable_restores_the_original_functions_exactly() -> None:
    autolog(disable=True)
    classes = [LogisticRegression, LinearRegression, Pipeline, GridSearchCV, StandardScaler,
               OneVsRestClassifier, DecisionTreeClassifier, BaseEstimator, ClassifierMixin,
               RegressorMixin]  # fmt: skip
    before = {cls: dict(vars(cls)) for cls in classes}
    autolog()
    assert vars(LogisticRegression)["fit"] is not before[LogisticRegression]["fit"]
    assert vars(ClassifierMixin)["score"] is not before[ClassifierMixin]["score"]
    assert vars(Pipeline)["score"] is not before[Pipeline]["score"]
    assert "__init_subclass__" in vars(BaseEstimator)
    late = type("Late", (BaseEstimator,), {"__module__": "sklearn.late", "fit": lambda s: s})
    original_late_fit = late.__dict__["fit"].__wrapped__  # patched as it was created
    autolog(disable=True)
    for cls in classes:
        assert vars(cls).keys() == before[cls].keys()
        for name, value in before[cls].items():
            assert vars(cls)[name] is value, (cls, name)
    assert late.__dict__["fit"] is original_late_fit
    autolog(disable=True)  # idempotent
    assert vars(LogisticRegression)["fit"] is before[LogisticRegression]["fit"]


def test_autolog_patches_a_library_imported_after_it_and_never_imports_it() -> None:
    code = (
        "import sys, nbtrack.autologging as a\n"
        "a.autolog()\n"
        "assert 'sklearn' not in sys.modules\n"
        "assert a.enabled() == ['keras', 'lightgbm', 'sklearn', 'xgboost']\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "patched = 'nbtrack' in LogisticRegression.fit.__code__.co_filename\n"
        "a.autolog(disable=True)\n"
        "assert patched and 'nbtrack' not in LogisticRegression.fit.__code__.co_filename\n"
        "import nbtrack\n"
        "nbtrack.autolog(disable=True)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_a_store_that_cannot_be_written_warns_once_and_the_fit_returns(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    nbtrack.set_store(blocker / "store")
    X_train, X_test, y_train, _ = wine()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(max_iter=300)
        assert model.fit(X_train, y_train) is model
    (message,) = nbtrack_warnings(caught)
    assert "LogisticRegression.fit" in message and "starting a run" in message
    assert model.predict(X_test).shape == (len(X_test),)


class BrokenParams(LogisticRegression):
    def get_params(self, deep: bool = True) -> dict:
        if deep:
            raise RuntimeError("no params today")
        return super().get_params(deep=False)


def test_an_estimator_whose_get_params_raises_warns_once_and_still_trains() -> None:
    X_train, _, y_train, _ = wine()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = BrokenParams(max_iter=300).fit(X_train, y_train)
    (message,) = nbtrack_warnings(caught)
    assert "no params today" in message
    assert model.coef_.shape[1] == X_train.shape[1]
    (run,) = records()
    assert run.status == "finished" and "training_accuracy_score" in run.metrics


def test_the_user_s_exception_from_fit_propagates_unchanged_and_fails_the_run() -> None:
    X_train, _, y_train, _ = wine()
    one_class = np.zeros_like(y_train)
    with pytest.raises(ValueError) as plain:
        autolog(disable=True)
        LogisticRegression().fit(X_train, one_class)
    autolog()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError) as logged:
            LogisticRegression().fit(X_train, one_class)
    assert str(logged.value) == str(plain.value)
    assert not nbtrack_warnings(caught)
    (run,) = records()
    assert run.status == "failed" and "ValueError" in run.error


def test_track_autolog_in_a_kernel(tmp_store: Path, tmp_path: Path) -> None:
    fit = (
        "from sklearn.datasets import load_iris\n"
        "from sklearn.tree import DecisionTreeClassifier\n"
        "X, y = load_iris(return_X_y=True)\n"
        "model = DecisionTreeClassifier(max_depth=2).fit(X, y)\n"
        "print(model.score(X, y))"
    )
    cells = run_cells(
        ["%load_ext nbtrack", "%track autolog", fit, "%track autolog off", fit,
         "%track autolog sideways", f"%%track --autolog\n{fit}",
         "import nbtrack.autologging\nprint(nbtrack.autologging.enabled())"],
        tmp_store, tmp_path,
    )  # fmt: skip
    assert not any(errors(c) for c in cells[:5]), [text(c) for c in cells]
    assert not errors(cells[6])
    assert text(cells[7]).strip() == "[]"  # on only while the cell ran
    cell_run = nbtrack.search("params.max_depth = 2 and lineage IS NOT NULL")
    assert text(cells[1]).strip() == "autolog on: keras, lightgbm, sklearn, xgboost"
    assert text(cells[3]).strip() == "autolog off"
    assert "invalid choice" in text(cells[5])
    runs = records()
    assert len(runs) == 2 and len(cell_run) == 1
    (run,) = [r for r in runs if r.id != cell_run["run_id"][0]]
    assert run.params["max_depth"] == 2
    assert run.metrics["DecisionTreeClassifier_score_X"] == float(text(cells[2]))


def test_a_run_with_autolog_records_the_training_inside_it_only() -> None:
    autolog(disable=True)
    X, y = load_iris(return_X_y=True)
    with nbtrack.run("tree", autolog=True) as run:
        DecisionTreeClassifier(max_depth=3).fit(X, y)
    assert autolog_enabled() == []
    DecisionTreeClassifier(max_depth=4).fit(X, y)  # after the run: not recorded
    (record,) = records()
    assert record.id == run.id and record.params["max_depth"] == 3
    autolog()
    with nbtrack.run("quiet", autolog=False):
        DecisionTreeClassifier(max_depth=5).fit(X, y)
        assert autolog_enabled() == []
    assert autolog_enabled() == ["keras", "lightgbm", "sklearn", "xgboost"]
    assert [r.name for r in records()] == ["tree", "quiet"]
