"""MLflow tracking of a tuned model's search (the ``mlflow`` extra).

A fitted tuner is logged as MLflow logs scikit-learn's ``GridSearchCV``:
the tuner's parameters, ``best_<name>`` for each best hyperparameter, the
``best_cv_score`` metric, ``cv_results.csv``, one child run per candidate
(the best ``max_tuning_runs``, each with every parameter of the network it
trained) and the refitted model.

- With ``mlflow.sklearn.autolog()`` on, :meth:`TunedMLPClassifier.fit
  <sk_mlp_tune.TunedMLPClassifier.fit>` (and the regressor's) does it by
  itself, under autolog's settings, and adds what autolog adds for a
  search: the training data as the run's input, the ``training_*``
  metrics, ``estimator.html``, a classifier's plots, the best network as
  the model ``best_estimator``, and later metrics (``tuner.score(X_test,
  y_test)`` inside the run logs ``TunedMLPClassifier_score_X_test`` and
  ``metric_info.json``). MLflow patches only scikit-learn's own classes,
  so it cannot see the tuner; it would instead record every network fitted
  inside the search as a run of its own. The tuner turns autologging off
  around its search and logs the result once, with MLflow's own helpers.
- Otherwise, :func:`log_to_mlflow` logs a fitted tuner into the active run.

Under successive halving and ASHA a candidate is evaluated at several
rungs; it gets one child run, at the highest rung it reached (its
``iter`` and ``n_resources`` metrics say which).

The model goes in MLflow's default format, skops, with
:func:`sk_mlp_tune.io.trusted_types` as its trusted types; like
:func:`sk_mlp_tune.save`, it leaves the search object behind.
"""

import contextlib
import numbers
import warnings

import numpy as np
import pandas as pd
import scipy.sparse
from sklearn.utils.validation import check_is_fitted

from ._compat import (
    BaseSearchCV,
    import_optional,
    mlflow_dataset_input,
    mlflow_is_patched,
    mlflow_log_estimator_content,
    mlflow_metrics_manager,
    mlflow_patch_method,
    mlflow_training_session_active,
)
from ._steps import epochs_name
from ._tuned import _BaseTunedMLP, candidates_best_first, rungs_grow_epochs
from .io import trusted_types

mlflow = import_optional("mlflow", extra="mlflow", needed_by="sk_mlp_tune.mlflow")

from mlflow.data.code_dataset_source import CodeDatasetSource  # noqa: E402
from mlflow.models import infer_signature  # noqa: E402
from mlflow.tracking.context import registry as context_registry  # noqa: E402
from mlflow.utils import autologging_utils  # noqa: E402
from mlflow.utils.autologging_utils import (  # noqa: E402
    get_instance_method_first_arg_value,
)
from mlflow.utils.mlflow_tags import MLFLOW_AUTOLOGGING  # noqa: E402

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
    ``GridSearchCV`` without the training data. The parameters, the
    ``best_<name>`` parameters, ``best_cv_score``, ``cv_results.csv``,
    the child runs and the model; not the ``training_*`` metrics, plots and
    ``best_estimator`` model that the tuner's autologged fit adds.

    Parameters
    ----------
    tuner : TunedMLPClassifier or TunedMLPRegressor
        A fitted tuner.
    log_model : bool, default=True
        Whether to log the tuner as the run's model (``"model"``); only
        when it was refitted (``refit`` not False).
    max_tuning_runs : int or None, default=5
        How many candidates get a child run, best first; None for all.
        Under successive halving and ASHA, a candidate gets one child run,
        at the highest rung it reached.
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
    log_best_estimator=False,
    dataset=None,
    child_tags=None,
):
    """Log the search into ``run``; return the model's information, or None.

    ``log_best_estimator`` also logs ``best_estimator_`` as the model
    ``"best_estimator"`` (autolog's way); ``dataset``, the training data as
    an MLflow dataset, goes with the metrics and to the child runs.
    """
    mlflow.log_params(_loggable(tuner.get_params(deep=False)))
    mlflow.set_tags(_estimator_tags(tuner))
    best_params = getattr(tuner, "best_params_", None)
    if best_params is not None:
        mlflow.log_params(_loggable({f"best_{k}": v for k, v in best_params.items()}))
    if getattr(tuner, "stop_reason_", None) is not None:
        mlflow.set_tag("stop_reason", tuner.stop_reason_)

    model_info = best_model_id = None
    if log_model and hasattr(tuner, "best_estimator_"):
        signature = None
        if signature_example is not None:
            signature = infer_signature(
                signature_example, tuner.predict(signature_example)
            )
        options = {
            "serialization_format": serialization_format,
            "skops_trusted_types": (
                trusted_types() if serialization_format == "skops" else None
            ),
            "signature": signature,
            "input_example": input_example,
        }
        model_info = mlflow.sklearn.log_model(
            tuner,
            name="model",
            registered_model_name=registered_model_name,
            # The logged model's parameters, as autolog gives GridSearchCV's.
            params=_loggable(
                tuner.get_params(deep=False)
                | {f"best_{k}": v for k, v in (best_params or {}).items()}
            ),
            **options,
        )
        if log_best_estimator:
            best_model_id = mlflow.sklearn.log_model(
                tuner.best_estimator_,
                name="best_estimator",
                params=_loggable(tuner.best_estimator_.get_params(deep=True)),
                **options,
            ).model_id
    model_id = None if model_info is None else model_info.model_id
    if hasattr(tuner, "best_score_"):
        mlflow.log_metric(
            "best_cv_score",
            float(tuner.best_score_),
            model_id=model_id,
            dataset=dataset,
        )

    results = pd.DataFrame(tuner.cv_results_)
    mlflow.log_text(results.to_csv(index=False), "cv_results.csv")
    _log_candidate_runs(
        tuner,
        results,
        run,
        max_tuning_runs,
        dataset=dataset,
        tags=child_tags,
        best_model_id=best_model_id,
    )
    return model_info


