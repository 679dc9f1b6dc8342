"""Does an ensemble of the best candidates pay? ``ensemble_size`` 1, 5 and 10.

On every table of ``real_tables.py`` (the tables of ``bench_real.py``, with
its preprocessing and leave-one-table-out portfolio) and on the synthetic
``hard`` problem of ``bench_quality.py``, each of ``--splits`` paired 80/20
splits is fitted with the default tuner at every ``--sizes``: the same
seeded search, so that the sizes differ only by the ensemble. Recorded per
fit: the held-out score (accuracy, R²), the held-out log-loss
(classifiers), the fit time and the predict time (the median of 5 calls of
``predict_proba`` / ``predict`` on the held-out rows).

It prints, per table, each size's mean score and log-loss, then, for each
size against ``ensemble_size=1`` on the same splits: the tables where the
mean score gained, tied (within 0.001) or lost, the mean gain, the tables
where the log-loss fell, and the median fit-time and predict-time ratios.

    python benchmarks/bench_ensemble.py --splits 2 --save bench_ensemble
    python benchmarks/bench_ensemble.py --from results/bench_ensemble.jsonl

The rows name their method as ``bench_real.py`` does (``tuner``,
``tuner-ensemble5``, ...), so that its ``--tables-from`` pairs them with
the untuned MLP and the linear model of its own runs, split by split.
"""

import argparse
import json
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

sys.path.insert(0, str(Path(__file__).parent))

import build_portfolio
import real_tables
from _common import environment_line, save_rows
from bench_quality import DATASETS

from sk_mlp_tune import TunedMLPClassifier, TunedMLPRegressor

TIE = 1e-3


def load(name):
    """Return ``X, y, task`` of a real table, or of the synthetic ``hard``."""
    if name == "hard":
        X, y = DATASETS["hard"]()
        return pd.DataFrame(X).add_prefix("x"), y, "classification"
    return real_tables.load(name)


def predict_seconds(model, X, classify):
    """Return the median of 5 timed predictions on ``X``."""
    method = model.predict_proba if classify else model.predict
    times = []
    for _ in range(5):
        start = time.perf_counter()
        method(X)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run(tables, sizes, splits, max_rows, save):
    rows = []
    for name in tables:
        X, y, task = load(name)
        classify = task == "classification"
        entries = True
        if name != "hard":
            entries = build_portfolio.leave_one_out(name, task)
        stratify = y if classify else None
        if len(X) > max_rows:
            X, _, y, _ = train_test_split(
                X, y, train_size=max_rows, stratify=stratify, random_state=0
            )
            stratify = y if classify else None
        for split in range(splits):
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.2, stratify=stratify, random_state=split
            )
            for size in sizes:
                tuner = (TunedMLPClassifier if classify else TunedMLPRegressor)(
                    random_state=split, n_jobs=2, portfolio=entries, ensemble_size=size
                )
                model = make_pipeline(real_tables.preprocessor(), tuner)
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    warnings.filterwarnings("ignore", message="ensemble_size=")
                    model.fit(X_train, y_train)
                seconds = time.perf_counter() - start
                row = {
                    "table": name,
                    "task": task,
                    "rows": len(X),
                    "split": split,
                    # As bench_real.py names its methods, to pair with its rows.
                    "method": "tuner" if size == 1 else f"tuner-ensemble{size}",
                    "size": size,
                    "members": len(tuner.ensemble_estimators_),
                    "score": float(model.score(X_test, y_test)),
                    "seconds": seconds,
                    "predict_seconds": predict_seconds(model, X_test, classify),
                }
                if classify:
                    proba = model.predict_proba(X_test)
                    row["log_loss"] = float(
                        log_loss(y_test, proba, labels=model.classes_)
                    )
                rows.append(row)
                if save:
                    save_rows(save, [row])
                print(
                    f"{name} split {split} size {size}: {row['score']:.4f}, "
                    f"{row['members']} members ({seconds:.1f} s)",
                    file=sys.stderr,
                    flush=True,
                )
    return rows


def summary(rows, sizes):
    """Print per table means, then each size paired against size 1."""
    by = defaultdict(dict)
    for row in rows:
        by[row["table"], row["size"]][row["split"]] = row
    tables = list(dict.fromkeys(row["table"] for row in rows))
    head = " | ".join(f"score {s} | log-loss {s}" for s in sizes)
    print(f"| table | {head} |")
    print("|---|" + "---|" * (2 * len(sizes)))
    for table in tables:
        cells = []
        for size in sizes:
            found = by[table, size].values()
            cells.append(f"{np.mean([r['score'] for r in found]):.4f}")
            losses = [r["log_loss"] for r in found if "log_loss" in r]
            cells.append(f"{np.mean(losses):.4f}" if losses else "")
        print(f"| {table} | " + " | ".join(cells) + " |")
    print()
    print(
        "| size | gained / tied / lost | mean gain | log-loss lower "
        "| fit time ratio | predict time ratio | mean members |"
    )
    print("|---|---|---|---|---|---|---|")
    for size in sizes[1:]:
        gains, lower, n_loss, fit_ratios, predict_ratios, members = (
            [], 0, 0, [], [], [],
        )  # fmt: skip
        for table in tables:
            common = sorted(set(by[table, size]) & set(by[table, sizes[0]]))
            if not common:
                continue
            pairs = [(by[table, size][s], by[table, sizes[0]][s]) for s in common]
            mine = [m for m, _ in pairs]
            gains.append(np.mean([m["score"] - b["score"] for m, b in pairs]))
            if "log_loss" in mine[0]:
                n_loss += 1
                lower += np.mean([m["log_loss"] - b["log_loss"] for m, b in pairs]) < 0
            fit_ratios += [m["seconds"] / b["seconds"] for m, b in pairs]
            predict_ratios += [
                m["predict_seconds"] / b["predict_seconds"] for m, b in pairs
            ]
            members += [m["members"] for m in mine]
        gains = np.array(gains)
        print(
            f"| {size} | {np.sum(gains > TIE)} / {np.sum(np.abs(gains) <= TIE)} / "
            f"{np.sum(gains < -TIE)} of {len(gains)} | {gains.mean():+.4f} | "
            f"{lower} of {n_loss} | {np.median(fit_ratios):.2f}x | "
            f"{np.median(predict_ratios):.2f}x | {np.mean(members):.1f} |"
        )
    print(f"\n{environment_line()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [table.name for table in real_tables.TABLES]
    parser.add_argument("--tables", nargs="+", default=[*names, "hard"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1, 5, 10])
    parser.add_argument("--splits", type=int, default=2)
    parser.add_argument("--max-rows", type=int, default=10**9)
    parser.add_argument("--save", help="append the rows to results/<SAVE>.jsonl")
    parser.add_argument("--from", dest="from_file", help="summarise saved rows")
    args = parser.parse_args()
    if args.from_file:
        rows = [json.loads(line) for line in Path(args.from_file).open()]
    else:
        rows = run(args.tables, args.sizes, args.splits, args.max_rows, args.save)
    summary(rows, sorted(set(args.sizes)))


if __name__ == "__main__":
    main()
