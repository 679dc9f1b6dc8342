"""MLflow: logging, loading and autologging, against a real tracking store.

Each test gets its own SQLite store and artifact folder in a temporary
folder: no server, nothing left behind.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import TunedMLPClassifier
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
    """Check autolog around the tuner against autolog around GridSearchCV."""
    X, y = iris
    # Autolog's default format, cloudpickle: with skops, MLflow fails to log
    # GridSearchCV itself (its scorer and splitter are not trusted by default).
    mlflow.sklearn.autolog(log_models=False)
    with mlflow.start_run() as grid_run:
        grid = GridSearchCV(fast_mlp, GRID, cv=3).fit(X, y)
    mlflow.sklearn.autolog()
    with mlflow.start_run() as tuner_run:
        tuner = TunedMLPClassifier(  # one network, as GridSearchCV predicts
            fast_mlp, param_space=GRID, search="grid", cv=3, n_jobs=1, ensemble_size=1
        ).fit(X, y)
    parents, children = _runs(experiment)
    # One run each: none for the networks fitted inside the search.
    assert set(parents.run_id) == {grid_run.info.run_id, tuner_run.info.run_id}
    expected = parents.set_index("run_id")
    grid_row = expected.loc[grid_run.info.run_id]
    tuner_row = expected.loc[tuner_run.info.run_id]

    params = _params(tuner_row)
    for name, value in tuner.get_params(deep=False).items():
        assert params[name] == str(value)[:500]
    for name, value in tuner.best_params_.items():
        assert params[f"best_{name}"] == str(value) == _params(grid_row)[f"best_{name}"]
    assert tuner_row["metrics.best_cv_score"] == pytest.approx(tuner.best_score_)
    assert tuner_row["metrics.best_cv_score"] == pytest.approx(grid.best_score_)
    assert tuner_row["metrics.training_score"] == pytest.approx(
        grid_row["metrics.training_score"]
    )
    assert tuner_row["tags.estimator_class"] == "sk_mlp_tune._tuned.TunedMLPClassifier"
    assert grid_row["tags.estimator_class"].endswith("._search.GridSearchCV")

    for run_id, search in [(grid_run, grid), (tuner_run, tuner)]:
        mine = children[children["tags.mlflow.parentRunId"] == run_id.info.run_id]
        assert len(mine) == len(search.cv_results_["params"])
        assert sorted(mine["metrics.mean_test_score"]) == pytest.approx(
            sorted(search.cv_results_["mean_test_score"])
        )
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id.info.run_id, artifact_path="cv_results.csv"
        )
        table = pd.read_csv(path)
        np.testing.assert_allclose(
            table["mean_test_score"], search.cv_results_["mean_test_score"]
        )

    (model,) = _models(experiment)
    assert model.source_run_id == tuner_run.info.run_id
    loaded = mlflow.sklearn.load_model(model.model_uri)
    assert isinstance(loaded, TunedMLPClassifier)
    np.testing.assert_array_equal(loaded.predict(X), tuner.predict(X))


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
    assert len(children) == min(5, len(tuner.cv_results_["params"]))
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