def _log_candidate_runs(
    tuner, results, parent, max_tuning_runs, *, dataset, tags, best_model_id
):
    """Give the best candidates a child run each, the chosen one first.

    As MLflow's autolog does for GridSearchCV, a child has every parameter
    of the network its candidate trained: the template's, updated with the
    candidate's. A candidate that successive halving or ASHA evaluated at
    several rungs gets one child, at the highest rung it reached.
    """
    template = _candidates_template(tuner)
    # A search as the template: its own untuned settings would mislead.
    base = template.get_params(
        deep=not isinstance(template, BaseSearchCV | _BaseTunedMLP)
    )
    tags = {**_estimator_tags(template), **(tags or {})}
    epochs = _rung_epochs(tuner, results, template)
    rows = _highest_rungs(candidates_best_first(tuner), results, epochs)
    if max_tuning_runs is not None:
        rows = rows[:max_tuning_runs]
    chosen = getattr(tuner, "best_index_", None)
    for index in rows:
        row = results.iloc[index]
        with mlflow.start_run(
            nested=True,
            parent_run_id=parent.info.run_id,
            experiment_id=parent.info.experiment_id,
            tags=tags,
        ):
            params = base | row["params"]
            if epochs is not None:  # what the rung trained, ASHA's too
                params[epochs] = int(row["n_resources"])
            mlflow.log_params(_loggable(params))
            if dataset is not None:
                mlflow.log_input(dataset, context="train")
            # As MLflow's autolog: the aggregates, not each fold's score, and
            # each parameter once (from "params", not "param_<name>").
            mlflow.log_metrics(
                {
                    name: float(value)
                    for name, value in row.items()
                    if not name.startswith(("param", "split"))
                    and isinstance(value, numbers.Number)
                    and not pd.isna(value)
                },
                # The chosen candidate's scores are the best model's.
                model_id=best_model_id if index == chosen else None,
                dataset=dataset,
            )


def _candidates_template(tuner):
    """Return the estimator every candidate started from."""
    search = getattr(tuner, "search_", None)
    if getattr(search, "estimator", None) is not None:
        return search.estimator  # seeded, where the tuner seeds it
    return tuner._template_estimator()


def _rung_epochs(tuner, results, template):
    """Return the parameter that sets a rung's epochs, None without such rungs.

    Successive halving over ``max_iter`` and ASHA train each rung for
    ``n_resources`` epochs; halving over ``n_samples`` trains on that many
    samples, and the other strategies have no rungs.
    """
    if "n_resources" in results and rungs_grow_epochs(tuner):
        return epochs_name(template)
    return None


