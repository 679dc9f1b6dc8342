"""MLflow: logging, loading and autologging, against a real tracking store.

Each test gets its own SQLite store and artifact folder in a temporary
folder: no server, nothing left behind.
"""

import json

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import TunedMLPClassifier, TunedMLPRegressor
from sk_mlp_tune.io import trusted_types

pytest.importorskip("mlflow.sklearn", reason="needs mlflow (the 'mlflow' extra)")
import mlflow

from sk_mlp_tune.mlflow import log_to_mlflow

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # MLflow's own deprecation and pickle-format notices.
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow"),
]

GRID = {"alpha": [1e-4, 1e-2, 1.0]}


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory):
    """One SQLite store for the module: creating its tables takes seconds."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def experiment(tracking_uri, tmp_path, monkeypatch, request):
    """Log into a new experiment of the store, artifacts in ``tmp_path``."""
    # MLflow 3.17+ loads models only where this is set (its safety switch).
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    mlflow.set_tracking_uri(tracking_uri)
    experiment_id = mlflow.create_experiment(
        request.node.name, artifact_location=tmp_path.as_uri()
    )
    mlflow.set_experiment(experiment_id=experiment_id)
    yield experiment_id
    mlflow.sklearn.autolog(disable=True)
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def _runs(experiment_id):
    runs = mlflow.search_runs(experiment_ids=[experiment_id])
    if "tags.mlflow.parentRunId" not in runs:
        runs["tags.mlflow.parentRunId"] = None
    parents = runs[runs["tags.mlflow.parentRunId"].isna()]
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    return parents, children


def _models(experiment_id):
    return mlflow.search_logged_models(
        experiment_ids=[experiment_id], output_format="list"
    )


def _params(run):
    return {
        name.removeprefix("params."): value
        for name, value in run.items()
        if name.startswith("params.") and isinstance(value, str)
    }


def _run(run_id):
    return mlflow.get_run(run_id)


def _artifacts(run_id):
    return {item.path for item in mlflow.MlflowClient().list_artifacts(run_id)}


def _json_artifact(run_id, path):
    local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path)
    with open(local) as file:
        return json.load(file)


def _inputs(run_id):
    return sorted(
        (item.dataset.digest, tuple(tag.value for tag in item.tags))
        for item in _run(run_id).inputs.dataset_inputs
    )


def _children_of(run_id):
    return mlflow.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{run_id}'", output_format="list"
    )


def _renamed(names, search, tuner):
    """Return ``names`` with the search's class name as the tuner's."""
    return {name.replace(type(search).__name__, type(tuner).__name__) for name in names}


@pytest.fixture
def grid_tuner(fast_mlp):
    return TunedMLPClassifier(fast_mlp, param_space=GRID, search="grid", cv=3)


def test_log_model_round_trip_through_the_default_format(experiment, iris, grid_tuner):
    """Check MLflow's default path (skops): tuner, pipeline, winner, ensemble."""
    X, y = iris
    tuner = grid_tuner.fit(X, y)
    pipeline = make_pipeline(StandardScaler(), grid_tuner).fit(X, y)
    around_winner = make_pipeline(StandardScaler(), tuner.best_estimator_).fit(X, y)
    ensemble = clone(grid_tuner).set_params(ensemble_size=4).fit(X, y)
    with mlflow.start_run():
        for name, model in [
            ("tuner", tuner),
            ("pipeline", pipeline),
            ("around_winner", around_winner),
            ("ensemble", ensemble),
        ]:
            # MLflow infers the requirements by loading the model in a
            # subprocess, for seconds; once is enough here.
            known = {} if name == "tuner" else {"pip_requirements": ["sk-mlp-tune"]}
            info = mlflow.sklearn.log_model(
                model, name=name, skops_trusted_types=trusted_types(), **known
            )
            assert info.flavors["sklearn"]["serialization_format"] == "skops"
            loaded = mlflow.sklearn.load_model(info.model_uri)
            np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
            np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))
    # The search stays in the session; pickle still keeps it.
    assert not hasattr(loaded, "search_")
    assert hasattr(tuner, "search_")


