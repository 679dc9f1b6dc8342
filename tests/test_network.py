"""DropoutMLPClassifier / DropoutMLPRegressor: dropout, shorthands, compatibility."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_regression
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

import sk_mlp_tune._network as network
from sk_mlp_tune import DropoutMLPClassifier, DropoutMLPRegressor
from sk_mlp_tune._compat import _load_mlp_internals
from sk_mlp_tune._network import architecture

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits_small():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


@pytest.fixture(scope="module")
def regression():
    return make_regression(n_samples=120, n_features=6, noise=5.0, random_state=0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [
        DropoutMLPClassifier(hidden_layer_sizes=(20,), dropout=0.1, random_state=0),
        DropoutMLPClassifier(n_hidden_layers=2, n_neurons=16, layer_shape="funnel"),
        DropoutMLPRegressor(hidden_layer_sizes=(20,), dropout=0.1, random_state=0),
        DropoutMLPRegressor(n_hidden_layers=2, n_neurons=16, random_state=0),
    ],
    expected_failed_checks=lambda estimator: (
        {
            # Each sample gets its own dropout mask, so a sample weighted
            # twice is not the same as the sample repeated with two masks.
            "check_sample_weight_equivalence_on_dense_data": "per-sample masks",
            "check_sample_weight_equivalence_on_sparse_data": "per-sample masks",
        }
        if estimator.dropout > 0
        else {}
    ),
)
def test_sklearn_compatible_estimator(estimator, check):
    """Check that the dropout MLPs pass scikit-learn's estimator checks."""
    check(estimator)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize(
    ("ours", "parents"),
    [(DropoutMLPClassifier, MLPClassifier), (DropoutMLPRegressor, MLPRegressor)],
)
def test_dropout_zero_equals_parent(digits_small, regression, solver, ours, parents):
    """Check that dropout=0 fits exactly the parent's network."""
    X, y = digits_small if ours is DropoutMLPClassifier else regression
    params = {
        "hidden_layer_sizes": (16, 8),
        "solver": solver,
        "max_iter": 15,
        "random_state": 0,
    }
    mine = ours(**params).fit(X, y)
    theirs = parents(**params).fit(X, y)
    mine_weights = mine.coefs_ + mine.intercepts_
    for a, b in zip(mine_weights, theirs.coefs_ + theirs.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(mine.predict(X), theirs.predict(X))


def _initialised(activation, dropout=0.3):
    """Return a small classifier with weights in place, ready for _backprop."""
    X, y = load_digits(n_class=3, return_X_y=True)
    X, y = X[:40, ::4] / 16.0, y[:40]
    clf = DropoutMLPClassifier(
        hidden_layer_sizes=(7, 5),
        activation=activation,
        dropout=dropout,
        max_iter=1,
        random_state=0,
    ).fit(X, y)
    Y = clf._label_binarizer.transform(y).astype(float)
    return clf, X, Y


def _loss_and_grads(clf, X, Y, sample_weight, mask_seed):
    """Run one training pass with the masks that mask_seed draws."""
    clf._random_state = np.random.RandomState(mask_seed)
    n = len(clf.coefs_)
    loss, coef_grads, intercept_grads = clf._backprop(
        X,
        Y,
        sample_weight,
        [X] + [None] * n,
        [None] * n,
        [np.empty_like(c) for c in clf.coefs_],
        [np.empty_like(b) for b in clf.intercepts_],
    )
    return loss, coef_grads + intercept_grads


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
@pytest.mark.parametrize("weighted", [False, True])
def test_dropout_gradient_matches_finite_differences(activation, weighted):
    """Check the analytic gradient with a fixed mask against finite differences."""
    clf, X, Y = _initialised(activation)
    sample_weight = np.linspace(0.2, 2.0, len(X)) if weighted else None
    _, grads = _loss_and_grads(clf, X, Y, sample_weight, mask_seed=7)

    eps = 1e-6
    for params, grad in zip(clf.coefs_ + clf.intercepts_, grads, strict=True):
        numeric = np.empty_like(params)
        for index in np.ndindex(params.shape):
            original = params[index]
            params[index] = original + eps
            up, _ = _loss_and_grads(clf, X, Y, sample_weight, mask_seed=7)
            params[index] = original - eps
            down, _ = _loss_and_grads(clf, X, Y, sample_weight, mask_seed=7)
            params[index] = original
            numeric[index] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-7)


def test_dropout_masks_change_every_batch_and_drop_units():
    """Check that each training pass draws a new mask that drops hidden units."""
    clf, X, Y = _initialised("relu", dropout=0.5)
    clf._random_state = np.random.RandomState(0)
    n = len(clf.coefs_)
    activations = [X] + [None] * n
    args = ([None] * n, [np.empty_like(c) for c in clf.coefs_])
    args += ([np.empty_like(b) for b in clf.intercepts_],)
    first, _, _ = clf._backprop(X, Y, None, activations, *args)
    first_hidden = activations[1].copy()
    second, _, _ = clf._backprop(X, Y, None, activations, *args)
    assert first != second
    assert not np.array_equal(first_hidden, activations[1])
    # Half the units dropped: about half the hidden activations are zero,
    # beyond the ones relu zeroes anyway.
    undropped = np.maximum(X @ clf.coefs_[0] + clf.intercepts_[0], 0)
    extra_zeros = np.mean((first_hidden == 0) & (undropped > 0))
    assert 0.3 < extra_zeros / np.mean(undropped > 0) < 0.7


