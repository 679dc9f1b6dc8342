"""The one place that imports private scikit-learn names.

scikit-learn does not promise that these stay where they are; keeping every
such import here means a scikit-learn upgrade that moves one breaks this
module, with a clear traceback, and nothing else. The one private joblib
attribute the package reads (its loky backend's executor) is here too.

The MLP internals that dropout relies on are optional: when they are missing
or have changed shape, ``MLP_INTERNALS`` is None and only ``dropout > 0``
refuses to run; everything else keeps working. The optional dependencies
(the extras) are imported here too, through ``import_optional``, so that a
missing one always says which extra brings it.
"""

import contextlib
import importlib
import inspect
import time
from collections import defaultdict
from types import SimpleNamespace

import joblib
from joblib._parallel_backends import LokyBackend
from sklearn.base import _fit_context, clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.model_selection._search_successive_halving import BaseSuccessiveHalving
from sklearn.model_selection._validation import (
    _fit_and_score,
    _insert_error_scores,
    _warn_or_raise_about_fit_failures,
)
from sklearn.utils import indexable
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils._repr_html.estimator import _VisualBlock as VisualBlock
from sklearn.utils.metadata_routing import _routing_enabled
from sklearn.utils.validation import _check_method_params, _num_samples

__all__ = [
    "DROPOUT_TESTED_SKLEARN",
    "MLP_INTERNALS",
    "BaseSearchCV",
    "HasMethods",
    "Interval",
    "StrOptions",
    "VisualBlock",
    "_fit_context",
    "_routing_enabled",
    "fit_and_score",
    "fit_search",
    "import_optional",
    "scorer_accepts_sample_weight",
    "search_scorers",
    "validate_parameter_constraints",
]


def fit_and_score(estimator, X, y, **options):
    """Fit ``estimator`` on one split and score it, as scikit-learn's searches do.

    Returns the dict of scikit-learn's ``_fit_and_score``, with the times
    and the fitted estimator; ``options`` are its keyword arguments.
    """
    options = {"verbose": 0, "return_times": True, **options}
    return _fit_and_score(estimator, X, y, return_estimator=True, **options)


