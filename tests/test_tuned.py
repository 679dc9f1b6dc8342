"""Behaviour of TunedMLPClassifier: results, delegation, compatibility, bad input."""

import copy
import numbers
import pickle
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    RandomizedSearchCV,
    cross_val_score,
    cross_validate,
)
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import (
    DropoutMLPClassifier,
    TunedMLPClassifier,
    default_param_space,
)
from sk_mlp_tune._network import architecture
from sk_mlp_tune._skopt import BayesSearchCV

# Convergence is not what these tests are about: small budgets on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SEARCHES = ["grid", "random", "bayes"]
SPACE = {"alpha": (1e-4, 1e1, "log-uniform"), "activation": ["relu", "tanh"]}


def make_tuner(estimator, search="grid", **params):
    # The best mean, as GridSearchCV: test_portfolio.py tests the other rule.
    params = {
        "param_space": SPACE,
        "n_iter": 3,
        "cv": 3,
        "random_state": 0,
        "selection": "best",
        **params,
    }
    return TunedMLPClassifier(estimator, search=search, **params)


@pytest.mark.parametrize("search", SEARCHES)
def test_fit_best_params_lie_in_space(iris, fast_mlp, search):
    """Check that each strategy picks its best candidate from the space."""
    X, y = iris
    tuner = make_tuner(fast_mlp, search).fit(X, y)
    assert type(tuner.best_params_) is dict
    assert set(tuner.best_params_) == set(SPACE)
    assert 1e-4 <= tuner.best_params_["alpha"] <= 1e1
    assert tuner.best_params_["activation"] in ("relu", "tanh")
    n_candidates = 2 * 3 if search == "grid" else 3
    assert len(tuner.cv_results_["params"]) == n_candidates
    assert tuner.best_score_ == pytest.approx(
        np.max(tuner.cv_results_["mean_test_score"])
    )
    assert tuner.best_params_ == tuner.cv_results_["params"][tuner.best_index_]
    assert all(not isinstance(v, np.generic) for v in tuner.best_params_.values())
    assert tuner.n_splits_ == 3
    assert tuner.best_score_ > 0.8


@pytest.mark.parametrize("search", SEARCHES)
def test_fit_search_object_matches_strategy(iris, fast_mlp, search):
    """Check that search_ is the scikit-learn / scikit-optimize search asked for."""
    X, y = iris
    expected = {
        "grid": GridSearchCV,
        "random": RandomizedSearchCV,
        "bayes": BayesSearchCV,
    }[search]
    tuner = make_tuner(fast_mlp, search).fit(X, y)
    assert isinstance(tuner.search_, expected)
    assert tuner.cv_results_ is tuner.search_.cv_results_


def test_fit_refit_model_equals_manual_fit(iris, fast_mlp):
    """Check that the refitted model is a plain fit with best_params_."""
    X, y = iris
    # One network: the ensemble's predictions are tested in test_ensemble.py.
    tuner = make_tuner(fast_mlp, "random", ensemble_size=1).fit(X, y)
    manual = clone(fast_mlp).set_params(**tuner.best_params_).fit(X, y)
    for tuned_w, manual_w in zip(tuner.coefs_, manual.coefs_, strict=True):
        np.testing.assert_allclose(tuned_w, manual_w)
    for tuned_b, manual_b in zip(tuner.intercepts_, manual.intercepts_, strict=True):
        np.testing.assert_allclose(tuned_b, manual_b)
    np.testing.assert_array_equal(tuner.predict(X), manual.predict(X))
    np.testing.assert_allclose(tuner.predict_proba(X), manual.predict_proba(X))
    np.testing.assert_allclose(tuner.predict_log_proba(X), manual.predict_log_proba(X))


def test_fit_grid_equals_hand_built_grid_search(iris, fast_mlp):
    """Check that grid search through the tuner scores like GridSearchCV by hand."""
    X, y = iris
    grid = {"alpha": [1e-4, 1e-2, 1.0], "activation": ["relu", "tanh"]}
    tuner = make_tuner(fast_mlp, "grid", param_space=grid).fit(X, y)
    by_hand = GridSearchCV(fast_mlp, grid, cv=3).fit(X, y)
    assert tuner.cv_results_["params"] == by_hand.cv_results_["params"]
    np.testing.assert_allclose(
        tuner.cv_results_["mean_test_score"], by_hand.cv_results_["mean_test_score"]
    )
    assert tuner.best_params_ == by_hand.best_params_


def test_fit_grid_discretises_log_ranges(iris, fast_mlp):
    """Check that grid search cuts a log range into log-spaced values."""
    X, y = iris
    tuner = make_tuner(
        fast_mlp,
        "grid",
        param_space={"alpha": (1e-4, 1.0, "log-uniform")},
        n_grid_points=5,
    ).fit(X, y)
    alphas = [params["alpha"] for params in tuner.cv_results_["params"]]
    np.testing.assert_allclose(alphas, [1e-4, 1e-3, 1e-2, 1e-1, 1.0])


@pytest.mark.parametrize("search", SEARCHES)
def test_fit_hidden_layer_size_tuples(iris, fast_mlp, search):
    """Check that tuples of hidden layer sizes are searched and reported as tuples."""
    X, y = iris
    sizes = [(4,), (6, 3), (8, 4, 2)]
    tuner = make_tuner(
        fast_mlp, search, param_space={"hidden_layer_sizes": sizes}, n_iter=3
    ).fit(X, y)
    # The estimator's own (8,) is a candidate too, but in a grid of one's own.
    candidates = sizes if search == "grid" else [*sizes, (8,)]
    assert tuner.best_params_["hidden_layer_sizes"] in candidates
    for params, origin in zip(
        tuner.cv_results_["params"], tuner.cv_results_["origin"], strict=True
    ):
        assert params["hidden_layer_sizes"] in candidates
        assert (origin == "estimator") == (params["hidden_layer_sizes"] == (8,))
    assert (
        tuner.best_estimator_.hidden_layer_sizes
        == tuner.best_params_["hidden_layer_sizes"]
    )
    assert tuner.n_layers_ == len(tuner.best_params_["hidden_layer_sizes"]) + 2


