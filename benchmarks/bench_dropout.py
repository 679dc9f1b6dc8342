"""Measure whether dropout helps a wide MLP on load_digits, and its cost.

A wide network (2 hidden layers of 512 units) on standardised load_digits,
with early stopping, for several dropout rates and seeds. Reports held-out
accuracy (mean and standard deviation over seeds), epochs run, and fit time
as a ratio to dropout=0 measured in the same run (median over seeds), both
per fit and per epoch (the cost of drawing and applying the masks).

    python benchmarks/bench_dropout.py [--seeds 5]
"""

import argparse
import statistics
import warnings

import numpy as np
from _common import environment_line, save_rows, scaled_split, timed
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sk_mlp_tune import DropoutMLPClassifier

RATES = (0.0, 0.2, 0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    rows = []
    for seed in range(args.seeds):
        X_train, X_test, y_train, y_test = scaled_split(X, y, seed)
        for rate in RATES:
            clf = DropoutMLPClassifier(
                n_hidden_layers=2,
                n_neurons=512,
                dropout=rate,
                max_iter=300,
                early_stopping=True,
                n_iter_no_change=10,
                random_state=seed,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                seconds, clf = timed(clf.fit, X_train, y_train)
            rows.append(
                {
                    "seed": seed,
                    "dropout": rate,
                    "accuracy": clf.score(X_test, y_test),
                    "fit_s": seconds,
                    "epochs": clf.n_iter_,
                }
            )
    save_rows("dropout", rows)

    def of(rate, key):
        return [row[key] for row in rows if row["dropout"] == rate]

    # Ratios are taken seed by seed, against the dropout=0 fit of that seed.
    print(
        "| dropout | accuracy (mean ± sd) | epochs (median) | fit time (median s) "
        "| fit time ratio | time per epoch ratio |"
    )
    print("|---|---|---|---|---|---|")
    for rate in RATES:
        ratio = [
            a / b for a, b in zip(of(rate, "fit_s"), of(0.0, "fit_s"), strict=True)
        ]
        per_epoch = [
            (a / ea) / (b / eb)
            for a, ea, b, eb in zip(
                of(rate, "fit_s"),
                of(rate, "epochs"),
                of(0.0, "fit_s"),
                of(0.0, "epochs"),
                strict=True,
            )
        ]
        accuracy = of(rate, "accuracy")
        print(
            f"| {rate} | {np.mean(accuracy):.4f} ± {np.std(accuracy):.4f} "
            f"| {statistics.median(of(rate, 'epochs')):.0f} "
            f"| {statistics.median(of(rate, 'fit_s')):.2f} "
            f"| {statistics.median(ratio):.2f} | {statistics.median(per_epoch):.2f} |"
        )
    print(f"\n{args.seeds} seeds; {environment_line()}")


if __name__ == "__main__":
    main()
