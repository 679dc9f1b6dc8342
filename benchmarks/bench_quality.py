r"""Quality per budget: the tuner's strategies against the tools users would pick.

For each dataset, seed and budget (number of candidates), every method
searches the same space — the tuner's default — over the same estimator
(``DropoutMLPClassifier`` with the tuner's default settings), with 3-fold CV
on a stratified 75% training split; the held-out 25% gives the test score.

Methods: ``TunedMLPClassifier`` with search="bayes", "random", "halving"
(and "grid" at its default 32 candidates); the same space written out by
hand for scikit-learn's ``RandomizedSearchCV`` and ``HalvingRandomSearchCV``,
scikit-optimize's ``BayesSearchCV`` and Optuna's ``OptunaSearchCV`` (TPE),
each used the usual way (their defaults, ``n_jobs=2`` where they take it);
and the untuned ``MLPClassifier()`` as a floor.

    python benchmarks/bench_quality.py                  # budget 10, one seed
    python benchmarks/bench_quality.py --budgets 10 20 --seeds 3

Results go to ``benchmarks/results/quality.jsonl`` and two markdown tables
are printed: every method (held-out mean over seeds, median wall time), and
the default tuner against the best peer. ``--tables-from`` rebuilds them
from saved rows, so runs of different seeds or budgets can be combined.
"""

import argparse
import json
import warnings
from collections import defaultdict

import numpy as np
from _common import environment_line, save_rows, scaled_split, timed
from scipy import stats
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_wine,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    HalvingRandomSearchCV,
    RandomizedSearchCV,
)
from sklearn.neural_network import MLPClassifier

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier
from sk_mlp_tune._tuned import _DEFAULT_MLP_SETTINGS

DATASETS = {
    "digits": lambda: load_digits(return_X_y=True),
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
    # Harder: many informative features, five classes, 10% label noise.
    "hard": lambda: make_classification(
        n_samples=1500,
        n_features=40,
        n_informative=25,
        n_redundant=5,
        n_classes=5,
        flip_y=0.1,
        class_sep=0.8,
        random_state=0,
    ),
}


# The fixed MLP settings every method searches around: the tuner's defaults,
# or the early stopping they replaced, to reproduce that comparison.
MLP_SETTINGS = {
    "default": _DEFAULT_MLP_SETTINGS,
    "early-stopping": {"max_iter": 200, "early_stopping": True, "n_iter_no_change": 20},
}


def mlp(seed, settings):
    return DropoutMLPClassifier(random_state=seed, **settings)


def scipy_space():
    """Return the tuner's default space, written out for scikit-learn."""
    return {
        "learning_rate_init": stats.loguniform(1e-4, 1e-1),
        "n_hidden_layers": stats.randint(1, 4),
        "n_neurons": stats.randint(16, 257),
        "layer_shape": ["constant", "funnel"],
        "dropout": stats.uniform(0.0, 0.5),
        "alpha": stats.loguniform(1e-6, 1e-1),
        "batch_size": stats.randint(32, 257),
        "activation": ["relu", "tanh"],
    }


def skopt_space():
    from skopt.space import Categorical, Integer, Real

    return {
        "learning_rate_init": Real(1e-4, 1e-1, prior="log-uniform"),
        "n_hidden_layers": Integer(1, 3),
        "n_neurons": Integer(16, 256, prior="log-uniform"),
        "layer_shape": Categorical(["constant", "funnel"]),
        "dropout": Real(0.0, 0.5),
        "alpha": Real(1e-6, 1e-1, prior="log-uniform"),
        "batch_size": Integer(32, 256, prior="log-uniform"),
        "activation": Categorical(["relu", "tanh"]),
    }


def optuna_space():
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    return {
        "learning_rate_init": FloatDistribution(1e-4, 1e-1, log=True),
        "n_hidden_layers": IntDistribution(1, 3),
        "n_neurons": IntDistribution(16, 256, log=True),
        "layer_shape": CategoricalDistribution(["constant", "funnel"]),
        "dropout": FloatDistribution(0.0, 0.5),
        "alpha": FloatDistribution(1e-6, 1e-1, log=True),
        "batch_size": IntDistribution(32, 256, log=True),
        "activation": CategoricalDistribution(["relu", "tanh"]),
    }


