"""Does tuning pay on real tables? The tuner against what a user has without it.

Every table of ``real_tables.py`` (shipped inside installable wheels) is
split 80/20 ``--splits`` times, the same splits for every method, and every
method gets the same preprocessing (``real_tables.preprocessor()``: median
imputation and scaling of numbers, one-hot encoding of strings):

- ``untuned``: scikit-learn's ``MLPClassifier()`` / ``MLPRegressor()``;
- ``linear``: ``LogisticRegression()`` / ``RidgeCV()``;
- ``hgb``: ``HistGradientBoostingClassifier()`` / ``...Regressor()``;
- ``tuner``: ``TunedMLPClassifier()`` / ``TunedMLPRegressor()`` with their
  defaults (``n_jobs=2``);
- ``random``, ``bayes``, ``halving``, ``asha``: the tuner with that
  ``search=`` and every other default;
- ``tuner-best``: the default tuner choosing the best CV mean
  (``selection="best"``), ``tuner-noportfolio``: without the portfolio,
  ``tuner-repeated``: 5-fold CV repeated twice (what small tables may
  need against a lucky split);
- ``asha-gp``, ``asha-wait``, ``asha-gp-wait``: asha with a Gaussian
  process for TPE, a rule that waits for half of a rung, or both
  (``_common.ASHA_VARIANTS``).

The tuners' portfolio on a table is, by default, the one built without
that table (leave-one-table-out, from ``portfolio_scores.json``): the
shipped portfolio has seen every table here, and would flatter them.

It prints, per table, each method's mean held-out score (accuracy, R²),
and in sum, per method: the mean over tables, the paired wins, ties
(within 0.001) and losses against the untuned MLP and the linear model
and the tables where the paired mean is at least theirs, the worst paired
mean and the mean gain over the untuned MLP with its spread (standard
error over tables), and the median fit time. ``--figure`` draws each
table's paired difference to the untuned MLP with its spread over splits.

Tables are cut to ``--max-rows`` rows (stratified for classes) to keep a
run on 2 cores within the hour; the default covers every table whole.

    python benchmarks/bench_real.py                                  # all
    python benchmarks/bench_real.py --methods untuned linear tuner --splits 5
    python benchmarks/bench_real.py --tables-from results/bench_real.jsonl
    python benchmarks/bench_real.py --tables-from results/a.jsonl \
        results/b.jsonl --splits-from-files 0 1 --paired-with tuner
"""

import argparse
import json
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import (
    RepeatedKFold,
    RepeatedStratifiedKFold,
    train_test_split,
)
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline

sys.path.insert(0, str(Path(__file__).parent))

import build_portfolio
import real_tables
from _common import (
    ASHA_VARIANTS,
    EngineVariant,
    environment,
    environment_line,
    save_rows,
)

from sk_mlp_tune import TunedMLPClassifier, TunedMLPRegressor

METHODS = (
    "untuned",
    "linear",
    "hgb",
    "tuner",
    "random",
    "bayes",
    "halving",
    "asha",
    "tuner-best",
    "tuner-noportfolio",
    "tuner-repeated",
    *ASHA_VARIANTS,
)
TIE = 1e-3


def model(method, task, seed, n_iter, portfolio=True):
    """Return the unfitted model of ``method`` for ``task``, seeded.

    ``portfolio`` is what the tuners start from after the estimator's own
    settings: ``True`` for the shipped portfolio, or a list of entries.
    """
    classify = task == "classification"
    if method == "untuned":
        return (MLPClassifier if classify else MLPRegressor)(random_state=seed)
    if method == "linear":
        return LogisticRegression(max_iter=1000) if classify else RidgeCV()
    if method == "hgb":
        hgb = (
            HistGradientBoostingClassifier
            if classify
            else HistGradientBoostingRegressor
        )
        return hgb(random_state=seed)
    options = {"random_state": seed, "n_jobs": 2, "portfolio": portfolio}
    if n_iter is not None:
        options["n_iter"] = n_iter
    if method in ("random", "bayes", "halving", "asha"):
        options["search"] = method
    elif method == "tuner-best":
        options["selection"] = "best"
    elif method == "tuner-noportfolio":
        options["portfolio"] = False
    elif method == "tuner-repeated":
        splitter = RepeatedStratifiedKFold if classify else RepeatedKFold
        options["cv"] = splitter(n_splits=5, n_repeats=2, random_state=seed)
    elif method in ASHA_VARIANTS:
        options["search"] = "asha"
    tuner = (TunedMLPClassifier if classify else TunedMLPRegressor)(**options)
    if method in ASHA_VARIANTS:
        proposer, wait = ASHA_VARIANTS[method]
        return EngineVariant(tuner, proposer=proposer, wait=wait)
    return tuner


