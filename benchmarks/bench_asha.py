r"""Asynchronous successive halving that keeps training, against halving that restarts.

``search="asha"`` (the package's own engine: fold models continue with
``warm_start`` from rung to rung, TPE proposals, a checkpoint journal)
against ``search="halving"`` (scikit-learn's ``HalvingRandomSearchCV`` over
``max_iter``: every rung trains its fold models from scratch), both from
the tuner's default space around ``DropoutMLPClassifier(max_iter=200)``,
``n_iter`` candidates and ``cv``-fold CV on a standardised, stratified 75%
split of ``load_digits``; the held-out 25% gives the test score. Each seed
runs the searches alternately in one process. Measured:

1. epochs trained by all fold fits per candidate that reached the top rung,
   counted exactly on both sides: a scorer notes each fold model's
   ``n_iter_`` (epochs of that fit; a converged fit stops early), and asha's
   own ``n_epochs_trained_`` is checked against it. The "nominal" count is
   the rung epochs times the folds, what ``cv_results_["n_resources"]``
   alone would give;
2. wall time, best CV score and held-out accuracy with ``n_jobs`` 1 and 2;
3. parallel efficiency: summed fold fit time / (wall time x n_jobs), and
   the same with the refit's time taken off the wall time;
4. time outside the fits: wall - summed fit time / n_jobs - refit time;
5. the checkpoint's cost: asha with ``checkpoint=`` and without, same seed,
   one job;
6. scaling beyond the cores at hand, simulated: the engine's ``Scheduler``
   driven on a fake clock with W workers through the engine's
   ``_Decisions``, fully asynchronous (an unseeded search) and with the
   fixed lookahead of a seeded one, against synchronous halving that
   restarts survivors, simulated the same way on the same candidates.

    python benchmarks/bench_asha.py                  # about 4 minutes on 2 quiet cores
    python benchmarks/bench_asha.py --parts sim --sim-seeds 20
    python benchmarks/bench_asha.py --parts runs --n-jobs 8 16 --repeats 1
"""

import argparse
import heapq
import itertools
import math
import os
import statistics
import tempfile
import uuid
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from _common import environment_line, save_rows, scaled_split, timed
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier
from sk_mlp_tune._asha import (
    Scheduler,
    _Decisions,
    default_lookahead,
    rung_epochs,
)


class EpochCountingScorer:
    """Accuracy, noting the epochs of each scored fold model in a file.

    The search calls its scorer once per fold fit, in the worker that ran
    it; one short line appended per call is an atomic write on a local file
    system. ``n_iter_`` of a ``DropoutMLPClassifier`` counts the epochs of
    its last fit, warm-started or not.
    """

    def __init__(self, path):
        self.path = path

    def __call__(self, estimator, X, y):
        """Note the epochs of ``estimator``'s last fit; return its accuracy."""
        final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
        with open(self.path, "a") as marks:
            marks.write(f"{int(getattr(final, 'n_iter_', 0))}\n")
        return accuracy_score(y, estimator.predict(X))

    def epochs(self):
        """Return the epochs noted so far, summed."""
        if not os.path.exists(self.path):
            return 0
        with open(self.path) as marks:
            return sum(int(line) for line in marks if line.strip())


def nominal_epochs(search, n_splits):
    """Return the epochs the rows' ``n_resources`` imply, not knowing convergence.

    Restarting halving trains each row's fold models from scratch; asha
    trains a promoted row's only from the previous rung's epochs on.
    """
    resources = np.asarray(search.cv_results_["n_resources"])
    if not hasattr(search, "rungs_"):
        return int(resources.sum()) * n_splits
    rungs = [0, *search.rungs_]
    steps = [rungs[r + 1] - rungs[r] for r in search.cv_results_["iter"]]
    return int(sum(steps)) * n_splits