def test_autolog_records_what_it_records_for_grid_search(experiment, iris, fast_mlp):
    """Check autolog around the tuner against autolog around GridSearchCV.

    Key by key: parameters, metrics (training metrics, and the score and
    metric computed on test data inside the run), artifacts (plots,
    estimator.html, metric_info.json), datasets, child runs, logged models.
    With one ensemble member and the same grid the models are the same, so
    the values are too.
    """
    X, y = iris
    # Two classes: the ROC and precision-recall plots are drawn for two only.
    X_train, X_test, y_train, y_test = train_test_split(
        X[y > 0], y[y > 0], random_state=0
    )
    # Autolog's default format, cloudpickle: with skops, MLflow fails to log
    # GridSearchCV itself (its scorer and splitter are not trusted by default).
    mlflow.sklearn.autolog()
    fitted = {}
    for search in [
        GridSearchCV(fast_mlp, GRID, cv=3),
        TunedMLPClassifier(
            fast_mlp, param_space=GRID, search="grid", cv=3, n_jobs=1, ensemble_size=1
        ),
    ]:
        with mlflow.start_run() as run:
            search.fit(X_train, y_train)
            search.score(X_test, y_test)
            sklearn.metrics.accuracy_score(y_test, search.predict(X_test))
        fitted[type(search).__name__] = (search, run.info.run_id)
    (grid, grid_id), (tuner, tuner_id) = fitted.values()
    parents, _ = _runs(experiment)
    # One run each: none for the networks fitted inside the search.
    assert set(parents.run_id) == {grid_id, tuner_id}
    grid_run, tuner_run = _run(grid_id).data, _run(tuner_id).data

    for name, value in tuner.get_params(deep=False).items():
        assert tuner_run.params[name] == str(value)[:500]
    for name, value in tuner.best_params_.items():
        assert tuner_run.params[f"best_{name}"] == str(value)
        assert tuner_run.params[f"best_{name}"] == grid_run.params[f"best_{name}"]
    assert tuner_run.tags["estimator_class"] == "sk_mlp_tune._tuned.TunedMLPClassifier"
    assert grid_run.tags["estimator_class"].endswith("._search.GridSearchCV")

    # The training metrics, best_cv_score, training_score, and those on test
    # data: TunedMLPClassifier_score_X_test and accuracy_score_X_test.
    assert {"training_roc_auc", "TunedMLPClassifier_score_X_test"} <= set(
        tuner_run.metrics
    )
    assert "accuracy_score_X_test" in tuner_run.metrics
    assert set(tuner_run.metrics) == _renamed(grid_run.metrics, grid, tuner)
    for name, value in grid_run.metrics.items():
        assert tuner_run.metrics[
            name.replace("GridSearchCV", "TunedMLPClassifier")
        ] == (pytest.approx(value)), name
    assert tuner_run.metrics["best_cv_score"] == pytest.approx(tuner.best_score_)
    # (tuner.score here would log a second score: ask the best network.)
    assert tuner_run.metrics["TunedMLPClassifier_score_X_test"] == pytest.approx(
        tuner.best_estimator_.score(X_test, y_test)
    )

    # cv_results.csv, estimator.html, metric_info.json and the three plots.
    assert {
        "estimator.html",
        "metric_info.json",
        "training_confusion_matrix.png",
        "training_roc_curve.png",
        "training_precision_recall_curve.png",
    } <= _artifacts(tuner_id)
    assert _artifacts(tuner_id) == _artifacts(grid_id)
    grid_info = _json_artifact(grid_id, "metric_info.json")
    assert _json_artifact(tuner_id, "metric_info.json") == {
        name.replace("GridSearchCV", "TunedMLPClassifier"): call.replace(
            "GridSearchCV", "TunedMLPClassifier"
        )
        for name, call in grid_info.items()
    }
    # The training data, and the test data as predicted.
    assert _inputs(tuner_id) == _inputs(grid_id)
    assert len(_inputs(tuner_id)) == 2

    for run_id, search in [(grid_id, grid), (tuner_id, tuner)]:
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="cv_results.csv"
        )
        table = pd.read_csv(path)
        np.testing.assert_allclose(
            table["mean_test_score"], search.cv_results_["mean_test_score"]
        )

    # One child per candidate, with every parameter of its network.
    children = {
        run_id: {c.data.params["alpha"]: c for c in _children_of(run_id)}
        for run_id in (grid_id, tuner_id)
    }
    assert set(children[tuner_id]) == {str(alpha) for alpha in GRID["alpha"]}
    assert set(children[tuner_id]) == set(children[grid_id])
    for alpha, grid_child in children[grid_id].items():
        child = children[tuner_id][alpha]
        assert child.data.params == grid_child.data.params
        assert set(child.data.params) == set(fast_mlp.get_params())
        assert child.data.tags["estimator_name"] == "MLPClassifier"
        assert child.data.tags["mlflow.autologging"] == "sklearn"
        assert set(child.data.metrics) == set(grid_child.data.metrics)
        assert child.data.metrics["mean_test_score"] == pytest.approx(
            grid_child.data.metrics["mean_test_score"]
        )
        assert len(child.inputs.dataset_inputs) == len(grid_child.inputs.dataset_inputs)

    # The search as "model", the best network as "best_estimator".
    models = {
        run_id: {m.name: m for m in _models(experiment) if m.source_run_id == run_id}
        for run_id in (grid_id, tuner_id)
    }
    assert set(models[tuner_id]) == set(models[grid_id]) == {"model", "best_estimator"}
    for name, grid_model in models[grid_id].items():
        model = models[tuner_id][name]
        assert {m.key for m in model.metrics} == _renamed(
            {m.key for m in grid_model.metrics}, grid, tuner
        ), name
    loaded = mlflow.sklearn.load_model(models[tuner_id]["model"].model_uri)
    assert isinstance(loaded, TunedMLPClassifier)
    np.testing.assert_array_equal(loaded.predict(X), tuner.predict(X))
    best = mlflow.sklearn.load_model(models[tuner_id]["best_estimator"].model_uri)
    assert isinstance(best, MLPClassifier)
    np.testing.assert_allclose(best.predict_proba(X), grid.predict_proba(X))


