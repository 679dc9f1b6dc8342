"""Check that a refactor leaves seeded fits bit-for-bit identical.

Fits ``TunedMLPClassifier`` / ``TunedMLPRegressor`` with a fixed
``random_state`` under every strategy (grid, random, bayes, halving, asha) on
three small problems (iris, a 300-row binary ``make_classification``,
diabetes regression), with ``n_jobs=2``, ``ensemble_size=3`` on the binary
and the regression problems, and a second ``warm_start=True`` fit after the
first for random and bayes search on the binary problem. For each case it
records what a seeded fit must reproduce:

- ``cv_results_``, every key but the timings, and the order of its keys;
  masked ``param_*`` columns as their mask and their unmasked values;
- ``best_index_``, ``best_params_``, ``best_score_``, ``n_splits_``,
  ``n_max_iter_reached_``, ``stop_reason_``, ``classes_``;
- the ensemble: ``ensemble_indices_``, ``ensemble_weights_``,
  ``ensemble_score_``, ``ensemble_single_score_`` and every member's weights;
- the best estimator: its parameters (seeds included), ``coefs_``,
  ``intercepts_``, ``n_iter_``, ``t_``, ``loss_``, ``loss_curve_``, ...;
- ``predict``, ``predict_proba``, ``predict_log_proba`` and ``score`` on the
  training data;
- the search object's rung bookkeeping (``n_candidates_``, ``rungs_``,
  ``n_epochs_trained_``, ...), where it has them;
- the warnings the fit raised in this process (category and message).

Both fits of a warm-started case are recorded. Left out because they change
from run to run on unchanged code: the four timing columns of
``cv_results_``, ``refit_time_`` and ``search_time_`` (wall-clock seconds),
the data under the mask of the ``param_*`` columns, and the order of the
search's ``max_iter_reached_`` (one entry per fold fit, in the order the
fits finished: with two workers that order varies, so it is recorded
sorted).

Equality is exact: ``np.array_equal`` with NaN in the same places, the same
dtype and shape, the same Python or NumPy type for scalars; never a tolerance.

    python benchmarks/check_identical.py --save /tmp/baseline   # before
    python benchmarks/check_identical.py --compare /tmp/baseline  # after
    python benchmarks/check_identical.py --compare /tmp/baseline --only asha

``--save`` writes one pickle per case and prints a table (candidates, best
index and score, a short sha256 of the recorded content); ``--compare``
refits, prints IDENTICAL or the first differing key of each case (with the
largest absolute difference for arrays, and the next few keys that differ)
and exits with status 1 on any difference or missing case, 2 without the
baseline directory. Results are only comparable on the same machine and the same
versions of numpy, scikit-learn, scikit-optimize and Optuna (``--compare``
says when the baseline's differ). About a minute on 2 cores.
"""

import argparse
import fnmatch
import hashlib
import pickle
import platform
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import optuna
import sklearn
import skopt
from sklearn.datasets import load_diabetes, load_iris, make_classification
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import (
    DropoutMLPClassifier,
    DropoutMLPRegressor,
    TunedMLPClassifier,
    TunedMLPRegressor,
)

STRATEGIES = ("grid", "random", "bayes", "halving", "asha")

# Wall-clock measurements: never the same twice.
TIMING_KEYS = frozenset(
    {"mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time"}
)

# The search object's bookkeeping, where it has them (halving, asha).
SEARCH_ATTRIBUTES = (
    "n_candidates_",
    "n_resources_",
    "n_iterations_",
    "n_remaining_candidates_",
    "n_possible_iterations_",
    "n_required_iterations_",
    "min_resources_",
    "max_resources_",
    "rungs_",
    "best_epochs_",
    "n_epochs_trained_",
    "n_tasks_replayed_",
)

# Per fold fit, in the order the fits *finished*: with n_jobs=2 that order
# changes from run to run, so only the sorted values are recorded.
UNORDERED_SEARCH_ATTRIBUTES = ("max_iter_reached_",)

