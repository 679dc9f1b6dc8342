"""From a poor to an optimised MLP on load_digits, with and without scaling.

Three configurations, each on several train/test splits (seeds):

- poor: 1 hidden layer of 10 neurons, learning rate 0.1;
- hand-optimised: 128-64-32, learning rate 0.001, dropout 0.2;
- tuned: ``TunedMLPClassifier()`` with its defaults (halving search, 20
  candidates, 5-fold CV), all cores.

Reports held-out accuracy (mean and standard deviation over seeds) and the
median fit time, with the features standardised and raw (pixel values 0-16).

    python benchmarks/bench_poor_to_tuned.py [--seeds 3]
"""

import argparse
import statistics
import warnings

import numpy as np
from _common import environment_line, save_rows, timed
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier


def configurations(seed):
    return {
        "poor": MLPClassifier(
            hidden_layer_sizes=(10,), learning_rate_init=0.1, random_state=seed
        ),
        "hand-optimised": DropoutMLPClassifier(
            hidden_layer_sizes=(128, 64, 32),
            learning_rate_init=0.001,
            dropout=0.2,
            random_state=seed,
        ),
        "tuned": TunedMLPClassifier(n_jobs=-1, random_state=seed),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    rows = []
    for seed in range(args.seeds):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, stratify=y, random_state=seed
        )
        for scaled in (True, False):
            for name, model in configurations(seed).items():
                if scaled:
                    model = make_pipeline(StandardScaler(), model)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    seconds, model = timed(model.fit, X_train, y_train)
                rows.append(
                    {
                        "seed": seed,
                        "scaled": scaled,
                        "model": name,
                        "accuracy": model.score(X_test, y_test),
                        "fit_s": seconds,
                    }
                )
                print(rows[-1], flush=True)
    save_rows("poor_to_tuned", rows)

    print("\n| model | features | accuracy (mean ± sd) | fit time (median s) |")
    print("|---|---|---|---|")
    for name in ("poor", "hand-optimised", "tuned"):
        for scaled in (True, False):
            picked = [r for r in rows if r["model"] == name and r["scaled"] == scaled]
            accuracy = [r["accuracy"] for r in picked]
            print(
                f"| {name} | {'standardised' if scaled else 'raw'} "
                f"| {np.mean(accuracy):.4f} ± {np.std(accuracy):.4f} "
                f"| {statistics.median(r['fit_s'] for r in picked):.1f} |"
            )
    print(f"\n{args.seeds} seeds; {environment_line()}")


if __name__ == "__main__":
    main()
