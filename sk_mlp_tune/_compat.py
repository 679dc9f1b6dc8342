"""The one place that reads other libraries' private names: shims and nothing else.

scikit-learn, joblib/loky, scikit-optimize and MLflow do not promise that
their private names stay where they are. Every one the package reads is
read here, behind a function or a name of this module, so that an upgrade
that moves one breaks this module, with a clear traceback, and nothing
else. It imports nothing of the package, as imbalanced-learn's
``utils/_sklearn_compat.py`` does.

What is only known to work on some versions is probed, not assumed:

- ``MLP_INTERNALS``: the MLP training pass that dropout relies on. When it
  is missing or has changed shape it is None, and only ``dropout > 0``
  refuses to run.
- ``SEARCH_INTERNALS``: the parts of ``BaseSearchCV`` that the engine's copy
  of its ``fit`` calls (``_searchbase._EngineSearchMixin.fit``). When they have changed
  shape it is None, and a search refuses to fit, naming the versions it
  was written for.
- ``CALLBACKS``: scikit-learn's callback API (``sklearn.callback``,
  experimental, from 1.9 on). Without it ``CallbackSupportMixin`` is an
  empty stand-in (no ``set_callbacks``) and no callback context is made.

The optional dependencies (the extras) are imported through
``import_optional``, so that a missing one always says which extra brings it.
"""

import contextlib
import importlib
import inspect
from types import SimpleNamespace

import joblib
from joblib._parallel_backends import LokyBackend

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - scikit-learn 1.7 and 1.8

    class CallbackSupportMixin:
        """Stand-in where scikit-learn has no callbacks: no ``set_callbacks``."""


from sklearn.base import _fit_context
from sklearn.model_selection._search import BaseSearchCV
from sklearn.model_selection._search_successive_halving import BaseSuccessiveHalving
from sklearn.model_selection._validation import (
    _fit_and_score,
    _insert_error_scores,
    _warn_or_raise_about_fit_failures,
)
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils._repr_html.estimator import _VisualBlock as VisualBlock
from sklearn.utils.metadata_routing import _routing_enabled
from sklearn.utils.validation import _check_method_params, _num_samples

check_method_params = _check_method_params
insert_error_scores = _insert_error_scores
num_samples = _num_samples
safe_indexing = _safe_indexing  # rows of an array, a DataFrame or a list
warn_or_raise_about_fit_failures = _warn_or_raise_about_fit_failures

# Where the estimators and searches can take scikit-learn's callbacks.
CALLBACKS = hasattr(CallbackSupportMixin, "set_callbacks")

__all__ = [
    "CALLBACKS",
    "DROPOUT_TESTED_SKLEARN",
    "MLP_INTERNALS",
    "SEARCH_FIT_TESTED_SKLEARN",
    "SEARCH_INTERNALS",
    "BaseSearchCV",
    "BaseSuccessiveHalving",
    "CallbackSupportMixin",
    "HasMethods",
    "Interval",
    "StrOptions",
    "VisualBlock",
    "_fit_context",
    "_routing_enabled",
    "callback_context",
    "check_method_params",
    "fit_and_score",
    "has_callbacks",
    "import_optional",
    "insert_error_scores",
    "joblib_loky_executor",
    "loky_worker_processes",
    "mlflow_dataset_input",
    "mlflow_is_patched",
    "mlflow_log_estimator_content",
    "mlflow_metrics_manager",
    "mlflow_patch_method",
    "mlflow_training_session_active",
    "named_scorers",
    "num_samples",
    "run_search_context",
    "safe_indexing",
    "score_function",
    "search_scorers",
    "skopt_optimizer_results",
    "validate_parameter_constraints",
    "warn_or_raise_about_fit_failures",
]


def fit_and_score(estimator, X, y, callback_ctx=None, caller=None, **options):
    """Fit ``estimator`` on one split and score it, as scikit-learn's searches do.

    Returns the dict of scikit-learn's ``_fit_and_score``, with the times
    and the fitted estimator; ``options`` are its keyword arguments.
    ``callback_ctx`` is the fit's task in the callbacks' tree, and
    ``caller`` the estimator its hooks are called with (scikit-learn >= 1.9).
    """
    options = {"verbose": 0, "return_times": True, **options}
    if callback_ctx is not None:
        options.update(callback_ctx=callback_ctx, caller=caller)
    return _fit_and_score(estimator, X, y, return_estimator=True, **options)