def test_fit_subspaces(iris, fast_mlp):
    """Check that a list of dicts searches the union of sub-spaces."""
    X, y = iris
    space = [
        {"solver": ["lbfgs"], "alpha": (1e-3, 1.0, "log-uniform")},
        {"solver": ["adam"], "learning_rate_init": (1e-3, 1e-1, "log-uniform")},
    ]
    for search in SEARCHES:
        tuner = make_tuner(fast_mlp, search, param_space=space, n_iter=6).fit(X, y)
        solvers = [p["solver"] for p in tuner.cv_results_["params"]]
        assert set(solvers) == {"lbfgs", "adam"}, search
        for params in tuner.cv_results_["params"]:
            if params["solver"] == "adam":
                assert "alpha" not in params


@pytest.mark.parametrize("search", ["random", "bayes"])
def test_fit_reproducible_across_n_jobs(digits, search):
    """Check that a seeded search gives the same results with 1 and 2 jobs."""
    X, y = digits
    results = []
    for n_jobs in (1, 2):
        tuner = TunedMLPClassifier(
            MLPClassifier(max_iter=30),
            param_space={
                "hidden_layer_sizes": [(16,), (32, 16)],
                "learning_rate_init": (1e-3, 1e-1, "log-uniform"),
            },
            search=search,
            n_iter=4,
            cv=2,
            n_jobs=n_jobs,
            random_state=0,
        )
        results.append(tuner.fit(X, y))
    one, two = results
    assert one.best_params_ == two.best_params_
    np.testing.assert_array_equal(
        one.cv_results_["mean_test_score"], two.cv_results_["mean_test_score"]
    )
    assert one.cv_results_["params"] == two.cv_results_["params"]


def test_fit_seed_reaches_unseeded_estimator(iris):
    """Check that random_state seeds an unseeded MLP and differs across seeds."""
    X, y = iris
    mlp = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=300)
    fits = [make_tuner(mlp, "grid", random_state=seed).fit(X, y) for seed in (0, 0, 1)]
    np.testing.assert_array_equal(fits[0].coefs_[0], fits[1].coefs_[0])
    assert not np.array_equal(fits[0].coefs_[0], fits[2].coefs_[0])
    assert mlp.random_state is None


def test_fit_does_not_mutate_inputs(iris, fast_mlp):
    """Check that fit leaves the estimator, the space and the data as given."""
    X, y = iris
    X, y = X.copy(), y.copy()
    space = [{"alpha": (1e-4, 1.0, "log-uniform"), "hidden_layer_sizes": [(4,), (8,)]}]
    space_before = copy.deepcopy(space)
    params_before = fast_mlp.get_params()
    X_before, y_before = X.copy(), y.copy()
    make_tuner(fast_mlp, "bayes", param_space=space).fit(X, y)
    assert space == space_before
    assert fast_mlp.get_params() == params_before
    assert not hasattr(fast_mlp, "coefs_")
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_fit_default_estimator_and_space(digits):
    """Check that the defaults tune a dropout MLP, its architecture as scalars."""
    X, y = digits
    tuner = TunedMLPClassifier(search="random", n_iter=2, cv=2, random_state=0)
    tuner.fit(X, y)
    best = tuner.best_estimator_
    assert isinstance(best, DropoutMLPClassifier)
    assert best.max_iter == 200
    assert not best.early_stopping
    assert set(tuner.best_params_) == set(default_param_space())
    params = tuner.best_params_
    assert best.hidden_layer_sizes_ == architecture(
        params["n_hidden_layers"], params["n_neurons"], params["layer_shape"]
    )
    assert [w.shape[1] for w in tuner.coefs_[:-1]] == list(best.hidden_layer_sizes_)
    assert 0 <= params["dropout"] <= 0.5
    assert tuner.score(X, y) > 0.8


@pytest.mark.parametrize("search", SEARCHES)
def test_default_space_in_every_strategy(digits, search):
    """Check that every strategy searches the default architecture and dropout."""
    X, y = digits
    tuner = TunedMLPClassifier(
        DropoutMLPClassifier(max_iter=3),
        search=search,
        n_iter=3,
        cv=2,
        random_state=0,
        n_jobs=2,
    ).fit(X, y)
    # The default grid starts from the estimator's own settings too.
    expected = {"grid": 33, "random": 3, "bayes": 3}[search]
    assert len(tuner.cv_results_["params"]) == expected
    assert tuner.cv_results_["origin"][0] == "estimator"
    for params in tuner.cv_results_["params"]:
        assert 1 <= params["n_hidden_layers"] <= 3
        assert 16 <= params["n_neurons"] <= 256
        assert isinstance(params["n_neurons"], numbers.Integral)
        assert params["layer_shape"] in ("constant", "funnel")
        assert 0 <= params["dropout"] <= 0.5
    if search == "bayes":
        dimensions = tuner.search_.search_spaces[0][0]
        assert type(dimensions["n_neurons"]).__name__ == "Integer"
        assert dimensions["n_neurons"].prior == "log-uniform"
        assert type(dimensions["dropout"]).__name__ == "Real"


