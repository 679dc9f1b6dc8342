"""MLflow tracking of a tuned model's search (the ``mlflow`` extra).

A fitted tuner is logged as MLflow logs scikit-learn's ``GridSearchCV``:
the tuner's parameters, ``best_<name>`` for each best hyperparameter, the
``best_cv_score`` metric, ``cv_results.csv``, one child run per candidate
(the best ``max_tuning_runs``) and the refitted model.

- With ``mlflow.sklearn.autolog()`` on, :meth:`TunedMLPClassifier.fit
  <sk_mlp_tune.TunedMLPClassifier.fit>` (and the regressor's) does it by
  itself, under autolog's settings. MLflow patches only scikit-learn's own
  classes, so it cannot see the tuner; it would instead record every
  network fitted inside the search as a run of its own. The tuner turns
  autologging off around its search and logs the result once.
- Otherwise, :func:`log_to_mlflow` logs a fitted tuner into the active run.

The model goes in MLflow's default format, skops, with
:func:`sk_mlp_tune.io.trusted_types` as its trusted types; like
:func:`sk_mlp_tune.save`, it leaves the search object behind.
"""

import contextlib
import numbers
import warnings

import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ._compat import import_optional, mlflow_training_session_active
from ._tuned import _BaseTunedMLP, candidates_best_first
from .io import trusted_types

mlflow = import_optional("mlflow", extra="mlflow", needed_by="sk_mlp_tune.mlflow")

from mlflow.models import infer_signature  # noqa: E402
from mlflow.utils import autologging_utils  # noqa: E402

__all__ = ["log_to_mlflow"]

# MLflow refuses longer parameter values; a large param_space is cut here.
_MAX_PARAM_LENGTH = 500
_AUTOLOG_FLAVOR = "sklearn"


def log_to_mlflow(
    tuner,
    *,
    log_model=True,
    max_tuning_runs=5,
    serialization_format="skops",
    input_example=None,
    registered_model_name=None,
):
    """Log a fitted tuner's search and model to MLflow.

    Logs into the active run, or into a new run (ended on return) when
    none is active: what ``mlflow.sklearn.autolog()`` records for
    ``GridSearchCV``.

    Parameters
    ----------
    tuner : TunedMLPClassifier or TunedMLPRegressor
        A fitted tuner.
    log_model : bool, default=True
        Whether to log the tuner as the run's model (``"model"``); only
        when it was refitted (``refit`` not False).
    max_tuning_runs : int or None, default=5
        How many candidates get a child run, best first; None for all.
    serialization_format : {"skops", "cloudpickle", "pickle"}, default="skops"
        Passed to ``mlflow.sklearn.log_model``; skops gets the package's
        trusted types.
    input_example : array-like, default=None
        A few rows of input: logged with the model, and its signature
        inferred from them.
    registered_model_name : str, default=None
        Also register the model under this name.

    Returns
    -------
    model_info : mlflow.models.model.ModelInfo or None
        The logged model's information; None when no model was logged.

    Examples
    --------
    >>> import mlflow
    >>> from sk_mlp_tune.mlflow import log_to_mlflow
    >>> with mlflow.start_run():                      # doctest: +SKIP
    ...     log_to_mlflow(tuner.fit(X, y))
    """
    if not isinstance(tuner, _BaseTunedMLP):
        raise TypeError(
            "log_to_mlflow logs a TunedMLPClassifier or TunedMLPRegressor; got "
            f"{type(tuner).__name__}. mlflow.sklearn.autolog() logs "
            "scikit-learn's own searches."
        )
    check_is_fitted(tuner, "cv_results_")
    if max_tuning_runs is not None and (
        not isinstance(max_tuning_runs, numbers.Integral) or max_tuning_runs < 0
    ):
        raise ValueError(
            f"max_tuning_runs must be a non-negative integer or None; got "
            f"{max_tuning_runs!r}."
        )
    active = mlflow.active_run()
    # A run started here ends here, marked failed if logging fails.
    with (
        mlflow.start_run() if active is None else contextlib.nullcontext(active) as run
    ):
        return _log_search(
            tuner,
            run,
            log_model=log_model,
            max_tuning_runs=max_tuning_runs,
            serialization_format=serialization_format,
            input_example=input_example,
            signature_example=input_example,
            registered_model_name=registered_model_name,
        )


