"""The ``sk-mlp-tune`` command (also ``python -m sk_mlp_tune``).

Subcommands: ``demo`` (the default), ``fit`` a CSV file, ``predict`` with a
saved model, and ``report`` on a saved model. Errors end with one line on
standard error and exit status 1; ``--debug`` shows the traceback instead.

Ctrl-C during the search stops it, keeps what finished, writes the outputs
from the best so far and exits 130; a second Ctrl-C exits 130 at once,
writing nothing. A worker process that dies does the same, exiting 1.
SIGTERM stops the workers with the process: exit 143.
"""

import argparse
import contextlib
import math
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

from ._engine import WorkerLostError
from ._search import SEARCHES
from ._steps import final_step
from ._table import CommandError, infer_task, preprocessor, read_csv, shortened

PROG = "sk-mlp-tune"


class Terminated(BaseException):
    """SIGTERM arrived: stop everything, write nothing, exit 143.

    A BaseException, as KeyboardInterrupt is, so that no ``except
    Exception`` on the way (scikit-learn's scoring of a fit) swallows it.
    """


# Exit statuses of a process stopped by SIGINT and by SIGTERM, as shells give.
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM
EXIT_WORKER_LOST = 1  # a failure, though the best finished candidate was written

# What a user can act on: said in one line (--debug shows the traceback).
_SAID_IN_ONE_LINE = (CommandError, ValueError, TypeError, OSError, ImportError,
                     WorkerLostError)  # fmt: skip


# -- demo ---------------------------------------------------------------------


def demo(
    *,
    search="asha",
    n_iter=40,
    max_time=None,
    cv=5,
    n_jobs=-1,
    random_state=0,
    checkpoint=None,
    ensemble_size="auto",
    max_iter=None,
    early_stopping=False,
):
    """Tune a classifier on load_digits, printing progress and the result.

    The untuned ``MLPClassifier()`` is scored on the same split after: the
    default configuration the search should beat. digits is easy for it,
    so the demo's budget is asha's 40 candidates, which beat it on 5 splits
    of 5 (by 0.22 to 0.89 points); 20 candidates, asha's or halving's,
    tied with it on average (see ``benchmarks/README.md``).

    Parameters
    ----------
    search : {"grid", "random", "bayes", "halving", "asha"}, default="asha"
        The search strategy.
    n_iter : int, default=40
        Number of candidates for random, Bayesian, halving and asha search.
    max_time : float, default=None
        Time budget of the search in seconds; None for none.
    cv : int or "auto", default=5
        Number of cross-validation folds, or ``"auto"`` (the tuner's).
    n_jobs : int, default=-1
        Number of parallel jobs; -1 uses every core.
    random_state : int, default=0
        Seed of the split, the search and the networks.
    checkpoint : str, default=None
        File where ``search="asha"`` records its work, to resume from.
    ensemble_size : int or "auto", default="auto"
        Rounds of greedy ensemble selection; 1 keeps the best network alone.
    max_iter : int, default=None
        Epochs of each network at most; None keeps the tuner's default (200).
    early_stopping : bool, default=False
        Whether each network stops when its score on a validation split (10%
        of its training rows) stops improving.

    Returns
    -------
    model : Pipeline
        The fitted ``StandardScaler`` + :class:`TunedMLPClassifier` pipeline.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._tuned import TunedMLPClassifier

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, random_state=random_state
    )
    tuner = TunedMLPClassifier(
        _network(TunedMLPClassifier, max_iter, early_stopping),
        search=search,
        checkpoint=checkpoint,
        n_iter=n_iter,
        max_time=max_time,
        cv=cv,
        n_jobs=n_jobs,
        random_state=random_state,
        ensemble_size=ensemble_size,
        verbose=1,  # a progress line on standard error
    )
    model = make_pipeline(StandardScaler(), tuner)
    print(
        f"Tuning an MLP on load_digits: {len(X_train)} training images, "
        f"{len(X_test)} held out, {X.shape[1]} pixels each; {search} search, "
        + ("cv='auto' validation." if cv == "auto" else f"{cv}-fold cross-validation.")
    )
    start = time.perf_counter()
    _fit(model, X_train, y_train, checkpoint)
    tuned_score = model.score(X_test, y_test)
    _print_summary(tuner, "accuracy", tuned_score, start)
    if _say_why_stopped(tuner, "accuracy", checkpoint):
        return model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its own ConvergenceWarning, if any
        untuned = make_pipeline(
            StandardScaler(), MLPClassifier(random_state=random_state)
        ).fit(X_train, y_train)
    untuned_score = untuned.score(X_test, y_test)
    print(
        f"Untuned MLPClassifier() held-out accuracy, same split: {untuned_score:.4f}"
        f" (the tuned model: {100 * (tuned_score - untuned_score):+.2f} points)"
    )
    return model


def _network(tuner_class, max_iter, early_stopping):
    """Return the tuner's default network with the command line's epoch settings.

    None, the tuner's own default, when neither ``--max-iter`` nor
    ``--early-stopping`` is given.
    """
    settings = {}
    if max_iter is not None:
        settings["max_iter"] = max_iter
    if early_stopping:
        settings["early_stopping"] = True
    if not settings:
        return None
    return tuner_class()._default_estimator().set_params(**settings)


def _plain(value):
    """Return ``value`` as it reads in Python, numpy scalars as plain ones."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return item()
    return value


