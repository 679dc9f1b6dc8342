"""search="asha": the package's own successive halving that continues training."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier
from sk_mlp_tune._asha import rung_epochs
from sk_mlp_tune._checkpoint import CHECKPOINT_MAGIC, read_journal

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SPACE = {
    "learning_rate_init": (1e-3, 1e-1, "log-uniform"),
    "n_neurons": (8, 64, "log-uniform"),
}


def _asha(**params):
    settings = {
        "estimator": DropoutMLPClassifier(max_iter=27),
        "param_space": SPACE,
        "search": "asha",
        "n_iter": 9,
        "cv": 3,
        "random_state": 0,
    }
    return TunedMLPClassifier(**{**settings, **params})


def _comparable(results):
    """Return cv_results_ without the timings, which differ run to run."""
    return {k: v for k, v in results.items() if "time" not in k}


def _assert_same_results(got, expected):
    got, expected = _comparable(got), _comparable(expected)
    assert sorted(got) == sorted(expected)
    assert got["params"] == expected["params"]
    for key in got:
        if key != "params" and not key.startswith("param_"):
            np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


@pytest.fixture(scope="module")
def fitted(digits):
    return _asha().fit(*digits)


def test_asha_rungs_grow_by_the_factor_up_to_max_iter():
    """Check that the rungs are max_iter / 3**k, as many as halving needs."""
    assert rung_epochs(27, 9) == [3, 9, 27]
    assert rung_epochs(200, 20) == [22, 67, 200]
    assert rung_epochs(5, 81) == [1, 2, 5]  # no rung under one epoch
    assert rung_epochs(50, 2) == [50]


def test_asha_results_have_a_row_per_candidate_per_rung(fitted):
    """Check that cv_results_ has halving's layout, one row per rung reached."""
    results = fitted.cv_results_
    rows = list(zip(results["params"], results["iter"], strict=True))
    assert len(rows) == len({(repr(p), r) for p, r in rows})
    assert set(results["n_resources"]) <= {3, 9, 27}
    np.testing.assert_array_equal(
        results["n_resources"], np.array([3, 9, 27])[results["iter"]]
    )
    assert all(len(results[f"split{k}_test_score"]) == len(rows) for k in range(3))
    assert fitted.search_.n_candidates_[0] == 9  # every candidate ran rung 0
    # A candidate at a higher rung was at every lower one first.
    for params, rung in rows:
        for lower in range(rung):
            assert (repr(params), lower) in {(repr(p), r) for p, r in rows}


def test_asha_winner_comes_from_the_highest_rung(fitted):
    """Check that the best row is the top scorer of the highest rung reached."""
    results = fitted.cv_results_
    top = results["iter"] == results["iter"].max()
    best = fitted.best_index_
    assert results["iter"][best] == results["iter"].max()
    assert results["mean_test_score"][best] == results["mean_test_score"][top].max()
    assert results["rank_test_score"][best] == 1
    # Lower rungs rank after every row of a higher rung, whatever their score.
    assert (
        results["rank_test_score"][~top].min() > results["rank_test_score"][top].max()
    )


def test_asha_refit_trains_the_winner_for_the_epochs_it_earned(digits, fitted):
    """Check that best_estimator_ equals a manual fit for the winner's epochs."""
    X, y = digits
    epochs = fitted.cv_results_["n_resources"][fitted.best_index_]
    assert fitted.best_estimator_.max_iter == epochs
    manual = clone(fitted.search_.best_estimator_).fit(X, y)
    for got, expected in zip(fitted.coefs_, manual.coefs_, strict=True):
        np.testing.assert_array_equal(got, expected)
    assert fitted.best_params_ == fitted.cv_results_["params"][fitted.best_index_]


def test_asha_continues_rather_than_restarts(fitted):
    """Check that promoted fold models train only the epochs they lack."""
    results = fitted.cv_results_
    restarting = int(np.sum(results["n_resources"])) * fitted.n_splits_
    # Continuing, a row trains only the epochs its rung adds to the one before.
    rungs = np.array(fitted.search_.rungs_)
    added = np.diff(rungs, prepend=0)
    continuing = int(added[results["iter"]].sum()) * fitted.n_splits_
    # Fold fits may also stop early by their tolerance.
    assert fitted.search_.n_epochs_trained_ <= continuing < restarting


