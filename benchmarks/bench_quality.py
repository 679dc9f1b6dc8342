r"""Quality per budget: the tuner's strategies against the tools users would pick.

For each dataset, seed and budget (number of candidates), every method
searches the same space — the tuner's default — over the same estimator
(``DropoutMLPClassifier`` with the tuner's default settings), with 3-fold CV
on a stratified 75% training split; the held-out 25% gives the test score.

Methods: ``TunedMLPClassifier`` with search="bayes", "random", "halving",
"asha" (and "grid" at its default 32 candidates); the same space written out
by hand for scikit-learn's ``RandomizedSearchCV`` and
``HalvingRandomSearchCV``, scikit-optimize's ``BayesSearchCV`` and Optuna's
``OptunaSearchCV`` (TPE), each used the usual way (their defaults,
``n_jobs=2`` where they take it, ``--n-jobs`` to change); asha's
alternatives (``_common.ASHA_VARIANTS``: a Gaussian process for TPE, a
promotion rule that waits for half of a rung, both); Optuna's TPE with a
``SuccessiveHalvingPruner`` over epochs (``OptunaPrunedSearch`` below: the
multi-fidelity peer of "asha"); and the untuned ``MLPClassifier()`` as a
floor.

Datasets: digits, breast_cancer, wine, a harder synthetic problem, and two
real tables shipped inside PyPI packages (nothing is downloaded at run
time): Palmer penguins' species (``pip install palmerpenguins``) and the
1996 American National Election Study's vote (statsmodels' ``anes96``,
``pip install statsmodels``). A dataset whose package is missing is skipped
with a message.

    python benchmarks/bench_quality.py                  # budget 10, one seed
    python benchmarks/bench_quality.py --budgets 10 20 --seeds 3
    python benchmarks/bench_quality.py --anytime --datasets hard  # budgets 5 10 20

Results go to ``benchmarks/results/quality.jsonl`` (``--save-as`` names
another file) and two markdown tables are printed: every method (held-out
mean and spread over seeds, mean wall time), and the tuner's "halving" (the
default) and "asha" against the best peer. ``--tables-from`` rebuilds them
from saved rows, so runs of different seeds or budgets can be combined;
with ``--anytime`` it also draws the figure from them.
"""

import argparse
import json
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
from _common import (
    ASHA_VARIANTS,
    RESULTS_DIR,
    EngineVariant,
    environment_line,
    save_rows,
    scaled_split,
    timed,
)
from joblib import Parallel, delayed
from scipy import stats
from sklearn.base import clone
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
    StratifiedKFold,
)
from sklearn.neural_network import MLPClassifier

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier, default_param_space
from sk_mlp_tune._asha import rung_epochs
from sk_mlp_tune._tuned import _DEFAULT_MLP_SETTINGS


def load_penguins_species():
    """Palmer penguins (palmerpenguins package): species from body measures.

    333 penguins once the 11 rows with a missing value are dropped, three
    species; the island and sex are one-hot encoded, the year of the
    observation is left out.
    """
    import pandas as pd
    from palmerpenguins import load_penguins

    frame = load_penguins().drop(columns="year").dropna()
    y = frame.pop("species").to_numpy()
    X = pd.get_dummies(frame, columns=["island", "sex"], dtype=float)
    return X.to_numpy(dtype=float), y


def load_anes96_vote():
    """ANES 1996 (bundled with statsmodels): Clinton or Dole from a voter's answers.

    944 voters, two classes (58/42); the party identification, left-right
    placements of self and candidates, TV news, age, education, income and
    the log of the town's population (the raw population, very skewed, is
    left out).
    """
    from statsmodels.datasets import anes96

    frame = anes96.load_pandas().data
    y = frame["vote"].astype(int).to_numpy()
    X = frame.drop(columns=["vote", "popul"])
    return X.to_numpy(dtype=float), y


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
    # Real tables shipped in a PyPI package; skipped if it is not installed.
    "penguins": load_penguins_species,
    "anes96": load_anes96_vote,
}
# The package each optional dataset needs, for the message when it is missing.
OPTIONAL_DATASETS = {"penguins": "palmerpenguins", "anes96": "statsmodels"}
# Held-out scores "asha" must also reach at a budget, whatever the peers do:
# on "hard", the best peer's at 20 candidates in the README's 3-seed run.
HELD_OUT_TARGETS = {("hard", 20): 0.710}


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