def callback_context(estimator, max_subtasks):
    """Return the root task of ``estimator``'s fit in the callbacks' tree.

    The callbacks set on ``estimator`` are set up; None where scikit-learn
    has no callbacks. ``_init_callback_context`` is the documented private
    method every estimator that supports callbacks calls once per fit.
    """
    if not CALLBACKS:
        return None
    return estimator._init_callback_context(max_subtasks=max_subtasks)


def has_callbacks(estimator):
    """Tell whether ``estimator`` has callbacks, set or propagated to it."""
    return bool(getattr(estimator, "_skl_callbacks", None))


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
        # The memmaps of our tasks go to this block's temporary folder, which
        # leaving it releases. Parallel points the executor there only as it
        # pickles its own batches: a reused executor still pointed at an
        # earlier block's folder, already released, and its memmaps stayed
        # (in /dev/shm) until the interpreter's exit, which warned of them.
        folders = getattr(executor, "_temp_folder_manager", None)
        if folders is not None:
            folders.set_current_context(parallel._id)
        yield executor


def run_search_context(search, root):
    """Return the keyword arguments that hand ``root`` to ``search._run_search``.

    scikit-learn >= 1.9's searches take their fit's callback context there
    (and need one); scikit-optimize's take none.
    """
    if root is None:
        return {}
    parameters = inspect.signature(search._run_search).parameters
    if "callback_ctx" in parameters or any(
        p.kind is p.VAR_KEYWORD for p in parameters.values()
    ):
        return {"callback_ctx": root}
    return {}


def loky_worker_processes(executor):
    """Return the worker processes of a loky executor, to kill them at once."""
    return list(getattr(executor, "_processes", {}).values())


def score_function(scorer):
    """Return the metric function behind a scikit-learn scorer, or None."""
    return getattr(scorer, "_score_func", None)


def named_scorers(scorer):
    """Return the ``{name: scorer}`` of a multi-metric scorer, else ``scorer`` itself.

    What ``GridSearchCV.scorer_`` holds for several metrics.
    """
    return getattr(scorer, "_scorers", scorer)


def skopt_optimizer_results(search):
    """Return the list of a ``BayesSearchCV``'s finished optimizers' results.

    scikit-optimize keeps them in ``_optim_results``; its ``fit`` turns
    them into ``optimizer_results_``.
    """
    return search._optim_results


def mlflow_training_session_active(autologging_utils):
    """Tell whether an MLflow-autologged fit (a pipeline's, say) is running."""
    return getattr(autologging_utils, "_has_active_training_session", lambda: False)()


# --- MLflow's scikit-learn autologging, for classes it does not patch -------
#
# mlflow.sklearn.autolog() patches scikit-learn's own classes only. What it
# logs after a search's fit, and how it logs a metric computed later with
# the fitted model (score, predict, then a sklearn.metrics function), are
# private helpers of mlflow.sklearn: the tuner reaches them through these
# functions (written against MLflow 3.17). MLflow's global
# ``_AUTOLOGGING_METRICS_MANAGER`` tracks which run each model and each
# prediction belongs to.

_MLFLOW_FLAVOR = "sklearn"


def mlflow_metrics_manager():
    """Return MLflow's tracker of post-training metrics (models, runs, predictions)."""
    from mlflow.sklearn import _AUTOLOGGING_METRICS_MANAGER

    return _AUTOLOGGING_METRICS_MANAGER