def _highest_rungs(rows, results, epochs):
    """Keep, of ``rows`` in order, each candidate's first row: its highest rung.

    ``rows`` come highest rung first. A candidate's parameters are the same
    at each rung but for ``epochs``, which successive halving sets in them.
    """
    if "n_resources" not in results:
        return rows
    seen, kept = [], []
    for index in rows:
        params = results["params"].iloc[index]
        candidate = {k: v for k, v in params.items() if k != epochs}
        if candidate not in seen:
            seen.append(candidate)
            kept.append(index)
    return kept


def _estimator_tags(estimator):
    """Return the tags MLflow gives every estimator it autologs."""
    cls = type(estimator)
    return {
        "estimator_name": cls.__name__,
        "estimator_class": f"{cls.__module__}.{cls.__name__}",
    }


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


def _setting(name, default):
    return autologging_utils.get_autologging_config(_AUTOLOG_FLAVOR, name, default)


@contextlib.contextmanager
def _autologged_fit(tuner, X, y):
    # An outer estimator's autologged fit (a pipeline's) owns the active run
    # and logs its own parameters; the tuner's go to a child run beside it.
    inside_another_fit = mlflow_training_session_active(autologging_utils)
    # Decided before the fit, as autolog does: the pipeline's metrics are
    # the pipeline's.
    metrics = mlflow_metrics_manager()
    track_later = (
        _setting("log_post_training_metrics", True)
        and metrics.should_log_post_training_metrics()
    )
    with autologging_utils.disable_autologging():
        yield
    try:
        # MLflow computes its training metrics with sklearn.metrics, which
        # autolog patches: none of them is a post-training metric.
        with metrics.disable_log_post_training_metrics():
            if inside_another_fit and mlflow.active_run() is not None:
                with mlflow.start_run(
                    nested=True, run_name=type(tuner).__name__
                ) as run:
                    model_id = _log_autologged(tuner, run, X, y)
            elif mlflow.active_run() is not None:
                run = mlflow.active_run()
                model_id = _log_autologged(tuner, run, X, y)
            else:
                with mlflow.start_run(
                    tags={MLFLOW_AUTOLOGGING: _AUTOLOG_FLAVOR}
                ) as run:
                    model_id = _log_autologged(tuner, run, X, y)
        # The tuner's score and predictions in this run log their metrics.
        _patch_post_training_metrics(type(tuner))
        if track_later:
            # As autolog does for a model it fitted: MLflow sets
            # tuner._mlflow_run_id, and the metrics also go to the model.
            metrics.register_model(tuner, run.info.run_id)
            if model_id is not None:
                metrics.record_model_id(tuner, model_id)
    except Exception as error:
        # As MLflow's autologging does: a failure to log warns, and the
        # fitted model stays the user's.
        warnings.warn(
            f"MLflow autologging of {type(tuner).__name__} failed, the fit did "
            f"not: {type(error).__name__}: {error}",
            UserWarning,
            stacklevel=4,
        )