def _print_summary(tuner, metric, held_out, start):
    print("\nBest hyperparameters:")
    # Plain Python values: the tuner's best_params_ holds no numpy scalar.
    for name, value in tuner.best_params_.items():
        shown = f"{value:.3g}" if isinstance(value, float) else repr(value)
        print(f"  {name:<20} {shown}")
    sizes = getattr(final_step(tuner.best_estimator_), "hidden_layer_sizes_", None)
    if sizes is not None:
        print(f"  {'(network built)':<20} hidden layers {tuple(sizes)}")
    if tuner.cv_results_.get("origin", [None])[tuner.best_index_] == "estimator":
        print(
            "  The best is the estimator's own settings, where every search "
            "starts: no candidate beat them."
        )
    n_candidates = len(tuner.cv_results_["params"])
    print(
        f"CV {metric}:{' ' * (17 - len(metric))} {tuner.best_score_:.4f} "
        f"(best of {n_candidates} evaluations)"
    )
    if not math.isnan(tuner.ensemble_score_):  # an ensemble was chosen
        weights = " ".join(f"{w:.2f}" for w in tuner.ensemble_weights_)
        n_members = len(tuner.ensemble_estimators_)
        print(
            f"Ensemble:             {n_members} network{'s' * (n_members > 1)}, "
            f"weights {weights}; out-of-fold {metric} {tuner.ensemble_score_:.4f} "
            f"(the best alone {tuner.ensemble_single_score_:.4f})"
        )
    print(f"Held-out {metric}:{' ' * (11 - len(metric))} {held_out:.4f}")
    elapsed = time.perf_counter() - start
    print(f"Time:                 {elapsed:.1f} s ({tuner.stop_reason_})")


@contextlib.contextmanager
def _stop_said_once():
    """Silence the tuner's warning on an early stop: the command says it in one line."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Interrupted \(Ctrl-C\)")
        warnings.filterwarnings("ignore", message="A worker process died")
        yield


def _fit(model, X, y, checkpoint):
    """Fit ``model``; a worker dead before anything finished ends in one line."""
    try:
        with _stop_said_once():
            model.fit(X, y)
    except WorkerLostError as error:
        hint = _resume_hint(checkpoint)
        raise CommandError(f"{error.without_hint} ({hint})") from None


def _resume_hint(checkpoint):
    return (
        "fit again with the same --checkpoint to resume"
        if checkpoint
        else "--search asha --checkpoint FILE lets a search resume where it stopped"
    )


def _say_why_stopped(tuner, metric, checkpoint):
    """Say in one line, on standard error, why a search stopped before its end.

    Return whether it did: Ctrl-C, or a worker process that died. The
    finished candidates were kept either way, and the best refitted.
    """
    if tuner.stop_reason_ not in ("interrupted", "worker_lost"):
        return False
    search = tuner.search_
    # asha plans candidates, each finished once it is through its first rung;
    # the others plan evaluations (halving: a candidate per rung).
    n_planned = search.n_planned_candidates(search.starting_candidates_)
    n_done = search.n_finished_candidates()
    best = f"best CV {metric} {tuner.best_score_:.4f}"
    kept = f"{n_done} of {n_planned} candidates; {best}"
    if tuner.stop_reason_ == "interrupted":
        said = f"interrupted after {kept}"
    else:
        said = (
            f"{search.worker_lost_.without_hint} Kept the {kept} "
            f"({_resume_hint(checkpoint)})"
        )
    print(f"{PROG}: {said}", file=sys.stderr)
    return True


# -- reading data -------------------------------------------------------------


def _fraction_or_count(text):
    """Read ``--test-size``: ``3`` rows, or ``0.2`` of them."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a fraction (0.2) nor a number of rows (30)"
        ) from None


