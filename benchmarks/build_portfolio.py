"""Learn the portfolio: the configurations every search tries first.

In the manner of auto-sklearn 2.0 (Feurer et al. 2022, arXiv 2007.04074):

1. A pool of candidate configurations: the tuner's default network, then
   ``--pool`` draws from its default space (seeded), per task.
2. Every configuration is scored on every real table of
   ``real_tables.py``: a 3-fold cross-validated score on a 75% training
   part (what a search would see) and the score of the model refitted on
   that part on the held-out 25% (what the user gets), each the mean over
   ``--repeats`` such splits. Tables are cut to ``--max-rows`` rows,
   stratified, to keep the run within a quarter of an hour.
3. Greedy selection: start from the default network (the tuner always
   evaluates it first) and add, one at a time, the configuration that most
   lowers the mean over tables of the portfolio's *regret*: the rank, in
   the pool, of the portfolio's best CV score on the table.
4. Leave-one-table-out: the portfolio built without a table, tried on it,
   shows what a portfolio does for data it has not seen; the same
   numbers give the anytime curve (the held-out score of the CV-best of
   the first k candidates, portfolio first against random first).

The portfolio built on every table is written to
``sk_mlp_tune/portfolio.json``, with the tables, the pool and the command.

Run from the repository root (about 15 minutes on 2 cores)::

    python benchmarks/build_portfolio.py
    python benchmarks/build_portfolio.py --scores benchmarks/portfolio_scores.json

The scores are saved in ``benchmarks/portfolio_scores.json`` (committed);
the second form rebuilds from them without fitting anything. A new run
fits only the (table, configuration) pairs that file does not already
hold with the same rows, seed and repeats: changing one task's space
rescores that task alone.
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ParameterSampler, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline

sys.path.insert(0, str(Path(__file__).parent))

import real_tables
from _common import environment

from sk_mlp_tune import DropoutMLPClassifier, DropoutMLPRegressor, default_param_space
from sk_mlp_tune._space import estimator_settings, resolve_space, to_distributions

PORTFOLIO_FILE = Path(__file__).parents[1] / "sk_mlp_tune" / "portfolio.json"
# The scores behind the portfolio, kept so that it can be rebuilt, and tried
# leave-one-table-out by bench_real.py, without fitting anything.
SCORES_FILE = Path(__file__).parent / "portfolio_scores.json"
TASKS = ("classification", "regression")


def network(task):
    """Return the tuner's default network for ``task``."""
    if task == "classification":
        return DropoutMLPClassifier(max_iter=200, random_state=0)
    return DropoutMLPRegressor(max_iter=200, normalize_y=True, random_state=0)


def pool(task, size, seed):
    """Return the default network's settings, then ``size`` draws of the space."""
    template = network(task)
    [subspace] = resolve_space(default_param_space("random", template), template)
    own = estimator_settings(template, subspace)
    drawn = ParameterSampler(to_distributions([subspace])[0], size, random_state=seed)
    return [own] + [
        {k: v.item() if isinstance(v, np.generic) else v for k, v in d.items()}
        for d in drawn
    ]


def cut(X, y, task, max_rows, seed):
    """Return at most ``max_rows`` rows of the table, stratified for classes."""
    if len(X) <= max_rows:
        return X, y
    stratify = y if task == "classification" else None
    X, _, y, _ = train_test_split(
        X, y, train_size=max_rows, stratify=stratify, random_state=seed
    )
    return X, y