def test_plain_mlp_gets_the_tuple_space(iris):
    """Check that a plain MLPClassifier is tuned over hidden_layer_sizes tuples."""
    X, y = iris
    tuner = TunedMLPClassifier(
        MLPClassifier(max_iter=5), search="bayes", n_iter=3, cv=2, random_state=0
    ).fit(X, y)
    assert isinstance(tuner.best_params_["hidden_layer_sizes"], tuple)
    assert "dropout" not in tuner.best_params_


def test_shorthand_space_with_fixed_sizes_is_refused(iris):
    """Check that searching n_neurons on a template with fixed sizes fails early."""
    X, y = iris
    tuner = TunedMLPClassifier(
        DropoutMLPClassifier(hidden_layer_sizes=(10,)),
        param_space={"n_neurons": [8, 16]},
    )
    with pytest.raises(ValueError, match=r"sets n_neurons, but the estimator has"):
        tuner.fit(X, y)
    # Searching the tuples themselves is fine.
    tuner.set_params(param_space={"hidden_layer_sizes": [(4,), (8, 4)]}, search="grid")
    assert tuner.fit(X, y).best_params_["hidden_layer_sizes"] in [(4,), (8, 4)]


def test_fitted_attributes_delegate_to_best_estimator(iris, fast_mlp):
    """Check that the learned weights and MLP attributes are the best model's."""
    X, y = iris
    tuner = make_tuner(fast_mlp).fit(X, y)
    best = tuner.best_estimator_
    for name in ("coefs_", "intercepts_"):
        assert getattr(tuner, name) is getattr(best, name)
    for name in ("n_layers_", "n_outputs_", "out_activation_", "loss_", "n_iter_"):
        assert getattr(tuner, name) == getattr(best, name)
    # lbfgs records no loss curve: the attribute is absent, as on the MLP.
    assert not hasattr(tuner, "loss_curve_")
    assert tuner.refit_time_ >= 0
    assert callable(tuner.scorer_)
    np.testing.assert_array_equal(tuner.classes_, [0, 1, 2])
    assert tuner.n_features_in_ == 4


def test_loss_curve_delegates_for_stochastic_solver(iris):
    """Check that loss_curve_ is the refitted model's when the solver records one."""
    X, y = iris
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    tuner = make_tuner(mlp, param_space={"alpha": [1e-4]}, cv=2)
    tuner.fit(X, y)
    assert tuner.loss_curve_ == tuner.best_estimator_.loss_curve_
    assert len(tuner.loss_curve_) == tuner.n_iter_


def test_refit_false_keeps_results_but_refuses_prediction(iris, fast_mlp):
    """Check that refit=False keeps the search results and says why predict fails."""
    X, y = iris
    tuner = make_tuner(fast_mlp, refit=False).fit(X, y)
    assert tuner.best_params_
    assert "mean_test_score" in tuner.cv_results_
    assert not hasattr(tuner, "best_estimator_")
    with pytest.raises(AttributeError, match="refit=False, so predict is not"):
        tuner.predict(X)
    with pytest.raises(AttributeError, match="refit=False, so predict_proba is not"):
        tuner.predict_proba(X)
    with pytest.raises(AttributeError, match="refit=False, so score is not"):
        tuner.score(X, y)
    with pytest.raises(AttributeError, match="refit=False, so coefs_ is not available"):
        tuner.coefs_  # noqa: B018


def test_unfitted_raises_not_fitted(iris, fast_mlp):
    """Check that predicting or reading weights before fit raises NotFittedError."""
    X, _ = iris
    tuner = make_tuner(fast_mlp)
    for method in ("predict", "predict_proba", "predict_log_proba"):
        with pytest.raises(NotFittedError):
            getattr(tuner, method)(X)
    with pytest.raises(NotFittedError):
        tuner.coefs_  # noqa: B018


def test_predict_wrong_number_of_features(iris, fast_mlp):
    """Check that predict refuses data with another number of features."""
    X, y = iris
    tuner = make_tuner(fast_mlp).fit(X, y)
    with pytest.raises(ValueError, match=r"X has 3 features.*expecting 4 features"):
        tuner.predict(X[:, :3])


@pytest.mark.parametrize("labels", [["setosa", "versicolor", "virginica"], [-1, 5, 9]])
def test_fit_string_and_integer_labels(iris, fast_mlp, labels):
    """Check that string and integer labels come back as they went in."""
    X, y = iris
    y = np.asarray(labels, dtype=object if isinstance(labels[0], str) else int)[y]
    tuner = make_tuner(fast_mlp).fit(X, y)
    assert list(tuner.classes_) == sorted(labels)
    assert set(tuner.predict(X)) <= set(labels)
    assert tuner.score(X, y) > 0.8


def test_fit_binary_target(iris, fast_mlp):
    """Check that a two-class problem fits and gives two probability columns."""
    X, y = iris
    X, y = X[y < 2], y[y < 2]
    tuner = make_tuner(fast_mlp, "bayes").fit(X, y)
    assert tuner.predict_proba(X).shape == (len(y), 2)
    assert tuner.out_activation_ == "logistic"
    assert tuner.score(X, y) > 0.95


def test_pandas_input_keeps_feature_names(iris, fast_mlp):
    """Check that a DataFrame's column names are kept and checked at predict time."""
    X, y = iris
    frame = pd.DataFrame(X, columns=["sepal_l", "sepal_w", "petal_l", "petal_w"])
    tuner = make_tuner(fast_mlp).fit(frame, pd.Series(y))
    assert list(tuner.feature_names_in_) == list(frame.columns)
    np.testing.assert_array_equal(
        tuner.predict(frame), tuner.best_estimator_.predict(X)
    )
    with pytest.raises(ValueError, match="feature names"):
        tuner.predict(frame[frame.columns[::-1]])


