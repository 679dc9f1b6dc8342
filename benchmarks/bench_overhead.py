"""Overhead of TunedMLPClassifier against the hand-built search it wraps.

The same candidates, folds and seeds run through the tuner and through a
hand-built GridSearchCV / HalvingRandomSearchCV / scikit-optimize
BayesSearchCV, alternately, in one process; the script reports the median
wall time of each and their ratio. A ratio of 1.00 means no overhead; the
target is within 5%. The "uneven" grid mixes fits 100 times apart in
length, with a time budget (``max_time``) that never runs out: the budget's
checks must cost no throughput, however unequal the candidates.

    python benchmarks/bench_overhead.py [--repeats 7] [--n-jobs 1]
"""

import argparse
import statistics
import warnings

import numpy as np
from _common import environment_line, save_rows, timed
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingRandomSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from skopt import BayesSearchCV
from skopt.space import Categorical, Real

from sk_mlp_tune import TunedMLPClassifier


def fit_seconds(tuner, n_jobs):
    """Return the time the MLP fits need at the least: their sum over the cores."""
    results = tuner.cv_results_
    per_fold = np.asarray(results["mean_fit_time"]) + results["mean_score_time"]
    return per_fold.sum() * tuner.n_splits_ / max(n_jobs, 1) + tuner.refit_time_


def compare(strategy, make_tuner, make_hand, X, y, args, same_work=True):
    """Time the tuner and the hand-built search alternately; return a result row.

    With ``same_work``, both sides must evaluate the same candidates with the
    same scores, and the ratio is of wall times. Without (the tuner's random,
    Bayesian and halving searches begin with the estimator's own settings,
    which a hand-built search cannot be told to), the ratio is of wall time
    per second of fitting: what each side spends around the same fits.
    """
    tuner_times, hand_times, outside, per_fit = [], [], [], []
    for _ in range(args.repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t_tuner, tuner = timed(make_tuner().fit, X, y)
            t_hand, hand = timed(make_hand(tuner).fit, X, y)
        if same_work:
            # Same work on both sides, or the ratio means nothing.
            hand_params = [dict(p) for p in hand.cv_results_["params"]]
            assert hand_params == tuner.cv_results_["params"], strategy
            np.testing.assert_allclose(
                hand.cv_results_["mean_test_score"],
                tuner.cv_results_["mean_test_score"],
            )
        tuner_times.append(t_tuner)
        hand_times.append(t_hand)
        outside.append(1 - fit_seconds(tuner, args.n_jobs) / t_tuner)
        per_fit.append(
            (t_tuner / fit_seconds(tuner, args.n_jobs))
            / (t_hand / fit_seconds(hand, args.n_jobs))
        )
    ratio = statistics.median(tuner_times) / statistics.median(hand_times)
    return {
        "strategy": strategy,
        "candidates": len(tuner.cv_results_["params"]),
        "n_jobs": args.n_jobs,
        "repeats": args.repeats,
        "tuner_median_s": statistics.median(tuner_times),
        "hand_median_s": statistics.median(hand_times),
        "ratio": ratio if same_work else statistics.median(per_fit),
        "ratio_of": "wall time" if same_work else "wall time per fit second",
        "outside_fits": statistics.median(outside),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    mlp = MLPClassifier(max_iter=40, random_state=0)
    common = {"cv": 3, "n_jobs": args.n_jobs}

    grid = {
        "hidden_layer_sizes": [(32,), (64, 32)],
        "alpha": [1e-4, 1e-2],
        "learning_rate_init": [1e-3, 1e-2],
    }
    bayes_space = {
        "activation": ["relu", "tanh"],
        "alpha": (1e-5, 1e-1, "log-uniform"),
        "learning_rate_init": (1e-4, 1e-1, "log-uniform"),
    }

    # Fits from a few hundredths of a second to over a second.
    uneven = {
        "hidden_layer_sizes": [(16,), (128, 128)],
        "max_iter": [5, 80],
        "alpha": [1e-4, 1e-2],
    }

    def tuner_grid():
        return TunedMLPClassifier(mlp, param_space=grid, search="grid", **common)

    def tuner_uneven():
        return TunedMLPClassifier(
            mlp, param_space=uneven, search="grid", max_time=1e6, **common
        )

    def hand_grid():
        return GridSearchCV(mlp, grid, **common)

    def tuner_bayes():
        return TunedMLPClassifier(
            mlp,
            param_space=bayes_space,
            search="bayes",
            n_iter=12,
            random_state=0,
            **common,
        )

    def hand_bayes(seed, n_points):
        space = {
            "activation": Categorical(["relu", "tanh"]),
            "alpha": Real(1e-5, 1e-1, prior="log-uniform"),
            "learning_rate_init": Real(1e-4, 1e-1, prior="log-uniform"),
        }
        # The tuner's seed and points per step, so both ask the same.
        return BayesSearchCV(
            mlp, space, n_iter=12, random_state=seed, n_points=n_points, **common
        )

    def tuner_halving():
        return TunedMLPClassifier(
            mlp,
            param_space=bayes_space,
            search="halving",
            n_iter=9,
            random_state=0,
            **common,
        )

    def hand_halving(tuner):
        # The tuner's own distributions and seed, so both draw the same
        # candidates; epochs as the resource, up to the MLP's max_iter.
        return HalvingRandomSearchCV(
            mlp,
            tuner.search_.param_distributions,
            n_candidates=9,
            resource="max_iter",
            max_resources=mlp.max_iter,
            min_resources="exhaust",
            random_state=tuner.search_.random_state,
            **common,
        )

    rows = [
        compare("grid", tuner_grid, lambda tuner: hand_grid(), X, y, args),
        compare(
            "grid, uneven, max_time",
            tuner_uneven,
            lambda tuner: GridSearchCV(mlp, uneven, **common),
            X,
            y,
            args,
        ),
        compare("halving", tuner_halving, hand_halving, X, y, args, same_work=False),
        compare(
            "bayes",
            tuner_bayes,
            lambda tuner: hand_bayes(
                tuner.search_.random_state, tuner.search_.n_points
            ),
            X,
            y,
            args,
            same_work=False,
        ),
    ]

    save_rows("overhead", rows)

    print(
        "| search | candidates x folds | n_jobs | tuner (median s) "
        "| hand-built (median s) | ratio | wall time outside fits |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['strategy']} | {row['candidates']} x 3 | {row['n_jobs']} "
            f"| {row['tuner_median_s']:.2f} | {row['hand_median_s']:.2f} "
            f"| {row['ratio']:.3f} ({row['ratio_of']}) | {row['outside_fits']:.0%} |"
        )
    print(f"\n{args.repeats} repeats; {environment_line()}")


if __name__ == "__main__":
    main()
