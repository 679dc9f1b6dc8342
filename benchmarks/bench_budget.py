"""Does max_time hold? The whole fit's wall time against its budget.

Slow candidates (dropout MLPs of 2 or 3 layers of 256 or 512 units on
digits) under a budget shorter than a few of their fits: before the
deadline reached the dropout MLPs' epoch loop, every candidate already
started finished its folds, and a 5-second budget took 16 to 46 seconds.
The target is the whole fit, refit included, within 1.2 x max_time + 2 s,
under every strategy. The estimator's own settings (one layer of 100)
come first and always finish: a search with no result would have nothing
to give.

    python benchmarks/bench_budget.py [--max-time 8] [--repeats 3] [--n-jobs 1 2]

With ``--rows N`` the data is ``make_classification`` of N rows and 40
features (bench_scale.py's problem) and the tuner the default one, as a
user with that much data runs it: does the budget hold at every size?

    python benchmarks/bench_budget.py --rows 10000 30000 --max-time 30 \
        --n-jobs 2 --strategies halving --repeats 2
"""

import argparse
import statistics
import warnings

from _common import environment_line, save_rows, timed
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier

STRATEGIES = ["grid", "random", "bayes", "halving", "asha"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=float, default=8.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--strategies", nargs="+", default=STRATEGIES)
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[None],
        help="make_classification sizes and the default tuner, instead of digits",
    )  # fmt: skip
    args = parser.parse_args()
    rows = []
    for n_rows in args.rows:
        X, y = _data(n_rows)
        for n_jobs in args.n_jobs:
            for strategy in args.strategies:
                walls = []
                for seed in range(args.repeats):
                    tuner = _tuner(n_rows, strategy, seed)
                    tuner.set_params(max_time=args.max_time, n_jobs=n_jobs)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        wall, _ = timed(tuner.fit, X, y)
                    walls.append(wall)
                rows.append(_row(strategy, n_jobs, n_rows or len(y), args, walls))
                print(rows[-1], flush=True)
    save_rows("budget", rows)
    print(
        "\n| rows | search | n_jobs | wall (median s) | wall (max s) | / max_time "
        "| bound |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        held = "held" if row["max_wall_s"] <= row["bound_s"] else "missed"
        print(
            f"| {row['rows']} | {row['strategy']} | {row['n_jobs']} "
            f"| {row['median_wall_s']:.1f} | {row['max_wall_s']:.1f} "
            f"| {row['median_wall_s'] / row['max_time']:.2f} "
            f"| {row['bound_s']:.1f} s: {held} |"
        )
    print(f"\n{args.repeats} repeats, max_time={args.max_time}; {environment_line()}")


def _data(n_rows):
    if n_rows is None:
        X, y = load_digits(return_X_y=True)
    else:
        X, y = make_classification(
            n_rows, n_features=40, n_informative=20, n_redundant=10, n_classes=3,
            n_clusters_per_class=3, flip_y=0.02, random_state=0,
        )  # fmt: skip
    return StandardScaler().fit_transform(X), y


def _tuner(n_rows, strategy, seed):
    """Slow candidates on digits; on a size of its own, the default tuner."""
    if n_rows is not None:
        return TunedMLPClassifier(search=strategy, random_state=seed)
    return TunedMLPClassifier(
        DropoutMLPClassifier(random_state=seed),
        param_space={
            "n_hidden_layers": [2, 3],
            "n_neurons": [256, 512],
            "alpha": [1e-4, 1e-2],
        },
        search=strategy,
        n_iter=20,
        cv=3,
        random_state=seed,
    )


def _row(strategy, n_jobs, n_rows, args, walls):
    median = statistics.median(walls)
    return {
        "rows": n_rows,
        "strategy": strategy,
        "n_jobs": n_jobs,
        "max_time": args.max_time,
        "median_wall_s": round(median, 2),
        "max_wall_s": round(max(walls), 2),
        "bound_s": 1.2 * args.max_time + 2,
    }


if __name__ == "__main__":
    main()
