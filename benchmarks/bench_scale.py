"""How the cost of a fit grows with the rows: the tuner against the untuned MLP.

Each fit runs in a process of its own, so that its peak memory, sampled
every 0.1 s over the process and its workers, is its own. On the same
80/20 split of each problem and seed, in one run:

- ``untuned``: ``MLPClassifier()`` / ``MLPRegressor()``, standardised;
- ``hgb``: ``HistGradientBoostingClassifier()`` / ``...Regressor()``;
- ``tuner``: ``TunedMLPClassifier(n_jobs=2, random_state=seed)`` (or the
  regressor), the default, standardised;
- ``tuner-kfold``: the same with ``cv=None``, 5 folds at every size (the
  default before ``cv="auto"``);
- ``tuner-single``: the same with ``ensemble_size=1``, the best network alone;
- ``tuner-epochs``: the same with ``resource="max_iter"``, every rung on all
  the rows (the default before ``resource="auto"``).

Every method gets ``real_tables.preprocessor()`` (imputation, scaling,
one-hot encoding).

Problems: ``make_classification`` (40 features, 3 classes) and
``make_regression`` (40 features) at the sizes given, and the larger real
tables of ``real_tables.LARGE_TABLES`` (``--real``), subsampled to those sizes.
A method whose fit passed ``--max-seconds`` at one size is not run at the
larger ones of that problem (the row says so). Rows go to
``results/bench_scale.jsonl``; ``--figure`` draws time against rows, log-log.

    python benchmarks/bench_scale.py --sizes 1000 3000 10000 --seeds 3
    python benchmarks/bench_scale.py --sizes 30000 100000 --seeds 1 \
        --methods untuned hgb --max-seconds 900
"""

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
from _common import environment_line, save_rows

HERE = Path(__file__).parent
METHODS = ("untuned", "hgb", "tuner", "tuner-kfold", "tuner-single", "tuner-epochs")
SYNTHETIC = ("classification", "regression")
LABELS = {
    "untuned": "untuned MLP",
    "hgb": "HistGradientBoosting",
    "tuner": "tuner, the default",
    "tuner-kfold": "tuner, 5 folds (the default before)",
    "tuner-single": 'tuner, cv="auto", best network alone',
    "tuner-epochs": 'tuner, every rung on all rows (resource="max_iter")',
}


def synthetic(name, n_rows, seed):
    """Return ``X, y, task`` of a synthetic problem of ``n_rows`` (train and test)."""
    from sklearn.datasets import make_classification, make_regression

    n_all = int(n_rows / 0.8)  # the training part has n_rows
    if name == "classification":
        X, y = make_classification(
            n_all, n_features=40, n_informative=20, n_redundant=10, n_classes=3,
            n_clusters_per_class=3, flip_y=0.02, random_state=seed,
        )  # fmt: skip
        return X, y, "classification"
    X, y = make_regression(
        n_all, n_features=40, n_informative=20, noise=20.0, random_state=seed
    )
    return X, y, "regression"


def problem_data(name, n_rows, seed):
    """Return ``X, y, task`` of a synthetic problem or a real table's sample."""
    if name in SYNTHETIC:
        return synthetic(name, n_rows, seed)
    import real_tables

    X, y, task = real_tables.load(name)
    n_all = min(int(n_rows / 0.8), len(y))
    rows = np.random.default_rng(seed).permutation(len(y))[:n_all]
    return X.iloc[rows].reset_index(drop=True), y[rows], task


