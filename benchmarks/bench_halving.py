"""Successive halving against random search over the same number of candidates.

Both draw ``n_iter`` candidates from the tuner's default space; halving
trains them for 3, 9, 27 and finally 81 epochs (``resource="max_iter"``),
keeping the best third at each rung, while random search trains every
candidate for 81 epochs. Reports wall time, the time at which random search
had evaluated its eventual best candidate (candidates run in order, so that
is the wall time times the best candidate's position), the best CV score
and the held-out accuracy of the refitted best.

    python benchmarks/bench_halving.py [--seeds 3]
"""

import argparse
import statistics
import warnings

import numpy as np
from _common import environment_line, save_rows, scaled_split, timed
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-iter", type=int, default=27)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    rows = []
    for seed in range(args.seeds):
        X_train, X_test, y_train, y_test = scaled_split(X, y, seed)
        for search in ("random", "halving"):
            tuner = TunedMLPClassifier(
                DropoutMLPClassifier(max_iter=81),
                search=search,
                n_iter=args.n_iter,
                cv=3,
                n_jobs=2,
                random_state=seed,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                seconds, tuner = timed(tuner.fit, X_train, y_train)
            n_rows = len(tuner.cv_results_["params"])
            to_best = seconds * (tuner.best_index_ + 1) / n_rows
            rows.append(
                {
                    "seed": seed,
                    "search": search,
                    "wall_s": seconds,
                    "time_to_best_s": seconds if search == "halving" else to_best,
                    "best_cv": tuner.best_score_,
                    "test_accuracy": tuner.score(X_test, y_test),
                }
            )
            print(rows[-1], flush=True)
    save_rows("halving", rows)

    print(
        "\n| search | wall time (median s) | time to its best (median s) "
        "| best CV (mean) | held-out accuracy (mean ± sd) |"
    )
    print("|---|---|---|---|---|")
    for search in ("random", "halving"):
        picked = [r for r in rows if r["search"] == search]
        accuracy = [r["test_accuracy"] for r in picked]
        print(
            f"| {search} | {statistics.median(r['wall_s'] for r in picked):.1f} "
            f"| {statistics.median(r['time_to_best_s'] for r in picked):.1f} "
            f"| {np.mean([r['best_cv'] for r in picked]):.4f} "
            f"| {np.mean(accuracy):.4f} ± {np.std(accuracy):.4f} |"
        )
    print(
        f"\n{args.n_iter} candidates, 3-fold CV, n_jobs=2, {args.seeds} seeds; "
        f"{environment_line()}"
    )


if __name__ == "__main__":
    main()