def test_autolog_logs_a_regressor_as_grid_search(experiment):
    """Check a regressor's run gets the regression metrics GridSearchCV's gets."""
    X, y = load_diabetes(return_X_y=True)
    X, y = StandardScaler().fit_transform(X[:150]), y[:150] / 100
    mlp = MLPRegressor(
        hidden_layer_sizes=(4,), solver="lbfgs", max_iter=50, random_state=0
    )
    mlflow.sklearn.autolog(log_models=False)
    run_ids = []
    for search in [
        GridSearchCV(mlp, GRID, cv=2),
        TunedMLPRegressor(mlp, param_space=GRID, search="grid", cv=2, ensemble_size=1),
    ]:
        with mlflow.start_run() as run:
            search.fit(X, y)
        run_ids.append(run.info.run_id)
    grid_metrics, tuner_metrics = (_run(run_id).data.metrics for run_id in run_ids)
    assert {"training_r2_score", "training_root_mean_squared_error"} <= set(
        tuner_metrics
    )
    assert tuner_metrics == pytest.approx(grid_metrics)
    assert _artifacts(run_ids[1]) == _artifacts(run_ids[0])
    assert "estimator.html" in _artifacts(run_ids[1])


def test_autolog_score_after_fit_logs_into_the_fitted_run_only(
    experiment, iris, grid_tuner
):
    """Check score and predict patch reach only a tracked tuner, and unpatch.

    A tuner fitted without autolog logs nothing; a failure to log a score
    leaves the score; autolog(disable=True) restores the methods.
    """
    X, y = iris
    own_score = TunedMLPClassifier.__dict__["score"]
    untracked = clone(grid_tuner).fit(X, y)
    mlflow.sklearn.autolog(log_models=False, log_datasets=False)
    with mlflow.start_run() as run:
        grid_tuner.fit(X, y)
    assert TunedMLPClassifier.__dict__["score"] is not own_score
    X_later, y_later = X[::2], y[::2]
    expected = grid_tuner.best_estimator_.score(X_later, y_later)
    # Outside the run too: the metric goes to the run the tuner was fitted in.
    assert grid_tuner.score(X_later, y_later) == pytest.approx(expected)
    untracked.score(X_later, y_later)
    metrics = _run(run.info.run_id).data.metrics
    assert metrics["TunedMLPClassifier_score_X_later"] == pytest.approx(expected)
    assert [name for name in metrics if "_score_" in name] == [
        "TunedMLPClassifier_score_X_later"
    ]
    assert len(_runs(experiment)[0]) == 1
    # log_datasets=False: no "train" or "eval" input (the metrics still name
    # their dataset, as GridSearchCV's do).
    assert not [i.tags for i in _run(run.info.run_id).inputs.dataset_inputs if i.tags]

    def unreachable_store(*args, **kwargs):
        raise ConnectionError("tracking server unreachable")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mlflow.MlflowClient, "log_metric", unreachable_store)
        assert grid_tuner.score(X_later[1:], y_later[1:]) == pytest.approx(
            grid_tuner.best_estimator_.score(X_later[1:], y_later[1:])
        )
    mlflow.sklearn.autolog(disable=True)
    assert TunedMLPClassifier.__dict__["score"] is own_score