def run_search(search, seed, n_jobs, data, args, checkpoint=None):
    """Fit one tuner; return its result row."""
    X_train, X_test, y_train, y_test = data
    with tempfile.TemporaryDirectory(prefix="bench_asha-") as folder:
        scorer = EpochCountingScorer(os.path.join(folder, "epochs"))
        tuner = TunedMLPClassifier(
            DropoutMLPClassifier(max_iter=args.max_iter),
            search=search,
            n_iter=args.n_iter,
            cv=args.cv,
            scoring=scorer,
            n_jobs=n_jobs,
            random_state=seed,
            n_points=args.n_points,
            checkpoint=checkpoint,
        )
        # Another process on the cores makes the times meaningless; say so.
        load = os.getloadavg()[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            wall, tuner = timed(tuner.fit, X_train, y_train)
        counted = scorer.epochs()
    found = tuner.search_
    results = found.cv_results_
    n_splits = found.n_splits_
    fit_s = float(np.sum(results["mean_fit_time"])) * n_splits
    score_s = float(np.sum(results["mean_score_time"])) * n_splits
    refit_s = float(tuner.refit_time_)
    n_top = int(found.n_candidates_[-1])
    row = {
        "part": "runs",
        "search": search,
        "seed": seed,
        "n_jobs": n_jobs,
        "checkpoint": checkpoint is not None,
        "n_iter": args.n_iter,
        "cv": args.cv,
        "max_iter": args.max_iter,
        "wall_s": wall,
        "load_before": load,
        "fit_s": fit_s,
        "score_s": score_s,
        "refit_s": refit_s,
        "epochs_counted": counted,
        "epochs_nominal": nominal_epochs(found, n_splits),
        "n_candidates": [int(n) for n in found.n_candidates_],
        "n_top": n_top,
        "best_cv": float(tuner.best_score_),
        "test": float(accuracy_score(y_test, tuner.predict(X_test))),
        "efficiency": fit_s / (wall * n_jobs),
        "efficiency_search": fit_s / ((wall - refit_s) * n_jobs),
        "outside_fits": (wall - fit_s / n_jobs - refit_s) / wall,
        "scoring_share": score_s / n_jobs / wall,
    }
    if search == "asha":
        row["epochs"] = int(found.n_epochs_trained_)
        row["stop_reason"] = found.stop_reason_
        row["tasks_replayed"] = int(found.n_tasks_replayed_)
    else:
        row["epochs"] = counted
    row["epochs_per_top"] = row["epochs"] / n_top
    row["nominal_per_top"] = row["epochs_nominal"] / n_top
    return row


def measure_runs(args, X, y):
    """Parts 1 to 5: real searches, alternately, one seed after another."""
    rows = []
    for seed in range(args.repeats):
        data = scaled_split(X, y, seed)
        # Alternate what goes first, against drift in the machine.
        if args.checkpoint and seed % 2 == 1:
            rows.append(run_with_checkpoint(seed, data, args))
        for n_jobs in args.n_jobs:
            order = ("asha", "halving") if seed % 2 == 0 else ("halving", "asha")
            for search in (s for s in order if s in args.searches):
                rows.append(run_search(search, seed, n_jobs, data, args))
                print(_short(rows[-1]), flush=True)
        if args.checkpoint and seed % 2 == 0:
            rows.append(run_with_checkpoint(seed, data, args))
    return rows


def run_with_checkpoint(seed, data, args):
    """Run asha with one job and a fresh checkpoint journal; return the row."""
    with tempfile.TemporaryDirectory(prefix="bench_asha-") as folder:
        journal = Path(folder) / f"{uuid.uuid4().hex}.journal"
        row = run_search("asha", seed, 1, data, args, checkpoint=journal)
        row["journal_bytes"] = journal.stat().st_size
    print(_short(row), flush=True)
    return row


def _short(row):
    keys = ("search", "seed", "n_jobs", "checkpoint", "wall_s", "epochs", "n_top")
    keys += ("best_cv", "test")
    return {k: round(row[k], 4) if isinstance(row[k], float) else row[k] for k in keys}


# The seeded engine: a fixed lookahead, the engine's default unless given.
SEEDED = "asha, seeded"


def simulate_asha(rungs, durations, scores, n_workers, lookahead):
    """Drive the engine's Scheduler on a fake clock, as the engine drives it.

    ``durations[c, f, r]`` is the time fold ``f`` of candidate ``c`` takes
    to train rung ``r`` from the previous rung's epochs; ``scores[c, r]`` the
    candidate's score there. Decisions go through the engine's own
    ``_Decisions``: fully asynchronous (``lookahead=None``, an unseeded
    search) or with a fixed lookahead (a seeded one). Candidate 0 stands for
    the estimator's own settings, promoted from every rung as the engine
    does. Returns (makespan, busy time, epochs per fold, top-rung candidates).
    """
    n_candidates, cv, _ = durations.shape
    scheduler = Scheduler(
        rungs, n_candidates, lambda index, history: {"c": index}, always_promoted={0}
    )
    decisions = _Decisions(scheduler, cv, lookahead)
    steps = np.diff([0, *rungs])
    clock = busy = 0.0
    epochs = 0
    free = n_workers
    events, order = [], itertools.count()
    while True:
        while free and (task := decisions.next_task(True)) is not None:
            duration = durations[task.candidate, task.fold, task.rung]
            heapq.heappush(events, (clock + duration, next(order), task))
            busy += duration
            epochs += int(steps[task.rung])
            free -= 1
        if not events:
            break
        clock, _, task = heapq.heappop(events)
        free += 1
        score = scores[task.candidate, task.rung]
        decisions.finished(SimpleNamespace(task=task, test_score=score))
    n_top = sum(1 for s in scheduler.scores if len(rungs) - 1 in s)
    return clock, busy, epochs, n_top


def simulate_synchronous(rungs, durations, scores, n_workers):
    """Simulate synchronous halving that restarts: each rung waits for all folds.

    Survivors (the best ``ceil(n / factor)``, as scikit-learn keeps) train
    the full rung epochs again from scratch, which takes the sum of the
    per-step durations up to that rung. Fold tasks go, in order, to the
    first free worker.
    """
    n_candidates, cv, _ = durations.shape
    alive = list(range(n_candidates))
    clock = busy = 0.0
    epochs = 0
    for rung, rung_epoch in enumerate(rungs):
        workers = [0.0] * n_workers
        for candidate in alive:
            for fold in range(cv):
                duration = durations[candidate, fold, : rung + 1].sum()
                heapq.heappush(workers, heapq.heappop(workers) + duration)
                busy += duration
                epochs += rung_epoch
        clock += max(workers)
        if rung < len(rungs) - 1:
            keep = math.ceil(len(alive) / 3)
            alive = sorted(alive, key=lambda c: -scores[c, rung])[:keep]
    return clock, busy, epochs, len(alive)


def measure_simulation(args):
    """Part 6: utilisation with many workers, on a fake clock."""
    rows = []
    for n_candidates in args.sim_n_iter:
        rungs = rung_epochs(args.max_iter, n_candidates)
        steps = np.diff([0, *rungs])
        for seed in range(args.sim_seeds):
            rng = np.random.default_rng(seed)
            # Seconds per epoch per candidate (architectures differ a lot),
            # a little jitter per fold and rung; a fixed quality per
            # candidate and a little noise per rung.
            per_epoch = rng.lognormal(np.log(0.01), args.sim_sigma, n_candidates)
            jitter = rng.lognormal(0.0, 0.1, (n_candidates, args.sim_cv, len(rungs)))
            durations = per_epoch[:, None, None] * steps[None, None, :] * jitter
            quality = rng.normal(0.9, 0.03, n_candidates)
            scores = quality[:, None] + rng.normal(0, 0.005, (n_candidates, len(rungs)))
            for n_workers in args.sim_workers:
                runs = {
                    "asha": simulate_asha(rungs, durations, scores, n_workers, None),
                    SEEDED: simulate_asha(
                        rungs,
                        durations,
                        scores,
                        n_workers,
                        args.sim_lookahead or default_lookahead(n_workers, args.sim_cv),
                    ),
                    "synchronous": simulate_synchronous(
                        rungs, durations, scores, n_workers
                    ),
                }
                for kind, (makespan, busy, epochs, n_top) in runs.items():
                    rows.append(
                        {
                            "part": "sim",
                            "search": kind,
                            "seed": seed,
                            "n_iter": n_candidates,
                            "cv": args.sim_cv,
                            "workers": n_workers,
                            "sigma": args.sim_sigma,
                            "rungs": rungs,
                            "makespan": makespan,
                            "utilisation": busy / (makespan * n_workers),
                            "epochs": epochs,
                            "n_top": n_top,
                        }
                    )
    return rows


def pair_ratio(left, right, key):
    """Median of left[i][key] / right[i][key] over rows that pair up in order."""
    return statistics.median(a[key] / b[key] for a, b in zip(left, right, strict=True))


def median(rows, key):
    return statistics.median(r[key] for r in rows)


def paired_ratio(rows, key, left, right):
    """Median over seeds of left[key] / right[key]; rows picked by the filters."""
    ratios = []
    for seed in sorted({r["seed"] for r in rows}):
        a = [r[key] for r in rows if r["seed"] == seed and left(r)]
        b = [r[key] for r in rows if r["seed"] == seed and right(r)]
        if a and b:
            ratios.append(a[0] / b[0])
    return statistics.median(ratios) if ratios else float("nan")


def print_run_tables(rows, args):
    plain = [r for r in rows if not r["checkpoint"]]
    print(
        "\n| search | n_jobs | epochs trained (median) | nominal epochs "
        "| candidates per rung (median) | epochs per top-rung candidate "
        "| nominal per top-rung candidate | asha / halving |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n_jobs in args.n_jobs:
        for search in ("halving", "asha"):
            picked = [
                r for r in plain if r["search"] == search and r["n_jobs"] == n_jobs
            ]
            if not picked:
                continue
            per_rung = np.median([r["n_candidates"] for r in picked], axis=0)
            ratio = paired_ratio(
                plain,
                "epochs_per_top",
                lambda r, n=n_jobs: r["search"] == "asha" and r["n_jobs"] == n,
                lambda r, n=n_jobs: r["search"] == "halving" and r["n_jobs"] == n,
            )
            print(
                f"| {search} | {n_jobs} | {median(picked, 'epochs'):.0f} "
                f"| {median(picked, 'epochs_nominal'):.0f} "
                f"| {' / '.join(f'{n:g}' for n in per_rung)} "
                f"| {median(picked, 'epochs_per_top'):.0f} "
                f"| {median(picked, 'nominal_per_top'):.0f} "
                f"| {ratio if search == 'asha' else 1:.2f} |"
            )
    mismatched = [
        r for r in plain if r["search"] == "asha" and r["epochs"] != r["epochs_counted"]
    ]
    if mismatched:
        print(
            f"\nasha's n_epochs_trained_ differs from the epochs its fold fits "
            f"reported in {len(mismatched)} of "
            f"{sum(r['search'] == 'asha' for r in plain)} runs: "
            + ", ".join(f"{r['epochs']} vs {r['epochs_counted']}" for r in mismatched)
        )

    print(
        "\n| search | n_jobs | wall time (median s) | asha / halving wall "
        "| best CV (mean) | held-out (mean ± sd) | efficiency "
        "| efficiency, refit excluded | outside fits | of which scoring |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n_jobs in args.n_jobs:
        for search in ("halving", "asha"):
            picked = [
                r for r in plain if r["search"] == search and r["n_jobs"] == n_jobs
            ]
            if not picked:
                continue
            ratio = paired_ratio(
                plain,
                "wall_s",
                lambda r, n=n_jobs: r["search"] == "asha" and r["n_jobs"] == n,
                lambda r, n=n_jobs: r["search"] == "halving" and r["n_jobs"] == n,
            )
            test = [r["test"] for r in picked]
            print(
                f"| {search} | {n_jobs} | {median(picked, 'wall_s'):.1f} "
                f"| {ratio if search == 'asha' else 1:.2f} "
                f"| {np.mean([r['best_cv'] for r in picked]):.4f} "
                f"| {np.mean(test):.4f} ± {np.std(test):.4f} "
                f"| {median(picked, 'efficiency'):.2f} "
                f"| {median(picked, 'efficiency_search'):.2f} "
                f"| {median(picked, 'outside_fits'):.1%} "
                f"| {median(picked, 'scoring_share'):.1%} |"
            )

    saved = [r for r in rows if r["checkpoint"]]
    if saved:
        ratio = paired_ratio(
            rows,
            "wall_s",
            lambda r: r["search"] == "asha" and r["n_jobs"] == 1 and r["checkpoint"],
            lambda r: (
                r["search"] == "asha" and r["n_jobs"] == 1 and not r["checkpoint"]
            ),
        )
        without = [r for r in plain if r["search"] == "asha" and r["n_jobs"] == 1]
        same = sum(
            any(
                w["seed"] == s["seed"] and w["best_cv"] == s["best_cv"] for w in without
            )
            for s in saved
        )
        print(
            "\n| asha, n_jobs=1 | wall time (median s) | with / without (median) "
            "| same best CV | journal (median kB) |"
        )
        print("|---|---|---|---|---|")
        print(f"| without checkpoint | {median(without, 'wall_s'):.1f} | 1 | | |")
        print(
            f"| checkpoint= | {median(saved, 'wall_s'):.1f} | {ratio:.3f} "
            f"| {same} of {len(saved)} seeds "
            f"| {median(saved, 'journal_bytes') / 1e3:.0f} |"
        )


def print_simulation_table(rows, args):
    lookahead = SEEDED
    print(
        f"\n| workers | n_iter (rungs) | utilisation: asha | {lookahead} "
        "| synchronous, restarting | makespan / synchronous: asha "
        f"| {lookahead} | epochs / synchronous: asha | {lookahead} "
        f"| top-rung candidates: asha / {lookahead} / synchronous |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n_candidates in args.sim_n_iter:
        for n_workers in args.sim_workers:
            picked = [
                r
                for r in rows
                if r["n_iter"] == n_candidates and r["workers"] == n_workers
            ]
            asha = [r for r in picked if r["search"] == "asha"]
            ahead = [r for r in picked if r["search"] == lookahead]
            sync = [r for r in picked if r["search"] == "synchronous"]
            rungs = ", ".join(str(e) for e in asha[0]["rungs"])
            print(
                f"| {n_workers} | {n_candidates} ({rungs}) "
                f"| {median(asha, 'utilisation'):.2f} "
                f"| {median(ahead, 'utilisation'):.2f} "
                f"| {median(sync, 'utilisation'):.2f} "
                f"| {pair_ratio(asha, sync, 'makespan'):.2f} "
                f"| {pair_ratio(ahead, sync, 'makespan'):.2f} "
                f"| {pair_ratio(asha, sync, 'epochs'):.2f} "
                f"| {pair_ratio(ahead, sync, 'epochs'):.2f} "
                f"| {median(asha, 'n_top'):g} / {median(ahead, 'n_top'):g} "
                f"/ {median(sync, 'n_top'):g} |"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["runs", "sim"],
                        choices=["runs", "sim"])  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3, help="seeds of real runs")
    parser.add_argument("--n-iter", type=int, default=20)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--n-points",
        type=int,
        default=None,
        help="asha's lookahead when seeded (default: the tuner's)",
    )
    parser.add_argument(
        "--searches",
        nargs="+",
        default=["asha", "halving"],
        choices=["asha", "halving"],
    )
    parser.add_argument(
        "--no-checkpoint",
        dest="checkpoint",
        action="store_false",
        help="skip the checkpoint= runs",
    )
    parser.add_argument("--sim-workers", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--sim-n-iter", type=int, nargs="+", default=[81, 256])
    parser.add_argument("--sim-cv", type=int, default=5)
    parser.add_argument("--sim-seeds", type=int, default=5)
    parser.add_argument(
        "--sim-lookahead",
        type=int,
        default=None,
        help="the decisions a seeded search takes ahead of results "
        "(default: the engine's, which grows with the workers)",
    )
    parser.add_argument(
        "--sim-sigma",
        type=float,
        default=0.5,
        help="spread (log scale) of the candidates' seconds per epoch",
    )
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    rows = []
    if "runs" in args.parts:
        run_rows = measure_runs(args, X, y)
        rows += run_rows
        print_run_tables(run_rows, args)
        print(
            f"\n{args.n_iter} candidates, {args.cv}-fold CV, max_iter="
            f"{args.max_iter}, {args.repeats} seeds; {environment_line()}; "
            "load average before the runs "
            f"{min(r['load_before'] for r in run_rows):.1f} to "
            f"{max(r['load_before'] for r in run_rows):.1f}"
        )
    if "sim" in args.parts:
        sim_rows = measure_simulation(args)
        rows += sim_rows
        print_simulation_table(sim_rows, args)
        print(
            f"\nsimulated: {args.sim_cv}-fold CV, max_iter={args.max_iter}, "
            f"seconds per epoch lognormal (sigma {args.sim_sigma}), "
            f"medians over {args.sim_seeds} seeds"
        )
    save_rows("asha", rows)


if __name__ == "__main__":
    main()