def methods(budget, seed, settings):
    """Return {name: unfitted search} for one budget and seed."""
    common = {"cv": 3, "n_jobs": 2}
    found = {
        f"tuner {search}": TunedMLPClassifier(
            mlp(None, settings),
            search=search,
            n_iter=budget,
            random_state=seed,
            **common,
        )
        for search in ("bayes", "random", "halving")
    }
    found["sklearn RandomizedSearchCV"] = RandomizedSearchCV(
        mlp(seed, settings), scipy_space(), n_iter=budget, random_state=seed, **common
    )
    found["sklearn HalvingRandomSearchCV"] = HalvingRandomSearchCV(
        mlp(seed, settings),
        scipy_space(),
        n_candidates=budget,
        random_state=seed,
        **common,
    )
    try:
        from skopt import BayesSearchCV

        found["skopt BayesSearchCV"] = BayesSearchCV(
            mlp(seed, settings),
            skopt_space(),
            n_iter=budget,
            random_state=seed,
            **common,
        )
    except ImportError:
        pass
    try:
        import optuna
        from optuna_integration import OptunaSearchCV

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        found["optuna OptunaSearchCV (TPE)"] = OptunaSearchCV(
            mlp(seed, settings),
            optuna_space(),
            n_trials=budget,
            cv=3,
            n_jobs=1,
            random_state=seed,
            verbose=0,
        )
    except ImportError:
        pass
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS)
    )
    parser.add_argument("--budgets", nargs="+", type=int, default=[10])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds run from this one on"
    )
    parser.add_argument(
        "--grid",
        action="store_true",
        help="also run the tuner's default grid (32 candidates)",
    )
    parser.add_argument(
        "--mlp-settings",
        choices=list(MLP_SETTINGS),
        default="default",
        help="fixed MLP settings of every method (default: the tuner's)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        help="run only the methods whose name contains one of these",
    )
    parser.add_argument(
        "--tables-from",
        metavar="JSONL",
        help="print the tables of earlier rows (e.g. several runs' worth) and exit",
    )
    args = parser.parse_args()
    if args.tables_from:
        with open(args.tables_from) as lines:
            print_tables([json.loads(line) for line in lines])
        return
    settings = MLP_SETTINGS[args.mlp_settings]

    rows = []
    for dataset in args.datasets:
        X, y = DATASETS[dataset]()
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            X_train, X_test, y_train, y_test = scaled_split(X, y, seed)
            runs = [("untuned MLPClassifier()", 1, MLPClassifier(random_state=seed))]
            for budget in args.budgets:
                runs += [
                    (name, budget, m)
                    for name, m in methods(budget, seed, settings).items()
                ]
            if args.methods:
                runs = [r for r in runs if any(m in r[0] for m in args.methods)]
            if args.grid:
                grid = TunedMLPClassifier(
                    mlp(None, settings),
                    search="grid",
                    cv=3,
                    n_jobs=2,
                    random_state=seed,
                )
                runs.append(("tuner grid", 32, grid))
            for name, budget, model in runs:
                row = {
                    "mlp_settings": args.mlp_settings,
                    "dataset": dataset,
                    "seed": seed,
                    "method": name,
                    "budget": budget,
                }
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    warnings.simplefilter("ignore", UserWarning)
                    warnings.simplefilter("ignore", FutureWarning)
                    try:
                        seconds, model = timed(model.fit, X_train, y_train)
                    except ValueError as error:
                        # A method that cannot run here is a result too.
                        reason = str(error).strip().splitlines()[0]
                        row.update(
                            best_cv=np.nan, test=np.nan, wall_s=np.nan, failed=reason
                        )
                        rows.append(row)
                        print(row, flush=True)
                        continue
                row.update(
                    best_cv=float(getattr(model, "best_score_", np.nan)),
                    test=float(model.score(X_test, y_test)),
                    wall_s=seconds,
                )
                rows.append(row)
                print(row, flush=True)
    save_rows("quality", rows)
    print_tables(rows)
    print(
        f"\nmeans over {args.seeds} seeds; 3-fold CV; fixed MLP settings "
        f"{args.mlp_settings}; {environment_line()}"
    )


def print_tables(rows):
    """Print every method's means, then the default tuner against the best peer."""
    grouped = defaultdict(list)
    for row in rows:
        grouped[(row["dataset"], row["budget"], row["method"])].append(row)
    means = {}
    print(
        "\n| dataset | budget | method | best CV | held-out (mean ± sd) "
        "| wall time (median s) |"
    )
    print("|---|---|---|---|---|---|")
    for (dataset, budget, method), picked in grouped.items():
        failures = [r["failed"] for r in picked if "failed" in r]
        if failures:
            print(f"| {dataset} | {budget} | {method} | failed: {failures[0]} | | |")
            continue
        test = [r["test"] for r in picked]
        means[dataset, budget, method] = (
            np.mean(test),
            np.mean([r["wall_s"] for r in picked]),
        )
        print(
            f"| {dataset} | {budget} | {method} "
            f"| {np.mean([r['best_cv'] for r in picked]):.4f} "
            f"| {np.mean(test):.4f} ± {np.std(test):.4f} "
            f"| {means[dataset, budget, method][1]:.1f} |"
        )

    default = f"tuner {TunedMLPClassifier().search}"
    print(
        f"\n| dataset | budget | best peer: held-out (wall s) "
        f"| {default} (default): held-out (wall s) | untuned MLPClassifier() |"
    )
    print("|---|---|---|---|---|")
    for dataset, budget, method in means:
        if method != default:
            continue
        peers = {
            m: v
            for (d, b, m), v in means.items()
            if d == dataset and b == budget and not m.startswith(("tuner", "untuned"))
        }
        peer = max(peers, key=lambda m: peers[m][0]) if peers else None
        peer_cell = (
            f"{peers[peer][0]:.4f} {peer} ({peers[peer][1]:.1f})" if peer else "-"
        )
        floor = means.get((dataset, 1, "untuned MLPClassifier()"), (np.nan,))[0]
        tuned, wall = means[dataset, budget, method]
        print(
            f"| {dataset} | {budget} | {peer_cell} "
            f"| {tuned:.4f} ({wall:.1f}) | {floor:.4f} |"
        )


if __name__ == "__main__":
    main()