def _positive_int(text):
    """Read ``--max-iter``: a whole number of epochs, at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of epochs; give a whole number such as 500"
        )
    return value


def _auto_or_count(what, example):
    """Return the reader of an option that takes ``auto`` or a count of ``what``."""

    def read(text):
        if text == "auto":
            return text
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is neither 'auto' nor a number of {what} ({example})"
            ) from None

    return read


# -- subcommands --------------------------------------------------------------


def _training_data(args):
    """Read the CSV of ``fit``: the features, the target and the task, checked."""
    frame = read_csv(args.data)
    if args.target not in frame.columns:
        raise CommandError(
            f"no column {args.target!r} in {args.data}; columns are "
            f"{list(frame.columns)}"
        )
    has_target = frame[args.target].notna()
    if not has_target.any():
        raise CommandError(
            f"column {args.target!r} of {args.data} is empty: no row has a target "
            "value to learn from"
        )
    if not has_target.all():
        n_dropped = int((~has_target).sum())
        print(
            f"Dropped {n_dropped} of {len(frame)} rows whose target "
            f"{args.target!r} is missing."
        )
        frame = frame[has_target]
    y = frame.pop(args.target)
    if frame.shape[1] == 0:
        raise CommandError(f"{args.data} has no feature column besides the target")
    task, reason = infer_task(y)
    if args.task is None:
        print(f"Task: {task} (inferred from the target's {reason}; --task overrides)")
    else:
        task = args.task
        print(f"Task: {task}")
    classification = task == "classification"
    if classification and y.nunique() < 2:
        raise CommandError(
            f"target {args.target!r} has a single class, {_plain(y.iloc[0])!r}; a "
            "classifier needs at least two"
        )
    return frame, y, task


def command_fit(args):
    """Tune a model on a CSV file; print, and save the model and report."""
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline

    from ._tuned import TunedMLPClassifier, TunedMLPRegressor

    # Before the search: a typo in a folder must not waste it.
    _check_outputs(
        [
            ("--output", args.output),
            ("--report", args.report),
            ("--checkpoint", args.checkpoint),
        ],
        [("the data", args.data)],
    )
    frame, y, task = _training_data(args)
    classification = task == "classification"

    tuner_class = TunedMLPClassifier if classification else TunedMLPRegressor
    tuner = tuner_class(
        _network(tuner_class, args.max_iter, args.early_stopping),
        search=args.search,
        n_iter=args.n_iter,
        max_time=args.max_time,
        cv=args.cv,
        scoring=args.scoring,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        checkpoint=args.checkpoint,
        ensemble_size=args.ensemble_size,
        verbose=1,
    )
    # The regressor's network standardises its target itself (normalize_y).
    model = make_pipeline(preprocessor(frame), tuner)
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            frame,
            y,
            test_size=args.test_size,
            random_state=args.random_state,
            stratify=y if classification else None,
        )
    except ValueError as error:
        rare = y.value_counts().idxmin() if classification else None
        raise CommandError(
            f"the hold-out split (--test-size {args.test_size}) failed: {error} "
            f"(the rarest class, {_plain(rare)!r}, has "
            f"{int(y.value_counts().min()) if classification else 0} row(s)). Give "
            "a --test-size that leaves every class rows on both sides, remove the "
            "rarest classes, or --task regression if the target is a quantity"
        ) from None
    print(
        f"Training on {len(X_train)} rows, holding out {len(X_test)}; "
        f"{frame.shape[1]} feature columns."
    )
    start = time.perf_counter()
    _fit(model, X_train, y_train, args.checkpoint)
    y_pred = model.predict(X_test)
    if args.scoring is None:
        metric, held_out = (
            ("accuracy" if classification else "R²"),
            model.score(X_test, y_test),
        )
    else:
        metric, held_out = args.scoring, get_scorer(args.scoring)(model, X_test, y_test)
    _print_summary(tuner, metric, held_out, start)
    stopped = _say_why_stopped(tuner, metric, args.checkpoint)

    # What the command line knew of the data, for predict and report: on
    # the model itself, so that the file holds an estimator and nothing else.
    model.command_line_fit_ = {
        "target": args.target,
        "task": task,
        "columns": list(frame.columns),
        "data_shape": list(X_train.shape),
        "y_true": y_test.to_numpy(),
        "y_pred": y_pred,
    }
    if args.output:
        from .io import save

        save(model, args.output)
        print(f"Model written to {args.output}")
    if args.report:
        _write_model_report(model, args.report)
    if not stopped:
        return 0
    return EXIT_INTERRUPTED if tuner.stop_reason_ == "interrupted" else EXIT_WORKER_LOST


def _check_outputs(outputs, inputs):
    """Refuse, before any work, outputs that cannot be written or replace an input.

    ``outputs`` and ``inputs`` are ``(name, path)`` pairs; a None path is
    left out.
    """
    for option, path in outputs:
        if path is None:
            continue
        _check_writable(option, path)
        for name, source in inputs:
            if _same_file(path, source):
                raise CommandError(
                    f"{option} {path} is {name} ({source}): writing it would "
                    "replace it; give another path"
                )
    written = [(option, path) for option, path in outputs if path is not None]
    for index, (option, path) in enumerate(written):
        for other, other_path in written[index + 1 :]:
            if _same_file(path, other_path):
                raise CommandError(
                    f"{option} and {other} are the same file, {path}; give each "
                    "its own path"
                )


def _same_file(path, other):
    if os.path.exists(path) and os.path.exists(other):
        return os.path.samefile(path, other)
    return os.path.realpath(path) == os.path.realpath(other)


def _check_writable(option, path):
    """Refuse an output path whose folder is missing, not writable, or a folder."""
    if path is None:
        return
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise CommandError(f"{option} {path} is a folder, not a file")
    if not folder.is_dir():
        raise CommandError(
            f"{option} {path}: the folder {folder} does not exist; create it or "
            "give another path"
        )
    if not os.access(folder, os.W_OK):
        raise CommandError(f"{option} {path}: the folder {folder} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        # It would be replaced all the same (a new file renamed over it).
        raise CommandError(
            f"{option} {path} is read-only; make it writable, remove it, or give "
            "another path"
        )


def _write_model_report(model, path):
    from .report import write_report

    facts = model.command_line_fit_
    write_report(
        model,
        path,
        y_true=facts.get("y_true"),
        y_pred=facts.get("y_pred"),
        data_shape=facts.get("data_shape"),
        title=f"Tuned MLP for {facts.get('target', 'the target')!r}",
    )
    print(f"Report written to {path}")


def _load_model(path):
    """Load a model ``fit --output`` wrote; refuse anything else in one line."""
    from .io import UntrustedTypesError, load

    if Path(path).is_dir():
        raise CommandError(
            f"{path} is a folder, not a model file; give the .skops file"
        )
    if not Path(path).is_file():
        raise CommandError(f"no such file: {path}")
    try:
        model = load(path)
    except UntrustedTypesError as error:
        raise CommandError(str(error)) from None
    except Exception as error:  # skops raises several kinds for a foreign file
        raise CommandError(f"{path} is not a model saved by {PROG}: {error}") from None
    facts = getattr(model, "command_line_fit_", None)
    missing = [
        key
        for key in ("columns", "target", "task")
        if not isinstance(facts, dict) or key not in facts
    ]
    if missing or not hasattr(model, "predict"):
        what = f"it has no {missing}" if missing else "its model cannot predict"
        raise CommandError(
            f"{path} is not a model saved by '{PROG} fit --output' ({what})"
        )
    return model


def command_predict(args):
    """Predict with a saved model; write or print a CSV of predictions."""
    _check_outputs(
        [("--output", args.output)],
        [("the model", args.model), ("the data", args.data)],
    )
    model = _load_model(args.model)
    facts = model.command_line_fit_
    frame = read_csv(args.data)
    expected = facts["columns"]
    missing = [c for c in expected if c not in frame.columns]
    unexpected = [
        c for c in frame.columns if c not in expected and c != facts["target"]
    ]
    if missing or unexpected:
        problems = []
        if missing:
            problems.append(f"missing columns {missing}")
        if unexpected:
            problems.append(f"unexpected columns {unexpected}")
        raise CommandError(
            f"{args.data} does not have the training columns: {' and '.join(problems)}"
        )
    import pandas as pd

    features = frame[expected]
    _refuse_text_in_numeric_columns(model, features, args.data)
    features = _text_columns_as_text(model, features)
    predictions = pd.DataFrame({"prediction": model.predict(features)})
    if args.proba:
        if facts["task"] != "classification":
            raise CommandError("--proba needs a classification model")
        proba = model.predict_proba(features)
        for index, label in enumerate(model.classes_):
            predictions[f"proba_{label}"] = proba[:, index]
    if args.output:
        from ._files import replaced_atomically

        with replaced_atomically(args.output) as temporary:
            predictions.to_csv(temporary, index=False)
        print(f"{len(predictions)} predictions written to {args.output}")
    else:
        predictions.to_csv(sys.stdout, index=False)
    return 0


def _refuse_text_in_numeric_columns(model, features, path):
    """Name a column that was numeric in training and holds text here."""
    import pandas as pd

    numeric = []
    for name, _, columns in getattr(model[0], "transformers_", ()):
        if name == "numeric":
            numeric = list(columns)
    for column in numeric:
        values = features[column]
        if pd.api.types.is_numeric_dtype(values):
            continue
        present = values.notna()
        bad = present & pd.to_numeric(values, errors="coerce").isna()
        if bad.any():
            examples = [shortened(str(v)) for v in values[bad][:3]]
            raise CommandError(
                f"column {column!r} of {path} was numeric in training but holds "
                f"text here, such as {examples}; fix or remove those values"
            )


def _text_columns_as_text(model, features):
    """Give the columns that were text in training as text, where pandas read numbers.

    A text column that is empty here, or holds only numbers, is read as
    numbers, which the one-hot encoder cannot compare with its text
    categories. Missing values stay missing.
    """
    import pandas as pd

    text = []
    for name, _, columns in getattr(model[0], "transformers_", ()):
        if name == "categorical":
            text = list(columns)
    converted = {}
    for column in text:
        values = features[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(
            values
        ):
            converted[column] = values.astype(object).where(
                values.isna(), values.astype(str)
            )
    return features.assign(**converted) if converted else features


def command_report(args):
    """Write the HTML report of a saved model."""
    _check_outputs([("--output", args.output)], [("the model", args.model)])
    _write_model_report(_load_model(args.model), args.output)
    return 0


def command_demo(args):
    """Run the demo."""
    demo(
        search=args.search,
        n_iter=args.n_iter,
        max_time=args.max_time,
        cv=args.cv,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        checkpoint=args.checkpoint,
        ensemble_size=args.ensemble_size,
        max_iter=args.max_iter,
        early_stopping=args.early_stopping,
    )
    return 0


# -- the parser ---------------------------------------------------------------


def _add_search_options(parser, *, cv_default, search_default, n_iter_default=20):
    parser.add_argument(
        "--search",
        choices=SEARCHES,
        default=search_default,
        help=f"search strategy (default: {search_default})",
    )
    parser.add_argument(
        "--n-iter",
        type=int,
        default=n_iter_default,
        help="candidates for random, bayes, halving and asha "
        f"(default: {n_iter_default})",
    )
    parser.add_argument(
        "--ensemble-size",
        type=_auto_or_count("rounds", 10),
        default="auto",
        help="rounds of greedy selection of an ensemble of the best candidates, "
        "refitted and averaged; 1 keeps the best network alone (default: auto, "
        "10 rounds from 500 training rows on, the best alone below)",
    )
    parser.add_argument(
        "--checkpoint",
        metavar="FILE",
        default=None,
        help="with --search asha: record every finished fit in FILE, and resume "
        "from it when run again with the same data and settings",
    )
    parser.add_argument(
        "--max-iter",
        type=_positive_int,
        default=None,
        metavar="EPOCHS",
        help="epochs of each network at most (default: 200); successive halving "
        "and asha train for fewer at their early rungs",
    )
    parser.add_argument(
        "--early-stopping",
        action="store_true",
        help="stop each network when its score on a validation split (10%% of "
        "its training rows) stops improving",
    )
    parser.add_argument(
        "--max-time",
        type=float,
        default=None,
        help="time budget of the search in seconds",
    )
    parser.add_argument(
        "--cv",
        type=_auto_or_count("folds", 5),
        default=cv_default,
        help="cross-validation folds, or auto: 5 folds below 10,000 training "
        f"rows, one 20%% held-out split from there (default: {cv_default})",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=-1,
        help="parallel jobs; -1 uses every core (default)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the split, the search and the networks",
    )


def build_parser():
    """Return the argument parser of ``sk-mlp-tune``.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser, with one subparser per command.
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Tune scikit-learn MLPs from the shell. Without a command, "
        "runs the demo.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback on errors"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo_parser = commands.add_parser(
        "demo",
        help="tune a classifier on the bundled load_digits images",
        description="Tune an MLP classifier on scikit-learn's bundled load_digits "
        "(8x8 images of hand-written digits) and report the best "
        "hyperparameters, the CV score, the held-out accuracy and the time.",
    )
    _add_search_options(
        demo_parser, cv_default=5, search_default="asha", n_iter_default=40
    )
    demo_parser.set_defaults(handler=command_demo)

    fit_parser = commands.add_parser(
        "fit",
        help="tune a model on a CSV file",
        description="Read DATA.csv, impute and scale its numeric columns, one-hot "
        "encode the others, tune an MLP for the target column, and print the "
        "best hyperparameters, the CV score, the held-out score and the time.",
    )
    fit_parser.add_argument("data", metavar="DATA.csv")
    fit_parser.add_argument(
        "--target", required=True, metavar="COLUMN", help="the column to predict"
    )
    fit_parser.add_argument(
        "--task",
        choices=("classification", "regression"),
        help="inferred from the target when not given",
    )
    _add_search_options(fit_parser, cv_default="auto", search_default="halving")
    fit_parser.add_argument(
        "--scoring",
        default=None,
        help="scikit-learn scorer name (default: accuracy or R²)",
    )
    fit_parser.add_argument(
        "--test-size",
        type=_fraction_or_count,
        default=0.2,
        help="held out for the final score: a fraction, or a number of rows "
        "(default 0.2)",
    )
    fit_parser.add_argument(
        "--output", metavar="MODEL", help="save the tuned model (skops format)"
    )
    fit_parser.add_argument(
        "--report", metavar="REPORT.html", help="write an HTML report of the search"
    )
    fit_parser.set_defaults(handler=command_fit)

    predict_parser = commands.add_parser(
        "predict",
        help="predict with a saved model",
        description="Predict the target for each row of DATA.csv, which needs the "
        "training columns (the target column may be there too).",
    )
    predict_parser.add_argument("model", metavar="MODEL")
    predict_parser.add_argument("data", metavar="DATA.csv")
    predict_parser.add_argument(
        "--output",
        metavar="PREDICTIONS.csv",
        help="write here instead of standard output",
    )
    predict_parser.add_argument(
        "--proba", action="store_true", help="add one probability column per class"
    )
    predict_parser.set_defaults(handler=command_predict)

    report_parser = commands.add_parser(
        "report",
        help="write the HTML report of a saved model",
        description="Write the self-contained HTML report of a saved model.",
    )
    report_parser.add_argument("model", metavar="MODEL")
    report_parser.add_argument("--output", required=True, metavar="REPORT.html")
    report_parser.set_defaults(handler=command_report)
    return parser