def test_pipeline_and_nested_cross_validation(iris, fast_mlp):
    """Check that the tuner works inside a Pipeline and cross_validate."""
    X, y = iris
    pipe = make_pipeline(StandardScaler(), make_tuner(fast_mlp, "random", n_iter=2))
    scores = cross_validate(pipe, X, y, cv=3, return_estimator=True)
    assert scores["test_score"].mean() > 0.8
    assert all(p[-1].best_params_ for p in scores["estimator"])
    assert cross_val_score(make_tuner(fast_mlp, n_iter=2), X, y, cv=2).mean() > 0.8


def test_grid_search_over_tuner(iris, fast_mlp):
    """Check that the tuner's own parameters can be searched by GridSearchCV."""
    X, y = iris
    outer = GridSearchCV(make_tuner(fast_mlp, "random"), {"n_iter": [1, 2]}, cv=2)
    outer.fit(X, y)
    assert outer.best_params_["n_iter"] in (1, 2)
    assert (
        len(outer.best_estimator_.cv_results_["params"]) == outer.best_params_["n_iter"]
    )


@pytest.mark.parametrize("search", SEARCHES)
def test_pickle_and_joblib_round_trip(iris, fast_mlp, tmp_path, search):
    """Check that a pickled or joblib-dumped tuner predicts identically."""
    X, y = iris
    tuner = make_tuner(
        fast_mlp, search, param_space={"hidden_layer_sizes": [(4,), (6, 3)]}, n_iter=2
    ).fit(X, y)
    unpickled = pickle.loads(pickle.dumps(tuner))
    joblib.dump(tuner, tmp_path / "tuner.joblib")
    loaded = joblib.load(tmp_path / "tuner.joblib")
    for copy_ in (unpickled, loaded):
        np.testing.assert_array_equal(copy_.predict_proba(X), tuner.predict_proba(X))
        assert copy_.best_params_ == tuner.best_params_


def test_clone_keeps_params_and_drops_fit(iris, fast_mlp):
    """Check that clone gives an unfitted tuner with equal parameters."""
    X, y = iris
    tuner = make_tuner(fast_mlp).fit(X, y)
    cloned = clone(tuner)
    assert cloned.get_params()["param_space"] == tuner.get_params()["param_space"]
    assert not hasattr(cloned, "search_")


class _WeightCheckingMLP(MLPClassifier):
    """An MLP that refuses to be fitted without sample weights of the right length."""

    def fit(self, X, y, sample_weight=None):
        assert sample_weight is not None, "sample_weight did not reach this fit"
        assert len(sample_weight) == len(X)
        self.weight_sum_ = float(np.sum(sample_weight))
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("search", SEARCHES)
def test_sample_weight_reaches_every_fit(iris, search):
    """Check that sample_weight is sliced to every CV fit and to the refit."""
    X, y = iris
    mlp = _WeightCheckingMLP(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=100)
    tuner = make_tuner(mlp, search, param_space={"alpha": [1e-3, 1e-1]}, n_iter=2)
    tuner.set_params(error_score="raise")
    weights = np.linspace(0.5, 1.5, len(y))
    tuner.fit(X, y, sample_weight=weights)
    assert tuner.best_estimator_.weight_sum_ == pytest.approx(weights.sum())


class _NoWeightClassifier(MLPClassifier):
    """An MLP whose fit, like scikit-learn < 1.7's, takes no sample_weight."""

    def fit(self, X, y):
        return super().fit(X, y)


def test_sample_weight_unsupported_is_refused_before_fitting(iris):
    """Check that sample_weight for an estimator that cannot take it fails early."""
    X, y = iris
    tuner = make_tuner(_NoWeightClassifier(), "grid")
    with pytest.raises(TypeError, match=r"_NoWeightClassifier\.fit does not accept it"):
        tuner.fit(X, y, sample_weight=np.ones(len(y)))
    assert not hasattr(tuner, "search_")


def test_groups_reach_the_splitter(iris, fast_mlp):
    """Check that groups given to fit reach a group-aware CV splitter."""
    X, y = iris
    groups = np.arange(len(y)) % 3
    tuner = make_tuner(fast_mlp, cv=GroupKFold(n_splits=3)).fit(X, y, groups=groups)
    assert tuner.n_splits_ == 3
    # As scikit-learn's own test: without the groups, the splitter refuses.
    with pytest.raises(ValueError, match="'groups' parameter should not be None"):
        make_tuner(fast_mlp, cv=GroupKFold(n_splits=3)).fit(X, y)


X_BAD_NAN = np.array([[0.0, 1.0], [np.nan, 1.0], [1.0, 0.0], [1.0, 1.0]])
X_BAD_INF = np.array([[0.0, 1.0], [np.inf, 1.0], [1.0, 0.0], [1.0, 1.0]])
X_OK = np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [1.0, 2.0]] * 3)
Y_OK = np.array([0, 1, 0, 1] * 3)