# What a refitted network holds that a seeded fit must reproduce.
NETWORK_ATTRIBUTES = (
    "coefs_",
    "intercepts_",
    "n_iter_",
    "t_",
    "loss_",
    "best_loss_",
    "loss_curve_",
    "validation_scores_",
    "hidden_layer_sizes_",
    "n_layers_",
    "n_outputs_",
    "out_activation_",
)


def _standardised(X):
    return StandardScaler().fit_transform(X)


def _iris():
    X, y = load_iris(return_X_y=True)
    return _standardised(X), y


def _binary():
    X, y = make_classification(
        n_samples=300,
        n_features=10,
        n_informative=5,
        n_redundant=2,
        flip_y=0.05,
        random_state=0,
    )
    return _standardised(X), y


def _diabetes():
    X, y = load_diabetes(return_X_y=True)
    return _standardised(X), y


@dataclass
class Problem:
    """A data set and the tuner each strategy runs on it."""

    name: str
    data: object
    make_tuner: object
    grid_space: dict | None
    ensemble_size: object = "auto"
    warm_start: tuple = ()
    seed: int = 0
    n_iter: int = 16
    extra: dict = field(default_factory=dict)


PROBLEMS = (
    # The default network and space: 16 candidates, the estimator's own and
    # 6 of the portfolio first (bayes's GP proposes from the 11th result on);
    # the default grid of 32 candidates; "auto" ensemble: the best alone at
    # 150 rows.
    Problem(
        name="iris",
        data=_iris,
        make_tuner=lambda **kw: TunedMLPClassifier(
            DropoutMLPClassifier(max_iter=30), **kw
        ),
        grid_space=None,
        seed=0,
    ),
    # scikit-learn's own MLP (the architecture as hidden_layer_sizes, no
    # portfolio), 12 candidates, a grid of 8 with a range cut in 2, an
    # ensemble of 3 rounds, a second warm-started fit of 4 more candidates
    # for random and bayes.
    Problem(
        name="binary",
        data=_binary,
        make_tuner=lambda **kw: TunedMLPClassifier(MLPClassifier(max_iter=40), **kw),
        grid_space={
            "learning_rate_init": [1e-3, 1e-2],
            "hidden_layer_sizes": [(16,), (32, 16)],
            "alpha": (1e-5, 1e-2, "log-uniform"),
        },
        ensemble_size=3,
        warm_start=("random", "bayes"),
        seed=1,
        n_iter=12,
        extra={"n_grid_points": 2},
    ),
    # The regressor's default network (standardised target), default space
    # and portfolio, 16 candidates, a grid of 8, an ensemble of 3 rounds.
    Problem(
        name="diabetes",
        data=_diabetes,
        make_tuner=lambda **kw: TunedMLPRegressor(
            DropoutMLPRegressor(max_iter=30, normalize_y=True), **kw
        ),
        grid_space={
            "learning_rate_init": [1e-3, 1e-2],
            "n_neurons": [16, 64],
            "dropout": [0.0, 0.2],
        },
        ensemble_size=3,
        seed=2,
    ),
)

N_ITER_WARM = 4  # candidates of the warm-started second fit
CV = 3
N_JOBS = 2


def case_names():
    return [f"{p.name}-{s}" for p in PROBLEMS for s in STRATEGIES]


# ---------------------------------------------------------------------------
# Recording