def test_autolog_starts_its_own_run_and_leaves_failures_unlogged(
    experiment, iris, fast_mlp
):
    """Check a run is made when none is active, and none for a failed fit.

    The default strategy, successive halving, once recorded no best
    parameters, no score and no results, under its internal class's name.
    """
    X, y = iris
    mlflow.sklearn.autolog(log_models=False)
    tuner = TunedMLPClassifier(
        fast_mlp, param_space={"alpha": (1e-4, 1.0, "log-uniform")}, n_iter=4, cv=2
    ).fit(X, y)
    assert mlflow.active_run() is None
    parents, children = _runs(experiment)
    (run,) = (row for _, row in parents.iterrows())
    assert run["tags.estimator_name"] == "TunedMLPClassifier"
    assert _params(run)["search"] == "halving"
    assert _params(run)["best_alpha"] == str(tuner.best_params_["alpha"])
    assert run["metrics.best_cv_score"] == pytest.approx(tuner.best_score_)
    assert run["tags.mlflow.autologging"] == "sklearn"
    # One child per candidate, whatever the rungs it reached.
    n_candidates = len({p["alpha"] for p in tuner.cv_results_["params"]})
    assert len(children) == min(5, n_candidates)
    assert not _models(experiment)

    with pytest.raises(ValueError, match="param_space"):
        TunedMLPClassifier(fast_mlp, param_space={"alhpa": [1.0]}, cv=3).fit(X, y)
    assert len(_runs(experiment)[0]) == 1


def test_autolog_inside_a_pipeline_logs_the_search_in_a_child_run(
    experiment, iris, grid_tuner
):
    """Check the pipeline's run stays the pipeline's; the search gets a child."""
    X, y = iris
    mlflow.sklearn.autolog(log_models=False)
    pipeline = make_pipeline(StandardScaler(), grid_tuner).fit(X, y)
    parents, children = _runs(experiment)
    (pipeline_id,) = parents.run_id
    assert "params.steps" in parents  # the pipeline's own parameters
    tuner_runs = children[children["tags.estimator_name"] == "TunedMLPClassifier"]
    (row,) = (row for _, row in tuner_runs.iterrows())
    assert row["params.best_alpha"] == str(pipeline[-1].best_params_["alpha"])
    assert row["tags.mlflow.parentRunId"] == pipeline_id
    candidates = children[children["tags.mlflow.parentRunId"] == row["run_id"]]
    assert len(candidates) == len(GRID["alpha"])


