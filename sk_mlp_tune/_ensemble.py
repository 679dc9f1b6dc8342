"""The best few candidates together: greedy ensemble selection (Caruana et al. 2004).

A search scores every candidate on the samples each fold held out; those
out-of-fold predictions come back from the fold tasks beside the scores
(float32, and only for the candidates that can still be chosen). After the
search, :func:`select` adds, one round at a time and with replacement, the
candidate whose predictions most improve the average so far, scored with
the search's own metric; the weights are the counts over the rounds. The
tuner then refits the members chosen and predicts with their weighted mean.

Greedy selection rather than "average the top k": near-identical members
add nothing but cost, and a member that helps only a little is picked
rarely and weighs little.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.utils import check_random_state

from ._compat import num_samples, safe_indexing

# The candidates ranked best that selection draws from, at most: as
# auto-sklearn's ``ensemble_nbest``. It bounds the predictions kept.
LIBRARY_SIZE = 50

# The rounds of ``ensemble_size="auto"``. On 25 real tables and ``hard``
# (benchmarks/bench_ensemble.py) 10 rounds beat the best network alone on
# 14, tied on 7 and lost on 5, at 1.04x the fit time and 1.14x the predict
# time; 5 rounds gained a little less.
AUTO_ROUNDS = 10

# Below this many training rows ``"auto"`` keeps the best network alone. On
# the 10 real tables of fewer than 600 rows (at most 457 training rows in
# the benchmark's 80/20 splits) the ensemble lost to the best alone on 6 and
# gained on 3, over 5 splits; above it gained on 13 of 15 (bench_real.py).
# Greedy selection scores its rounds on the same out-of-fold predictions it
# chooses from, and a few hundred rows are too few for that to generalise
# (Caruana et al. 2006 saw the same overfitting on small hillclimb sets).
AUTO_MIN_SAMPLES = 500


def fold_predictions(model, X, test):
    """Return ``model``'s predictions on a fold's held-out rows: float32, 2-D.

    A classifier's probabilities, one column per class; a regressor's
    predictions, one column per target.
    """
    X_test = safe_indexing(X, test)
    values = (
        model.predict_proba(X_test) if is_classifier(model) else model.predict(X_test)
    )
    values = np.asarray(values, dtype=np.float32)
    return values.reshape(len(values), -1)


def out_of_fold(predictions, splits, n_samples):
    """Assemble one candidate's fold predictions into one row per sample.

    Parameters
    ----------
    predictions : list of ndarray
        The predictions of each fold, on its held-out rows.
    splits : list of (train, test)
        The folds.
    n_samples : int
        Rows in the training data.

    Returns
    -------
    values : ndarray of shape (n_samples, n_outputs), float32
        Each sample's prediction, averaged over the folds that held it out
        (one for K-fold); NaN for a sample no fold held out.
    """
    total = np.zeros((n_samples, predictions[0].shape[1]), dtype=np.float64)
    count = np.zeros(n_samples)
    for values, (_, test) in zip(predictions, splits, strict=True):
        np.add.at(total, test, values)
        np.add.at(count, test, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / count[:, None]).astype(np.float32)


def greedy_selection(library, score, size, random_state=None):
    """Choose ``size`` members from ``library`` greedily, with replacement.

    Each round adds the predictions that give the best ``score`` of the
    running average. Ties are broken at random, as auto-sklearn breaks
    them: a coarse metric (accuracy) ties often, and always taking the
    first would keep adding the best candidate to itself. A NaN score never
    wins.

    Parameters
    ----------
    library : list of ndarray
        Each candidate's out-of-fold predictions, on the same rows.
    score : callable
        ``score(values)`` of averaged predictions; higher is better.
    size : int
        The rounds.
    random_state : int, RandomState instance or None, default=None
        Breaks the ties.

    Returns
    -------
    counts : ndarray of int
        How often each entry was chosen; they sum to ``size``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_mlp_tune._ensemble import greedy_selection
    >>> y = np.array([0.0, 1.0])
    >>> library = [np.array([[0.0], [0.6]]), np.array([[0.4], [1.0]])]
    >>> greedy_selection(library, lambda v: -np.abs(v[:, 0] - y).sum(), 2)
    array([1, 1])
    """
    rng = check_random_state(random_state)
    counts = np.zeros(len(library), dtype=int)
    total = np.zeros(library[0].shape, dtype=np.float64)
    for n_chosen in range(1, size + 1):
        scores = np.array([score((total + values) / n_chosen) for values in library])
        scores = np.nan_to_num(scores, nan=-np.inf)
        chosen = int(rng.choice(np.flatnonzero(scores == scores.max())))
        total += library[chosen]
        counts[chosen] += 1
    return counts


@dataclass
class Selection:
    """What :func:`select` chose.

    ``rows`` are the members' rows in ``cv_results_`` and ``weights`` theirs
    (positive, summing to 1); ``score`` is the ensemble's out-of-fold score
    and ``single_score`` that of the best-ranked candidate, on the same
    samples; ``n_usable`` the candidates it could choose from.
    """

    rows: list
    weights: np.ndarray
    score: float
    single_score: float
    n_usable: int


def library_rows(predictions, mean_scores):
    """Return the rows of ``predictions`` an ensemble chooses from, best first.

    The ``LIBRARY_SIZE`` with the highest finite mean CV score, ties to the
    earlier row.
    """
    return sorted(
        (row for row in predictions if np.isfinite(mean_scores[row])),
        key=lambda row: (-mean_scores[row], row),
    )[:LIBRARY_SIZE]


def select(
    predictions, mean_scores, scorer, y, score_params, classes, size, random_state
):
    """Select an ensemble from a search's out-of-fold predictions.

    Parameters
    ----------
    predictions : dict
        ``{row of cv_results_: out-of-fold predictions}`` of the candidates
        that can be chosen.
    mean_scores : ndarray
        The mean CV score of every row, by which the library is ranked.
    scorer : callable
        The scorer of the metric the search ranks by.
    y : ndarray
        The training target.
    score_params : dict
        The scorer's parameters (``sample_weight``, say), per sample.
    classes : ndarray or None
        The classes, in the order of the probabilities' columns; None for
        a regressor.
    size : int
        The rounds of selection.
    random_state : int, RandomState instance or None
        Breaks ties between candidates.

    Returns
    -------
    selection : Selection or None
        None when no candidate has predictions with a finite score.
    """
    ranked = library_rows(predictions, mean_scores)
    if not ranked:
        return None
    library = [predictions[row] for row in ranked]
    held_out = np.flatnonzero(np.all([np.isfinite(v).all(axis=1) for v in library], 0))
    library = [values[held_out] for values in library]
    n_samples = num_samples(y)
    y = safe_indexing(y, held_out)
    params = {
        name: safe_indexing(value, held_out) if _per_sample(value, n_samples) else value
        for name, value in score_params.items()
    }
    rows = np.arange(len(held_out)).reshape(-1, 1)

    def score(values):
        stand_in = (
            _GivenProbabilities(values, classes)
            if classes is not None
            else _GivenPredictions(values)
        )
        try:
            return float(scorer(stand_in, rows, y, **params))
        except ValueError:  # a metric undefined on these predictions
            return float("nan")

    counts = greedy_selection(library, score, size, random_state)
    chosen = np.flatnonzero(counts)
    weights = counts[chosen] / counts.sum()
    average = sum(w * library[i] for i, w in zip(chosen, weights, strict=True))
    return Selection(
        rows=[ranked[i] for i in chosen],
        weights=weights,
        score=score(average),
        single_score=score(library[0]),
        n_usable=len(ranked),
    )


def _per_sample(value, n_samples):
    try:
        return num_samples(value) == n_samples
    except TypeError:
        return False


def weighted_mean(members, weights, method, X):
    """Return the weighted mean of ``getattr(member, method)(X)`` over ``members``."""
    total = None
    for member, weight in zip(members, weights, strict=True):
        values = weight * np.asarray(getattr(member, method)(X), dtype=np.float64)
        total = values if total is None else total + values
    return total


class _GivenProbabilities(ClassifierMixin, BaseEstimator):
    """A classifier whose probabilities are given: how a scorer scores them.

    It predicts for "samples" that are row numbers into ``values``, so that
    any scikit-learn scorer, its response method, ``pos_label`` and
    ``sample_weight`` included, scores out-of-fold predictions as it scores
    a model.
    """

    def __init__(self, values, classes):
        self.values = values
        self.classes = classes

    @property
    def classes_(self):
        return self.classes

    def predict_proba(self, rows):
        values = self.values[np.asarray(rows).ravel()].astype(np.float64)
        # Kept as float32: rows sum to 1 again only to float64's precision.
        return values / values.sum(axis=1, keepdims=True)

    def predict(self, rows):
        return self.classes[np.argmax(self.predict_proba(rows), axis=1)]


class _GivenPredictions(RegressorMixin, BaseEstimator):
    """A regressor whose predictions are given: how a scorer scores them."""

    def __init__(self, values):
        self.values = values

    def predict(self, rows):
        values = self.values[np.asarray(rows).ravel()]
        return values[:, 0] if values.shape[1] == 1 else values
