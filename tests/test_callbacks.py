"""scikit-learn's callbacks (``set_callbacks``) under every strategy.

The tuner's tree of tasks is compared with ``GridSearchCV``'s on the same
estimator and grid: the same kinds of tasks, in the same nesting, with the
fold fits' events coming back from the worker processes.
"""

import os
import pickle
from collections import Counter

import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier
from sk_mlp_tune._compat import CALLBACKS

from ._recording_callback import RecordingCallback

pytestmark = [
    pytest.mark.skipif(
        not CALLBACKS, reason="scikit-learn < 1.9 has no sklearn.callback"
    ),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

GRID = {"alpha": [1e-3, 1e-1]}


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def _network():
    return DropoutMLPClassifier(max_iter=4, random_state=0)


def _events(estimator, X, y, callback=None):
    """Fit ``estimator`` with a recording callback; return its events."""
    callback = callback or RecordingCallback()
    try:
        estimator.set_callbacks(callback).fit(X, y)
    finally:
        callback.close()
    return callback.events


def _shape(events):
    """Return the kinds of tasks, as paths of task names, and the hooks they got."""
    return {(hook, path) for hook, path, _ in events}


def _count(events, hook, path):
    return sum(1 for h, p, _ in events if h == hook and p == path)


@pytest.fixture(scope="module")
def grid_search_events(iris):
    X, y = iris
    return _events(GridSearchCV(_network(), GRID, cv=2, n_jobs=2), X, y)


@pytest.mark.parametrize("search", ["grid", "random", "bayes", "halving", "asha"])
def test_the_tuner_reports_as_grid_search_cv_does(search, iris, grid_search_events):
    X, y = iris
    tuner = TunedMLPClassifier(
        _network(), param_space=GRID, search=search, n_iter=2, cv=2, n_jobs=2,
        random_state=0, ensemble_size=1,
    )  # fmt: skip
    events = _events(tuner, X, y)
    expected = _shape(grid_search_events)
    if search == "halving":  # as scikit-learn's halving: a task per rung
        expected = {
            (hook, (*path[:2], "halving-iteration", *path[2:]))
            if path[:2] == ("fit", "search") and len(path) > 2
            else (hook, path)
            for hook, path in expected
        }
        expected |= {
            (h, ("fit", "search", "halving-iteration")) for h in ("begin", "end")
        }
    assert _shape(events) == expected
    fold_fit = next(p for _, p in expected if p[1:2] == ("search",) and p[-1] == "fit")
    n_fold_fits = len(tuner.cv_results_["params"]) * tuner.n_splits_
    assert _count(events, "begin", fold_fit) == n_fold_fits
    assert Counter((p for h, p, _ in events if h == "begin")) == Counter(
        (p for h, p, _ in events if h == "end")
    )
    # The fold fits ran in the workers, and their events came back.
    assert {pid for *_, pid in events} - {os.getpid()}
    assert not hasattr(tuner.search_, "_plan")  # no tree kept after fit
    pickle.dumps(tuner)


def test_each_further_ensemble_member_is_a_refit():
    X, y = make_classification(
        n_samples=600, n_features=12, n_informative=6, n_classes=3, flip_y=0.2,
        random_state=0,
    )  # fmt: skip
    tuner = TunedMLPClassifier(
        DropoutMLPClassifier(max_iter=60, random_state=0),
        param_space={
            "hidden_layer_sizes": [(4,), (8,), (16,), (32,)],
            "alpha": [1e-4, 1e-2, 1.0],
            "learning_rate_init": [1e-3, 1e-2],
        },
        search="random", n_iter=8, cv=3, scoring="neg_log_loss", random_state=0,
    )  # fmt: skip
    events = _events(tuner, StandardScaler().fit_transform(X), y)
    n_members = len(tuner.ensemble_estimators_)
    assert n_members > 1
    # The best's refit, then one more per further member, under the root.
    assert _count(events, "begin", ("fit", "fit")) == n_members


def test_a_pipeline_propagates_them_to_the_tuner_and_its_networks(iris):
    X, y = iris
    tuner = TunedMLPClassifier(
        _network(), param_space=GRID, search="random", n_iter=2, cv=2,
        ensemble_size=1,
    )  # fmt: skip
    events = _events(make_pipeline(StandardScaler(), tuner), X, y)
    paths = {path for _, path, _ in events}
    assert ("fit", "fit", "search", "fit", "epoch") in paths  # a fold's epoch
    assert ("fit", "fit", "fit", "epoch") in paths  # the refit's


def test_the_dropout_network_reports_each_epoch(iris):
    X, y = iris
    network = _network()
    events = _events(network, X, y)
    assert _count(events, "begin", ("fit", "epoch")) == network.n_iter_ == 4
    assert _count(events, "end", ("fit", "epoch")) == 4


class _StopAfterOneEpoch(RecordingCallback):
    def on_fit_task_end(self, estimator, context):
        super().on_fit_task_end(estimator, context)
        return context.task_name == "epoch"


def test_a_callback_can_stop_the_training(iris):
    X, y = iris
    network = _network()
    _events(network, X, y, _StopAfterOneEpoch())
    assert network.n_iter_ == 1


def test_the_callbacks_survive_clone_and_leave_the_fit_alone(iris):
    X, y = iris
    callback = RecordingCallback()
    try:
        tuner = TunedMLPClassifier(
            _network(), param_space=GRID, search="grid", cv=2, random_state=0,
            ensemble_size=1,
        ).set_callbacks(callback)  # fmt: skip
        plain = TunedMLPClassifier(
            _network(), param_space=GRID, search="grid", cv=2, random_state=0,
            ensemble_size=1,
        )  # fmt: skip
        assert clone(tuner)._skl_callbacks == [callback]
        tuner.fit(X, y)
        plain.fit(X, y)
    finally:
        callback.close()
    assert (tuner.predict(X) == plain.predict(X)).all()
    assert tuner.best_params_ == plain.best_params_


def test_scikit_learns_progress_bar_runs_under_asha(iris):
    pytest.importorskip("rich", reason="ProgressBar needs rich")
    from sklearn.callback import ProgressBar

    X, y = iris
    tuner = TunedMLPClassifier(
        _network(), param_space=GRID, search="asha", n_iter=3, cv=2, n_jobs=2,
        random_state=0,
    ).set_callbacks(ProgressBar(max_propagation_depth=None))  # fmt: skip
    tuner.fit(X, y)
    assert hasattr(tuner, "best_estimator_")