@pytest.mark.parametrize(
    ("params", "X", "y", "err_type", "match"),
    [
        ({}, X_BAD_NAN, Y_OK[:4], ValueError, "Input X contains NaN"),
        ({}, X_BAD_INF, Y_OK[:4], ValueError, "Input X contains infinity"),
        ({}, X_OK, np.zeros(12), ValueError, r"at least 2 classes in y; got 1 class"),
        ({}, X_OK, np.linspace(0, 1, 12), ValueError, "Unknown label type: continuous"),
        ({"n_iter": 0}, X_OK, Y_OK, ValueError, "'n_iter' parameter.*Got 0 instead"),
        ({"search": "genetic"}, X_OK, Y_OK, ValueError, "'search' parameter.*genetic"),
        ({"n_grid_points": 1}, X_OK, Y_OK, ValueError, "'n_grid_points' parameter"),
        ({"scoring": "acc"}, X_OK, Y_OK, ValueError, "'scoring' parameter"),
        (
            {"param_space": {"learning_rate_int": [0.1]}},
            X_OK,
            Y_OK,
            ValueError,
            r"key 'learning_rate_int'.*Did you mean 'learning_rate_init'",
        ),
        ({"param_space": {"alpha": []}}, X_OK, Y_OK, ValueError, "empty list"),
        ({"param_space": {"alpha": (1.0, 0.1)}}, X_OK, Y_OK, ValueError, "low < high"),
        (
            {"param_space": {"alpha": (0.0, 1.0, "log-uniform")}},
            X_OK,
            Y_OK,
            ValueError,
            "needs low > 0",
        ),
        (
            {"param_space": {"alpha": (0.1, 1.0, "loguniform")}},
            X_OK,
            Y_OK,
            ValueError,
            "prior 'loguniform'",
        ),
        (
            {
                "search": "bayes",
                "n_iter": 1,
                "param_space": [{"alpha": [1]}, {"tol": [1]}],
            },
            X_OK,
            Y_OK,
            ValueError,
            "n_iter must be at least 2",
        ),
    ],
)
def test_bad_input_fails_before_any_fit(params, X, y, err_type, match):
    """Check that bad data or parameters fail with a clear message before fitting."""
    estimator = _NeverFitted()
    tuner = TunedMLPClassifier(estimator, cv=2, **params)
    with pytest.raises(err_type, match=match):
        tuner.fit(X, y)
    assert not hasattr(tuner, "search_")


class _NeverFitted(MLPClassifier):
    """An MLP whose fit must not be reached: the tuner should fail first."""

    def fit(self, X, y, sample_weight=None):
        raise AssertionError("fit was reached before the bad input was caught")


def test_default_space_on_foreign_estimator_says_so(iris):
    """Check that a default space an estimator lacks asks for a param_space."""
    from sklearn.linear_model import LogisticRegression

    X, y = iris
    with pytest.raises(ValueError, match=r"default param_space \(give a param_space"):
        TunedMLPClassifier(LogisticRegression()).fit(X, y)


def test_score_uses_the_search_metric(iris, fast_mlp):
    """Check that score measures what the search maximised, not plain accuracy."""
    from sklearn.metrics import get_scorer

    X, y = iris
    tuner = make_tuner(fast_mlp, scoring="neg_log_loss").fit(X, y)
    expected = get_scorer("neg_log_loss")(tuner.best_estimator_, X, y)
    assert tuner.score(X, y) == pytest.approx(expected)
    assert tuner.score(X, y) < 0


def test_metadata_routing_reaches_requesting_estimator(iris):
    """Check that with routing enabled, sample_weight reaches fits that request it."""
    from sklearn import config_context
    from sklearn.exceptions import UnsetMetadataPassedError
    from sklearn.metrics import accuracy_score

    X, y = iris
    weights = np.linspace(0.5, 1.5, len(y))
    with config_context(enable_metadata_routing=True):
        mlp = _WeightCheckingMLP(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=50)
        tuner = make_tuner(mlp, param_space={"alpha": [1e-3]}, error_score="raise")
        with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
            tuner.fit(X, y, sample_weight=weights)

        mlp.set_fit_request(sample_weight=True).set_score_request(sample_weight=False)
        tuner.set_params(estimator=mlp)
        scaler = StandardScaler().set_fit_request(sample_weight=False)
        pipe = make_pipeline(scaler, tuner)
        pipe.fit(X, y, sample_weight=weights)
        assert pipe[-1].best_estimator_.weight_sum_ == pytest.approx(weights.sum())

        # The default MLP cannot be reached to ask, so it requests by itself.
        default = TunedMLPClassifier(
            param_space={"alpha": [1e-3]}, search="grid", cv=2, random_state=0
        )
        routing = default.get_metadata_routing()
        assert routing.consumes("fit", ["sample_weight"]) == {"sample_weight"}
        default.fit(X, y, sample_weight=weights)
        weighted = accuracy_score(y, default.predict(X), sample_weight=weights)
        assert default.score(X, y, sample_weight=weights) == pytest.approx(weighted)


def test_get_metadata_routing_builds_and_checks_nothing():
    """Check that routing of an unfitted tuner neither warns nor validates the space."""
    import warnings

    from sklearn import config_context
    from sklearn.model_selection import GroupKFold

    misspelt = TunedMLPClassifier(param_space={"alpah": [1e-3]}, cv=GroupKFold(2))
    huge_grid = TunedMLPClassifier(search="grid", n_grid_points=50)
    with config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("error")
        misspelt.get_metadata_routing()
        huge_grid.get_metadata_routing()
        routing = misspelt.get_metadata_routing()
    # As GridSearchCV: the splitter's request is the tuner's too.
    assert routing.consumes("fit", ["groups"]) == {"groups"}