def _suggest(trial, name, spec):
    """Ask ``trial`` for one value of the tuner's space spec ``spec``."""
    if isinstance(spec, list):
        return trial.suggest_categorical(name, spec)
    low, high, *prior = spec
    log = prior == ["log-uniform"]
    if isinstance(low, int) and isinstance(high, int):
        return trial.suggest_int(name, low, high, log=log)
    return trial.suggest_float(name, low, high, log=log)


def _train_epochs(model, X, y, classes, epochs, X_val, y_val):
    """Train ``model`` for ``epochs`` more epochs, one ``partial_fit`` each.

    Returns the model and its accuracy on the validation fold. Runs in a
    joblib worker, so the model travels there and back.
    """
    with warnings.catch_warnings():
        # The workers do not inherit the caller's filters: a batch_size
        # larger than the fold is clipped, as in the other methods' fits.
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(epochs):
            model.partial_fit(X, y, classes=classes)
    return model, model.score(X_val, y_val)


class OptunaPrunedSearch:
    """Optuna's TPE with a successive-halving pruner over epochs, by hand.

    The multi-fidelity peer of ``search="asha"``, built the way Optuna's
    documentation builds a pruned search: each trial suggests a candidate
    from the tuner's default space, trains its 3 fold models epoch by epoch
    (``partial_fit``, one epoch a call), reports the mean validation accuracy
    of the folds with ``trial.report`` and stops when ``trial.should_prune()``
    says so, up to ``max_iter`` epochs; ``n_trials`` trials in all, one after
    another. The best complete trial is then refitted on the whole training
    set with ``fit`` for ``max_iter`` epochs.

    The pruner is ``SuccessiveHalvingPruner`` (asynchronous successive
    halving, as ``search="asha"``) with the tuner's rungs: a minimum resource
    of asha's first rung and a reduction factor of 3, so that both stop
    candidates at the same epochs (22, 67 and 200 for 20 candidates; the
    pruner's own rungs are 22, 66 and 198, and a report at or past one is
    judged there). Its defaults would judge every trial after 2 epochs
    (``min_resource="auto"`` is the first complete trial's steps / 100) with
    a factor of 4, and prune nothing until a trial has completed. Trials
    report at the rungs only: scoring the folds every epoch would add a
    forward pass over the validation folds per epoch for reports the pruner
    does not read in between.

    ``n_jobs``: Optuna's own ``n_jobs`` runs trials in threads, which the GIL
    serialises for these small networks; here the trials run one after
    another and each trial's 3 fold models train in parallel in joblib's
    processes, one task per fold from one rung to the next.

    Each fold model gets its own ``numpy.random.RandomState`` rather than an
    integer seed: scikit-learn's ``partial_fit`` reseeds its random stream
    from an integer ``random_state`` at every call, which would shuffle the
    samples (and draw the dropout masks) the same way every epoch; a
    ``RandomState`` instance carries on from call to call, as one ``fit``
    does. The Adam optimizer's state is kept between calls. What still
    differs from one ``fit``: ``partial_fit`` never stops on a stalled
    training loss (``tol``), while the refit does; and a call per epoch
    checks its input every time, which made an epoch 1.2 to 2 times as long
    as inside one ``fit`` on these small problems.
    """

    def __init__(
        self, estimator, param_space, n_trials, cv=3, n_jobs=2, random_state=None
    ):
        self.estimator = estimator
        self.param_space = param_space
        self.n_trials = n_trials
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X, y):
        """Run the trials, then refit the best complete one on ``X, y``."""
        import optuna

        if self.estimator.early_stopping:
            raise ValueError(
                "the pruned Optuna search trains with partial_fit, which does "
                "not support early_stopping=True"
            )
        max_iter = self.estimator.max_iter
        self.rungs_ = rung_epochs(max_iter, self.n_trials)
        # The same unshuffled stratified folds as cv=3 gives the other methods.
        folds = list(StratifiedKFold(self.cv).split(X, y))
        classes = np.unique(y)
        seeds = np.random.SeedSequence(self.random_state)

        def objective(trial, parallel):
            params = {
                name: _suggest(trial, name, spec)
                for name, spec in self.param_space.items()
            }
            fold_seeds = seeds.spawn(len(folds))
            models = [
                clone(self.estimator).set_params(
                    **params,
                    random_state=np.random.RandomState(s.generate_state(1)[0]),
                )
                for s in fold_seeds
            ]
            trained = 0
            for step in self.rungs_:
                done = parallel(
                    delayed(_train_epochs)(
                        model,
                        X[train],
                        y[train],
                        classes,
                        step - trained,
                        X[test],
                        y[test],
                    )
                    for model, (train, test) in zip(models, folds, strict=True)
                )
                trained = step
                models = [model for model, _ in done]
                score = float(np.mean([score for _, score in done]))
                trial.report(score, step)
                if trial.should_prune():
                    raise optuna.TrialPruned()
            return score

        self.study_ = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=self.random_state),
            pruner=optuna.pruners.SuccessiveHalvingPruner(
                min_resource=self.rungs_[0], reduction_factor=3
            ),
        )
        with Parallel(n_jobs=self.n_jobs) as parallel:
            self.study_.optimize(
                lambda trial: objective(trial, parallel), n_trials=self.n_trials
            )
        best = self.study_.best_trial
        self.best_params_ = best.params
        self.best_score_ = best.value
        self.n_pruned_ = sum(
            t.state == optuna.trial.TrialState.PRUNED for t in self.study_.trials
        )
        self.best_estimator_ = (
            clone(self.estimator).set_params(**self.best_params_).fit(X, y)
        )
        return self

    def score(self, X, y):
        """Return the refitted best model's accuracy on ``X, y``."""
        return self.best_estimator_.score(X, y)


