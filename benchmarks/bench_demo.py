"""The demo's budget: the gain of `python -m sk_mlp_tune` over the untuned MLP.

The demo tunes ``StandardScaler`` + ``TunedMLPClassifier`` on load_digits
(75/25 stratified split, 5-fold CV, ``n_jobs=-1``) and prints the held-out
accuracy beside the untuned ``MLPClassifier()``'s on the same split. digits
is easy for the untuned MLP, so the demo's search and number of candidates
are chosen here: each configuration runs the demo's pipeline on several
split seeds (the seed is also the search's and the networks'), paired with
the untuned MLP of the same seed.

    python benchmarks/bench_demo.py                      # about 10 minutes
    python benchmarks/bench_demo.py --configs asha:40 --seeds 0 1 2 3 4
"""

import argparse
import statistics
import warnings

from _common import environment_line, save_rows, timed
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import TunedMLPClassifier


def run(search, n_iter, seed):
    """Return the demo's row for one configuration and split seed."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, random_state=seed
    )
    tuner = TunedMLPClassifier(
        search=search, n_iter=n_iter, cv=5, n_jobs=-1, random_state=seed, verbose=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demo's own summary says it
        seconds, tuned = timed(
            make_pipeline(StandardScaler(), tuner).fit, X_train, y_train
        )
        untuned = make_pipeline(StandardScaler(), MLPClassifier(random_state=seed))
        untuned.fit(X_train, y_train)
    return {
        "search": search,
        "n_iter": n_iter,
        "seed": seed,
        "tuned": tuned.score(X_test, y_test),
        "untuned": untuned.score(X_test, y_test),
        "seconds": seconds,
    }


def table(rows):
    """Return the markdown table: the paired gain of each configuration."""
    lines = [
        "| search | n_iter | seeds | gained / tied / lost | mean gain (points) "
        "| per seed | median s |",
        "|---|---|---|---|---|---|---|",
    ]
    configs = sorted({(r["search"], r["n_iter"]) for r in rows})
    for search, n_iter in configs:
        mine = [r for r in rows if (r["search"], r["n_iter"]) == (search, n_iter)]
        gains = [100 * (r["tuned"] - r["untuned"]) for r in mine]
        counts = (
            sum(g > 0 for g in gains),
            sum(g == 0 for g in gains),
            sum(g < 0 for g in gains),
        )
        lines.append(
            f"| {search} | {n_iter} | {len(mine)} | {'/'.join(map(str, counts))} "
            f"| {statistics.mean(gains):+.2f} "
            f"| {' '.join(f'{g:+.2f}' for g in gains)} "
            f"| {statistics.median(r['seconds'] for r in mine):.0f} |"
        )
    return "\n".join(lines) + f"\n\n{environment_line()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--configs",
        nargs="+",
        default=["asha:20", "halving:20", "asha:40"],
        help="SEARCH:N_ITER pairs (default: asha:20 halving:20 asha:40)",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--save", default="demo", help="results file name")
    args = parser.parse_args()
    rows = []
    for config in args.configs:
        search, n_iter = config.split(":")
        for seed in args.seeds:
            row = run(search, int(n_iter), seed)
            print(row, flush=True)
            rows.append(row)
    save_rows(args.save, rows)
    print(table(rows))


if __name__ == "__main__":
    main()