def test_import_under_python_oo():
    """Check that the package imports with docstrings stripped (python -OO)."""
    import subprocess
    import sys

    code = "import sk_mlp_tune, sk_mlp_tune.cli, sk_mlp_tune.report; print('ok')"
    done = subprocess.run(
        [sys.executable, "-OO", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "ok", done.stderr


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("search", ["grid", "asha"])
def test_failed_fit_keeps_the_previous_fitted_state_or_none(iris, search):
    """Check that a fit that raises leaves the earlier model whole, or no model."""
    X, y = iris

    def tuner(sizes):
        # (0,) passes the parameter checks and fails in every fit.
        return TunedMLPClassifier(
            MLPClassifier(hidden_layer_sizes=sizes, max_iter=20),
            param_space={"hidden_layer_sizes": [sizes]},
            search=search,
            n_iter=2,
            cv=2,
            random_state=0,
        )

    failing = tuner((0,))
    with pytest.raises(ValueError, match="fits failed"):
        failing.fit(X, y)
    with pytest.raises(NotFittedError):
        failing.predict(X)

    fitted = tuner((8,)).fit(X, y)
    expected = fitted.predict_proba(X)
    fitted.set_params(**tuner((0,)).get_params(deep=False))
    with pytest.raises(ValueError, match="fits failed"):
        fitted.fit(X[:100], y[:100])  # two classes, and every fit fails
    np.testing.assert_array_equal(fitted.classes_, [0, 1, 2])
    np.testing.assert_array_equal(fitted.predict_proba(X), expected)


@pytest.mark.parametrize(
    ("space", "match"),
    [
        ({"alpha": [-1.0, 1e-3]}, r"\['alpha'\] holds -1.0, .*range \[0.0, inf\)"),
        ({"learning_rate_init": (-1.0, 1.0)}, r"\['learning_rate_init'\] reaches -1.0"),
        ({"activation": ["relu", "nope"]}, r"\['activation'\] holds 'nope'"),
        ({"dropout": (0.0, 1.5)}, r"\['dropout'\] reaches 1.5"),
        ({"batch_size": [0]}, r"\['batch_size'\] holds 0"),
        ({"batch_size": (1.0, 64.0)}, r"\['batch_size'\] reaches 1.0, .*an int"),
        (
            {"hidden_layer_sizes": [(8,)], "n_neurons": [8, 16]},
            "sets both hidden_layer_sizes and n_neurons",
        ),
    ],
)
@pytest.mark.parametrize("search", ["grid", "random", "bayes", "halving", "asha"])
def test_values_the_estimator_refuses_fail_before_any_fit(iris, space, match, search):
    """Check that a value or range end the estimator refuses is named up front."""
    tuner = TunedMLPClassifier(param_space=space, search=search, n_iter=2, cv=2)
    with pytest.raises(ValueError, match=match):
        tuner.fit(*iris)
    assert not hasattr(tuner, "search_")


def test_html_repr_shows_the_winner_as_grid_search_cv_does(iris, fast_mlp):
    """Check that a fitted tuner displays best_estimator_, an unfitted its template."""
    from sklearn.model_selection import GridSearchCV
    from sklearn.utils import estimator_html_repr

    X, y = iris
    space = {"alpha": [1e-3, 3.0]}
    tuner = TunedMLPClassifier(fast_mlp, param_space=space, search="grid", cv=2)
    assert "estimator: MLPClassifier" in estimator_html_repr(tuner)
    assert "estimator: DropoutMLPClassifier" in estimator_html_repr(
        TunedMLPClassifier()
    )
    tuner.fit(X, y)
    reference = GridSearchCV(fast_mlp, space, cv=2).fit(X, y)
    shown = estimator_html_repr(tuner)
    assert "best_estimator_: MLPClassifier" in shown
    assert "best_estimator_: MLPClassifier" in estimator_html_repr(reference)
    assert f"alpha={tuner.best_params_['alpha']}" in shown


@pytest.mark.parametrize("routing", [False, True])
def test_sample_weight_weights_the_scores_as_grid_search_cv(iris, fast_mlp, routing):
    """Check the weighted fold scores against GridSearchCV's, routing off and on.

    Since scikit-learn 1.9 a search passes sample_weight to its scorer when
    routing is off and the scorer takes it; with routing on, where the
    scorer requests it.
    """
    import sklearn
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import GridSearchCV

    X, y = iris
    weights = np.random.default_rng(0).uniform(0.1, 3.0, len(y))
    space = {"alpha": [1e-3, 1.0]}
    with sklearn.config_context(enable_metadata_routing=routing):
        mlp, scoring = clone(fast_mlp), "accuracy"
        if routing:
            mlp.set_fit_request(sample_weight=True)
            scoring = get_scorer("accuracy").set_score_request(sample_weight=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning about unweighted scores
            warnings.simplefilter("ignore", ConvergenceWarning)
            tuner = TunedMLPClassifier(
                mlp, param_space=space, search="grid", scoring=scoring, cv=3
            ).fit(X, y, sample_weight=weights)
        reference = GridSearchCV(mlp, space, scoring=scoring, cv=3).fit(
            X, y, sample_weight=weights
        )
    for fold in range(3):
        key = f"split{fold}_test_score"
        np.testing.assert_allclose(tuner.cv_results_[key], reference.cv_results_[key])
    # And the scores are weighted: unweighted ones differ.
    unweighted = GridSearchCV(fast_mlp, space, cv=3).fit(X, y)
    assert not np.allclose(
        tuner.cv_results_["mean_test_score"], unweighted.cv_results_["mean_test_score"]
    )


def _colour_frame():
    """Iris as a DataFrame with a text column that only a pipeline can use."""
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    y = frame.pop("target")
    frame["colour"] = np.where(y == 2, "blue", np.where(y == 1, "red", "green"))
    frame.loc[::7, "colour"] = "grey"
    return frame, y


def _encoding_pipeline(max_iter=40):
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prep = ColumnTransformer(
        [
            ("numbers", StandardScaler(), make_column_selector(dtype_include="number")),
            ("text", OneHotEncoder(), ["colour"]),
        ]
    )
    return Pipeline(
        [
            ("prep", prep),
            (
                "mlp",
                MLPClassifier(
                    hidden_layer_sizes=(8,), max_iter=max_iter, random_state=0
                ),
            ),
        ]
    )


@pytest.mark.parametrize("search", ["grid", "random", "bayes", "halving", "asha"])
def test_any_pipeline_as_estimator(search):
    """Check a pipeline that encodes a text column, as GridSearchCV takes it.

    The tuner used to validate X itself, turning the text into floats
    ("could not convert string to float: 'blue'"); halving refused a
    pipeline outright.
    """
    X, y = _colour_frame()
    tuner = TunedMLPClassifier(
        _encoding_pipeline(),
        param_space={"mlp__alpha": [1e-4, 1e-2, 1.0]},
        search=search,
        n_iter=3,
        cv=3,
        random_state=0,
    ).fit(X, y)
    assert tuner.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(tuner.feature_names_in_, X.columns)
    np.testing.assert_array_equal(tuner.classes_, [0, 1, 2])
    assert tuner.predict(X).shape == y.shape
    assert tuner.predict_proba(X.iloc[:5]).shape == (5, 3)
    if search in ("halving", "asha"):
        # The rungs grow the final step's epochs, up to its max_iter.
        assert max(tuner.cv_results_["n_resources"]) <= 40
        assert tuner.best_estimator_[-1].max_iter == max(
            tuner.cv_results_["n_resources"][tuner.best_index_], 1
        )


def test_pipeline_results_equal_grid_search_cv():
    """Check the pipeline's fold scores against GridSearchCV's."""
    from sklearn.model_selection import GridSearchCV

    X, y = _colour_frame()
    space = {"mlp__alpha": [1e-4, 1.0]}
    tuner = TunedMLPClassifier(
        _encoding_pipeline(), param_space=space, search="grid", cv=3, ensemble_size=1
    ).fit(X, y)
    reference = GridSearchCV(_encoding_pipeline(), space, cv=3).fit(X, y)
    for key in ("split0_test_score", "split2_test_score", "rank_test_score"):
        np.testing.assert_array_equal(
            tuner.cv_results_[key], reference.cv_results_[key]
        )
    np.testing.assert_array_equal(tuner.predict(X), reference.predict(X))


@pytest.mark.parametrize(
    ("solver", "advice"),
    [
        ("lbfgs", "consider a larger max_iter: TunedMLPClassifier(MLPClassifier("
         "solver='lbfgs', max_iter=10))."),
        ("adam", "consider a larger max_iter (TunedMLPClassifier(MLPClassifier("
         "max_iter=10))), early_stopping=True, or a larger learning_rate_init."),
    ],
)  # fmt: skip
def test_convergence_advice_fits_the_solver(iris, solver, advice):
    """With lbfgs, which has no early stopping nor step size, only max_iter."""
    X, y = iris
    tuner = TunedMLPClassifier(
        MLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=5),
        param_space={"alpha": [1e-4, 1e-2]},
        search="grid",
        cv=2,
    )
    with pytest.warns(ConvergenceWarning) as caught:
        tuner.fit(X, y)
    (summary,) = [w for w in caught if "MLP fits stopped" in str(w.message)]
    assert advice in str(summary.message)


def test_convergence_summary_names_the_pipeline_max_iter():
    """Check that the summary reads max_iter from the pipeline's final step."""
    X, y = _colour_frame()
    tuner = TunedMLPClassifier(
        _encoding_pipeline(max_iter=3),
        param_space={"mlp__alpha": [1e-4, 1e-2]},
        search="grid",
        cv=2,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.fit(X, y)
    (summary,) = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert "stopped at max_iter=3 " in str(summary.message)


MULTI = {"accuracy": "accuracy", "f1": "f1_macro"}


def test_multimetric_grid_equals_grid_search_cv(iris, fast_mlp):
    """Check several metrics and refit by name against GridSearchCV."""
    from sklearn.model_selection import GridSearchCV

    X, y = iris
    space = {"alpha": [1e-4, 1e-1, 10.0]}
    tuner = TunedMLPClassifier(
        fast_mlp, param_space=space, search="grid", scoring=MULTI, refit="f1", cv=3
    ).fit(X, y)
    reference = GridSearchCV(fast_mlp, space, scoring=MULTI, refit="f1", cv=3).fit(X, y)
    assert tuner.multimetric_
    for key in reference.cv_results_:
        if "time" not in key:
            np.testing.assert_array_equal(
                tuner.cv_results_[key], reference.cv_results_[key], err_msg=key
            )
    assert tuner.best_index_ == reference.best_index_
    assert tuner.best_score_ == reference.best_score_
    assert tuner.best_params_ == reference.best_params_
    assert set(tuner.scorer_) == {"accuracy", "f1"}
    assert tuner.score(X, y) == pytest.approx(reference.score(X, y))


@pytest.mark.parametrize("search", ["random", "bayes", "asha"])
def test_multimetric_ranks_by_the_refit_metric(iris, fast_mlp, search):
    """Check that best_* follow refit, for every strategy that takes metrics."""
    X, y = iris
    tuner = TunedMLPClassifier(
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0),
        param_space={"alpha": (1e-4, 10.0, "log-uniform")},
        search=search,
        n_iter=4,
        scoring=["accuracy", "balanced_accuracy"],
        refit="balanced_accuracy",
        cv=2,
        random_state=0,
        selection="best",  # the best mean, as GridSearchCV chooses
    ).fit(X, y)
    results = tuner.cv_results_
    assert {"mean_test_accuracy", "mean_test_balanced_accuracy"} <= set(results)
    assert tuner.best_index_ == int(np.argmin(results["rank_test_balanced_accuracy"]))
    assert (
        tuner.best_score_ == results["mean_test_balanced_accuracy"][tuner.best_index_]
    )
    if search != "asha":  # asha ranks the highest rung first
        assert tuner.best_score_ == np.max(results["mean_test_balanced_accuracy"])


def test_multimetric_with_a_callable_refit_or_none(iris, fast_mlp):
    """Check refit=callable and refit=False, as GridSearchCV has them."""
    X, y = iris
    space = {"alpha": [1e-4, 1.0]}
    tuner = TunedMLPClassifier(
        fast_mlp, param_space=space, search="grid", scoring=MULTI, cv=2
    )
    tuner.set_params(refit=lambda results: 1).fit(X, y)
    assert tuner.best_index_ == 1
    assert not hasattr(tuner, "best_score_")
    assert tuner.predict(X).shape == y.shape
    tuner.set_params(refit=False).fit(X, y)
    assert "mean_test_f1" in tuner.cv_results_
    assert not hasattr(tuner, "best_params_")


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"refit": "recall"}, r"refit must name .* got refit='recall'"),
        ({"refit": True}, r"refit must name"),
        ({"search": "halving", "refit": "f1"}, "takes no multi-metric scoring"),
        ({"search": "asha", "refit": False}, "asha' promotes candidates by one metric"),
        ({"search": "bayes", "refit": False}, "bayes' proposes candidates by one"),
    ],
)
def test_multimetric_settings_refused_before_any_fit(iris, params, match):
    """Check that what cannot work with several metrics is said up front."""
    tuner = TunedMLPClassifier(scoring=MULTI, **{"search": "grid", **params})
    with pytest.raises(ValueError, match=match):
        tuner.fit(*iris)
    assert not hasattr(tuner, "cv_results_")