def mlflow_log_estimator_content(
    client, estimator, run_id, X, y, *, pos_label=None, model_id=None, dataset=None
):
    """Log what autolog logs for a fitted scikit-learn model, and return the metrics.

    MLflow's ``mlflow.sklearn.utils._log_estimator_content``: the
    ``training_*`` metrics of a classifier or a regressor and
    ``training_score``, a classifier's confusion matrix (and, with two
    classes, its ROC and precision-recall curves), and ``estimator.html``.
    ``client`` is an ``MlflowAutologgingQueueingClient``; the caller flushes it.
    """
    from mlflow.sklearn.utils import _TRAINING_PREFIX, _log_estimator_content

    return _log_estimator_content(
        autologging_client=client,
        estimator=estimator,
        run_id=run_id,
        prefix=_TRAINING_PREFIX,
        X=X,
        y_true=y,
        pos_label=pos_label,
        model_id=model_id,
        dataset=dataset,
    )


def mlflow_dataset_input(dataset, context):
    """Return an MLflow ``Dataset`` as the ``DatasetInput`` a client logs."""
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.tracking.fluent import MLFLOW_DATASET_CONTEXT

    return DatasetInput(
        dataset._to_mlflow_entity(),
        tags=[InputTag(key=MLFLOW_DATASET_CONTEXT, value=context)],
    )


def mlflow_is_patched(cls, name):
    """Tell whether the current autolog session has patched ``cls.name``."""
    from mlflow.utils.autologging_utils.safety import _AUTOLOGGING_PATCHES

    patches = _AUTOLOGGING_PATCHES.get(_MLFLOW_FLAVOR, ())
    return any(p.destination is cls and p.name == name for p in patches)


def mlflow_patch_method(cls, name, patched):
    """Patch ``cls.name`` with ``patched(original, self, ...)`` as autolog patches.

    MLflow's own ``_patch_estimator_method_if_available``, under the
    scikit-learn flavor, so that ``mlflow.sklearn.autolog(disable=True)``
    reverts it, and a failure inside ``patched`` warns and falls back to
    the original, as MLflow's ``safe_patch`` makes it.
    """
    from mlflow.sklearn import _patch_estimator_method_if_available

    _patch_estimator_method_if_available(
        _MLFLOW_FLAVOR, cls, name, patched, manage_run=False
    )


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
    "_compute_loss_grad": [
        "self",
        "layer",
        "sw_sum",
        "activations",
        "deltas",
        "coef_grads",
        "intercept_grads",
    ],
}
# The attributes the parent sets during fit that the subclass reads.
_FITTED_ATTRIBUTES = ("_best_coefs", "_best_intercepts", "_label_binarizer")


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
    try:
        source = inspect.getsource(inspect.getmodule(BaseMultilayerPerceptron))
    except (OSError, TypeError):  # no source shipped: trust the signatures
        source = None
    if source is not None and any(
        f"self.{name} =" not in source for name in _FITTED_ATTRIBUTES
    ):
        return None
    return SimpleNamespace(
        activations=ACTIVATIONS,
        derivatives=DERIVATIVES,
        loss_functions=LOSS_FUNCTIONS,
        AdamOptimizer=AdamOptimizer,
        SGDOptimizer=SGDOptimizer,
    )


MLP_INTERNALS = _load_mlp_internals()


# The scikit-learn versions whose BaseSearchCV.fit _EngineSearchMixin.fit
# copies step for step, and the parts of the search it calls, as they are
# in those versions: (name, the leading parameters it must take).
SEARCH_FIT_TESTED_SKLEARN = "1.7 to 1.9"
_SEARCH_METHODS = {
    "_get_scorers": ["self"],
    "_get_routed_params_for_fit": ["self", "params"],
    "_check_input_parameters": ["self", "X", "y", "split_params"],
    "_format_results": ["self", "candidate_params", "n_splits", "out"],
    "_select_best_index": ["refit", "refit_metric", "results"],
    "_check_refit_for_multimetric": ["self", "scores"],
    "_run_search": ["self", "evaluate_candidates"],
}


def _load_search_internals():
    for name, leading in _SEARCH_METHODS.items():
        method = inspect.getattr_static(BaseSearchCV, name, None)
        if method is None:
            return None
        method = getattr(method, "__func__", method)  # a staticmethod
        if list(inspect.signature(method).parameters)[: len(leading)] != leading:
            return None
    return SimpleNamespace(methods=tuple(_SEARCH_METHODS))


SEARCH_INTERNALS = _load_search_internals()