def _plain(value):
    """Return ``value`` as nested dicts, lists, tuples, arrays and scalars.

    A masked array becomes ``("masked", dtype, mask, unmasked values)``: the
    data under its mask is uninitialised memory, different from run to run.
    """
    if isinstance(value, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(value).copy()
        return ("masked", value.dtype.str, mask, np.asarray(value.compressed()))
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    return value


def _network(model):
    """Record what a refitted network learned, and its parameters."""
    record = {"class": type(model).__name__}
    params = model.get_params(deep=True)
    record["params"] = {k: repr(params[k]) for k in sorted(params)}
    for name in NETWORK_ATTRIBUTES:
        if hasattr(model, name):
            record[name] = _plain(getattr(model, name))
    return record


def _fitted_state(tuner, X, y):
    """Record the deterministic content of a fitted tuner."""
    results = tuner.cv_results_
    record = {
        "cv_results_key_order": [k for k in results if k not in TIMING_KEYS],
        "cv_results_": {
            k: _plain(v) for k, v in results.items() if k not in TIMING_KEYS
        },
    }
    for name in (
        "best_index_",
        "best_params_",
        "best_score_",
        "n_splits_",
        "multimetric_",
        "n_max_iter_reached_",
        "stop_reason_",
        "classes_",
        "n_features_in_",
        "ensemble_indices_",
        "ensemble_weights_",
        "ensemble_score_",
        "ensemble_single_score_",
    ):
        if hasattr(tuner, name):
            record[name] = _plain(getattr(tuner, name))
    record["best_estimator_"] = _network(tuner.best_estimator_)
    members = getattr(tuner, "ensemble_estimators_", None)
    if members is not None:
        record["ensemble_members"] = [_network(m) for m in members]
        record["ensemble_member_is_best"] = [
            m is tuner.best_estimator_ for m in members
        ]
    search = {}
    for name in SEARCH_ATTRIBUTES:
        if hasattr(tuner.search_, name):
            search[name] = _plain(getattr(tuner.search_, name))
    for name in UNORDERED_SEARCH_ATTRIBUTES:
        if hasattr(tuner.search_, name):
            values = getattr(tuner.search_, name)
            search[f"{name} sorted"] = sorted(
                values, key=lambda v: (v is None, -1 if v is None else v)
            )
    record["search_"] = {"class": type(tuner.search_).__name__, **search}
    with warnings.catch_warnings():
        # log(0) of a probability that underflowed: -inf, recorded as such.
        warnings.simplefilter("ignore", RuntimeWarning)
        record["predict"] = tuner.predict(X)
        for method in ("predict_proba", "predict_log_proba"):
            if hasattr(tuner, method):
                record[method] = getattr(tuner, method)(X)
        record["score"] = tuner.score(X, y)
    return record


def _fit(tuner, X, y):
    """Fit, recording the warnings raised in this process."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.fit(X, y)
    return [(w.category.__name__, str(w.message)) for w in caught]


def run_case(problem, strategy):
    """Fit one case; return its record (the deterministic content)."""
    X, y = problem.data()
    kwargs = {
        "search": strategy,
        "n_iter": problem.n_iter,
        "cv": CV,
        "n_jobs": N_JOBS,
        "random_state": problem.seed,
        "ensemble_size": problem.ensemble_size,
        **problem.extra,
    }
    if strategy == "grid" and problem.grid_space is not None:
        kwargs["param_space"] = problem.grid_space
    warm = strategy in problem.warm_start
    if warm:
        kwargs["warm_start"] = True
    tuner = problem.make_tuner(**kwargs)
    record = {"settings": repr(tuner), "n_rows": len(y)}
    caught = {"warnings": _fit(tuner, X, y)}
    record["fit"] = _fitted_state(tuner, X, y)
    if warm:
        # Continue the search: earlier candidates kept, new ones evaluated.
        tuner.set_params(n_iter=N_ITER_WARM)
        caught["warm_warnings"] = _fit(tuner, X, y)
        record["warm_fit"] = _fitted_state(tuner, X, y)
    # After the results: a comparison names the first difference it meets.
    return {**record, **caught}


def summary(problem, record):
    """Return the case's candidates, best index and score, and what else it ran.

    Of the last fit: the warm-started one, where there is one.
    """
    state = record.get("warm_fit", record["fit"])
    notes = []
    if problem.ensemble_size != "auto":
        members = len(state["ensemble_indices_"])
        notes.append(f"ensemble_size={problem.ensemble_size}: {members} member(s)")
    if "warm_fit" in record:
        n_first = len(record["fit"]["cv_results_"]["params"])
        notes.append(f"warm start after {n_first}")
    return (
        len(state["cv_results_"]["params"]),
        state["best_index_"],
        float(state["best_score_"]),
        ", ".join(notes),
    )


# ---------------------------------------------------------------------------
# Hashing and comparison


def _feed(digest, value):
    """Feed a canonical byte form of ``value`` to ``digest``.

    Consistent with :func:`first_difference`: dicts are hashed in sorted key
    order, NaNs are one NaN and -0.0 is 0.0.
    """

    def put(*parts):
        for part in parts:
            digest.update(part if isinstance(part, bytes) else str(part).encode())
            digest.update(b"\x00")

    if isinstance(value, dict):
        put("dict", len(value))
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
    elif isinstance(value, list | tuple):
        put(type(value).__name__, len(value))
        for item in value:
            _feed(digest, item)
    elif isinstance(value, np.ndarray):
        put("ndarray", value.dtype.str, value.shape)
        if value.dtype.kind == "O":
            for item in value.ravel():
                _feed(digest, item)
        else:
            if value.dtype.kind in "fc":
                value = np.where(np.isnan(value), np.nan, value + 0)
            put(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, float | np.floating):
        number = float(value)
        put(type(value).__name__, "nan" if number != number else (number + 0).hex())
    else:
        put(type(value).__name__, repr(value))


def content_hash(record):
    digest = hashlib.sha256()
    _feed(digest, record)
    return digest.hexdigest()


def _describe_array_difference(a, b):
    """Say how two arrays of the same shape and dtype differ."""
    if a.dtype.kind in "biufc":
        nan_a, nan_b = np.isnan(a), np.isnan(b)
        if a.dtype.kind in "fc" and not np.array_equal(nan_a, nan_b):
            where = np.argwhere(nan_a != nan_b)[0]
            return f"NaN positions differ (first at index {tuple(where.tolist())})"
        with np.errstate(invalid="ignore", over="ignore"):
            unequal = (a != b) & ~(nan_a & nan_b)
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64))[unequal]
        first = tuple(np.argwhere(unequal)[0].tolist())
        return (
            f"{int(unequal.sum())} of {a.size} values differ, max abs difference "
            f"{diff.max():.3g}, first at index {first}: {a[first]!r} vs {b[first]!r}"
        )
    unequal = a != b
    first = tuple(np.argwhere(unequal)[0].tolist())
    return (
        f"{int(unequal.sum())} of {a.size} values differ, first at index "
        f"{first}: {a[first]!r} vs {b[first]!r}"
    )


def differences(expected, actual, path="record"):
    """Yield ``(path, description)`` of every difference, in record order.

    An array that differs is one difference, however many values differ.
    """
    if type(expected) is not type(actual):
        yield (
            path,
            (
                f"type {type(expected).__name__} vs {type(actual).__name__}: "
                f"{_short(expected)} vs {_short(actual)}"
            ),
        )
        return
    if isinstance(expected, dict):
        for key in expected:
            if key not in actual:
                yield f"{path}[{key!r}]", "missing now"
            else:
                yield from differences(expected[key], actual[key], f"{path}[{key!r}]")
        for key in actual:
            if key not in expected:
                yield f"{path}[{key!r}]", "new key, not in the baseline"
        return
    if isinstance(expected, list | tuple):
        if len(expected) != len(actual):
            yield path, f"length {len(expected)} vs {len(actual)}"
        # The common part too: where a list grew or shrank.
        for i, (a, b) in enumerate(zip(expected, actual, strict=False)):
            yield from differences(a, b, f"{path}[{i}]")
        return
    if isinstance(expected, np.ndarray):
        if expected.dtype != actual.dtype:
            yield path, f"dtype {expected.dtype} vs {actual.dtype}"
        elif expected.shape != actual.shape:
            yield path, f"shape {expected.shape} vs {actual.shape}"
        elif expected.dtype.kind == "O":
            unequal = [
                (i, found)
                for i, (a, b) in enumerate(
                    zip(expected.ravel(), actual.ravel(), strict=True)
                )
                for found in [first_difference(a, b, f"{path}.flat[{i}]")]
                if found
            ]
            if unequal:
                _, (where, what) = unequal[0]
                yield (
                    path,
                    (
                        f"{len(unequal)} of {expected.size} values differ, "
                        f"first at {where[len(path) :]}: {what}"
                    ),
                )
        elif not np.array_equal(
            expected, actual, equal_nan=expected.dtype.kind in "fc"
        ):
            yield path, _describe_array_difference(expected, actual)
        return
    if isinstance(expected, float | np.floating):
        if expected == actual or (expected != expected and actual != actual):
            return
        yield (
            path,
            (
                f"{expected!r} vs {actual!r} (abs difference "
                f"{abs(float(expected) - float(actual)):.3g})"
            ),
        )
        return
    if isinstance(expected, str):
        if expected != actual:
            yield path, _describe_text_difference(expected, actual)
        return
    try:
        equal = bool(expected == actual)
    except Exception:  # something without a plain ==: compare its repr
        equal = repr(expected) == repr(actual)
    if not equal:
        yield path, f"{_short(expected)} vs {_short(actual)}"


def first_difference(expected, actual, path="record"):
    """Return ``(path, description)`` of the first difference, or None."""
    return next(differences(expected, actual, path), None)


def _describe_text_difference(expected, actual, context=40):
    """Show two strings around the first character where they differ."""
    at = next(
        (i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b),
        min(len(expected), len(actual)),
    )
    start = max(at - context, 0)
    return (
        f"text differs at character {at}: "
        f"{expected[start : at + context]!r} vs {actual[start : at + context]!r}"
    )


def _short(value, width=160):
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


# ---------------------------------------------------------------------------
# Command line


# The paths of further differences a comparison names, after the first.
MORE_PATHS = 5


def environment():
    """Return what else than the code decides the numbers."""
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "commit": commit,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "skopt": skopt.__version__,
        "optuna": optuna.__version__,
        "machine": f"{platform.machine()} {platform.node()}",
    }


def selected_cases(patterns):
    """Return (problem, strategy, name) for the cases ``--only`` picks."""
    cases = []
    for problem in PROBLEMS:
        for strategy in STRATEGIES:
            name = f"{problem.name}-{strategy}"
            if not patterns or any(
                fnmatch.fnmatch(name, p) or p in name for p in patterns
            ):
                cases.append((problem, strategy, name))
    return cases


def run_cases(cases):
    """Run the cases one by one; yield (problem, name, record, seconds)."""
    for problem, strategy, name in cases:
        start = time.perf_counter()
        record = run_case(problem, strategy)
        yield problem, name, record, time.perf_counter() - start


def save(directory, cases):
    directory.mkdir(parents=True, exist_ok=True)
    env = environment()
    print(f"Saving to {directory}; {_env_line(env)}")
    header = (
        f"{'case':<18} {'n_candidates':>12} {'best_index_':>11} "
        f"{'best_score_':>19} {'sha256':>12} {'seconds':>7}  notes"
    )
    print(header)
    print("-" * (len(header) + 20))
    for problem, name, record, seconds in run_cases(cases):
        n_candidates, best_index, best_score, notes = summary(problem, record)
        digest = content_hash(record)
        with (directory / f"{name}.pkl").open("wb") as file:
            pickle.dump(
                {"name": name, "environment": env, "sha256": digest, "record": record},
                file,
                protocol=pickle.HIGHEST_PROTOCOL,
            )
        print(
            f"{name:<18} {n_candidates:>12} {best_index:>11} "
            f"{best_score!r:>19} {digest[:12]:>12} {seconds:>7.1f}  {notes}",
            flush=True,
        )
    return 0


def compare(directory, cases):
    env = environment()
    if not directory.is_dir():
        print(f"No baseline directory {directory}", file=sys.stderr)
        return 2
    names = {name for _, _, name in cases}
    stored = {path.stem for path in directory.glob("*.pkl")}
    print(f"Comparing with {directory}; now: {_env_line(env)}")
    n_bad = 0
    said_environment = False
    for name in sorted(stored - set(case_names())):
        print(f"{name:<18} UNKNOWN  in the baseline, not a case of this script")
    for _, name, record, seconds in run_cases([c for c in cases if c[2] in stored]):
        with (directory / f"{name}.pkl").open("rb") as file:
            baseline = pickle.load(file)
        if not said_environment:
            said_environment = True
            old = baseline["environment"]
            changed = [
                k
                for k in ("python", "numpy", "sklearn", "skopt", "optuna", "machine")
                if old.get(k) != env.get(k)
            ]
            print(f"baseline: {_env_line(old)}")
            if changed:
                print(
                    "WARNING: the baseline ran with another "
                    f"{', '.join(changed)}; differences may come from that."
                )
        digest = content_hash(record)
        found = first_difference(baseline["record"], record)
        if found is None:
            status = "IDENTICAL"
            if digest != baseline["sha256"]:  # cannot happen unless _feed changed
                status = "IDENTICAL (but the sha256 differs: hashing changed?)"
            print(f"{name:<18} {status}  sha256 {digest[:12]}  {seconds:.1f}s")
            continue
        n_bad += 1
        paths = [p for p, _ in differences(baseline["record"], record)]
        path, what = found
        print(
            f"{name:<18} DIFFERENT  {len(paths)} difference(s), sha256 "
            f"{baseline['sha256'][:12]} -> {digest[:12]}\n"
            f"{'':<18} first at {path}: {what}",
            flush=True,
        )
        if len(paths) > 1:
            shown = ", ".join(paths[1 : 1 + MORE_PATHS])
            more = (
                f" and {len(paths) - 1 - MORE_PATHS} more"
                if len(paths) > 1 + MORE_PATHS
                else ""
            )
            print(f"{'':<18} also at {shown}{more}", flush=True)
    for name in sorted(names - stored):
        n_bad += 1
        print(f"{name:<18} MISSING  no {name}.pkl in the baseline")
    n_cases = len(names)
    print(
        f"{n_cases - n_bad} of {n_cases} cases identical"
        if n_bad
        else f"All {n_cases} cases IDENTICAL"
    )
    return 1 if n_bad else 0


def _env_line(env):
    return (
        f"commit {env['commit']}, python {env['python']}, numpy {env['numpy']}, "
        f"scikit-learn {env['sklearn']}, scikit-optimize {env['skopt']}, "
        f"optuna {env['optuna']}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Cases: " + ", ".join(case_names()),
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--save", type=Path, metavar="DIR", help="record a baseline")
    action.add_argument(
        "--compare", type=Path, metavar="DIR", help="refit and compare with DIR"
    )
    action.add_argument("--list", action="store_true", help="list the cases")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="PATTERN",
        default=(),
        help="cases whose name contains PATTERN or matches it as a glob",
    )
    args = parser.parse_args(argv)
    cases = selected_cases(args.only)
    if args.list:
        print("\n".join(name for _, _, name in cases))
        return 0
    if not cases:
        parser.error(f"no case matches {args.only}")
    start = time.perf_counter()
    if args.save is not None:
        status = save(args.save, cases)
    else:
        status = compare(args.compare, cases)
    print(f"{time.perf_counter() - start:.0f} s in all")
    return status


if __name__ == "__main__":
    sys.exit(main())