@pytest.mark.parametrize(
    ("fit_params", "error", "match"),
    [
        ({"sample_weight": np.ones(10)}, ValueError, r"shape \(10,\), not \(150,\)"),
        ({"sample_weight": np.zeros(150)}, ValueError, "sums to zero"),
        ({"sample_weight": np.full(150, np.nan)}, ValueError, "150 NaN or infinite"),
        ({"sample_weight": -np.ones(150)}, ValueError, "150 negative values"),
        ({"sample_wieght": np.ones(150)}, TypeError, r"\['sample_wieght'\]"),
    ],
    ids=["length", "zeros", "nan", "negative", "typo"],
)
def test_bad_fit_params_are_refused_before_any_fit(iris, fit_params, error, match):
    """Check what would fail every fold is said at once, not after the search."""
    X, y = iris
    tuner = TunedMLPClassifier(_CountingMLP(), param_space={"alpha": [1e-4]}, cv=2)
    _CountingMLP.n_fits = 0
    original = {k: np.array(v, copy=True) for k, v in fit_params.items()}
    with pytest.raises(error, match=match):
        tuner.fit(X, y, **fit_params)
    assert _CountingMLP.n_fits == 0
    for name, value in fit_params.items():  # the user's arrays, untouched
        np.testing.assert_array_equal(value, original[name])