def fit_search(search, X, y, params, run_candidates, on_checked=None):
    """Fit ``search``, a scikit-learn search object, with our own fold fits.

    This is ``BaseSearchCV.fit`` of scikit-learn 1.9, step for step (scorers,
    routing, the splitter's checks, ``_run_search``, the choice of the best
    candidate, the refit), but for who runs the fold fits: scikit-learn
    hands each call of ``evaluate_candidates`` to one ``joblib.Parallel``
    call, which returns all of its fits or none. ``run_candidates`` returns
    the candidates that finished, as they finish, and may stop the search
    (:class:`~sk_mlp_tune._monitor.SearchStopped`): what finished is kept
    and the best of it refitted.

    Parameters
    ----------
    search : BaseSearchCV
        The unfitted search; its ``_run_search`` decides the candidates.
    X, y : array-like
        The data.
    params : dict
        The ``fit`` parameters, routed as ``BaseSearchCV.fit`` routes them.
    run_candidates : callable
        ``run_candidates(estimator, X, y, candidate_params, splits, options,
        score_name)`` returns ``{candidate index: [_fit_and_score dict per
        split]}`` for the candidates whose folds all finished; ``options``
        are the keyword arguments of ``_fit_and_score``.
    on_checked : callable, default=None
        Called with ``search`` once its inputs are checked, before any fit:
        successive halving knows its rungs' resources then.

    Returns
    -------
    stop : SearchStopped, Interrupted or None
        Why the search stopped early, if it did. With nothing finished, the
        search is left unfitted.
    """
    from ._monitor import Interrupted, SearchStopped

    if isinstance(search, BaseSuccessiveHalving):
        search._n_samples_orig = _num_samples(X)
    scorers, refit_metric = search._get_scorers()
    X, y = indexable(X, y)
    params = _check_method_params(X, params=params)
    routed_params = search._get_routed_params_for_fit(params)
    search._checked_cv_orig = check_cv(
        search.cv, y, classifier=is_classifier(search.estimator)
    )
    search._check_input_parameters(X=X, y=y, split_params=routed_params.splitter.split)
    search.n_splits_ = search._checked_cv_orig.get_n_splits(
        X, y, **routed_params.splitter.split
    )
    if on_checked is not None:
        on_checked(search)
    base_estimator = clone(search.estimator)
    options = {
        "scorer": scorers,
        "fit_params": routed_params.estimator.fit,
        "score_params": routed_params.scorer.score,
        "return_train_score": search.return_train_score,
        "return_n_test_samples": True,
        "error_score": search.error_score,
        "verbose": search.verbose,
    }
    score_name = refit_metric if isinstance(refit_metric, str) else None
    all_candidate_params, all_out = [], []
    all_more_results = defaultdict(list)
    results = {}

    def evaluate_candidates(candidate_params, cv=None, more_results=None, **context):
        # ``context`` is scikit-learn >= 1.9's callback context: the tuner
        # takes no callbacks.
        cv = cv or search._checked_cv_orig
        candidate_params = list(candidate_params)
        splits = list(cv.split(X, y, **routed_params.splitter.split))
        if len(splits) != search.n_splits_:
            raise ValueError(
                "cv.split and cv.get_n_splits return inconsistent results. "
                f"Expected {search.n_splits_} splits, got {len(splits)}"
            )

        def record(finished):
            nonlocal results
            kept = sorted(finished)
            out = [fold for index in kept for fold in finished[index]]
            if callable(search.scoring):
                _insert_error_scores(out, search.error_score)
            all_candidate_params.extend(candidate_params[i] for i in kept)
            all_out.extend(out)
            for key, values in (more_results or {}).items():
                all_more_results[key].extend(values[i] for i in kept)
            if all_out:
                results = search._format_results(
                    all_candidate_params, search.n_splits_, all_out, all_more_results
                )
            return len(kept)

        try:
            finished = run_candidates(
                base_estimator, X, y, candidate_params, splits, options, score_name
            )
        except Exception as error:
            # A worker died, say: what finished goes with the error.
            if getattr(error, "finished_folds", None) is not None:
                record(error.finished_folds)
                error.finished_results_ = results or None
            raise
        if record(finished) < len(candidate_params):
            raise SearchStopped
        return results

    context = {}
    # scikit-learn >= 1.9 hands its _run_search a callback context; our
    # subclasses that wrap it take ``**context`` and pass it on.
    parameters = inspect.signature(search._run_search).parameters
    if hasattr(search, "_init_callback_context") and (
        "callback_ctx" in parameters
        or any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    ):
        context["callback_ctx"] = search._init_callback_context(
            max_subtasks=1 + (search.refit is not False)
        )
    stop = None
    try:
        search._run_search(evaluate_candidates, **context)
    except SearchStopped as stopped:
        stop = stopped
    except Interrupted as interrupted:
        # Ctrl-C between two calls of evaluate_candidates; a second aborts.
        if interrupted.presses > 1:
            raise
        stop = interrupted
    if not all_out:
        if stop is None:
            raise ValueError(
                "No fits were performed. Was the CV iterator empty? Were there "
                "no candidates?"
            )
        return stop
    # One warning, or one error if every fit failed, for the whole search.
    _warn_or_raise_about_fit_failures(all_out, search.error_score)
    first_test_score = all_out[0]["test_scores"]
    search.multimetric_ = isinstance(first_test_score, dict)
    if callable(search.scoring) and search.multimetric_:
        search._check_refit_for_multimetric(first_test_score)
        refit_metric = search.refit

    if search.refit or not search.multimetric_:
        search.best_index_ = search._select_best_index(
            search.refit, refit_metric, results
        )
        if not callable(search.refit):
            search.best_score_ = results[f"mean_test_{refit_metric}"][
                search.best_index_
            ]
        search.best_params_ = results["params"][search.best_index_]
    if search.refit:
        search.best_estimator_ = clone(base_estimator).set_params(
            **clone(search.best_params_, safe=False)
        )
        refit_start = time.time()
        if y is not None:
            search.best_estimator_.fit(X, y, **routed_params.estimator.fit)
        else:
            search.best_estimator_.fit(X, **routed_params.estimator.fit)
        search.refit_time_ = time.time() - refit_start
        if hasattr(search.best_estimator_, "feature_names_in_"):
            search.feature_names_in_ = search.best_estimator_.feature_names_in_
    search.scorer_ = getattr(scorers, "_scorers", scorers)
    search.cv_results_ = results
    if isinstance(search, BaseSuccessiveHalving):
        # As HalvingRandomSearchCV.fit: BaseSearchCV does not set it.
        search.best_score_ = results["mean_test_score"][search.best_index_]
    return stop