def _patch_post_training_metrics(cls):
    """Patch ``cls.score`` and ``cls.predict*`` as autolog patches scikit-learn's.

    Copies of the ``patched_model_score`` and ``patched_predict`` that
    ``mlflow.sklearn.autolog()`` applies to every scikit-learn estimator
    (MLflow 3.17): on a tracked model, ``score(X_test, y_test)`` logs
    ``<class>_score_X_test`` and ``metric_info.json``, and a prediction
    passed to a ``sklearn.metrics`` function gets that metric logged, with
    the prediction's data as an ``"eval"`` input. The original's result is
    returned untouched. Patched once per autolog session; MLflow's
    ``autolog(disable=True)`` reverts it.
    """
    if mlflow_is_patched(cls, "score"):
        return

    # The frames between the user's call and MLflow's helpers take the data
    # as arguments, so that MLflow names it after the user's variable.
    def patched_predict(original, self, *args, **kwargs):
        metrics = mlflow_metrics_manager()
        run_id = metrics.get_run_id_for_model(self)
        if not (metrics.should_log_post_training_metrics() and run_id):
            return original(self, *args, **kwargs)
        with metrics.disable_log_post_training_metrics():
            predict_result = original(self, *args, **kwargs)
        eval_data = get_instance_method_first_arg_value(original, args, kwargs)
        eval_data_name = metrics.register_prediction_input_dataset(self, eval_data)
        metrics.register_prediction_result(
            run_id,
            eval_data_name,
            predict_result,
            model_id=metrics.get_model_id_for_model(self),
        )
        dataset = _eval_dataset(eval_data)
        if dataset is not None:
            mlflow.MlflowClient().log_inputs(
                run_id=run_id, datasets=[mlflow_dataset_input(dataset, "eval")]
            )
        return predict_result

    def patched_score(original, self, *args, **kwargs):
        metrics = mlflow_metrics_manager()
        run_id = metrics.get_run_id_for_model(self)
        if not (metrics.should_log_post_training_metrics() and run_id):
            return original(self, *args, **kwargs)
        with metrics.disable_log_post_training_metrics():
            score_value = original(self, *args, **kwargs)
        if metrics.is_metric_value_loggable(score_value):
            call_command = metrics.gen_metric_call_command(
                self, original, *args, **kwargs
            )
            eval_data = get_instance_method_first_arg_value(original, args, kwargs)
            eval_data_name = metrics.register_prediction_input_dataset(self, eval_data)
            metric_key = metrics.register_metric_api_call(
                run_id, f"{type(self).__name__}_score", eval_data_name, call_command
            )
            metrics.log_post_training_metric(
                run_id,
                metric_key,
                score_value,
                model_id=metrics.get_model_id_for_model(self),
            )
        return score_value

    for name in ("predict", "predict_proba", "predict_log_proba"):
        mlflow_patch_method(cls, name, patched_predict)
    # Last: a patched score says the class is done.
    mlflow_patch_method(cls, "score", patched_score)


def _log_autologged(tuner, run, X, y):
    """Log what autolog logs for a search, with autolog's settings.

    Returns the logged model's id, or None.
    """
    dataset = _dataset(X, y)
    if dataset is not None and _setting("log_datasets", True):
        mlflow.log_input(dataset, context="train")
    example = _first_rows(X)
    model_info = _log_search(
        tuner,
        run,
        input_example=example if _setting("log_input_examples", False) else None,
        signature_example=(example if _setting("log_model_signatures", True) else None),
        log_model=_setting("log_models", True),
        max_tuning_runs=_setting("max_tuning_runs", 5),
        serialization_format=_setting("serialization_format", "cloudpickle"),
        registered_model_name=_setting("registered_model_name", None),
        log_best_estimator=True,
        dataset=dataset,
        child_tags={MLFLOW_AUTOLOGGING: _AUTOLOG_FLAVOR},
    )
    model_id = None if model_info is None else model_info.model_id
    if hasattr(tuner, "best_estimator_"):
        # MLflow's own: the training_* metrics and training_score, the
        # classifier's plots, estimator.html.
        client = autologging_utils.MlflowAutologgingQueueingClient()
        mlflow_log_estimator_content(
            client,
            tuner,
            run.info.run_id,
            X,
            y,
            pos_label=_setting("pos_label", None),
            model_id=model_id,
            dataset=dataset,
        )
        client.flush(synchronous=True)
    return model_id


def _dataset(X, y=None):
    """Return ``X`` (and ``y``) as autolog's MLflow dataset; None for other types."""
    try:
        source = CodeDatasetSource(context_registry.resolve_tags())
        if isinstance(X, pd.DataFrame):
            return mlflow.data.from_pandas(X, source=source)
        if scipy.sparse.issparse(X):
            X = X.toarray()
        if isinstance(X, np.ndarray):
            targets = None if y is None else np.asarray(y)
            return mlflow.data.from_numpy(X, targets=targets, source=source)
    except Exception:  # no dataset is no error, as in autolog
        return None
    return None


def _eval_dataset(X):
    """Return the dataset a tracked tuner's predictions log as ``"eval"``, or None."""
    return _dataset(X) if _setting("log_datasets", True) else None


def _first_rows(X, n_rows=5):
    """Return the first rows of ``X`` as an input example, None if it cannot be cut."""
    try:
        return X.iloc[:n_rows] if hasattr(X, "iloc") else X[:n_rows]
    except Exception:  # an input MLflow cannot take as an example is no error
        return None