class _CountingMLP(MLPClassifier):
    """An MLP that counts its fits in this process."""

    n_fits = 0

    def fit(self, X, y, sample_weight=None):
        """Count, then fit."""
        type(self).n_fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("search", ["grid", "halving", "asha"])
def test_warnings_point_at_the_callers_line(iris, search):
    """Check the unconverged-fits warning names this file, under every path."""
    X, y = iris
    tuner = TunedMLPClassifier(
        MLPClassifier(hidden_layer_sizes=(3,), max_iter=9, random_state=0),
        param_space={"alpha": [1e-4, 1e-2]},
        search=search,
        n_iter=2,
        cv=2,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning) as caught:
        tuner.fit(X, y)
    assert {Path(w.filename).name for w in caught} == {"test_tuned.py"}


@pytest.mark.parametrize(
    "network",
    [
        DropoutMLPClassifier(max_iter=20, random_state=0),
        MLPClassifier(max_iter=20, random_state=0),
    ],
    ids=["dropout", "sklearn"],
)
def test_pipeline_without_param_space_searches_its_last_steps_space(
    iris, capsys, network
):
    """Check that a pipeline with no param_space searches its MLP's default space."""
    from sklearn.pipeline import Pipeline

    X, y = iris
    pipeline = Pipeline([("scale", StandardScaler()), ("mlp", network)])
    tuner = TunedMLPClassifier(
        pipeline, search="random", n_iter=2, cv=2, random_state=0, verbose=1
    ).fit(X, y)
    err = capsys.readouterr().err
    assert "Searching the default space of the pipeline's last step 'mlp'" in err
    expected = default_param_space("random", network)
    assert set(tuner.best_params_) == {f"mlp__{name}" for name in expected}
    chosen = tuner.best_estimator_.named_steps["mlp"]
    for name, value in tuner.best_params_.items():
        assert chosen.get_params()[name.removeprefix("mlp__")] == value
    if isinstance(network, DropoutMLPClassifier):
        # The shorthands, prefixed, build the network.
        params = tuner.best_params_
        assert chosen.hidden_layer_sizes_ == architecture(
            params["mlp__n_hidden_layers"],
            params["mlp__n_neurons"],
            params["mlp__layer_shape"],
        )


def test_pipeline_with_a_param_space_says_nothing_of_the_default(iris, capsys):
    """Check that the line on the default space is not printed for a user's space."""
    X, y = iris
    pipeline = make_pipeline(StandardScaler(), MLPClassifier(max_iter=20))
    TunedMLPClassifier(
        pipeline,
        param_space={"mlpclassifier__alpha": [1e-3, 1e-1]},
        search="grid",
        cv=2,
        verbose=1,
    ).fit(X, y)
    assert "default space" not in capsys.readouterr().err
