"""Measure when the Bayesian optimizer's own time starts to matter.

The tuner's Bayesian search over its default space, on fits that take
milliseconds (iris, one epoch), so that nearly all the wall time is the
optimizer's: fitting its Gaussian process and optimising the acquisition
function at every step. Reports the time per step as ``n_iter`` grows,
against the typical MLP fit of a real search (the load_digits demo's median
candidate, about 0.3 s x 5 folds).

    python benchmarks/bench_bayes_overhead.py [--n-iters 10 20 40 80]
"""

import argparse
import warnings

import numpy as np
from _common import environment_line, save_rows, timed
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-iters", nargs="+", type=int, default=[10, 20, 40, 80])
    args = parser.parse_args()

    X, y = load_iris(return_X_y=True)
    rows = []
    for n_iter in args.n_iters:
        tuner = TunedMLPClassifier(
            DropoutMLPClassifier(max_iter=1), n_iter=n_iter, cv=2, random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            seconds, tuner = timed(tuner.fit, X, y)
        results = tuner.cv_results_
        fits = (
            np.sum(results["mean_fit_time"]) + np.sum(results["mean_score_time"])
        ) * 2
        rows.append(
            {
                "n_iter": n_iter,
                "wall_s": seconds,
                "fits_s": float(fits),
                "optimizer_s_per_step": (seconds - fits) / n_iter,
            }
        )
        print(rows[-1], flush=True)
    save_rows("bayes_overhead", rows)
    print(
        "\n| n_iter | wall time (s) | of which fits (s) | optimizer time per step (s) |"
    )
    print("|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['n_iter']} | {row['wall_s']:.1f} | {row['fits_s']:.1f} "
            f"| {row['optimizer_s_per_step']:.2f} |"
        )
    print(f"\n{environment_line()}")


if __name__ == "__main__":
    main()