def search_scorers(estimator, scoring, refit, error_score):
    """Return the scorer and the metric to rank by, as ``BaseSearchCV`` makes them.

    One metric (a name, a callable or None) gives a scorer and ``"score"``;
    several (a list, tuple or dict) give scikit-learn's multi-metric scorer
    and ``refit``, which must then name one of them (or be False or a
    callable, which ranks by no metric of its own: None is returned).
    """
    from sklearn.metrics import check_scoring
    from sklearn.metrics._scorer import _check_multimetric_scoring, _MultimetricScorer

    if callable(scoring) or scoring is None or isinstance(scoring, str):
        return check_scoring(estimator, scoring), "score"
    scorers = _check_multimetric_scoring(estimator, scoring)
    if refit is not False and not callable(refit) and refit not in scorers:
        raise ValueError(
            f"With several metrics in scoring ({sorted(scorers)}), refit must name "
            f"the one that picks the best candidate, or be False or a callable; "
            f"got refit={refit!r}."
        )
    multimetric = _MultimetricScorer(scorers=scorers, raise_exc=error_score == "raise")
    return multimetric, refit if isinstance(refit, str) else None


def scorer_accepts_sample_weight(scorer):
    """Tell whether ``scorer`` takes ``sample_weight``, as ``BaseSearchCV`` asks."""
    if hasattr(scorer, "_accept_sample_weight"):
        return scorer._accept_sample_weight()
    return "sample_weight" in inspect.signature(scorer).parameters


@contextlib.contextmanager
def joblib_loky_executor(n_workers):
    """Yield the loky executor ``joblib.Parallel(n_workers)`` would use.

    joblib reuses its worker processes only for a caller that asks with the
    very arguments it used last (thread limits, memmapping options, start
    context), which it derives from ``parallel_config``. Asking through
    ``Parallel`` itself keeps them equal, so that a search and the
    scikit-learn work around it (``cross_val_score(n_jobs=...)``) share the
    workers instead of restarting them, about a second each time. The
    executor is a private attribute of joblib's backend; on leaving,
    ``Parallel`` releases the temporary memmaps of the block.
    """
    # The loky backend parallel_config set up, inner_max_num_threads and
    # all; loky anyway, as the engine needs processes (or dask's executor).
    active, _ = joblib.parallel.get_active_backend()
    backend = None if isinstance(active, LokyBackend) else "loky"
    with joblib.Parallel(n_jobs=n_workers, backend=backend) as parallel:
        executor = getattr(parallel._backend, "_workers", None)
        if executor is None:
            raise RuntimeError(
                f"joblib's loky backend started no workers for n_jobs={n_workers}; "
                "this joblib version keeps them elsewhere. Please report it, with "
                f"joblib {joblib.__version__}; n_jobs=1 runs without them."
            )
        yield executor


def import_optional(module, *, extra, needed_by):
    """Import ``module`` from an optional dependency, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = module.split(".")[0]
        raise ImportError(
            f"{needed_by} needs {package} (the '{extra}' extra): pip install "
            f"{package}, or pip install -e '.[{extra}]' in a clone."
        ) from error


# The scikit-learn versions whose MLP training pass the dropout subclass was
# written against and checked with finite-difference gradients.
DROPOUT_TESTED_SKLEARN = "1.7 to 1.9"

_TRAINING_PASS = [
    "self",
    "X",
    "y",
    "sample_weight",
    "activations",
    "deltas",
    "coef_grads",
    "intercept_grads",
]
# The parent's methods the dropout subclass overrides or calls, as they are in
# the tested versions.
_EXPECTED_SIGNATURES = {
    "_backprop": _TRAINING_PASS,
    "_fit_stochastic": [*_TRAINING_PASS, "layer_units", "incremental"],
    "_update_no_improvement_count": [
        "self",
        "early_stopping",
        "X",
        "y",
        "sample_weight",
    ],
}


def _load_mlp_internals():
    try:
        from sklearn.neural_network._base import (
            ACTIVATIONS,
            DERIVATIVES,
            LOSS_FUNCTIONS,
        )
        from sklearn.neural_network._multilayer_perceptron import (
            BaseMultilayerPerceptron,
        )
        from sklearn.neural_network._stochastic_optimizers import (
            AdamOptimizer,
            SGDOptimizer,
        )
    except ImportError:
        return None
    for name, expected in _EXPECTED_SIGNATURES.items():
        method = getattr(BaseMultilayerPerceptron, name, None)
        if method is None or list(inspect.signature(method).parameters) != expected:
            return None
    return SimpleNamespace(
        activations=ACTIVATIONS,
        derivatives=DERIVATIVES,
        loss_functions=LOSS_FUNCTIONS,
        AdamOptimizer=AdamOptimizer,
        SGDOptimizer=SGDOptimizer,
    )


MLP_INTERNALS = _load_mlp_internals()
