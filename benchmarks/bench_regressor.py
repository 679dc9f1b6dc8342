"""TunedMLPRegressor's defaults against RidgeCV, the linear model to beat.

Three problems: scikit-learn's bundled diabetes (442 patients, nearly
linear), Friedman #1 (500 samples of a known non-linear function, noise 1)
and the Palmer penguins' body mass from their other measurements (333
birds, nearly linear). Each is split 75/25 (``random_state=0``) and
standardised with the training part; then RidgeCV, the tuner's default
regressor (``TunedMLPRegressor(search="random", n_iter=6, cv=3)``, which
learns a standardised target) and the same tuner on the raw target
(``DropoutMLPRegressor(max_iter=200)``, the old default), each tuner over
five seeds. The table gives held-out R²: the median over the seeds, and
in how many seeds the tuner reached RidgeCV.

    python benchmarks/bench_regressor.py [--seeds 5]
"""

import argparse
import statistics
import warnings

import numpy as np
import pandas as pd
from _common import environment_line, save_rows
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import DropoutMLPRegressor, TunedMLPRegressor


def problems():
    """Yield (name, X, y) for each regression problem, all offline."""
    X, y = load_diabetes(return_X_y=True)
    yield "diabetes", X, y
    X, y = make_friedman1(n_samples=500, noise=1.0, random_state=0)
    yield "friedman1", X, y
    from palmerpenguins import load_penguins

    frame = load_penguins().dropna()
    y = frame.pop("body_mass_g").to_numpy(float)
    columns = ["species", "island", "bill_length_mm", "bill_depth_mm"]
    columns += ["flipper_length_mm", "sex"]
    yield "penguins", pd.get_dummies(frame[columns]).to_numpy(float), y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()

    rows = []
    for name, X, y in problems():
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=0
        )
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        ridge = RidgeCV().fit(X_train, y_train).score(X_test, y_test)
        row = {"problem": name, "ridge_r2": ridge}
        for label, estimator in (
            ("default", None),
            ("raw_target", DropoutMLPRegressor(max_iter=200)),
        ):
            scores = []
            for seed in range(args.seeds):
                tuner = TunedMLPRegressor(
                    estimator, search="random", n_iter=6, cv=3, random_state=seed
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tuner.fit(X_train, y_train)
                scores.append(tuner.score(X_test, y_test))
            row[f"{label}_r2"] = scores
            row[f"{label}_median"] = statistics.median(scores)
            row[f"{label}_reached"] = int(np.sum(np.asarray(scores) >= ridge))
        rows.append(row)
        print(f"{name}: done", flush=True)
    save_rows("regressor", rows)

    print(
        "\n| problem | RidgeCV | tuner, standardised target (median) "
        "| reached RidgeCV | tuner, raw target (median) | reached RidgeCV |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['problem']} | {row['ridge_r2']:.3f} "
            f"| {row['default_median']:.3f} | {row['default_reached']}/{args.seeds} "
            f"| {row['raw_target_median']:.3f} "
            f"| {row['raw_target_reached']}/{args.seeds} |"
        )
    print(f"\nseed 0 of the default: {[round(r['default_r2'][0], 3) for r in rows]}")
    print(environment_line())


if __name__ == "__main__":
    main()
