"""Saving and loading tuned models through skops' secure format."""

import copy
import pickle
import sys

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import TunedMLPClassifier, load, save
from sk_mlp_tune.io import UntrustedTypesError, trusted_types

skops_io = pytest.importorskip(
    "skops.io", reason="skops is not installed (the 'io' extra)"
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class _Intruder:
    """A type no tuned model is made of, standing in for a malicious payload."""

    def __init__(self):
        self.payload = "rm -rf /"


@pytest.mark.parametrize("search", ["grid", "random", "bayes", "halving", "asha"])
def test_save_load_round_trip(iris, tmp_path, search):
    """Check that a reloaded tuner predicts identically and keeps its results."""
    X, y = iris
    tuner = TunedMLPClassifier(
        search=search, n_iter=3, cv=2, random_state=0, verbose=1
    ).fit(X, y)
    path = tmp_path / "tuner.skops"
    save(tuner, path)
    loaded = load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), tuner.predict_proba(X))
    assert loaded.best_params_ == tuner.best_params_
    np.testing.assert_array_equal(
        loaded.cv_results_["mean_test_score"], tuner.cv_results_["mean_test_score"]
    )
    assert loaded.cv_results_["params"] == tuner.cv_results_["params"]
    for saved, original in zip(loaded.coefs_, tuner.coefs_, strict=True):
        np.testing.assert_array_equal(saved, original)
    assert loaded.score(X, y) == tuner.score(X, y)
    # The search object stays behind; the model given is not changed.
    assert not hasattr(loaded, "search_")
    assert hasattr(tuner, "search_")

    # skops' own call, as MLflow's log_model makes it, leaves it behind too
    # (scipy's distributions and skopt's optimizers sent skops into endless
    # recursion) and needs no type beyond the package's trusted ones ...
    data = skops_io.dumps(tuner)
    assert set(skops_io.get_untrusted_types(data=data)) <= set(trusted_types())
    direct = skops_io.loads(data, trusted=trusted_types())
    np.testing.assert_array_equal(direct.predict(X), tuner.predict(X))
    # ... while pickle and copies keep everything, as for scikit-learn's searches.
    for copied in (pickle.loads(pickle.dumps(tuner)), copy.deepcopy(tuner)):
        assert type(copied.search_) is type(tuner.search_)
        assert copied.search_.best_params_ == tuner.search_.best_params_


def test_save_load_pipeline(iris, tmp_path):
    """Check that a pipeline holding a tuner round-trips."""
    X, y = iris
    model = make_pipeline(
        StandardScaler(),
        TunedMLPClassifier(
            MLPClassifier(hidden_layer_sizes=(5,), max_iter=50),
            param_space={"alpha": [1e-3, 1e-1]},
            search="grid",
            scoring="neg_log_loss",
            cv=2,
        ),
    ).fit(X, y)
    save(model, tmp_path / "pipe.skops")
    loaded = load(tmp_path / "pipe.skops")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    # Scored with the search's metric, which the loaded model keeps.
    assert loaded.score(X, y) == model.score(X, y) < 0
    assert hasattr(model[-1], "search_")


def test_load_refuses_untrusted_types(tmp_path):
    """Check that a crafted file holding a foreign type is refused by name."""
    from skops.io import dump

    path = tmp_path / "crafted.skops"
    dump({"model": _Intruder()}, path)
    with pytest.raises(UntrustedTypesError, match=r"test_io\._Intruder.*not loaded"):
        load(path)


def test_missing_skops_names_the_extra(tmp_path, monkeypatch):
    """Check that save and load without skops say which extra to install."""
    monkeypatch.setitem(sys.modules, "skops.io", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"needs skops \(the 'io' extra\)"):
        save(TunedMLPClassifier(), tmp_path / "tuner.skops")
    with pytest.raises(ImportError, match=r"pip install -e '\.\[io\]'"):
        load(tmp_path / "tuner.skops")


_WRITE_UNDER_A_SIZE_LIMIT = """
import resource, signal, sys
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier
from sk_mlp_tune import TunedMLPClassifier, save
from sk_mlp_tune.report import write_report

X, y = load_digits(return_X_y=True)
tuner = TunedMLPClassifier(
    MLPClassifier(hidden_layer_sizes=(256,), max_iter=5), param_space={"alpha": [1e-4]},
    search="grid", cv=2,
).fit(X, y)
# Past the limit a write fails with EFBIG, as on a full disk, instead of
# the signal that would end the process.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))
writer = save if sys.argv[1] == "save" else write_report
try:
    writer(tuner, sys.argv[2])
except OSError as error:
    print("failed:", error)
"""


@pytest.mark.parametrize("what", ["save", "report"])
def test_failed_write_leaves_the_previous_file_whole(iris, tmp_path, what):
    """Check that a write cut short by a file-size limit keeps the old file."""
    import subprocess

    from sk_mlp_tune.report import write_report

    X, y = iris
    small = TunedMLPClassifier(
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=5),
        param_space={"alpha": [1e-4]},
        search="grid",
        cv=2,
    ).fit(X, y)
    path = tmp_path / ("model.skops" if what == "save" else "report.html")
    if what == "save":
        save(small, path)
    else:
        write_report(small, path)
    before = path.read_bytes()
    script = tmp_path / "write.py"
    script.write_text(_WRITE_UNDER_A_SIZE_LIMIT)
    done = subprocess.run(
        [sys.executable, str(script), what, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "failed:" in done.stdout, done.stdout + done.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, "write.py"])
    if what == "save":
        np.testing.assert_array_equal(load(path).predict(X), small.predict(X))
