"""Shared fixtures: small bundled datasets and a fast MLP template."""

import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler


@pytest.fixture(scope="session")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="session")
def digits():
    """Return a standardised 500-sample slice of load_digits (10 classes)."""
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X[:500]), y[:500]


@pytest.fixture
def fast_mlp():
    """Return a small MLP that learns iris in a few milliseconds."""
    return MLPClassifier(
        hidden_layer_sizes=(8,), solver="lbfgs", max_iter=300, random_state=0
    )