def score_config(name, config, max_rows, seeds):
    """Return (cv score, held-out score) of ``config`` on table ``name``.

    Each a mean over one 75/25 split per seed.
    """
    X, y, task = real_tables.load(name)
    X, y = cut(X, y, task, max_rows, seeds[0])
    stratify = y if task == "classification" else None
    pairs = []
    for seed in seeds:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=stratify, random_state=seed
        )
        model = make_pipeline(
            real_tables.preprocessor(),
            clone(network(task)).set_params(**config, random_state=seed),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", message="Got `batch_size`")
            cv = cross_val_score(model, X_train, y_train, cv=3).mean()
            held_out = model.fit(X_train, y_train).score(X_test, y_test)
        pairs.append((float(cv), float(held_out)))
    return np.mean(pairs, axis=0).tolist()


def measure(tables, configs, max_rows, seeds, n_jobs, known=None):
    """Return {table: [[cv, held-out] per config]}; ``configs`` by table.

    ``known`` maps ``(table, config as JSON)`` to scores measured before
    with the same rows and seeds; those pairs are not fitted again.
    """
    known = known or {}
    matrix = {t: [None] * len(configs[t]) for t in tables}
    jobs = []
    for t in tables:
        for c, config in enumerate(configs[t]):
            matrix[t][c] = known.get((t, _key(config)))
            if matrix[t][c] is None:
                jobs.append((t, c))
    start = time.perf_counter()
    scores = Parallel(n_jobs=n_jobs, verbose=5)(
        delayed(score_config)(t, configs[t][c], max_rows, seeds) for t, c in jobs
    )
    print(f"scored {len(jobs)} (table, config) pairs in "
          f"{time.perf_counter() - start:.0f} s", file=sys.stderr)  # fmt: skip
    for (t, c), pair in zip(jobs, scores, strict=True):
        matrix[t][c] = pair
    return matrix


def _key(config):
    # Draws of a log-uniform range can differ in the last bit between
    # versions of scipy; 12 digits are the same configuration.
    rounded = {
        name: float(f"{value:.12g}") if isinstance(value, float) else value
        for name, value in config.items()
    }
    return json.dumps(rounded, sort_keys=True)


def known_scores(max_rows, seed, repeats, scores_file=SCORES_FILE):
    """Return the saved scores measured the same way, by (table, config)."""
    if not Path(scores_file).exists():
        return {}
    saved = json.loads(Path(scores_file).read_text())
    if (saved["max_rows"], saved["seed"], saved["repeats"]) != (
        max_rows,
        seed,
        repeats,
    ):
        return {}
    return {
        (table, _key(config)): pair
        for task, task_configs in saved["configs"].items()
        for table in [t.name for t in real_tables.TABLES if t.task == task]
        if table in saved["scores"]
        for config, pair in zip(task_configs, saved["scores"][table], strict=True)
    }


def regret(members, cv):
    """Regret of a search over ``members`` on one table: a rank, from 0 to 1.

    The rank of the members' best CV score among the whole pool's, over
    the pool's size: 0 when a member is the pool's best. Ranks weigh every
    table alike, whatever the spread of its scores; measured
    leave-one-table-out on the saved scores, they beat regrets in units
    of the scores (raw, over the pool's range, or over best minus median)
    on both tasks (benchmarks/README.md). CV scores are less noisy than
    one held-out part; the anytime curve measures the held-out score of
    what they choose.
    """
    ranks = np.argsort(np.argsort(-cv))
    return np.min(ranks[members]) / len(cv)


def greedy(scores, tables, size):
    """Return pool indices, the default (0) first, chosen greedily on ``tables``."""
    chosen = [0]
    while len(chosen) < size + 1:
        remaining = [c for c in range(len(scores[tables[0]])) if c not in chosen]
        if not remaining:
            break

        def mean_regret(extra):
            return np.mean(
                [regret([*chosen, extra], np.asarray(scores[t])[:, 0]) for t in tables]
            )

        chosen.append(min(remaining, key=mean_regret))
    return chosen


def leave_one_out(table, task="classification", size=6, scores_file=SCORES_FILE):
    """Return the portfolio built without ``table``: what it would be for new data.

    Parameters
    ----------
    table : str
        The table left out.
    task : {"classification", "regression"}
        Its task: the portfolio is built on the other tables of the task.
    size : int
        Entries after the default network.
    scores_file : path
        The saved scores of :func:`measure`.

    Returns
    -------
    entries : list of dict
    """
    saved = json.loads(Path(scores_file).read_text())
    names = [t.name for t in real_tables.TABLES if t.task == task and t.name != table]
    order = greedy(saved["scores"], names, size)
    return [saved["configs"][task][c] for c in order[1:]]


def anytime(scores, tables, size, k_max, n_orders, seed):
    """Held-out score of the CV-best of the first k candidates, per table.

    Portfolio first: the default, the portfolio built without the table
    (leave-one-table-out), then the rest of the pool in random order.
    Random first: the default, then the pool in random order. Means over
    ``n_orders`` random orders.
    """
    rng = np.random.default_rng(seed)
    curves = {"portfolio": [], "random": []}
    for table in tables:
        others = [t for t in tables if t != table]
        portfolio = greedy(scores, others, size)
        cv, held_out = np.asarray(scores[table]).T
        n = len(cv)
        for _ in range(n_orders):
            rest = [int(c) for c in rng.permutation(np.arange(1, n))]
            orders = {
                "portfolio": portfolio + [c for c in rest if c not in portfolio],
                "random": [0, *rest],
            }
            for kind, order in orders.items():
                curves[kind].append(
                    [
                        held_out[order[int(np.argmax(cv[order[:k]]))]]
                        for k in range(1, k_max + 1)
                    ]
                )
    return {kind: np.mean(values, axis=0) for kind, values in curves.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=63, help="draws per task")
    parser.add_argument("--repeats", type=int, default=2, help="splits per table")
    parser.add_argument("--size", type=int, default=6, help="portfolio entries")
    parser.add_argument("--max-rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--scores", type=Path, help="rebuild from saved scores")
    args = parser.parse_args()

    tables = {
        task: [t.name for t in real_tables.TABLES if t.task == task] for task in TASKS
    }
    if args.scores:
        saved = json.loads(args.scores.read_text())
        configs, scores = saved["configs"], saved["scores"]
        args.pool = len(configs["classification"]) - 1
        args.repeats, args.max_rows = saved["repeats"], saved["max_rows"]
        args.seed = saved["seed"]
    else:
        configs = {task: pool(task, args.pool, args.seed) for task in TASKS}
        scores = measure(
            [t for task in TASKS for t in tables[task]],
            {t: configs[task] for task in TASKS for t in tables[task]},
            args.max_rows,
            [args.seed + r for r in range(args.repeats)],
            args.n_jobs,
            known=known_scores(args.max_rows, args.seed, args.repeats),
        )
        saved = {
            "configs": configs,
            "scores": scores,
            "repeats": args.repeats,
            "max_rows": args.max_rows,
            "seed": args.seed,
            **environment(),
        }
        SCORES_FILE.write_text(json.dumps(saved) + "\n")

    portfolio = {}
    for task in TASKS:
        names = tables[task]
        order = greedy(scores, names, args.size)
        entries = [configs[task][c] for c in order[1:]]
        portfolio["classifier" if task == "classification" else "regressor"] = entries
        curve = anytime(scores, names, args.size, 20, n_orders=50, seed=args.seed)
        print(f"\n## {task}: {len(names)} tables, pool of {args.pool + 1}")
        print("\nAnytime curve (mean held-out score of the CV-best of the first "
              "k; leave-one-table-out portfolio):\n")  # fmt: skip
        print("| k | portfolio first | random first |\n|---|---|---|")
        for k in (1, 2, 3, 5, 8, 10, 15, 20):
            print(f"| {k} | {curve['portfolio'][k - 1]:.4f} | "
                  f"{curve['random'][k - 1]:.4f} |")  # fmt: skip
        print("\nPortfolio (greedy on every table, after the default network):\n")
        for position, entry in enumerate(entries, 1):
            print(f"{position}. {entry}")

    PORTFOLIO_FILE.write_text(
        json.dumps(
            {
                "made_by": "python benchmarks/build_portfolio.py "
                f"--pool {args.pool} --repeats {args.repeats} --size {args.size} "
                f"--max-rows {args.max_rows} --seed {args.seed}",
                "scores": "benchmarks/portfolio_scores.json",
                "date": environment()["date"],
                "tables": tables,
                "classifier": portfolio["classifier"],
                "regressor": portfolio["regressor"],
            },
            indent=1,
        )
        + "\n"
    )
    print(f"\nwrote {PORTFOLIO_FILE}")


if __name__ == "__main__":
    main()
