"""Bayesian search proposing several candidates per step against one at a time.

scikit-optimize proposes one candidate per step by default, so at most
``cv`` fits run at once. The tuner proposes ``n_points`` per step (by default
``ceil(n_jobs / cv)``). Same space, budget and seeds for each ``n_points``:
median wall time (and its ratio to one at a time) and mean best CV score.

    python benchmarks/bench_bayes_batching.py [--seeds 3] [--n-jobs 2]
"""

import argparse
import statistics
import warnings

import numpy as np
from _common import environment_line, save_rows, timed
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--n-iter", type=int, default=16)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    batch_sizes = sorted({1, 2, 4, max(1, args.n_jobs)})
    rows = []
    for seed in range(args.seeds):
        for n_points in batch_sizes:
            tuner = TunedMLPClassifier(
                DropoutMLPClassifier(max_iter=30),
                search="bayes",
                n_iter=args.n_iter,
                n_points=n_points,
                cv=3,
                n_jobs=args.n_jobs,
                random_state=seed,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                seconds, tuner = timed(tuner.fit, X, y)
            rows.append(
                {
                    "seed": seed,
                    "n_points": n_points,
                    "n_jobs": args.n_jobs,
                    "wall_s": seconds,
                    "best_cv": tuner.best_score_,
                }
            )
            print(rows[-1], flush=True)
    save_rows("bayes_batching", rows)

    print(
        "\n| n_points | wall time (median s) | ratio to n_points=1 | best CV (mean) |"
    )
    print("|---|---|---|---|")
    one = {r["seed"]: r["wall_s"] for r in rows if r["n_points"] == 1}
    for n_points in batch_sizes:
        picked = [r for r in rows if r["n_points"] == n_points]
        ratio = statistics.median(r["wall_s"] / one[r["seed"]] for r in picked)
        print(
            f"| {n_points} | {statistics.median(r['wall_s'] for r in picked):.1f} "
            f"| {ratio:.2f} | {np.mean([r['best_cv'] for r in picked]):.4f} |"
        )
    print(
        f"\n{args.n_iter} candidates, 3-fold CV, n_jobs={args.n_jobs}, "
        f"{args.seeds} seeds; {environment_line()}"
    )


if __name__ == "__main__":
    main()
