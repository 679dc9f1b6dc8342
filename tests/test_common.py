"""scikit-learn's estimator checks, on one fast instance per search strategy."""

import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_mlp_tune import TunedMLPClassifier, TunedMLPRegressor


def _fast_tuner(tuner, mlp, search):
    # Small enough to be quick, big enough to still learn the checks' toy data.
    return tuner(
        mlp(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=200),
        param_space={"alpha": (1e-4, 1e-1, "log-uniform")},
        search=search,
        n_iter=2,
        n_grid_points=2,
        cv=2,
        random_state=0,
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [
        _fast_tuner(tuner, mlp, search)
        for tuner, mlp in (
            (TunedMLPClassifier, MLPClassifier),
            (TunedMLPRegressor, MLPRegressor),
        )
        for search in ("grid", "random", "bayes", "halving", "asha")
    ]
    # The defaults themselves: halving over the default dropout MLP and space.
    + [
        TunedMLPClassifier(n_iter=3, cv=2, random_state=0),
        TunedMLPRegressor(n_iter=3, cv=2, random_state=0),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    """Check that the tuners pass scikit-learn's estimator checks."""
    check(estimator)