def test_dropout_fit_is_reproducible_and_differs_from_no_dropout(digits_small):
    """Check that a seeded dropout fit repeats exactly and is not the plain fit."""
    X, y = digits_small
    params = {"hidden_layer_sizes": (32,), "max_iter": 10, "random_state": 0}
    a = DropoutMLPClassifier(dropout=0.3, **params).fit(X, y)
    b = DropoutMLPClassifier(dropout=0.3, **params).fit(X, y)
    plain = DropoutMLPClassifier(dropout=0.0, **params).fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert not np.array_equal(a.coefs_[0], plain.coefs_[0])


def test_dropout_predictions_are_deterministic(digits_small):
    """Check that prediction uses the whole network, with no mask."""
    X, y = digits_small
    clf = DropoutMLPClassifier(dropout=0.5, max_iter=20, random_state=0).fit(X, y)
    before = clf.predict_proba(X)
    # The masks' random stream moves on; a prediction must not follow it.
    clf._random_state.uniform(size=1000)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    plain = MLPClassifier(max_iter=1).fit(X, y)
    plain.coefs_, plain.intercepts_ = clf.coefs_, clf.intercepts_
    np.testing.assert_allclose(clf.predict_proba(X), plain.predict_proba(X))


@pytest.mark.parametrize("estimator", [DropoutMLPClassifier, DropoutMLPRegressor])
def test_dropout_refuses_lbfgs(digits_small, estimator):
    """Check that dropout with the full-batch lbfgs solver is refused clearly."""
    X, y = digits_small
    with pytest.raises(ValueError, match=r"needs a stochastic solver.*'adam' or 'sgd'"):
        estimator(dropout=0.2, solver="lbfgs").fit(X, y)


def test_dropout_refused_when_internals_differ(digits_small, monkeypatch):
    """Check that dropout > 0 names the supported versions when internals differ."""
    X, y = digits_small
    monkeypatch.setattr(network, "MLP_INTERNALS", None)
    with pytest.raises(RuntimeError, match=r"scikit-learn 1\.7 to 1\.9.*dropout=0"):
        DropoutMLPClassifier(dropout=0.2, max_iter=2).fit(X, y)
    clf = DropoutMLPClassifier(dropout=0.0, max_iter=2, random_state=0).fit(X, y)
    plain = MLPClassifier(max_iter=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.coefs_[0], plain.coefs_[0])


def test_internals_detection_notices_a_changed_signature(monkeypatch):
    """Check that a changed _backprop signature disables dropout, not the import."""
    from sklearn.neural_network._multilayer_perceptron import BaseMultilayerPerceptron

    assert _load_mlp_internals() is not None

    def _backprop(self, X, y, activations, deltas, coef_grads, intercept_grads):
        """Stand in for the pre-1.7 signature, without sample_weight."""

    monkeypatch.setattr(BaseMultilayerPerceptron, "_backprop", _backprop)
    assert _load_mlp_internals() is None


@pytest.mark.parametrize(
    ("n_hidden_layers", "n_neurons", "layer_shape", "expected"),
    [
        (3, 128, "funnel", (128, 64, 32)),
        (3, 128, "constant", (128, 128, 128)),
        (4, 16, "funnel", (16, 8, 8, 8)),
        (3, 4, "funnel", (4, 4, 4)),
        (1, 256, "funnel", (256,)),
    ],
)
def test_architecture_shorthands(n_hidden_layers, n_neurons, layer_shape, expected):
    """Check that the shorthands give the documented layer sizes."""
    assert architecture(n_hidden_layers, n_neurons, layer_shape) == expected


def test_shorthands_define_the_fitted_network(digits_small):
    """Check that the shorthands build the network and hidden_layer_sizes_ says so."""
    X, y = digits_small
    clf = DropoutMLPClassifier(
        n_hidden_layers=3, n_neurons=32, layer_shape="funnel", max_iter=5
    ).fit(X, y)
    assert clf.hidden_layer_sizes_ == (32, 16, 8)
    assert [c.shape for c in clf.coefs_] == [(64, 32), (32, 16), (16, 8), (8, 10)]
    assert clf.hidden_layer_sizes is None  # the parameter is left as given
    assert DropoutMLPClassifier(n_neurons=10, max_iter=2).fit(
        X, y
    ).hidden_layer_sizes_ == (10,)
    assert DropoutMLPClassifier(max_iter=2).fit(X, y).hidden_layer_sizes_ == (100,)
    assert DropoutMLPClassifier(hidden_layer_sizes=12, max_iter=2).fit(
        X, y
    ).hidden_layer_sizes_ == (12,)


