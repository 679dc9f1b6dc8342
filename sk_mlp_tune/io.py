"""Save and load tuned models in skops' secure format.

Unpickling a file can run any code its author chose; skops' format instead
rebuilds objects from an explicit description and refuses types it was not
told to trust. :func:`load` trusts exactly the types a tuned model, and the
command line's preprocessing pipeline, are made of, and refuses a file that
holds anything else, naming what it found.

``pickle`` and ``joblib.dump`` keep working for those who prefer them (and
trust their files).
"""

import functools

from ._compat import import_optional, score_function
from ._files import replaced_atomically

# What a saved tuner or the CLI's pipeline holds beyond what skops trusts by
# default (scikit-learn's estimators, numpy, the builtins).
TRUSTED_TYPES = frozenset(
    {
        "sk_mlp_tune._network.DropoutMLPClassifier",
        "sk_mlp_tune._network.DropoutMLPRegressor",
        "sk_mlp_tune._tuned.TunedMLPClassifier",
        "sk_mlp_tune._tuned.TunedMLPRegressor",
        "sklearn.metrics._scorer._PassthroughScorer",
        "sklearn.metrics._scorer._Scorer",
        "sklearn.model_selection._split.KFold",
        "sklearn.model_selection._split.StratifiedKFold",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
        "sklearn.preprocessing._label.LabelBinarizer",
        # The one-hot encoder's dtype parameter, in the CLI's pipeline.
        "numpy.dtype",
    }
)


def _skops_io():
    return import_optional(
        "skops.io", extra="io", needed_by="sk_mlp_tune.save and load"
    )


@functools.cache
def _named_scorer_functions():
    """Return the metric functions behind scikit-learn's named scorers.

    A tuner fitted with ``scoring="neg_log_loss"`` (or any other name from
    :func:`sklearn.metrics.get_scorer_names`) keeps a scorer that refers to
    its metric function; those functions compute a number and nothing else.
    """
    from sklearn.metrics import get_scorer, get_scorer_names

    functions = (score_function(get_scorer(name)) for name in get_scorer_names())
    return frozenset(
        f"{function.__module__}.{function.__name__}"
        for function in functions
        if callable(function) and hasattr(function, "__name__")
    )


def trusted_types():
    """Return the types a tuned model's skops file may hold beyond skops' defaults.

    That is what skops' ``trusted`` and MLflow's ``skops_trusted_types``
    take: the tuned estimators and dropout MLPs, the scikit-learn parts they
    hold (optimizers, splitters, scorers), the metric functions behind
    scikit-learn's named scorers, and what the command line's pipeline adds.

    Returns
    -------
    types : list of str
        Fully qualified type names, sorted.

    Examples
    --------
    >>> from sk_mlp_tune.io import trusted_types
    >>> "sk_mlp_tune._tuned.TunedMLPClassifier" in trusted_types()
    True

    With MLflow (see :ref:`deploying`)::

        mlflow.sklearn.log_model(tuner, name="model",
                                 skops_trusted_types=trusted_types())
    """
    return sorted(TRUSTED_TYPES | _named_scorer_functions())


class UntrustedTypesError(ValueError):
    """A model file holds types that a tuned model is not made of."""


def save(model, path):
    """Save a tuned model (or a pipeline holding one) in skops' secure format.

    The model keeps everything needed to predict and to inspect the search
    (``best_params_``, ``cv_results_``, ``coefs_``, ...). The fitted search
    object ``search_`` and the state that ``warm_start`` continues from are
    not saved: a loaded model predicts and reports, and a new search starts
    afresh.

    Parameters
    ----------
    model : estimator
        A fitted :class:`~sk_mlp_tune.TunedMLPClassifier`,
        :class:`~sk_mlp_tune.TunedMLPRegressor`, or a pipeline holding one.
    path : str or path-like
        Where to write; ``.skops`` is the usual suffix.

    See Also
    --------
    load : Load the file again.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sk_mlp_tune import TunedMLPClassifier, load, save
    >>> X, y = load_iris(return_X_y=True)
    >>> tuner = TunedMLPClassifier(
    ...     MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=500),
    ...     param_space={"alpha": [1e-3, 1e-1]}, search="grid", cv=2,
    ... ).fit(X, y)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tuner.skops"
    >>> save(tuner, path)
    >>> (load(path).predict(X) == tuner.predict(X)).all()
    np.True_
    """
    # Written beside the target and renamed over it: a failed write leaves
    # the previous file whole.
    with replaced_atomically(path) as temporary:
        _skops_io().dump(model, temporary)


def load(path):
    """Load a model saved by :func:`save`, refusing anything unexpected.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.

    Returns
    -------
    model : estimator
        The model, ready to predict, whatever wrote the file. A model of
        ``sk-mlp-tune fit --output`` is the fitted pipeline, with what the
        command line knew of its data in ``command_line_fit_`` (``target``,
        ``task``, ``columns``, ``data_shape``, and the held-out ``y_true``
        and ``y_pred``); the files the command line wrote before 0.1.0, a
        dict holding the model beside those, load the same way.

    Raises
    ------
    UntrustedTypesError
        If the file holds types that a tuned model or the command line's
        pipeline is not made of; nothing from the file is built then. The
        metric functions of scikit-learn's named scorers (``scoring="f1"``
        and the like) are accepted; a custom scorer's function is not.

    See Also
    --------
    save : Write such a file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skops.io import dump
    >>> from sk_mlp_tune import load
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "foreign.skops"
    >>> dump({"payload": pathlib.PurePosixPath("/")}, path)
    >>> try:
    ...     load(path)
    ... except ValueError as refusal:
    ...     print("refused:", "pathlib.PurePosixPath" in str(refusal))
    refused: True
    """
    skops_io = _skops_io()
    found = skops_io.get_untrusted_types(file=path)
    unexpected = sorted(set(found) - set(trusted_types()))
    if unexpected:
        raise UntrustedTypesError(
            f"{path} holds types a tuned model is not made of: {unexpected}. "
            "It was not loaded. If you wrote it yourself and trust it, load it "
            "with skops.io.load(path, trusted=[...]) after reviewing the types."
        )
    loaded = skops_io.load(path, trusted=list(found))
    if isinstance(loaded, dict) and hasattr(loaded.get("model"), "predict"):
        # The command line's files before 0.1.0: the model beside its facts.
        facts = dict(loaded)
        loaded = facts.pop("model")
        loaded.command_line_fit_ = facts
    return loaded