def test_log_to_mlflow_halving_puts_the_winner_first(experiment, iris, fast_mlp):
    """Check the child runs follow the winner-first order of successive halving."""
    X, y = iris
    tuner = TunedMLPClassifier(
        fast_mlp.set_params(solver="adam", max_iter=30),
        param_space={"alpha": (1e-4, 1.0, "log-uniform")},
        search="halving",
        n_iter=6,
        cv=2,
        random_state=0,
    ).fit(X, y)
    with mlflow.start_run() as run:
        info = log_to_mlflow(tuner, max_tuning_runs=1, input_example=X[:3])
    assert info.signature is not None
    _, children = _runs(experiment)
    assert len(children) == 1  # the chosen candidate, at the last rung
    assert children.iloc[0]["params.alpha"] == str(tuner.best_params_["alpha"])
    assert mlflow.get_run(run.info.run_id).data.metrics["best_cv_score"] == (
        pytest.approx(tuner.best_score_)
    )


@pytest.mark.parametrize("search", ["halving", "asha"])
def test_log_to_mlflow_gives_a_candidate_one_child_at_its_highest_rung(
    experiment, iris, fast_mlp, search
):
    """Check a candidate met at several rungs gets one child, at its last rung."""
    X, y = iris
    tuner = TunedMLPClassifier(
        fast_mlp.set_params(solver="adam", max_iter=30),
        param_space={"alpha": (1e-4, 1.0, "log-uniform")},
        search=search,
        n_iter=6,
        cv=2,
        random_state=0,
    ).fit(X, y)
    results = tuner.cv_results_
    highest = {}
    for params, rung, epochs in zip(
        results["params"], results["iter"], results["n_resources"], strict=True
    ):
        highest[params["alpha"]] = max(
            highest.get(params["alpha"], (-1, 0)), (rung, epochs)
        )
    assert len(highest) < len(results["params"])  # some reached a second rung
    with mlflow.start_run():
        log_to_mlflow(tuner, max_tuning_runs=None, log_model=False)
    _, children = _runs(experiment)
    assert sorted(children["params.alpha"]) == sorted(str(a) for a in highest)
    for _, child in children.iterrows():
        rung, epochs = highest[float(child["params.alpha"])]
        assert child["metrics.iter"] == rung
        assert child["metrics.n_resources"] == epochs
        # Every parameter, the epochs as the rung trained them.
        assert child["params.max_iter"] == str(epochs)
        assert child["params.hidden_layer_sizes"] == "(8,)"


def test_log_to_mlflow_refuses_bad_input(experiment, iris, grid_tuner):
    """Check an unfitted tuner and a bad max_tuning_runs fail before logging."""
    with pytest.raises(NotFittedError):
        log_to_mlflow(grid_tuner)
    with pytest.raises(TypeError, match="got GridSearchCV"):
        log_to_mlflow(GridSearchCV(grid_tuner, {"cv": [2]}))
    grid_tuner.fit(*iris)
    with pytest.raises(ValueError, match="max_tuning_runs must be"):
        log_to_mlflow(grid_tuner, max_tuning_runs=-1)
    assert mlflow.active_run() is None
    assert not len(_runs(experiment)[0])


def test_autolog_failure_warns_and_keeps_the_fit(
    experiment, iris, grid_tuner, monkeypatch
):
    """Check a failure to log leaves the fitted tuner whole, as autolog does."""
    import sk_mlp_tune.mlflow

    def unreachable_store(*args, **kwargs):
        raise ConnectionError("tracking server unreachable")

    monkeypatch.setattr(sk_mlp_tune.mlflow, "_log_search", unreachable_store)
    mlflow.sklearn.autolog(log_models=False)
    with pytest.warns(UserWarning, match="autologging of TunedMLPClassifier failed"):
        grid_tuner.fit(*iris)
    assert grid_tuner.best_params_["alpha"] in GRID["alpha"]
