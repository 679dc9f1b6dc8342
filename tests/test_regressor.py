"""TunedMLPRegressor: the tuner for regression, on load_diabetes."""

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import DropoutMLPRegressor, TunedMLPRegressor, default_param_space

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    "ignore:Got `batch_size`:UserWarning",
)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def test_default_regressor_tunes_dropout_mlp(diabetes):
    """Check that the defaults tune a DropoutMLPRegressor over the default space."""
    X, y = diabetes
    reg = TunedMLPRegressor(search="random", n_iter=3, cv=3, random_state=0)
    reg.fit(X, y)
    assert isinstance(reg.best_estimator_, DropoutMLPRegressor)
    assert set(reg.best_params_) == set(default_param_space())
    assert reg.best_estimator_.hidden_layer_sizes_ == tuple(
        w.shape[1] for w in reg.coefs_[:-1]
    )
    assert reg.out_activation_ == "identity"
    assert reg.best_score_ > 0.2


@pytest.mark.parametrize("search", ["grid", "random", "bayes"])
def test_score_is_r2_by_default(diabetes, search):
    """Check that the default metric is R², for the search and for score."""
    X, y = diabetes
    reg = TunedMLPRegressor(
        MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200),
        param_space={"alpha": (1e-2, 1e2, "log-uniform")},
        search=search,
        n_iter=3,
        cv=3,
        random_state=0,
    ).fit(X, y)
    # Of what it predicts: the ensemble's weighted mean, by default.
    assert reg.score(X, y) == pytest.approx(r2_score(y, reg.predict(X)))
    assert 1e-2 <= reg.best_params_["alpha"] <= 1e2


def test_regressor_in_pipeline_and_nested_cv():
    """Check the regressor in a pipeline with a scaled target, under nested CV."""
    X, y = load_diabetes(return_X_y=True)
    model = make_pipeline(
        StandardScaler(),
        TransformedTargetRegressor(
            TunedMLPRegressor(
                MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200),
                param_space={"alpha": (1e-1, 1e2, "log-uniform")},
                search="random",
                n_iter=2,
                cv=2,
                random_state=0,
            ),
            transformer=StandardScaler(),
        ),
    )
    scores = cross_val_score(model, X, y, cv=3)
    assert np.all(scores > 0.2)


def test_regressor_refuses_non_numeric_target(diabetes):
    """Check that a string target is refused before any fit."""
    X, _ = diabetes
    y = np.array(["low", "high"] * (len(X) // 2) + ["low"] * (len(X) % 2))
    tuner = TunedMLPRegressor()
    with pytest.raises(ValueError, match="needs a numeric target y; got dtype <U4"):
        tuner.fit(X, y)
    assert not hasattr(tuner, "search_")


def test_normalize_y_equals_transformed_target_regressor():
    """Check normalize_y against scikit-learn's TransformedTargetRegressor."""
    X, y = load_diabetes(return_X_y=True)
    ours = DropoutMLPRegressor(normalize_y=True, max_iter=50, random_state=0)
    reference = TransformedTargetRegressor(
        DropoutMLPRegressor(max_iter=50, random_state=0),
        transformer=StandardScaler(),
    )
    np.testing.assert_allclose(
        ours.fit(X, y).predict(X), reference.fit(X, y).predict(X), rtol=1e-12
    )
    np.testing.assert_allclose(ours.y_mean_, [y.mean()])
    np.testing.assert_allclose(ours.y_scale_, [y.std()])
    # Several outputs keep their shape, each standardised on its own.
    Y = np.column_stack([y, 1000 * y])
    assert ours.fit(X, Y).predict(X).shape == Y.shape
    np.testing.assert_allclose(ours.y_scale_, [y.std(), 1000 * y.std()])


def test_normalize_y_continues_with_the_first_statistics():
    """Check that a warm-started fit goes on learning the same target."""
    X, y = load_diabetes(return_X_y=True)
    at_once = DropoutMLPRegressor(normalize_y=True, max_iter=30, random_state=0)
    at_once.fit(X, y)
    in_two = DropoutMLPRegressor(normalize_y=True, max_iter=10, random_state=0)
    in_two.fit(X, y).set_params(warm_start=True, max_iter=20).fit(X[:200], y[:200])
    # The statistics are the first fit's, not those of the 200 rows.
    np.testing.assert_allclose(in_two.y_mean_, [y.mean()])
    in_three = DropoutMLPRegressor(normalize_y=True, max_iter=10, random_state=0)
    in_three.fit(X, y).set_params(warm_start=True, max_iter=20).fit(X, y)
    np.testing.assert_allclose(in_three.predict(X), at_once.predict(X))


def test_default_regressor_learns_a_standardised_target():
    """Check that the default network standardises the raw diabetes target.

    On the raw target (mean 152) the default network reached a held-out R²
    of 0.24 where RidgeCV reaches 0.36; benchmarks/bench_regressor.py
    compares them over seeds and problems.
    """
    X, y = load_diabetes(return_X_y=True)
    reg = TunedMLPRegressor(
        param_space={"alpha": [1e-4, 1e-2]}, search="grid", cv=2, random_state=0
    ).fit(StandardScaler().fit_transform(X), y)
    assert reg.best_estimator_.normalize_y
    np.testing.assert_allclose(reg.best_estimator_.y_mean_, [y.mean()])
    assert (
        "identity" in default_param_space("random", DropoutMLPRegressor())["activation"]
    )
    raw = TunedMLPRegressor(
        DropoutMLPRegressor(max_iter=200),
        param_space={"alpha": [1e-4, 1e-2]},
        search="grid",
        cv=2,
        random_state=0,
    ).fit(StandardScaler().fit_transform(X), y)
    assert reg.best_score_ > raw.best_score_


def test_default_regressor_reaches_ridge_on_diabetes():
    """Check the issue's setup: held-out R² within half a point of RidgeCV's.

    Diabetes is nearly linear and noisy, the hard case for a network;
    benchmarks/bench_regressor.py runs the same over five seeds and four
    more problems. Since the portfolio, the tuner picks its third entry here
    (a regularised funnel), 0.0011 below RidgeCV on these 111 held-out rows,
    where the tuner before it reached RidgeCV. Half a point of R² is the
    margin this one split can tell; the benchmarks say where it stands.
    """
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    ridge = RidgeCV().fit(X_train, y_train).score(X_test, y_test)
    tuner = TunedMLPRegressor(search="random", n_iter=6, cv=3, random_state=0)
    tuner.fit(X_train, y_train)
    assert tuner.score(X_test, y_test) >= ridge - 0.005
