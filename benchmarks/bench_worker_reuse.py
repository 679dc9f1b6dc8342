"""Does a search between other parallel work keep joblib's worker processes.

A notebook alternates a search with scikit-learn's own parallel work
(``cross_val_score(n_jobs=2)``, ``permutation_importance``...). joblib
keeps its worker processes for the next caller only when that caller asks
with the same arguments; otherwise it starts new ones, about a second each
time. Each round here is a search over 2 candidates x 2 folds on iris
(fits of milliseconds, so the rest is the cost of the workers) followed by
``cross_val_score(n_jobs=2)``: once with the tuner, once with the same
candidates in a hand-built ``GridSearchCV``, alternately. The script reports
the median round of each and their ratio.

    python benchmarks/bench_worker_reuse.py [--repeats 7] [--n-jobs 2]
"""

import argparse
import statistics
import warnings

from _common import environment_line, save_rows, timed
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier

from sk_mlp_tune import TunedMLPClassifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    X, y = load_iris(return_X_y=True)
    mlp = MLPClassifier(
        hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200, random_state=0
    )
    grid = {"alpha": [1e-4, 1e-2]}
    searches = {
        "tuner": TunedMLPClassifier(
            mlp, param_space=grid, search="grid", cv=2, n_jobs=args.n_jobs
        ),
        "GridSearchCV": GridSearchCV(mlp, grid, cv=2, n_jobs=args.n_jobs),
    }

    def one_round(search):
        search.fit(X, y)
        cross_val_score(mlp, X, y, cv=2, n_jobs=args.n_jobs)

    for search in searches.values():  # start the workers once
        one_round(search)
    seconds = {name: [] for name in searches}
    for _ in range(args.repeats):
        for name, search in searches.items():
            seconds[name].append(timed(one_round, search)[0])

    medians = {name: statistics.median(times) for name, times in seconds.items()}
    ratio = medians["tuner"] / medians["GridSearchCV"]
    save_rows(
        "worker_reuse",
        [{"n_jobs": args.n_jobs, "seconds": seconds, "ratio": ratio}],
    )
    tuner, hand = medians["tuner"], medians["GridSearchCV"]
    print(
        f"median round (search + cross_val_score, n_jobs={args.n_jobs}): "
        f"tuner {tuner:.3f} s, GridSearchCV {hand:.3f} s, ratio {ratio:.2f}"
    )
    print(environment_line())


if __name__ == "__main__":
    main()
