"""Command line: ``python -m sk_mlp_tune`` tunes an MLP on a bundled dataset."""

import argparse
import time

from ._search import SEARCHES


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m sk_mlp_tune",
        description=(
            "Tune an MLP classifier on scikit-learn's bundled load_digits "
            "(8x8 images of hand-written digits) and report the best "
            "hyperparameters, the cross-validated score, the held-out test "
            "accuracy and the time taken."
        ),
    )
    parser.add_argument("--search", choices=SEARCHES, default="bayes")
    parser.add_argument(
        "--max-time", type=float, default=None, help="time budget in seconds"
    )
    parser.add_argument(
        "--n-iter", type=int, default=20, help="candidates (random, bayes)"
    )
    parser.add_argument("--cv", type=int, default=5, help="cross-validation folds")
    parser.add_argument(
        "--n-jobs", type=int, default=-1, help="parallel jobs (-1: all cores)"
    )
    parser.add_argument("--random-state", type=int, default=0)
    return parser


def demo(*, search="bayes", n_iter=20, max_time=None, cv=5, n_jobs=-1, random_state=0):
    """Tune a classifier on load_digits, printing progress and the result.

    Parameters
    ----------
    search : {"grid", "random", "bayes", "halving"}, default="bayes"
        The search strategy.
    n_iter : int, default=20
        Number of candidates for random, Bayesian and halving search.
    max_time : float, default=None
        Time budget of the search in seconds; None for none.
    cv : int, default=5
        Number of cross-validation folds.
    n_jobs : int, default=-1
        Number of parallel jobs; -1 uses every core.
    random_state : int, default=0
        Seed of the split, the search and the networks.

    Returns
    -------
    model : Pipeline
        The fitted ``StandardScaler`` + :class:`TunedMLPClassifier` pipeline.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._tuned import TunedMLPClassifier

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, random_state=random_state
    )
    tuner = TunedMLPClassifier(
        search=search,
        n_iter=n_iter,
        max_time=max_time,
        cv=cv,
        n_jobs=n_jobs,
        random_state=random_state,
        verbose=1,  # a progress line on standard error
    )
    model = make_pipeline(StandardScaler(), tuner)
    print(
        f"Tuning an MLP on load_digits: {len(X_train)} training images, "
        f"{len(X_test)} held out, {X.shape[1]} pixels each; {search} search, "
        f"{cv}-fold cross-validation."
    )
    start = time.perf_counter()
    model.fit(X_train, y_train)
    elapsed = time.perf_counter() - start

    print("\nBest hyperparameters:")
    for name, value in tuner.best_params_.items():
        shown = f"{value:.3g}" if isinstance(value, float) else repr(value)
        print(f"  {name:<20} {shown}")
    n_candidates = len(tuner.cv_results_["params"])
    print(f"CV accuracy:          {tuner.best_score_:.4f} (best of {n_candidates})")
    print(f"Held-out accuracy:    {model.score(X_test, y_test):.4f}")
    print(f"Time:                 {elapsed:.1f} s ({tuner.stop_reason_})")
    return model


def main(argv=None):
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : list of str, default=None
        The arguments, without the program name.

    Returns
    -------
    status : int
        The exit status.
    """
    args = _parser().parse_args(argv)
    demo(
        search=args.search,
        n_iter=args.n_iter,
        max_time=args.max_time,
        cv=args.cv,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
    )
    return 0