def _log_search(
    tuner,
    run,
    *,
    log_model,
    max_tuning_runs,
    serialization_format,
    input_example,
    signature_example,
    registered_model_name,
):
    mlflow.log_params(_loggable(tuner.get_params(deep=False)))
    mlflow.set_tag("estimator_name", type(tuner).__name__)
    # The tags MLflow gives every estimator it autologs.
    mlflow.set_tag(
        "estimator_class", f"{type(tuner).__module__}.{type(tuner).__name__}"
    )
    best_params = getattr(tuner, "best_params_", None)
    if best_params is not None:
        mlflow.log_params(_loggable({f"best_{k}": v for k, v in best_params.items()}))
    if hasattr(tuner, "best_score_"):
        mlflow.log_metric("best_cv_score", float(tuner.best_score_))
    if getattr(tuner, "stop_reason_", None) is not None:
        mlflow.set_tag("stop_reason", tuner.stop_reason_)

    results = pd.DataFrame(tuner.cv_results_)
    mlflow.log_text(results.to_csv(index=False), "cv_results.csv")
    _log_candidate_runs(results, run, tuner, max_tuning_runs)

    if not log_model or not hasattr(tuner, "best_estimator_"):
        return None
    signature = None
    if signature_example is not None:
        signature = infer_signature(signature_example, tuner.predict(signature_example))
    return mlflow.sklearn.log_model(
        tuner,
        name="model",
        serialization_format=serialization_format,
        skops_trusted_types=(
            trusted_types() if serialization_format == "skops" else None
        ),
        signature=signature,
        input_example=input_example,
        registered_model_name=registered_model_name,
    )


def _log_candidate_runs(results, parent, tuner, max_tuning_runs):
    """Give the best candidates a child run each, the chosen one first."""
    rows = candidates_best_first(tuner)
    if max_tuning_runs is not None:
        rows = rows[:max_tuning_runs]
    for _, row in results.iloc[rows].iterrows():
        with mlflow.start_run(
            nested=True,
            parent_run_id=parent.info.run_id,
            experiment_id=parent.info.experiment_id,
        ):
            mlflow.log_params(_loggable(row["params"]))
            # As MLflow's autolog: the aggregates, not each fold's score, and
            # each parameter once (from "params", not "param_<name>").
            mlflow.log_metrics(
                {
                    name: float(value)
                    for name, value in row.items()
                    if not name.startswith(("param", "split"))
                    and isinstance(value, numbers.Number)
                    and not pd.isna(value)
                }
            )


def _loggable(params):
    """Return ``params`` as strings MLflow accepts (long values cut)."""
    loggable = {}
    for name, value in params.items():
        text = str(value)
        if len(text) > _MAX_PARAM_LENGTH:
            text = text[: _MAX_PARAM_LENGTH - 3] + "..."
        loggable[name] = text
    return loggable


def autologging(tuner, X, y):
    """Return a context for ``tuner.fit`` under MLflow's sklearn autologging.

    Without autologging, a context that does nothing. With it, the search
    runs with autologging off (else each network fitted in this process
    would get a run of its own), and after a successful fit the tuner is
    logged with autolog's settings: into the active run, into a child run
    when another estimator's autologged fit holds the run (a pipeline's),
    or into a new run.
    """
    if autologging_utils.autologging_is_disabled(_AUTOLOG_FLAVOR):
        return contextlib.nullcontext()
    return _autologged_fit(tuner, X, y)


@contextlib.contextmanager
def _autologged_fit(tuner, X, y):
    # An outer estimator's autologged fit (a pipeline's) owns the active run
    # and logs its own parameters; the tuner's go to a child run beside it.
    inside_another_fit = mlflow_training_session_active(autologging_utils)
    with autologging_utils.disable_autologging():
        yield
    try:
        if inside_another_fit and mlflow.active_run() is not None:
            with mlflow.start_run(nested=True, run_name=type(tuner).__name__) as run:
                _log_autologged(tuner, run, X, y)
        elif mlflow.active_run() is not None:
            _log_autologged(tuner, mlflow.active_run(), X, y)
        else:
            with mlflow.start_run() as run:
                _log_autologged(tuner, run, X, y)
    except Exception as error:
        # As MLflow's autologging does: a failure to log warns, and the
        # fitted model stays the user's.
        warnings.warn(
            f"MLflow autologging of {type(tuner).__name__} failed, the fit did "
            f"not: {type(error).__name__}: {error}",
            UserWarning,
            stacklevel=4,
        )


def _log_autologged(tuner, run, X, y):
    """Log what autolog logs for a search, with autolog's settings."""

    def setting(name, default):
        return autologging_utils.get_autologging_config(_AUTOLOG_FLAVOR, name, default)

    example = _first_rows(X)
    _log_search(
        tuner,
        run,
        input_example=example if setting("log_input_examples", False) else None,
        signature_example=example if setting("log_model_signatures", True) else None,
        log_model=setting("log_models", True),
        max_tuning_runs=setting("max_tuning_runs", 5),
        serialization_format=setting("serialization_format", "cloudpickle"),
        registered_model_name=setting("registered_model_name", None),
    )
    if hasattr(tuner, "best_estimator_"):
        # What autolog calls a model's score on its training data.
        mlflow.log_metric("training_score", float(tuner.score(X, y)))


def _first_rows(X, n_rows=5):
    """Return the first rows of ``X`` as an input example, None if it cannot be cut."""
    try:
        return X.iloc[:n_rows] if hasattr(X, "iloc") else X[:n_rows]
    except Exception:  # an input MLflow cannot take as an example is no error
        return None