def test_asha_first_candidate_is_the_estimator_as_given(fitted):
    """Check that the estimator's own settings run first, up to the top rung."""
    # In the space's terms: n_neurons=None builds scikit-learn's 100 units.
    own = {"learning_rate_init": 0.001, "n_neurons": 100}
    results = fitted.cv_results_
    assert results["params"][0] == own
    rows = [i for i, p in enumerate(results["params"]) if p == own]
    assert list(results["iter"][rows]) == [0, 1, 2]
    assert set(results["origin"][rows]) == {"estimator"}
    assert set(np.delete(results["origin"], rows)) == {"search"}


def test_asha_is_reproducible_with_one_job(digits, fitted):
    """Check that a seeded search with n_jobs=1 repeats itself exactly."""
    again = _asha().fit(*digits)
    _assert_same_results(again.cv_results_, fitted.cv_results_)
    assert again.best_params_ == fitted.best_params_


def test_asha_seeded_results_do_not_depend_on_n_jobs(digits, fitted):
    """Check that loky workers give a seeded search the one-job results."""
    parallel = _asha(n_jobs=2).fit(*digits)
    _assert_same_results(parallel.cv_results_, fitted.cv_results_)
    assert parallel.best_params_ == fitted.best_params_


def test_asha_unseeded_runs_asynchronously_to_a_complete_search(digits):
    """Check that without a seed the search decides as results come, and ends."""
    tuner = _asha(n_jobs=2, random_state=None).fit(*digits)
    assert tuner.search_.n_candidates_[0] == 9
    assert tuner.cv_results_["iter"][tuner.best_index_] == 2


def test_asha_tunes_a_pipeline_over_its_final_step_epochs(digits):
    """Check that a pipeline's final MLP is the one whose epochs grow."""
    X, y = digits
    pipeline = Pipeline(
        [("scale", StandardScaler()), ("mlp", MLPClassifier(max_iter=9))]
    )
    tuner = TunedMLPClassifier(
        pipeline,
        param_space={"mlp__alpha": (1e-5, 1e-1, "log-uniform")},
        search="asha",
        n_iter=4,
        cv=2,
        random_state=0,
    ).fit(X, y)
    assert set(tuner.cv_results_["n_resources"]) <= {3, 9}
    best_epochs = tuner.cv_results_["n_resources"][tuner.best_index_]
    assert tuner.best_estimator_[-1].max_iter == best_epochs
    assert tuner.score(X, y) > 0.8


def test_asha_takes_sample_weight(digits):
    """Check that sample_weight reaches every fold fit: zero weights change it."""
    X, y = digits
    weights = np.where(y == 0, 0.0, 1.0)
    plain = _asha(n_iter=3).fit(X, y)
    weighted = _asha(n_iter=3).fit(X, y, sample_weight=weights)
    assert not np.array_equal(
        plain.cv_results_["split0_test_score"],
        weighted.cv_results_["split0_test_score"],
    )


def test_asha_weights_the_scores_as_grid_search_cv(digits):
    """Check the first rung's weighted fold scores against GridSearchCV's.

    Candidate 0 is the estimator's own settings and its first rung a fresh
    fit for that rung's epochs: GridSearchCV over those epochs, with the
    same weights, must score the same folds the same.
    """
    from sklearn.model_selection import GridSearchCV

    X, y = digits
    weights = np.random.default_rng(0).uniform(0.1, 3.0, len(y))
    mlp = DropoutMLPClassifier(max_iter=27, random_state=0)
    tuner = _asha(estimator=mlp, n_iter=3).fit(X, y, sample_weight=weights)
    first_rung = tuner.search_.rungs_[0]
    reference = GridSearchCV(mlp, {"max_iter": [first_rung]}, cv=3).fit(
        X, y, sample_weight=weights
    )
    row = 0  # candidate 0, rung 0
    assert tuner.cv_results_["iter"][row] == 0
    for fold in range(3):
        key = f"split{fold}_test_score"
        assert tuner.cv_results_[key][row] == pytest.approx(
            reference.cv_results_[key][0]
        )


def test_asha_stops_at_max_time(digits):
    """Check that no task starts after the budget, and the reason is kept."""
    tuner = _asha(n_iter=50, max_time=1e-9).fit(*digits)
    assert tuner.stop_reason_ == "max_time"
    assert tuner.search_.n_candidates_[0] < 50