def run(tables, methods, splits, max_rows, n_iter, portfolio):
    """Fit every method on every split of every table; return the rows.

    ``portfolio="loto"`` gives the tuners, on each table, the portfolio
    built without that table (leave-one-table-out), as data the package
    has never seen would get; ``"shipped"`` the package's own.
    """
    rows = []
    for name in tables:
        X, y, task = real_tables.load(name)
        entries = True
        if portfolio == "loto":
            entries = build_portfolio.leave_one_out(name, task)
        stratify = y if task == "classification" else None
        if len(X) > max_rows:
            X, _, y, _ = train_test_split(
                X, y, train_size=max_rows, stratify=stratify, random_state=0
            )
            stratify = y if task == "classification" else None
        for split in range(splits):
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.2, stratify=stratify, random_state=split
            )
            for method in methods:
                estimator = make_pipeline(
                    real_tables.preprocessor(),
                    clone(model(method, task, split, n_iter, entries)),
                )
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    estimator.fit(X_train, y_train)
                seconds = time.perf_counter() - start
                score = float(estimator.score(X_test, y_test))
                rows.append(
                    {
                        "table": name,
                        "task": task,
                        "rows": len(X),
                        "split": split,
                        "method": method,
                        "score": score,
                        "seconds": seconds,
                    }
                )
                print(f"{name} split {split} {method}: {score:.4f} ({seconds:.1f} s)",
                      file=sys.stderr, flush=True)  # fmt: skip
    return rows


def paired(rows, method, against):
    """Return {table: paired differences over splits} of method - against."""
    scores = defaultdict(dict)
    for row in rows:
        scores[row["table"], row["method"]][row["split"]] = row["score"]
    differences = {}
    for table in dict.fromkeys(row["table"] for row in rows):
        mine, theirs = scores[table, method], scores[table, against]
        common = sorted(set(mine) & set(theirs))
        if common:
            differences[table] = np.array([mine[s] - theirs[s] for s in common])
    return differences


def tally(differences):
    """Return (wins, ties, losses) of paired mean differences."""
    means = [d.mean() for d in differences.values()]
    wins = sum(m > TIE for m in means)
    losses = sum(m < -TIE for m in means)
    return wins, len(means) - wins - losses, losses


def report(rows, baseline=None):
    """Print the per-table and summary tables of ``rows`` in markdown.

    With ``baseline``, a last table gives every other tuner's paired
    difference to it, per task.
    """
    # Known methods in their order, then any other (an earlier version's rows).
    found = list(dict.fromkeys(r["method"] for r in rows))
    methods = [m for m in METHODS if m in found] + [
        m for m in found if m not in METHODS
    ]
    tables = list(dict.fromkeys(r["table"] for r in rows))
    by = defaultdict(list)
    for row in rows:
        by[row["table"], row["method"]].append(row)
    print("\n| table | task | rows | " + " | ".join(methods) + " |")
    print("|---|---|---|" + "---|" * len(methods))
    for table in tables:
        first = by[table, methods[0]][0]
        cells = [
            f"{np.mean([r['score'] for r in by[table, m]]):.4f}" if by[table, m] else ""
            for m in methods
        ]
        print(f"| {table} | {first['task'][:5]} | {first['rows']} | "
              + " | ".join(cells) + " |")  # fmt: skip
    n_splits = len({r["split"] for r in rows})
    print(f"\nMean held-out score (accuracy or R²) over {n_splits} splits; "
          f"{environment_line()}.")  # fmt: skip
    for task in dict.fromkeys(r["task"] for r in rows):
        print(f"\n{task.capitalize()}:\n")
        summary([r for r in rows if r["task"] == task], methods)
    if baseline is not None:
        compare(rows, baseline, [m for m in methods if m not in BASELINES])


# The methods that are not the tuner: what the tuner is measured against.
BASELINES = ("untuned", "linear", "hgb")


def compare(rows, baseline, methods):
    """Print each method's paired difference to ``baseline``, per task."""
    print(f"\nPaired with {baseline} (on the splits both ran):\n")
    print("| task | method | W/T/L | mean difference ± spread |\n|---|---|---|---|")
    for task in dict.fromkeys(r["task"] for r in rows):
        of_task = [r for r in rows if r["task"] == task]
        for method in methods:
            differences = paired(of_task, method, baseline)
            if method == baseline or not differences:
                continue
            means = np.array([d.mean() for d in differences.values()])
            spread = means.std(ddof=1) / np.sqrt(len(means)) if len(means) > 1 else 0
            print(f"| {task} | {method} | " + "{}/{}/{}".format(*tally(differences))
                  + f" | {means.mean():+.4f} ± {spread:.4f} |")  # fmt: skip


