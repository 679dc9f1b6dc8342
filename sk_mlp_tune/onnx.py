"""ONNX export through skl2onnx (the ``onnx`` extra).

Importing this module registers skl2onnx converters for the package's
estimators, after which skl2onnx's own call converts them, alone or in a
pipeline::

    import sk_mlp_tune.onnx  # noqa: F401  (registers the converters)
    from skl2onnx import to_onnx

    onx = to_onnx(model, X[:1].astype("float32"))

- :class:`~sk_mlp_tune.DropoutMLPClassifier` and
  :class:`~sk_mlp_tune.DropoutMLPRegressor` convert as scikit-learn's MLPs:
  dropout acts in training only, and the weights are the network. A
  regressor with ``normalize_y=True`` adds its de-standardisation.
- :class:`~sk_mlp_tune.TunedMLPClassifier` and
  :class:`~sk_mlp_tune.TunedMLPRegressor` convert as the model they
  predict with: the weighted sum of their ensemble members' graphs (the
  probabilities, for a classifier, whose label is then the class of the
  largest); with ``ensemble_size=1``, ``best_estimator_``'s graph alone.

skl2onnx is imported here, not by ``import sk_mlp_tune``, because it takes
about a second to import.
"""

import numpy as np

from ._compat import import_optional
from ._network import DropoutMLPClassifier, DropoutMLPRegressor
from ._tuned import TunedMLPClassifier, TunedMLPRegressor

_skl2onnx = import_optional("skl2onnx", extra="onnx", needed_by="sk_mlp_tune.onnx")

from skl2onnx import update_registered_converter  # noqa: E402
from skl2onnx.algebra.onnx_operator import OnnxSubEstimator  # noqa: E402
from skl2onnx.algebra.onnx_ops import (  # noqa: E402
    OnnxAdd,
    OnnxArgMax,
    OnnxGather,
    OnnxIdentity,
    OnnxMul,
)
from skl2onnx.common.data_types import guess_numpy_type  # noqa: E402
from skl2onnx.common.shape_calculator import (  # noqa: E402
    calculate_linear_classifier_output_shapes,
    calculate_linear_regressor_output_shapes,
)
from skl2onnx.operator_converters.multilayer_perceptron import (  # noqa: E402
    convert_sklearn_mlp_classifier,
    convert_sklearn_mlp_regressor,
)

# The options skl2onnx gives scikit-learn's own classifiers.
_CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "output_class_labels": [False, True],
    "nocl": [True, False],
}


def _convert_dropout_regressor(scope, operator, container):
    """Convert as MLPRegressor, then undo ``normalize_y``'s standardisation."""
    model = operator.raw_operator
    if not model.normalize_y:
        convert_sklearn_mlp_regressor(scope, operator, container)
        return
    opv = container.target_opset
    dtype = guess_numpy_type(operator.inputs[0].type)
    if dtype != np.float64:
        dtype = np.float32
    predicted = OnnxSubEstimator(
        _without_standardisation(model), operator.inputs[0], op_version=opv
    )
    restored = OnnxAdd(
        OnnxMul(predicted, model.y_scale_.astype(dtype), op_version=opv),
        model.y_mean_.astype(dtype),
        op_version=opv,
        output_names=operator.outputs[:1],
    )
    restored.add_to(scope, container)


def _without_standardisation(model):
    """Return a copy of a fitted regressor that predicts the standardised target."""
    plain = DropoutMLPRegressor(**{**model.get_params(), "normalize_y": False})
    plain.__dict__.update(
        {k: v for k, v in vars(model).items() if k.endswith("_") and k[0] != "_"}
    )
    for name in ("y_mean_", "y_scale_"):
        vars(plain).pop(name, None)
    return plain


def _members(tuner):
    """Return the models a tuner predicts with, and their weights."""
    members = getattr(tuner, "ensemble_estimators_", None) or [tuner.best_estimator_]
    return members, getattr(tuner, "ensemble_weights_", np.ones(1))


def _weighted_sum(parts, weights, dtype, opv):
    total = None
    for part, weight in zip(parts, weights, strict=True):
        term = OnnxMul(part, np.array([weight], dtype=dtype), op_version=opv)
        total = term if total is None else OnnxAdd(total, term, op_version=opv)
    return total


def _float_type(operator):
    dtype = guess_numpy_type(operator.inputs[0].type)
    return dtype if dtype == np.float64 else np.float32


def _convert_tuned_regressor(scope, operator, container):
    """Convert a tuned regressor as the model it predicts with."""
    opv = container.target_opset
    members, weights = _members(operator.raw_operator)
    predicted = [
        OnnxSubEstimator(member, operator.inputs[0], op_version=opv)
        for member in members
    ]
    if len(members) > 1:
        predicted = [_weighted_sum(predicted, weights, _float_type(operator), opv)]
    OnnxIdentity(
        predicted[0], op_version=opv, output_names=operator.outputs[:1]
    ).add_to(scope, container)


def _convert_tuned_classifier(scope, operator, container):
    """Convert a tuned classifier as the model it predicts with."""
    opv = container.target_opset
    tuner = operator.raw_operator
    options = dict(scope.get_options(tuner))
    options["zipmap"] = False  # added after this converter, if asked for
    members, weights = _members(tuner)
    outputs = [
        OnnxSubEstimator(member, operator.inputs[0], op_version=opv, options=options)
        for member in members
    ]
    if len(members) == 1:
        label, proba = outputs[0][0], outputs[0][1]
    else:
        proba = _weighted_sum(
            [output[1] for output in outputs], weights, _float_type(operator), opv
        )
        classes = np.asarray(tuner.classes_)
        if classes.dtype.kind in "iub":
            classes = classes.astype(np.int64)
        label = OnnxGather(
            classes,
            OnnxArgMax(proba, axis=1, keepdims=0, op_version=opv),
            op_version=opv,
        )
    OnnxIdentity(label, op_version=opv, output_names=operator.outputs[:1]).add_to(
        scope, container
    )
    OnnxIdentity(proba, op_version=opv, output_names=operator.outputs[1:2]).add_to(
        scope, container
    )


def register_converters():
    """Register the skl2onnx converters of the package's estimators.

    Importing ``sk_mlp_tune.onnx`` does it; calling it again is harmless.
    """
    update_registered_converter(
        DropoutMLPClassifier,
        "SkMlpTuneDropoutMLPClassifier",
        calculate_linear_classifier_output_shapes,
        convert_sklearn_mlp_classifier,
        options=_CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        DropoutMLPRegressor,
        "SkMlpTuneDropoutMLPRegressor",
        calculate_linear_regressor_output_shapes,
        _convert_dropout_regressor,
    )
    update_registered_converter(
        TunedMLPClassifier,
        "SkMlpTuneTunedMLPClassifier",
        calculate_linear_classifier_output_shapes,
        _convert_tuned_classifier,
        options=_CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        TunedMLPRegressor,
        "SkMlpTuneTunedMLPRegressor",
        calculate_linear_regressor_output_shapes,
        _convert_tuned_regressor,
    )


register_converters()
