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
  :class:`~sk_mlp_tune.TunedMLPRegressor` convert as their
  ``best_estimator_``, the model they predict with.

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
from skl2onnx.algebra.onnx_ops import OnnxAdd, OnnxIdentity, OnnxMul  # noqa: E402
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


def _convert_tuned_regressor(scope, operator, container):
    """Convert a tuned regressor as the model it predicts with."""
    opv = container.target_opset
    best = operator.raw_operator.best_estimator_
    predicted = OnnxSubEstimator(best, operator.inputs[0], op_version=opv)
    OnnxIdentity(predicted, op_version=opv, output_names=operator.outputs[:1]).add_to(
        scope, container
    )


def _convert_tuned_classifier(scope, operator, container):
    """Convert a tuned classifier as the model it predicts with."""
    opv = container.target_opset
    tuner = operator.raw_operator
    options = dict(scope.get_options(tuner))
    options["zipmap"] = False  # added after this converter, if asked for
    outputs = OnnxSubEstimator(
        tuner.best_estimator_, operator.inputs[0], op_version=opv, options=options
    )
    OnnxIdentity(outputs[0], op_version=opv, output_names=operator.outputs[:1]).add_to(
        scope, container
    )
    OnnxIdentity(outputs[1], op_version=opv, output_names=operator.outputs[1:2]).add_to(
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