@pytest.mark.parametrize(
    ("params", "err_type", "match"),
    [
        (
            {"estimator": KNeighborsClassifier(), "param_space": {"n_neighbors": [3]}},
            ValueError,
            "max_iter and warm_start parameters",
        ),
        (
            {"search": "random", "checkpoint": "x.ckpt"},
            ValueError,
            "needs search='asha'",
        ),
        ({"warm_start": True}, ValueError, "cannot continue search='asha'"),
        (
            {"checkpoint": "x.ckpt", "random_state": None},
            ValueError,
            "needs an integer random_state",
        ),
    ],
)
def test_asha_bad_settings_fail_before_fitting(iris, params, err_type, match):
    """Check that settings asha cannot run fail clearly before any fit."""
    with pytest.raises(err_type, match=match):
        _asha(**params).fit(*iris)


def test_asha_every_fold_failing_raises_with_the_cause(iris):
    """Check that a search where every fit fails says why, as GridSearchCV says it."""
    tuner = _asha(
        # Accepted by the constraints, refused by fit: every fold fails.
        estimator=MLPClassifier(max_iter=9, hidden_layer_sizes=(0,)),
        param_space={"hidden_layer_sizes": [(0,)]},
        n_iter=2,
    )
    with pytest.raises(ValueError, match=r"All the \d+ fits failed") as raised:
        tuner.fit(*iris)
    assert "hidden_layer_sizes must be > 0" in str(raised.value)


# -- checkpoint ---------------------------------------------------------------


def test_asha_checkpoint_replays_a_finished_search(digits, fitted, tmp_path):
    """Check that a second fit on a checkpoint reuses every task's result."""
    path = tmp_path / "search.ckpt"
    first = _asha(checkpoint=path).fit(*digits)
    _assert_same_results(first.cv_results_, fitted.cv_results_)
    again = _asha(checkpoint=path).fit(*digits)
    n_tasks = sum(fitted.search_.n_candidates_) * fitted.n_splits_
    assert again.search_.n_tasks_replayed_ == n_tasks
    _assert_same_results(again.cv_results_, fitted.cv_results_)
    # Plain data: a header, then a fold's scores per record.
    header, *records = read_journal(path)
    assert header["fingerprint"]
    assert len(records) == n_tasks
    assert all(isinstance(record["test_score"], float) for record in records)


@pytest.mark.parametrize(
    "change",
    [
        {"random_state": 1},
        {"n_iter": 5},
        {"param_space": {"learning_rate_init": (1e-3, 1e-1, "log-uniform")}},
    ],
)
def test_asha_checkpoint_refuses_other_settings(digits, tmp_path, change):
    """Check that other settings are refused and the checkpoint left untouched."""
    path = tmp_path / "search.ckpt"
    _asha(n_iter=3, checkpoint=path).fit(*digits)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="other data or settings"):
        _asha(**{"n_iter": 3, "checkpoint": path, **change}).fit(*digits)
    assert path.read_bytes() == before


def test_asha_checkpoint_refuses_other_data(digits, tmp_path):
    """Check that other data is refused and the checkpoint left untouched."""
    X, y = digits
    path = tmp_path / "search.ckpt"
    _asha(n_iter=3, checkpoint=path).fit(X, y)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="other data or settings"):
        _asha(n_iter=3, checkpoint=path).fit(X[:-1], y[:-1])
    assert path.read_bytes() == before


def test_asha_checkpoint_ignores_a_torn_last_record(digits, tmp_path):
    """Check that a record cut short by a crash is dropped, and the rest kept."""
    path = tmp_path / "search.ckpt"
    reference = _asha(n_iter=3, checkpoint=path).fit(*digits)
    records = read_journal(path)
    with open(path, "ab") as file:  # half a record, as a kill mid-write leaves
        file.write(b"\x40\x00\x00\x00\x00\x00\x00\x00\x01\x02")
    resumed = _asha(n_iter=3, checkpoint=path).fit(*digits)
    assert resumed.search_.n_tasks_replayed_ == len(records) - 1
    _assert_same_results(resumed.cv_results_, reference.cv_results_)


class _RunsCode:
    """A pickle payload that leaves a mark if anything unpickles it."""

    def __init__(self, mark):
        self.mark = mark

    def __reduce__(self):
        return (open, (self.mark, "w"))


def _pickled_journal(mark):
    """Return an old-format checkpoint whose header runs code when unpickled."""
    import pickle
    import struct
    import zlib

    data = pickle.dumps(_RunsCode(str(mark)))
    return struct.pack("<QI", len(data), zlib.crc32(data)) + data


