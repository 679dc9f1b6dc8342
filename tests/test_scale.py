"""A default that knows the data's size: ``cv="auto"``."""

import numpy as np
import pytest
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    ShuffleSplit,
    StratifiedKFold,
    StratifiedShuffleSplit,
)

from sk_mlp_tune import TunedMLPClassifier, TunedMLPRegressor, _build
from sk_mlp_tune._build import HOLDOUT_MIN_ROWS, HOLDOUT_SHARE, resolve_cv

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