def methods(budget, seed, settings, n_jobs=2):
    """Return {name: unfitted search} for one budget and seed."""
    common = {"cv": 3, "n_jobs": n_jobs}
    found = {
        f"tuner {search}": TunedMLPClassifier(
            mlp(None, settings),
            search=search,
            n_iter=budget,
            random_state=seed,
            **common,
        )
        for search in ("bayes", "random", "halving", "asha")
    }
    for variant, (proposer, wait) in ASHA_VARIANTS.items():
        found[f"tuner {variant}"] = EngineVariant(
            found["tuner asha"], proposer=proposer, wait=wait
        )
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
    try:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        found["optuna TPE + SuccessiveHalvingPruner"] = OptunaPrunedSearch(
            mlp(seed, settings),
            default_param_space(),
            n_trials=budget,
            random_state=seed,
            **common,
        )
    except ImportError:
        pass
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS)
    )
    parser.add_argument(
        "--budgets",
        nargs="+",
        type=int,
        default=None,
        help="numbers of candidates (default: 10; with --anytime: 5 10 20)",
    )
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds run from this one on"
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=2,
        help="n_jobs of every method that takes it (default: 2)",
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
        "--save-as",
        default="quality",
        metavar="NAME",
        help="append the rows to benchmarks/results/NAME.jsonl (default: quality)",
    )
    parser.add_argument(
        "--anytime",
        action="store_true",
        help="run budgets 5 10 20 (unless --budgets is given) and draw held-out "
        "accuracy against wall time, one line per method, to --figure",
    )
    parser.add_argument(
        "--figure",
        default=str(RESULTS_DIR / "anytime.png"),
        help="where --anytime saves its figure (default: %(default)s)",
    )
    parser.add_argument(
        "--tables-from",
        metavar="JSONL",
        help="print the tables of earlier rows (e.g. several runs' worth) and exit",
    )
    args = parser.parse_args()
    if args.tables_from:
        with open(args.tables_from) as lines:
            rows = [json.loads(line) for line in lines]
        print_tables(rows)
        if args.anytime:
            draw_anytime(rows, args.figure)
        return
    if args.budgets is None:
        args.budgets = [5, 10, 20] if args.anytime else [10]
    settings = MLP_SETTINGS[args.mlp_settings]

    rows = []
    for dataset in args.datasets:
        try:
            X, y = DATASETS[dataset]()
        except ImportError as error:
            print(
                f"skipping {dataset}: it needs the package "
                f"{OPTIONAL_DATASETS.get(dataset, error.name)!r} ({error})",
                flush=True,
            )
            continue
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            X_train, X_test, y_train, y_test = scaled_split(X, y, seed)
            runs = [("untuned MLPClassifier()", 1, MLPClassifier(random_state=seed))]
            for budget in args.budgets:
                runs += [
                    (name, budget, m)
                    for name, m in methods(
                        budget, seed, settings, n_jobs=args.n_jobs
                    ).items()
                ]
            if args.methods:
                runs = [r for r in runs if any(m in r[0] for m in args.methods)]
            if args.grid:
                grid = TunedMLPClassifier(
                    mlp(None, settings),
                    search="grid",
                    cv=3,
                    n_jobs=args.n_jobs,
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
                    "n_jobs": args.n_jobs,
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
                if hasattr(model, "n_pruned_"):
                    row["n_pruned"] = model.n_pruned_
                rows.append(row)
                print(row, flush=True)
    save_rows(args.save_as, rows)
    print_tables(rows)
    print(
        f"\nmeans over {args.seeds} seeds; 3-fold CV; fixed MLP settings "
        f"{args.mlp_settings}; n_jobs={args.n_jobs}; {environment_line()}"
    )
    if args.anytime:
        draw_anytime(rows, args.figure)


def draw_anytime(rows, path):
    """Draw held-out accuracy against wall time, one line per method.

    The budget-sweep approximation of an anytime curve: each point is one
    budget's whole run (mean over seeds of its wall time and of the held-out
    accuracy of the model it chose), so a method's line goes through what it
    returns when stopped after 5, 10, 20... candidates. The model a search
    returns is the one with the best CV score so far, refitted, which is
    what a user stopping the search would get; the held-out score is never
    used to pick among the points. One panel per dataset.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    points = defaultdict(list)
    for row in rows:
        if "failed" not in row:
            points[row["dataset"], row["method"], row["budget"]].append(row)
    datasets = list(dict.fromkeys(d for d, _, _ in points))
    if not datasets:
        print("no rows to draw")
        return
    columns = min(3, len(datasets))
    lines = -(-len(datasets) // columns)
    figure, axes = plt.subplots(
        lines, columns, figsize=(max(9, 5 * columns), 4 * lines + 1.5), squeeze=False
    )
    # One colour per method in every panel.
    searches = [m for m in dict.fromkeys(m for _, m, _ in points) if "untuned" not in m]
    colours = {m: f"C{i % 10}" for i, m in enumerate(searches)}
    handles = {}
    for ax, dataset in zip(axes.flat, datasets, strict=False):
        methods_here = list(dict.fromkeys(m for d, m, _ in points if d == dataset))
        for method in methods_here:
            budgets = sorted(b for d, m, b in points if d == dataset and m == method)
            picked = [points[dataset, method, b] for b in budgets]
            wall = [np.mean([r["wall_s"] for r in rows_b]) for rows_b in picked]
            test = [np.mean([r["test"] for r in rows_b]) for rows_b in picked]
            if method.startswith("untuned"):
                handles[method] = ax.axhline(test[0], color="grey", linestyle=":")
                continue
            style = {"linewidth": 2.5} if method.startswith("tuner") else {}
            (line,) = ax.plot(wall, test, marker="o", color=colours[method], **style)
            handles.setdefault(method, line)
            for x, y_, b in zip(wall, test, budgets, strict=True):
                ax.annotate(
                    str(b),
                    (x, y_),
                    textcoords="offset points",
                    xytext=(3, 3),
                    fontsize=7,
                    color=line.get_color(),
                )
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("wall time (s, log scale)")
        ax.set_ylabel("held-out accuracy")
        ax.set_title(dataset)
        ax.grid(True, which="both", alpha=0.3)
    for ax in axes.flat[len(datasets) :]:
        ax.set_visible(False)
    seeds = len({r["seed"] for r in rows})
    figure.suptitle(
        "Held-out accuracy of the chosen model against wall time\n"
        f"a point per budget (its number of candidates), means over {seeds} seed(s)",
        fontsize=10,
    )
    figure.legend(
        list(handles.values()),
        list(handles),
        loc="lower center",
        ncol=min(3, len(handles)),
        fontsize=8,
    )
    legend_rows = -(-len(handles) // 3)
    figure.tight_layout(rect=(0, 0.035 * legend_rows / lines + 0.02, 1, 1))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    print(f"anytime figure: {path}")


def print_tables(rows):
    """Print every method's means, then the tuner's strategies against the best peer.

    The verdict column holds "asha" to its target: a held-out score at
    least the best peer's (picked after the fact, by mean held-out score)
    in at most half its wall time, and at least ``HELD_OUT_TARGETS``'s
    score where the dataset has one.
    """
    grouped = defaultdict(list)
    for row in rows:
        grouped[(row["dataset"], row["budget"], row["method"])].append(row)
    # Rows of several runs: by dataset and method in order of appearance,
    # budgets in increasing order.
    first = {}
    for key in grouped:
        first.setdefault(key[0], len(first))
        first.setdefault(key[2], len(first))
    grouped = dict(
        sorted(
            grouped.items(), key=lambda kv: (first[kv[0][0]], kv[0][1], first[kv[0][2]])
        )
    )
    means = {}
    print(
        "\n| dataset | budget | method | best CV | held-out (mean ± sd) "
        "| wall time (mean s) |"
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
    strategies = [default] + [m for m in ("tuner asha",) if m != default]
    print(
        "\n| dataset | budget | best peer: held-out (wall s) | "
        + " | ".join(
            f"{m}{' (default)' if m == default else ''}: held-out (wall s)"
            for m in strategies
        )
        + " | untuned MLPClassifier() | asha against the best peer |"
    )
    print("|---|---|---|" + "---|" * len(strategies) + "---|---|")
    cases = dict.fromkeys((d, b) for d, b, m in means if m in strategies)
    for dataset, budget in cases:
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
        cells = []
        for method in strategies:
            tuned, wall = means.get((dataset, budget, method), (np.nan, np.nan))
            cells.append(f"{tuned:.4f} ({wall:.1f})")
        verdict = "-"
        if peer and (dataset, budget, "tuner asha") in means:
            tuned, wall = means[dataset, budget, "tuner asha"]
            gap = tuned - peers[peer][0]
            ratio = wall / peers[peer][1]
            target = HELD_OUT_TARGETS.get((dataset, budget), -np.inf)
            floor_met = tuned >= target
            met = "meets" if gap >= 0 and ratio <= 0.5 and floor_met else "misses"
            verdict = (
                f"{met} the target: {gap:+.4f} held-out in {ratio:.2f}x the wall time"
            )
            if not floor_met:
                verdict += f", below {target:.3f}"
        print(
            f"| {dataset} | {budget} | {peer_cell} | "
            + " | ".join(cells)
            + f" | {floor:.4f} | {verdict} |"
        )


if __name__ == "__main__":
    main()
