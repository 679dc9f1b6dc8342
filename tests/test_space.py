"""The search-space spec: resolution, errors and compilation per strategy."""

import copy

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from skopt.space import Categorical, Integer, Real

from sk_mlp_tune import DropoutMLPClassifier, DropoutMLPRegressor, default_param_space
from sk_mlp_tune._skopt import _Encoded, to_search_spaces
from sk_mlp_tune._space import (
    Choice,
    Range,
    lies_in,
    portfolio,
    resolve_space,
    to_distributions,
    to_grid,
)

MLP = MLPClassifier()


def test_resolve_space_spec_forms():
    """Check that lists, ranges, priors and skopt objects resolve to dimensions."""
    space = {
        "activation": ["relu", "tanh"],
        "batch_size": (32, 256),
        "alpha": (1e-5, 1e-1, "log-uniform"),
        "momentum": (0.5, 1),
        "learning_rate_init": Real(1e-4, 1e-1, prior="log-uniform"),
        "max_iter": Integer(10, 100),
        "solver": Categorical(["adam", "sgd"]),
        "hidden_layer_sizes": np.array([10, 20]),
    }
    (resolved,) = resolve_space(space, MLP)
    assert resolved == {
        "activation": Choice(("relu", "tanh")),
        "alpha": Range(1e-5, 1e-1, log=True, integer=False),
        "batch_size": Range(32, 256, log=False, integer=True),
        "hidden_layer_sizes": Choice((10, 20)),
        "learning_rate_init": Range(1e-4, 1e-1, log=True, integer=False),
        "max_iter": Range(10, 100, log=False, integer=True),
        "momentum": Range(0.5, 1.0, log=False, integer=False),
        "solver": Choice(("adam", "sgd")),
    }


def test_resolve_space_leaves_input_untouched():
    """Check that resolving a space does not modify the user's dict."""
    space = [{"alpha": (1e-5, 1e-1, "log-uniform"), "activation": ["relu"]}]
    before = copy.deepcopy(space)
    resolve_space(space, MLP)
    assert space == before


@pytest.mark.parametrize(
    ("space", "err_type", "match"),
    [
        ({"alpah": [1e-3]}, ValueError, r"'alpah'.*Did you mean 'alpha'.*Valid"),
        ({"activation": []}, ValueError, r"\['activation'\] is an empty list"),
        ({}, ValueError, "empty dict"),
        ([], ValueError, "empty list"),
        ([{"alpha": [1.0]}, "relu"], TypeError, r"param_space\[1\] must be a dict"),
        ({"alpha": (1e-1, 1e-5)}, ValueError, "low < high; got low=0.1, high=1e-05"),
        ({"alpha": (1.0, 1.0)}, ValueError, "low < high"),
        ({"alpha": (0, 1, "log-uniform")}, ValueError, "log-uniform.*low > 0"),
        ({"alpha": (1e-5, 1, "log")}, ValueError, r"prior 'log'; use one of"),
        ({"alpha": (1, 2, 3, 4)}, ValueError, "tuple of length 4"),
        (
            {"activation": ("relu", "tanh")},
            TypeError,
            r"use a list: \['relu', 'tanh'\]",
        ),
        ({"alpha": (0, float("inf"))}, TypeError, "numeric range"),
        ({"alpha": 0.1}, TypeError, "one-element list"),
    ],
)
def test_resolve_space_bad_input(space, err_type, match):
    """Check that a malformed space is refused with a message naming the problem."""
    with pytest.raises(err_type, match=match):
        resolve_space(space, MLP)


def test_resolve_space_error_names_subspace_and_key():
    """Check that errors say which sub-space and key are wrong."""
    with pytest.raises(ValueError, match=r"param_space\[1\]\['alpha'\]"):
        resolve_space([{"alpha": [1.0]}, {"alpha": (2.0, 1.0)}], MLP)


@pytest.mark.parametrize(
    ("dimension", "n_points", "expected"),
    [
        (Range(1e-4, 1e-1, log=True, integer=False), 4, [1e-4, 1e-3, 1e-2, 1e-1]),
        (Range(0.0, 1.0, log=False, integer=False), 3, [0.0, 0.5, 1.0]),
        (Range(32, 256, log=True, integer=True), 4, [32, 64, 128, 256]),
        # Rounding merges neighbours in a narrow integer range.
        (Range(1, 3, log=False, integer=True), 5, [1, 2, 3]),
    ],
)
def test_range_grid_spacing(dimension, n_points, expected):
    """Check that ranges are cut into evenly spaced points, log-spaced for log."""
    assert dimension.grid(n_points) == pytest.approx(expected)


@pytest.mark.parametrize(
    "dimension",
    [
        Range(1e-4, 1e-1, log=True, integer=False),
        Range(0.5, 0.9, log=False, integer=False),
        Range(32, 256, log=True, integer=True),
        Range(1, 3, log=False, integer=True),
    ],
)
def test_range_distribution_stays_in_bounds(dimension):
    """Check that the random-search distribution samples inside the range."""
    rng = check_random_state(0)
    draws = np.array(
        [dimension.distribution().rvs(random_state=rng) for _ in range(500)]
    )
    assert draws.min() >= dimension.low
    assert draws.max() <= dimension.high
    if dimension.integer:
        assert np.all(draws == np.round(draws))
        # Every integer of a small range is reachable, the ends included.
        if dimension.high - dimension.low < 5:
            assert set(draws) == set(range(dimension.low, dimension.high + 1))