def summary(rows, methods):
    """Print one line per method: paired tallies, gain, worst, mean, time."""
    tables = list(dict.fromkeys(r["table"] for r in rows))
    by = defaultdict(list)
    for row in rows:
        by[row["table"], row["method"]].append(row)
    print("| method | mean score | vs untuned MLP (W/T/L) | >= untuned | "
          "worst paired mean | mean gain ± spread | vs linear (W/T/L) | "
          ">= linear | median fit s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for method in methods:
        times = [r["seconds"] for r in rows if r["method"] == method]
        # Over the tables the method ran (a shorter run may cover fewer).
        per_table = [
            np.mean([r["score"] for r in by[table, method]])
            for table in tables
            if by[table, method]
        ]
        cells = [method, f"{np.mean(per_table):.4f}"]
        for against in ("untuned", "linear"):
            differences = paired(rows, method, against)
            if method == against or not differences:
                cells += ["", "", "", ""] if against == "untuned" else ["", ""]
                continue
            means = np.array([d.mean() for d in differences.values()])
            cells.append("{}/{}/{}".format(*tally(differences)))
            cells.append(f"{np.sum(means >= 0)}/{len(means)}")
            if against == "untuned":
                # The spread of the mean gain: its standard error over tables.
                spread = (
                    means.std(ddof=1) / np.sqrt(len(means)) if len(means) > 1 else 0
                )
                cells.append(f"{means.min():+.4f}")
                cells.append(f"{means.mean():+.4f} ± {spread:.4f}")
        cells.append(f"{np.median(times):.2f}")
        print("| " + " | ".join(cells) + " |")


def figure(rows, path, method="tuner"):
    """Draw each table's paired difference of ``method`` to the untuned MLP.

    One panel per task, in points (hundredths of accuracy or R²); the
    regression panel is on a symmetric log scale, as the untuned MLP's R²
    on an unscaled target can be far below zero.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    differences = paired(rows, method, "untuned")
    task_of = {r["table"]: r["task"] for r in rows}
    tasks = list(dict.fromkeys(task_of[t] for t in differences))
    n_most = max(sum(task_of[t] == task for t in differences) for task in tasks)
    fig, axes = plt.subplots(
        1, len(tasks), figsize=(5 * len(tasks), 0.3 * n_most + 1.4), squeeze=False
    )
    for ax, task in zip(axes[0], tasks, strict=True):
        names = sorted(
            (t for t in differences if task_of[t] == task),
            key=lambda t: differences[t].mean(),
        )
        means = np.array([differences[t].mean() for t in names]) * 100
        spreads = np.array([differences[t].std() for t in names]) * 100
        colors = ["tab:green" if m > 100 * TIE else "tab:red" if m < -100 * TIE
                  else "tab:gray" for m in means]  # fmt: skip
        ax.barh(names, means, xerr=spreads, color=colors, alpha=0.8, capsize=2)
        ax.axvline(0, color="black", lw=0.8)
        if task == "regression":
            ax.set_xscale("symlog", linthresh=1)
        metric = "accuracy" if task == "classification" else "R²"
        ax.set_title(f"{task}: {method} minus untuned MLP")
        ax.set_xlabel(f"held-out {metric}, points (mean ± sd over splits)")
        ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=METHODS)
    parser.add_argument("--tables", nargs="+", help="table names (default: all)")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--max-rows", type=int, default=5000)
    parser.add_argument("--n-iter", type=int, help="the tuners' n_iter")
    parser.add_argument(
        "--portfolio",
        choices=["loto", "shipped"],
        default="loto",
        help="the tuners' portfolio on a table: built without it (default), or "
        "the package's own, which has seen every table",
    )
    parser.add_argument("--figure", type=Path, help="write the figure here")
    parser.add_argument(
        "--tables-from", type=Path, nargs="+", help="report saved rows (files)"
    )
    parser.add_argument(
        "--splits-from-files",
        type=int,
        nargs="+",
        help="with --tables-from: only these splits (to pair with a shorter run)",
    )
    parser.add_argument(
        "--paired-with", choices=METHODS, help="also pair every tuner with this one"
    )
    parser.add_argument("--save", default="bench_real", help="results file name")
    args = parser.parse_args(argv)

    if args.tables_from:
        rows = [
            json.loads(line)
            for path in args.tables_from
            for line in path.read_text().splitlines()
        ]
        if args.splits_from_files:
            rows = [r for r in rows if r["split"] in args.splits_from_files]
    else:
        names = args.tables or [t.name for t in real_tables.TABLES]
        rows = run(
            names, args.methods, args.splits, args.max_rows, args.n_iter, args.portfolio
        )
        if args.save:
            save_rows(args.save, rows)
    report(rows, args.paired_with)
    if args.figure:
        figure(rows, args.figure)
    return rows


if __name__ == "__main__":
    environment()  # the peers' versions must import before hours of fits
    main()