@pytest.mark.parametrize(
    ("params", "err_type", "match"),
    [
        (
            {"hidden_layer_sizes": (10,), "n_neurons": 10},
            ValueError,
            "describe the architecture one way",
        ),
        ({"layer_shape": "funnel"}, ValueError, "neither is set"),
        ({"dropout": 1.0}, ValueError, "'dropout' parameter.*range"),
        ({"dropout": -0.1}, ValueError, "'dropout' parameter"),
        ({"n_neurons": 0}, ValueError, "'n_neurons' parameter"),
        ({"layer_shape": "pyramid"}, ValueError, "'layer_shape' parameter"),
    ],
)
def test_bad_parameters(digits_small, params, err_type, match):
    """Check that bad network parameters fail with a clear message."""
    X, y = digits_small
    with pytest.raises(err_type, match=match):
        DropoutMLPClassifier(**params).fit(X, y)


def test_partial_fit_and_warm_start_with_dropout(digits_small):
    """Check that partial_fit and warm_start train on with dropout, as the parent."""
    X, y = digits_small
    clf = DropoutMLPClassifier(n_neurons=32, dropout=0.2, random_state=0)
    for _ in range(3):
        clf.partial_fit(X, y, classes=np.unique(y))
    assert clf.hidden_layer_sizes_ == (32,)
    assert len(clf.loss_curve_) == 3

    warm = DropoutMLPClassifier(
        n_neurons=32, dropout=0.2, max_iter=5, warm_start=True, random_state=0
    )
    first = warm.fit(X, y).coefs_[0].copy()
    warm.fit(X, y)
    assert len(warm.loss_curve_) == 10
    assert not np.array_equal(first, warm.coefs_[0])


@pytest.mark.parametrize(
    "settings",
    [
        {"dropout": 0.2},
        {"solver": "sgd", "learning_rate": "adaptive"},
        {"solver": "sgd", "learning_rate": "invscaling", "dropout": 0.1},
        {"batch_size": 64, "shuffle": False},
        {"tol": 1e-2},  # stops by its tolerance before 22 epochs
    ],
)
@pytest.mark.parametrize("estimator", [DropoutMLPClassifier, DropoutMLPRegressor])
def test_warm_start_continues_exactly(digits_small, regression, estimator, settings):
    """Check that 22 epochs, then 44 warm-started, equal 66 epochs at once."""
    X, y = digits_small if estimator is DropoutMLPClassifier else regression
    once = estimator(n_neurons=16, max_iter=66, random_state=0, **settings).fit(X, y)
    steps = estimator(n_neurons=16, max_iter=22, random_state=0, **settings).fit(X, y)
    steps.set_params(warm_start=True, max_iter=44).fit(X, y)
    for got, expected in zip(
        steps.coefs_ + steps.intercepts_, once.coefs_ + once.intercepts_, strict=True
    ):
        np.testing.assert_array_equal(got, expected)
    assert steps.loss_curve_ == once.loss_curve_
    assert steps.t_ == once.t_


def test_warm_start_with_new_optimizer_settings_starts_a_new_optimizer(digits_small):
    """Check that a changed learning rate is used, not the previous optimizer's."""
    X, y = digits_small
    first = DropoutMLPClassifier(n_neurons=16, max_iter=5, random_state=0).fit(X, y)
    changed = pickle.loads(pickle.dumps(first)).set_params(
        warm_start=True, learning_rate_init=1e-6
    )
    before = [c.copy() for c in changed.coefs_]
    changed.fit(X, y)
    # A learning rate of 1e-6 barely moves the weights; Adam's kept state at
    # 1e-3 would move them by about 1e-3 per step.
    assert (
        max(np.abs(a - b).max() for a, b in zip(changed.coefs_, before, strict=True))
        < 1e-3
    )


def test_regressor_with_dropout_learns(regression):
    """Check that the regressor learns a linear target with dropout."""
    X, y = regression
    reg = DropoutMLPRegressor(
        n_hidden_layers=2,
        n_neurons=64,
        dropout=0.1,
        learning_rate_init=0.01,
        max_iter=500,
        random_state=0,
    ).fit(X, y)
    assert reg.score(X, y) > 0.9


@pytest.mark.parametrize("estimator", [DropoutMLPClassifier, DropoutMLPRegressor])
def test_pickle_and_clone(digits_small, regression, estimator):
    """Check that a fitted dropout MLP pickles and clones with its parameters."""
    X, y = digits_small if estimator is DropoutMLPClassifier else regression
    model = estimator(n_neurons=16, dropout=0.2, max_iter=5, random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.hidden_layer_sizes_ == (16,)
    cloned = clone(model)
    assert cloned.get_params() == model.get_params()
    assert not hasattr(cloned, "coefs_")