def test_log_uniform_int_is_log_spread():
    """Check that log-uniform integers put half their draws below the geometric mean."""
    draws = (
        Range(1, 1024, log=True, integer=True)
        .distribution()
        .rvs(size=4000, random_state=0)
    )
    assert np.mean(draws < 32) == pytest.approx(0.5, abs=0.05)


def test_to_grid_counts_and_warns_when_large():
    """Check that a grid is the product of values and a huge one warns."""
    subspaces = resolve_space(
        {"alpha": (1e-5, 1.0, "log-uniform"), "activation": ["relu", "tanh"]}, MLP
    )
    (grid,) = to_grid(subspaces, n_grid_points=3)
    assert grid["activation"] == ["relu", "tanh"]
    assert len(grid["alpha"]) == 3

    big = resolve_space(dict.fromkeys(("alpha", "momentum", "tol"), (1.0, 2.0)), MLP)
    with pytest.warns(UserWarning, match=r"1000 candidates \(n_grid_points=10"):
        to_grid(big, n_grid_points=10)


def test_to_distributions_choices_stay_lists():
    """Check that choices stay lists and ranges become samplers for random search."""
    (dists,) = to_distributions(
        resolve_space({"activation": ["relu"], "alpha": (0.1, 1.0)}, MLP)
    )
    assert dists["activation"] == ["relu"]
    assert 0.1 <= dists["alpha"].rvs(random_state=0) <= 1.0


def test_to_search_spaces_encodes_tuples_and_shares_n_iter():
    """Check that skopt gets boxed tuples and n_iter is shared over sub-spaces."""
    subspaces = resolve_space(
        [
            {
                "hidden_layer_sizes": [(10,), (20, 10)],
                "alpha": (1e-4, 1.0, "log-uniform"),
            },
            {"activation": ["relu", "tanh"]},
        ],
        MLP,
    )
    (first, n_first), (second, n_second) = to_search_spaces(subspaces, n_iter=5)
    assert (n_first, n_second) == (3, 2)
    assert first["hidden_layer_sizes"].categories == (
        _Encoded((10,)),
        _Encoded((20, 10)),
    )
    assert first["alpha"].prior == "log-uniform"
    assert second["activation"].categories == ("relu", "tanh")
    with pytest.raises(ValueError, match="n_iter must be at least 2; got n_iter=1"):
        to_search_spaces(subspaces, n_iter=1)


ESTIMATORS = [DropoutMLPClassifier(), DropoutMLPRegressor(), MLP, MLPRegressor()]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("search", ["grid", "random", "bayes"])
def test_default_param_space_is_valid_and_fresh(search, estimator):
    """Check that the default space resolves on each MLP and is a new dict."""
    space = default_param_space(search, estimator)
    resolve_space(space, estimator)
    space["alpha"] = "changed"
    assert default_param_space(search, estimator).get("alpha") != "changed"


def test_default_param_space_searches_scalars_for_dropout_mlps():
    """Check that the default architecture is scalars, and tuples for plain MLPs."""
    space = default_param_space("bayes")
    assert {"n_hidden_layers", "n_neurons", "layer_shape", "dropout"} <= set(space)
    assert "hidden_layer_sizes" not in space
    plain = default_param_space("bayes", MLP)
    assert (128, 64, 32) in plain["hidden_layer_sizes"]
    assert not {"n_hidden_layers", "dropout"} & set(plain)


@pytest.mark.parametrize("estimator", [DropoutMLPClassifier(), MLP])
def test_default_grid_lies_in_default_space(estimator):
    """Check that the default grid is small and picks values from the ranges."""
    (ranges,) = resolve_space(default_param_space("bayes", estimator), estimator)
    grid = default_param_space("grid", estimator)
    n_candidates = np.prod([len(values) for values in grid.values()])
    assert n_candidates <= 36
    for name, values in grid.items():
        dimension = ranges[name]
        for value in values:
            if isinstance(dimension, Choice):
                assert value in dimension.values
            else:
                assert dimension.low <= value <= dimension.high


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("search", ["grid", "random"])
@pytest.mark.parametrize("nested", [False, True])
def test_default_param_space_of_a_pipeline_is_its_last_steps(search, estimator, nested):
    """Check that a pipeline gets its last step's space, prefixed as its parameters."""
    pipeline = Pipeline([("scale", StandardScaler()), ("mlp", clone(estimator))])
    prefix = "mlp__"
    if nested:
        pipeline = Pipeline([("outer", pipeline)])
        prefix = "outer__mlp__"
    space = default_param_space(search, pipeline)
    expected = default_param_space(search, estimator)
    assert space == {prefix + name: value for name, value in expected.items()}
    (subspace,) = resolve_space(space, pipeline)
    assert set(subspace) == set(space)


@pytest.mark.parametrize(
    "estimator", [DropoutMLPClassifier(), DropoutMLPRegressor()], ids=["clf", "reg"]
)
def test_portfolio_of_a_pipeline_lies_in_its_default_space(estimator):
    """Check that the portfolio's names are prefixed as the pipeline's space."""
    pipeline = Pipeline([("scale", StandardScaler()), ("mlp", clone(estimator))])
    (subspace,) = resolve_space(default_param_space("random", pipeline), pipeline)
    entries = portfolio(pipeline)
    assert entries == [
        {f"mlp__{name}": value for name, value in entry.items()}
        for entry in portfolio(estimator)
    ]
    assert all(lies_in(entry, subspace) for entry in entries)


def test_default_param_space_unknown_search():
    """Check that an unknown strategy name is refused."""
    with pytest.raises(ValueError, match="search must be one of"):
        default_param_space("genetic")