@contextlib.contextmanager
def _sigterm_stops():
    """Turn SIGTERM into :class:`Terminated` while the command runs.

    Python's default for SIGTERM ends the process at once, with no cleanup:
    loky's worker processes were left behind for minutes. Raised in the
    main thread, Terminated unwinds the search, which stops its workers.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigterm(signum, frame):
        raise Terminated

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # One line, like the errors: where in scikit-learn a warning was raised
    # means nothing to someone at a shell (--debug keeps Python's format).
    from sklearn.exceptions import ConvergenceWarning

    if issubclass(category, ConvergenceWarning) and "early_stopping" in str(message):
        # The tuner's advice names its parameters; say the options that set them.
        message = f"{message} On the command line: --max-iter, --early-stopping."
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def main(argv=None):
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : list of str, default=None
        The arguments, without the program name.

    Returns
    -------
    status : int
        The exit status: 0 on success, 1 on an error or a dead worker
        (after a dead worker, the outputs written from the best so far),
        130 after Ctrl-C (the outputs written from the best so far, or
        nothing after a second Ctrl-C), 143 after SIGTERM (nothing written).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        debug = args.debug
        args = parser.parse_args(["demo"])
        args.debug = debug
    try:
        with warnings.catch_warnings(), _sigterm_stops():
            if not args.debug:
                warnings.showwarning = _show_warning
            return args.handler(args)
    except KeyboardInterrupt:
        # Ctrl-C outside the search, or a second one: nothing was written.
        print(f"{PROG}: aborted (Ctrl-C); nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print(f"{PROG}: terminated (SIGTERM); nothing written", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:
        # The reader of our output (``| head``) has gone; nothing to report.
        sys.stderr.close()
        return 0
    except _SAID_IN_ONE_LINE as error:
        if args.debug:
            raise
        message = (
            str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        )
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 1
