"""A default that knows the data's size: ``cv="auto"``, ``resource="auto"``."""

import numpy as np
import pytest
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    ShuffleSplit,
    StratifiedKFold,
    StratifiedShuffleSplit,
)
from sklearn.neural_network import MLPClassifier

from sk_mlp_tune import TunedMLPClassifier, TunedMLPRegressor, _build
from sk_mlp_tune._build import HOLDOUT_MIN_ROWS, HOLDOUT_SHARE, resolve_cv
from sk_mlp_tune._search import LOWER_RUNG_MIN_ROWS, subsample

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize(
    ("tuner", "y", "kind"),
    [
        (TunedMLPClassifier(), [0, 1] * 50, StratifiedKFold),
        (TunedMLPRegressor(), np.linspace(0, 1, 100), KFold),
    ],
)
def test_auto_is_five_folds_below_the_line(tuner, y, kind):
    """Check that "auto" is what cv=None is, below HOLDOUT_MIN_ROWS rows."""
    X = np.zeros((len(y), 2))
    cv = resolve_cv(tuner, X, np.asarray(y))
    assert type(cv) is kind
    assert cv.get_n_splits() == 5


@pytest.mark.parametrize(
    ("tuner", "kind"),
    [(TunedMLPClassifier, StratifiedShuffleSplit), (TunedMLPRegressor, ShuffleSplit)],
)
def test_auto_is_one_seeded_holdout_from_the_line(tuner, kind):
    """Check one split of HOLDOUT_SHARE, the same for the same random_state."""
    X = np.zeros((HOLDOUT_MIN_ROWS, 2))
    y = np.arange(HOLDOUT_MIN_ROWS) % 3
    cv = resolve_cv(tuner(random_state=7), X, y)
    assert type(cv) is kind
    assert cv.get_n_splits() == 1
    (train, test), *_ = cv.split(X, y)
    assert len(test) == HOLDOUT_SHARE * HOLDOUT_MIN_ROWS
    (again, _), *_ = resolve_cv(tuner(random_state=7), X, y).split(X, y)
    np.testing.assert_array_equal(train, again)


def test_an_explicit_cv_is_obeyed_at_any_size():
    """Check that cv=None and an int keep their folds above the line."""
    X = np.zeros((HOLDOUT_MIN_ROWS, 2))
    y = np.arange(HOLDOUT_MIN_ROWS) % 2
    assert resolve_cv(TunedMLPClassifier(cv=None), X, y).get_n_splits() == 5
    assert resolve_cv(TunedMLPClassifier(cv=3), X, y).get_n_splits() == 3


def test_the_holdout_scores_as_grid_search_cv_on_the_same_split(
    iris, fast_mlp, monkeypatch
):
    """Check a holdout fit against GridSearchCV over the same one split."""
    X, y = iris
    monkeypatch.setattr(_build, "HOLDOUT_MIN_ROWS", 100)  # iris's 150 rows
    space = {"alpha": [1e-4, 1e-1, 10.0]}
    tuner = TunedMLPClassifier(
        fast_mlp, param_space=space, search="grid", random_state=0,
        selection="best", ensemble_size=1,
    ).fit(X, y)  # fmt: skip
    assert tuner.n_splits_ == 1
    split = StratifiedShuffleSplit(1, test_size=HOLDOUT_SHARE, random_state=0)
    reference = GridSearchCV(fast_mlp, space, cv=split).fit(X, y)
    np.testing.assert_array_equal(
        tuner.cv_results_["split0_test_score"],
        reference.cv_results_["split0_test_score"],
    )
    assert "split1_test_score" not in tuner.cv_results_
    assert tuner.best_params_ == reference.best_params_


def test_a_cv_that_is_neither_auto_nor_a_splitter_is_refused_before_any_fit(iris):
    """Check that a misspelt cv is named in scikit-learn's parameter error."""
    X, y = iris
    with pytest.raises(ValueError, match="'cv' parameter of TunedMLPClassifier"):
        TunedMLPClassifier(cv="Auto").fit(X, y)


def _large_problem(n_rows=HOLDOUT_MIN_ROWS):
    """Return a classification table with a rare class, on the line or below."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, 4))
    y = (X[:, 0] > 0).astype(int)
    y[:12] = 2  # 12 rows of a third class
    return X, y


def _tiny_halving(**params):
    # Rungs of 1, 3 and 9 epochs: a few milliseconds each on 10,000 rows.
    mlp = MLPClassifier(hidden_layer_sizes=(4,), max_iter=9, random_state=0)
    settings = {
        "param_space": {"alpha": (1e-5, 1e-1, "log-uniform")}, "n_iter": 9,
        "random_state": 0, "portfolio": False, "ensemble_size": 1,
    }  # fmt: skip
    return TunedMLPClassifier(mlp, **{**settings, **params})


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_auto_trains_the_lower_rungs_on_fewer_rows_from_the_line():
    """Each rung below the last trains on a third of the next one's rows, from 3,000."""
    X, y = _large_problem()
    tuner = _tiny_halving().fit(X, y)
    results = tuner.cv_results_
    n_train = HOLDOUT_MIN_ROWS * (1 - HOLDOUT_SHARE)  # one held-out split
    expected = [
        max(n_train / 9, LOWER_RUNG_MIN_ROWS),
        max(n_train / 3, LOWER_RUNG_MIN_ROWS),
        n_train,
    ]
    by_rung = [set(results["n_train_samples"][results["iter"] == k]) for k in range(3)]
    assert by_rung == [{int(rows)} for rows in expected]
    assert list(tuner.search_.n_resources_) == [1, 3, 9]  # and the epochs grow


def test_a_lower_rungs_sample_keeps_every_class():
    """A rare class keeps rows in the sample, stratified, as the fold has it."""
    _, y = _large_problem()
    train = np.arange(2_000, len(y))
    train = np.concatenate([np.arange(12), train])  # the 12 rare rows
    picked = subsample(train, 3_000, y, random_state=[0, 0, 0])
    assert len(picked) == pytest.approx(3_000, abs=3)
    assert set(picked) <= set(train)
    assert np.sum(y[picked] == 2) >= 1
    np.testing.assert_array_equal(
        picked, subsample(train, 3_000, y, random_state=[0, 0, 0])
    )


@pytest.mark.parametrize(
    ("resource", "n_rows"),
    [("max_iter", HOLDOUT_MIN_ROWS), ("auto", HOLDOUT_MIN_ROWS - 1)],
)
def test_every_rung_trains_on_all_rows_with_max_iter_or_below_the_line(
    resource, n_rows
):
    X, y = _large_problem(n_rows)
    tuner = _tiny_halving(resource=resource, cv=2).fit(X, y)
    assert "n_train_samples" not in tuner.cv_results_
    assert list(tuner.search_.n_resources_) == [1, 3, 9]