@pytest.mark.parametrize(
    "content",
    [
        "pickle",
        b"sepal length,species\n5.1,setosa\n",
        b"PK\x03\x04skops-like zip bytes",
        bytes(range(256)) * 4,
    ],
    ids=["pickle", "csv", "zip", "random"],
)
def test_asha_checkpoint_that_is_not_one_is_refused_and_runs_nothing(
    iris, tmp_path, content
):
    """Check that no file at the checkpoint path is unpickled, whatever its bytes."""
    path, mark = tmp_path / "search.ckpt", tmp_path / "code-ran"
    path.write_bytes(_pickled_journal(mark) if content == "pickle" else content)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="is not a checkpoint of sk_mlp_tune"):
        _asha(n_iter=2, checkpoint=path).fit(*iris)
    assert not mark.exists()
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "cut", [0, 5, len(CHECKPOINT_MAGIC), len(CHECKPOINT_MAGIC) + 7], ids=str
)
def test_asha_checkpoint_cut_before_its_header_starts_over(iris, tmp_path, cut):
    """Check a checkpoint cut short before its header was synced: empty, not alien."""
    path = tmp_path / "search.ckpt"
    reference = _asha(n_iter=3, checkpoint=path).fit(*iris)
    written = read_journal(path)
    path.write_bytes(path.read_bytes()[:cut])
    again = _asha(n_iter=3, checkpoint=path).fit(*iris)
    assert again.search_.n_tasks_replayed_ == 0
    _assert_same_results(again.cv_results_, reference.cv_results_)
    rewritten = read_journal(path)
    assert [r.get("test_score") for r in rewritten] == [
        r.get("test_score") for r in written
    ]


def test_asha_replaying_a_finished_checkpoint_leaves_the_file_alone(iris, tmp_path):
    """Check that replaying writes nothing: a read-only checkpoint replays too."""
    path = tmp_path / "search.ckpt"
    _asha(n_iter=3, checkpoint=path).fit(*iris)
    before = path.stat()
    path.chmod(0o444)
    try:
        again = _asha(n_iter=3, checkpoint=path).fit(*iris)
    finally:
        path.chmod(0o644)
    after = path.stat()
    assert again.search_.n_tasks_replayed_ > 0
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.parametrize(
    ("setting", "match"),
    [
        ({"scoring": lambda est, X, y: est.score(X, y)}, "scoring"),
        ({"cv": "shuffled"}, "cv"),
    ],
    ids=["lambda scorer", "unseeded shuffle"],
)
def test_asha_checkpoint_refuses_settings_it_could_never_resume(
    iris, tmp_path, setting, match
):
    """Check settings that would give another fingerprint in every process."""
    from sklearn.model_selection import StratifiedKFold

    if setting.get("cv") == "shuffled":
        setting = {"cv": StratifiedKFold(3, shuffle=True)}
    path = tmp_path / "search.ckpt"
    with pytest.raises(ValueError, match=match):
        _asha(n_iter=2, checkpoint=path, **setting).fit(*iris)
    assert not path.exists()


_KILLED_SEARCH = textwrap.dedent(
    """
    import sys
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler
    from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier

    X, y = load_digits(return_X_y=True)
    X, y = StandardScaler().fit_transform(X[:500]), y[:500]
    TunedMLPClassifier(
        DropoutMLPClassifier(max_iter=27),
        param_space={
            "learning_rate_init": (1e-3, 1e-1, "log-uniform"),
            "n_neurons": (8, 64, "log-uniform"),
        },
        search="asha", n_iter=9, cv=3, random_state=0, checkpoint=sys.argv[1],
    ).fit(X, y)
    """
)


def test_asha_resumes_after_sigkill_to_the_same_answer(digits, fitted, tmp_path):
    """Check that a search killed halfway resumes to the uninterrupted answer."""
    path = tmp_path / "search.ckpt"
    script = tmp_path / "search.py"
    script.write_text(_KILLED_SEARCH)
    n_tasks = sum(fitted.search_.n_candidates_) * fitted.n_splits_
    process = subprocess.Popen([sys.executable, str(script), str(path)])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if path.exists() and len(read_journal(path)) > n_tasks // 2:
                break
            assert process.poll() is None, "the search ended before it was killed"
            time.sleep(0.05)
        else:
            pytest.fail("the search wrote too few records in 120 s")
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    n_written = len(read_journal(path)) - 1  # less the header
    assert 0 < n_written < n_tasks

    X, y = digits
    resumed = _asha(checkpoint=path).fit(X, y)
    assert resumed.search_.n_tasks_replayed_ == n_written
    _assert_same_results(resumed.cv_results_, fitted.cv_results_)
    assert resumed.best_params_ == fitted.best_params_
    np.testing.assert_array_equal(resumed.predict(X), fitted.predict(X))
    assert os.path.getsize(path) > 0