def make_model(method, task, seed):
    """Return the unfitted model of ``method``, preprocessing included."""
    import real_tables
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline

    from sk_mlp_tune import TunedMLPClassifier, TunedMLPRegressor

    classification = task == "classification"
    if method == "hgb":
        cls = HistGradientBoostingClassifier if classification else (
            HistGradientBoostingRegressor
        )  # fmt: skip
        return make_pipeline(real_tables.preprocessor(), cls(random_state=seed))
    if method == "untuned":
        model = (MLPClassifier if classification else MLPRegressor)(random_state=seed)
    else:
        cls = TunedMLPClassifier if classification else TunedMLPRegressor
        variant = {
            "tuner-kfold": {"cv": None},  # 5 folds at every size
            "tuner-single": {"ensemble_size": 1},  # the best network alone
            "tuner-epochs": {"resource": "max_iter"},  # every rung on all rows
        }.get(method, {})
        model = cls(n_jobs=2, random_state=seed, **variant)
    return make_pipeline(real_tables.preprocessor(), model)


def fit_one(problem, n_rows, seed, method):
    """Fit and score one method here, in this process; return the row's numbers."""
    import warnings

    import pandas as pd
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split

    X, y, task = problem_data(problem, n_rows, seed)
    if not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    stratify = y if task == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=0.8, stratify=stratify, random_state=seed
    )
    model = make_model(method, task, seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning, said in the tuner's row
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    predicted = model.predict(X_test)
    score = (
        accuracy_score(y_test, predicted)
        if task == "classification"
        else r2_score(y_test, predicted)
    )
    row = {"seconds": seconds, "score": float(score), "n_train": len(y_train)}
    tuner = model.steps[-1][1] if hasattr(model, "steps") else model
    if hasattr(tuner, "cv_results_"):
        row.update(
            n_evaluations=len(tuner.cv_results_["params"]),
            n_splits=int(tuner.n_splits_),
            stop_reason=tuner.stop_reason_,
            refit_seconds=float(tuner.refit_time_),
            n_members=len(getattr(tuner, "ensemble_estimators_", [1])),
        )
    return row


def run_isolated(problem, n_rows, seed, method, max_seconds):
    """Run :func:`fit_one` in a new process; return its row with the peak memory."""
    command = [
        sys.executable, str(Path(__file__).resolve()), "--one",
        json.dumps([problem, n_rows, seed, method]),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=HERE)
    peak, done = [0], threading.Event()

    def sample():
        watched = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [watched, *watched.children(recursive=True)]
                peak[0] = max(peak[0], sum(_rss(p) for p in tree))
            except psutil.NoSuchProcess:
                return
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        output, _ = process.communicate(timeout=max_seconds * 3 + 60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        output = ""
    done.set()
    sampler.join()
    if process.returncode != 0 or not output.strip():
        return {"failed": True, "peak_mb": peak[0] / 2**20}
    row = json.loads(output.strip().splitlines()[-1])
    row["peak_mb"] = peak[0] / 2**20
    return row


def _blas():
    """Return the BLAS and OpenMP pools and their threads, which a fit's time needs."""
    from sklearn.neural_network import MLPClassifier  # noqa: F401  (loads BLAS)
    from threadpoolctl import threadpool_info

    return ", ".join(
        f"{pool['internal_api']} {pool.get('architecture') or ''} "
        f"{pool['num_threads']} threads".replace("  ", " ")
        for pool in threadpool_info()
    )


def _rss(process):
    try:
        return process.memory_info().rss
    except psutil.NoSuchProcess:
        return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument(
        "--methods", nargs="+", choices=METHODS, default=["untuned", "hgb", "tuner"]
    )
    parser.add_argument("--problems", nargs="+", default=list(SYNTHETIC))
    parser.add_argument("--real", action="store_true", help="add the large real tables")
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument("--save", default="bench_scale")
    parser.add_argument("--figure", default=None, help="a PNG of time against rows")
    parser.add_argument(
        "--from-results",
        nargs="+",
        metavar="NAME[:METHOD=AS]",
        help="summarise (and --figure) rows saved in results/NAME.jsonl, with no "
        "fit; METHOD=AS renames a method, e.g. scale_before:tuner=tuner-kfold",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(fit_one(*json.loads(args.one))))
        return
    if args.from_results:
        rows = [row for spec in args.from_results for row in _saved_rows(spec)]
        summarise(rows)
        if args.figure:
            draw(rows, args.figure)
        return
    problems = list(args.problems)
    if args.real:
        import real_tables

        problems += [table.name for table in real_tables.LARGE_TABLES]
    rows = []
    print(environment_line() + "; " + _blas())
    print("| problem | rows | seed | method | seconds | peak MB | score | note |")
    print("|---|---|---|---|---|---|---|---|")
    for problem in problems:
        too_slow = set()
        for n_rows in sorted(args.sizes):
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                for method in args.methods:
                    if method in too_slow:
                        continue
                    row = run_isolated(problem, n_rows, seed, method, args.max_seconds)
                    row.update(problem=problem, rows=n_rows, seed=seed, method=method)
                    rows.append(row)
                    save_rows(args.save, [row])
                    note = row.get("stop_reason", "")
                    if row.get("failed"):
                        note = "failed or timed out"
                    print(
                        f"| {problem} | {n_rows} | {seed} | {method} | "
                        f"{row.get('seconds', float('nan')):.1f} | "
                        f"{row['peak_mb']:.0f} | {row.get('score', float('nan')):.4f} "
                        f"| {note} |",
                        flush=True,
                    )
                    if row.get("seconds", np.inf) > args.max_seconds:
                        too_slow.add(method)
    summarise(rows)
    if args.figure:
        draw(rows, args.figure)


def _saved_rows(spec):
    """Return the rows of ``results/NAME.jsonl``, a method renamed if asked."""
    name, _, renaming = spec.partition(":")
    old, _, new = renaming.partition("=")
    lines = (HERE / "results" / f"{name}.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    for row in rows:
        if old and row["method"] == old:
            row["method"] = new
    return rows


def summarise(rows):
    """Print the medians per problem and size, and the tuner's ratios."""
    print("\n| problem | rows | method | median s | ratio to untuned | peak MB | "
          "mean score | gain over untuned |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    done = [r for r in rows if not r.get("failed")]
    for problem in dict.fromkeys(r["problem"] for r in done):
        for n_rows in sorted({r["rows"] for r in done if r["problem"] == problem}):
            here = [r for r in done if r["problem"] == problem and r["rows"] == n_rows]
            base = {r["seed"]: r for r in here if r["method"] == "untuned"}
            for method in METHODS:
                mine = [r for r in here if r["method"] == method]
                if not mine:
                    continue
                seconds = np.median([r["seconds"] for r in mine])
                paired = [r for r in mine if r["seed"] in base]
                ratio = np.median(
                    [r["seconds"] / base[r["seed"]]["seconds"] for r in paired]
                ) if paired else np.nan  # fmt: skip
                gain = np.mean(
                    [r["score"] - base[r["seed"]]["score"] for r in paired]
                ) if paired else np.nan  # fmt: skip
                print(
                    f"| {problem} | {n_rows} | {method} | {seconds:.1f} | "
                    f"{ratio:.1f}x | {max(r['peak_mb'] for r in mine):.0f} | "
                    f"{np.mean([r['score'] for r in mine]):.4f} | "
                    f"{100 * gain:+.2f} points |"
                )


def draw(rows, path):
    """Draw median seconds against training rows, log-log, a panel per problem."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in rows if not r.get("failed")]
    problems = list(dict.fromkeys(r["problem"] for r in done))
    figure, axes = plt.subplots(
        1, len(problems), figsize=(4.2 * len(problems), 3.6), squeeze=False
    )
    for axis, problem in zip(axes[0], problems, strict=True):
        for method in METHODS:
            mine = [
                r for r in done if r["problem"] == problem and r["method"] == method
            ]
            sizes = sorted({r["n_train"] for r in mine})
            if not sizes:
                continue
            medians = [
                np.median([r["seconds"] for r in mine if r["n_train"] == n])
                for n in sizes
            ]
            axis.plot(sizes, medians, marker="o", label=LABELS.get(method, method))
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_title(problem)
        axis.set_xlabel("training rows")
        axis.set_ylabel("fit time (s), median over seeds")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
