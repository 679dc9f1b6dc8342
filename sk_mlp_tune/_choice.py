"""Which candidate a search ends with: the rule, as pure functions.

Cross-validation on a few hundred rows ranks candidates by scores whose
differences are often noise: the best mean is then the luckiest candidate,
not the best one. The one-standard-error rule (Hastie, Tibshirani and
Friedman, *The Elements of Statistical Learning*, 7.10) keeps the best mean
as the bar and accepts any candidate within one standard error of it; among
those, the tuner prefers the candidates known to work before the search
began: the estimator's own settings, then the portfolio's entries in their
order. On large data the standard error shrinks and the rule chooses the
best mean, as ``GridSearchCV`` does.

Nothing here knows a search class: the functions take arrays and indices,
and are tested with made-up scores.
"""

import math

import numpy as np

SELECTIONS = ("one_se", "best")

# How cv_results_["origin"] names where a candidate came from.
ESTIMATOR_ORIGIN = "estimator"
SEARCH_ORIGIN = "search"


def portfolio_origin(position):
    """Return the origin label of the portfolio's entry at ``position`` (from 0)."""
    return f"portfolio {position + 1}"


def candidate_origins(params, starting, ignore=()):
    """Label each row of ``params`` with where its candidate came from.

    Parameters
    ----------
    params : list of dict
        ``cv_results_["params"]``.
    starting : list of (dict, str)
        The candidates the search began with and their labels: the
        estimator's own settings (``"estimator"``), then the portfolio's
        entries (``"portfolio 1"``, ...).
    ignore : collection of str
        Keys left out of the comparison: successive halving adds the
        resource (``max_iter``) to every candidate.

    Returns
    -------
    origins : ndarray of str
        One label per row; ``"search"`` for the strategy's own proposals.
    """
    labels = []
    for row in params:
        row = {k: v for k, v in row.items() if k not in ignore}
        labels.append(
            next(
                (label for candidate, label in starting if candidate == row),
                SEARCH_ORIGIN,
            )
        )
    return np.asarray(labels, dtype=object)


def preferred_rows(origins, eligible):
    """Return the rows of ``eligible`` to prefer on a tie, in order.

    The estimator's own settings first, then the portfolio's entries in the
    portfolio's order; the search's own proposals are not preferred.

    Examples
    --------
    >>> from sk_mlp_tune._choice import preferred_rows
    >>> origins = ["search", "portfolio 2", "estimator", "portfolio 1"]
    >>> preferred_rows(origins, [0, 1, 2, 3])
    [2, 3, 1]
    """

    def preference(row):
        origin = origins[row]
        if origin == ESTIMATOR_ORIGIN:
            return 0
        return int(origin.removeprefix("portfolio "))

    starting = [int(row) for row in eligible if origins[row] != SEARCH_ORIGIN]
    return sorted(starting, key=preference)


def choose_index(means, stds, n_splits, eligible, preferred, selection):
    """Return the row a search ends with.

    Parameters
    ----------
    means, stds : array-like of float
        Mean and standard deviation of each row's cross-validated scores
        (``mean_test_<metric>``, ``std_test_<metric>``); NaN for a failed
        candidate.
    n_splits : int
        Folds behind each mean.
    eligible : array-like of int
        The rows that may be chosen: every row, or successive halving's top
        rung.
    preferred : list of int
        Rows to prefer when they are within one standard error of the best,
        in order of preference.
    selection : {"one_se", "best"}
        ``"best"``: the best mean (the first one on ties), as scikit-learn's
        searches choose. ``"one_se"``: the first of ``preferred`` whose mean
        is at least the best mean minus the best row's standard error
        (``std / sqrt(n_splits)``), else the best.

    Returns
    -------
    index : int
        A row of ``eligible``; its first if every score failed.

    Examples
    --------
    >>> from sk_mlp_tune._choice import choose_index
    >>> means, stds = [0.90, 0.92, 0.80], [0.03, 0.06, 0.01]
    >>> choose_index(means, stds, 3, [0, 1, 2], [0], "best")
    1
    >>> choose_index(means, stds, 3, [0, 1, 2], [0], "one_se")
    0
    >>> choose_index(means, stds, 3, [0, 1, 2], [2], "one_se")
    1
    """
    eligible = np.asarray(eligible, dtype=int)
    scores = np.asarray(means, dtype=float)[eligible]
    if np.isnan(scores).all():
        return int(eligible[0])
    best = int(eligible[np.nanargmax(scores)])
    if selection == "best":
        return best
    standard_error = float(stds[best]) / math.sqrt(n_splits)
    bar = float(means[best]) - (standard_error if np.isfinite(standard_error) else 0)
    for row in preferred:
        if row in eligible and float(means[row]) >= bar:
            return int(row)
    return best
