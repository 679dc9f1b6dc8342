"""The one place that imports private scikit-learn names.

scikit-learn does not promise that these stay where they are; keeping every
such import here means a scikit-learn upgrade that moves one breaks this
module, with a clear traceback, and nothing else.

The MLP internals that dropout relies on are optional: when they are missing
or have changed shape, ``MLP_INTERNALS`` is None and only ``dropout > 0``
refuses to run; everything else keeps working. The optional dependencies
(the extras) are imported here too, through ``import_optional``, so that a
missing one always says which extra brings it.
"""

import importlib
import inspect
from types import SimpleNamespace

from sklearn.base import _fit_context
from sklearn.model_selection._validation import _fit_and_score
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.metadata_routing import _routing_enabled

__all__ = [
    "DROPOUT_TESTED_SKLEARN",
    "MLP_INTERNALS",
    "HasMethods",
    "Interval",
    "StrOptions",
    "_fit_context",
    "_routing_enabled",
    "fit_and_score",
    "import_optional",
    "validate_parameter_constraints",
]


def fit_and_score(
    estimator,
    X,
    y,
    *,
    scorer,
    train,
    test,
    parameters,
    fit_params,
    score_params,
    return_train_score,
    error_score,
):
    """Fit ``estimator`` on one split and score it, as scikit-learn's searches do.

    Returns the dict of scikit-learn's ``_fit_and_score``, with the times
    and the fitted estimator.
    """
    return _fit_and_score(
        estimator,
        X,
        y,
        scorer=scorer,
        train=train,
        test=test,
        verbose=0,
        parameters=parameters,
        fit_params=fit_params,
        score_params=score_params,
        return_train_score=return_train_score,
        return_times=True,
        return_estimator=True,
        error_score=error_score,
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
