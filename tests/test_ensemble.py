"""The ensemble of the best candidates (``ensemble_size``): selection, fit, predict."""

import dataclasses
import pickle
import re
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import TunedMLPClassifier, TunedMLPRegressor, _searchbase
from sk_mlp_tune._ensemble import AUTO_MIN_SAMPLES, greedy_selection, out_of_fold
from sk_mlp_tune._monitor import Interrupted

SPACE = {
    "hidden_layer_sizes": [(4,), (8,), (16,), (32,)],
    "alpha": [1e-4, 1e-2, 1.0],
    "learning_rate_init": [1e-3, 1e-2],
}


@pytest.fixture(scope="module")
def noisy():
    """Return a noisy three-class problem, 20% of its labels flipped, split in two."""
    X, y = make_classification(
        n_samples=900, n_features=12, n_informative=6, n_classes=3,
        flip_y=0.2, random_state=0,
    )  # fmt: skip
    X = StandardScaler().fit_transform(X)
    return X[:600], y[:600], X[600:], y[600:]


def _tuner(**params):
    params = {"search": "random", "n_iter": 8, "cv": 3, "random_state": 0, **params}
    return TunedMLPClassifier(
        MLPClassifier(max_iter=60, random_state=0), param_space=SPACE, **params
    )


def _by_hand(tuner, method, X):
    """Return the weighted mean of the members' ``method``, computed here."""
    members, weights = tuner.ensemble_estimators_, tuner.ensemble_weights_
    return sum(w * getattr(m, method)(X) for m, w in zip(members, weights, strict=True))


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def ensemble(noisy):
    X, y, _, _ = noisy
    return _fit(_tuner(ensemble_size=8, scoring="neg_log_loss"), X, y)


def test_greedy_selection_reproduces_a_hand_computed_run():
    """Check the rounds against a run worked out by hand, with no ties.

    y = (0, 1), scored by minus the squared error of the average so far.
    Round 1, alone: A = (.5, 1) errs .25, B = (0, .6) .16, C = (.3, .3) .58:
    B. Round 2, averaged with B: A gives (.25, .8), .1025; B .16; C
    (.15, .45), .325: A. Round 3, with A + B = (.5, 1.6): A gives (.333,
    .867), .1289; B (.167, .733), .0989; C (.267, .633), .2056: B. Counts
    (1, 2, 0).
    """
    y = np.array([0.0, 1.0])
    library = [
        np.array([[0.5], [1.0]]),
        np.array([[0.0], [0.6]]),
        np.array([[0.3], [0.3]]),
    ]
    counts = greedy_selection(library, lambda v: -np.sum((v[:, 0] - y) ** 2), 3)
    np.testing.assert_array_equal(counts, [1, 2, 0])


def test_greedy_selection_never_chooses_a_nan_score():
    library = [np.zeros((2, 1)), np.ones((2, 1))]
    counts = greedy_selection(library, lambda v: np.nan if v[0, 0] < 1 else 1.0, 4)
    np.testing.assert_array_equal(counts, [0, 4])


def test_out_of_fold_puts_each_prediction_at_its_row():
    splits = [(np.array([2, 3]), np.array([0, 1])), (np.array([0, 1]), np.array([2]))]
    values = out_of_fold([np.array([[1.0], [2.0]]), np.array([[3.0]])], splits, 4)
    np.testing.assert_array_equal(values[:3, 0], [1.0, 2.0, 3.0])
    assert np.isnan(values[3, 0])  # no fold held it out
    assert values.dtype == np.float32


def test_the_best_single_out_of_fold_score_is_cross_val_predicts(noisy):
    """Check the fold tasks' predictions against scikit-learn's cross_val_predict."""
    X, y, _, _ = noisy
    tuner = _fit(_tuner(ensemble_size=3), X, y)
    best = tuner.ensemble_single_score_
    rows = tuner.cv_results_["rank_test_score"]
    assert rows[tuner.best_index_] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        proba = cross_val_predict(
            clone(tuner.best_estimator_), X, y, cv=StratifiedKFold(3),
            method="predict_proba",
        )  # fmt: skip
    assert best == pytest.approx(accuracy_score(y, tuner.classes_[proba.argmax(1)]))


def test_predict_proba_is_the_weighted_mean_of_the_members(ensemble, noisy):
    _, _, X_test, _ = noisy
    assert len(ensemble.ensemble_estimators_) > 1
    expected = _by_hand(ensemble, "predict_proba", X_test)
    np.testing.assert_allclose(ensemble.predict_proba(X_test), expected)
    np.testing.assert_array_equal(
        ensemble.predict(X_test), ensemble.classes_[expected.argmax(axis=1)]
    )
    np.testing.assert_allclose(
        ensemble.predict_log_proba(X_test), np.log(expected), rtol=1e-6
    )
    assert ensemble.score(X_test, noisy[3]) == pytest.approx(
        -log_loss(noisy[3], expected)
    )


def test_weights_are_positive_and_sum_to_one(ensemble):
    weights = ensemble.ensemble_weights_
    assert (weights > 0).all()
    assert weights.sum() == pytest.approx(1.0)
    assert len(weights) == len(ensemble.ensemble_estimators_)
    assert len(set(ensemble.ensemble_indices_)) == len(weights)
    # Counts over eight rounds.
    np.testing.assert_allclose(weights * 8, np.round(weights * 8))


def test_the_best_model_stays_the_single_best(ensemble):
    """best_estimator_, best_params_, coefs_ are the single best network's."""
    assert ensemble.best_index_ in ensemble.ensemble_indices_
    best = ensemble.ensemble_estimators_[
        ensemble.ensemble_indices_.index(ensemble.best_index_)
    ]
    assert best is ensemble.best_estimator_
    assert ensemble.coefs_ is ensemble.best_estimator_.coefs_


def test_members_are_refitted_with_their_own_parameters(ensemble):
    rows, members = ensemble.ensemble_indices_, ensemble.ensemble_estimators_
    for row, member in zip(rows, members, strict=True):
        params = ensemble.cv_results_["params"][row]
        assert {k: member.get_params()[k] for k in params} == params
        assert member.n_features_in_ == 12


def test_ensemble_size_1_is_the_best_estimator(noisy):
    X, y, X_test, _ = noisy
    tuner = _fit(_tuner(ensemble_size=1), X, y)
    assert np.isnan(tuner.ensemble_score_)
    assert tuner.ensemble_estimators_ == [tuner.best_estimator_]
    np.testing.assert_array_equal(tuner.ensemble_weights_, [1.0])
    np.testing.assert_array_equal(
        tuner.predict_proba(X_test), tuner.best_estimator_.predict_proba(X_test)
    )


def test_on_held_out_noisy_data_the_ensemble_has_a_lower_log_loss(ensemble, noisy):
    X, y, X_test, y_test = noisy
    single = _fit(_tuner(scoring="neg_log_loss"), X, y)
    assert single.best_params_ == ensemble.best_params_  # the same search
    ensembled = log_loss(y_test, ensemble.predict_proba(X_test))
    alone = log_loss(y_test, single.predict_proba(X_test))
    assert ensembled < alone
    assert ensemble.ensemble_score_ > ensemble.ensemble_single_score_


def test_the_regressor_averages_its_members():
    X, y = make_friedman1(n_samples=300, n_features=6, noise=1.0, random_state=0)
    tuner = TunedMLPRegressor(
        MLPRegressor(max_iter=80, random_state=0),
        param_space=SPACE,
        search="random",
        n_iter=6,
        cv=3,
        random_state=0,
        ensemble_size=6,
    )
    _fit(tuner, X, y)
    assert len(tuner.ensemble_estimators_) > 1
    expected = _by_hand(tuner, "predict", X)
    np.testing.assert_allclose(tuner.predict(X), expected)
    assert tuner.ensemble_score_ > tuner.ensemble_single_score_  # R², out of fold


@pytest.mark.parametrize("search", ["halving", "asha"])
def test_successive_halving_draws_on_its_top_rung_and_says_when_it_is_short(
    search, noisy
):
    X, y, X_test, _ = noisy
    tuner = _tuner(search=search, n_iter=12, ensemble_size=20)
    with pytest.warns(UserWarning, match="ensemble_size=20, but only"):
        _fit(tuner, X, y)
    results = tuner.cv_results_
    top = np.max(results["iter"])
    assert all(results["iter"][row] == top for row in tuner.ensemble_indices_)
    assert tuner.predict_proba(X_test).shape == (len(X_test), 3)


def test_a_pipeline_ensembles_its_whole_pipelines(noisy):
    X, y, X_test, _ = noisy
    tuner = TunedMLPClassifier(
        make_pipeline(StandardScaler(), MLPClassifier(max_iter=60, random_state=0)),
        param_space={f"mlpclassifier__{k}": v for k, v in SPACE.items()},
        search="random",
        n_iter=6,
        cv=3,
        random_state=0,
        ensemble_size=6,
        scoring="neg_log_loss",
    )
    _fit(tuner, X, y)
    members = tuner.ensemble_estimators_
    assert len(members) > 1
    expected = _by_hand(tuner, "predict_proba", X_test)
    np.testing.assert_allclose(tuner.predict_proba(X_test), expected)


def test_ensemble_size_needs_a_refit(noisy):
    X, y, _, _ = noisy
    with pytest.raises(ValueError, match=r"ensemble_size=5 refits .* refit=False"):
        _tuner(ensemble_size=5, refit=False).fit(X, y)


def test_auto_ensembles_ten_rounds_and_keeps_quiet_about_few_candidates(noisy):
    """The default chooses over 10 rounds, without the warning an int gets."""
    X, y, _, _ = noisy
    auto = _tuner(n_iter=4)
    assert auto.get_params()["ensemble_size"] == "auto"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _fit(auto, X, y)
    with pytest.warns(UserWarning, match="ensemble_size=10, but only 4"):
        ten = _fit(_tuner(n_iter=4, ensemble_size=10), X, y)
    assert auto.ensemble_indices_ == ten.ensemble_indices_
    np.testing.assert_array_equal(auto.ensemble_weights_, ten.ensemble_weights_)
    assert not np.isnan(auto.ensemble_score_)


@pytest.mark.parametrize(
    "params",
    [{"refit": False}, {"scoring": ["accuracy", "neg_log_loss"], "refit": False}],
)
def test_auto_keeps_the_best_alone_where_there_is_no_ensemble_to_choose(noisy, params):
    X, y, _, _ = noisy
    tuner = _fit(_tuner(n_iter=3, **params), X, y)
    assert not hasattr(tuner, "ensemble_estimators_")
    assert not hasattr(tuner.search_, "out_of_fold_")


def test_auto_keeps_the_best_alone_on_a_small_table_where_an_int_still_ensembles(noisy):
    """Below ``AUTO_MIN_SAMPLES`` rows "auto" is the best alone; an int is obeyed."""
    X, y, X_test, _ = noisy
    X, y = X[: AUTO_MIN_SAMPLES - 1], y[: AUTO_MIN_SAMPLES - 1]
    auto = _fit(_tuner(n_iter=4, scoring="neg_log_loss"), X, y)
    assert auto.ensemble_estimators_ == [auto.best_estimator_]
    assert auto.ensemble_indices_ == [auto.best_index_]
    np.testing.assert_array_equal(
        auto.predict_proba(X_test), auto.best_estimator_.predict_proba(X_test)
    )
    asked = _fit(_tuner(n_iter=4, scoring="neg_log_loss", ensemble_size=4), X, y)
    assert asked.best_index_ == auto.best_index_
    assert len(set(asked.ensemble_indices_)) > 1


def test_ctrl_c_during_the_members_refits_keeps_those_refitted(noisy, monkeypatch):
    """Check a Ctrl-C at the first refit after the best's: the best kept alone."""
    X, y, X_test, _ = noisy
    refit = _searchbase.refit
    calls = []

    def refit_then_ctrl_c(*args):
        calls.append(args)
        if len(calls) == 2:
            raise Interrupted(1)
        return refit(*args)

    tuner = _tuner(ensemble_size=8, scoring="neg_log_loss")
    # The one finish refits the best, then the members: the second refit is
    # the first member's that is not the best.
    monkeypatch.setattr(_searchbase, "refit", refit_then_ctrl_c)
    with pytest.warns(UserWarning, match="Ctrl-C left room to refit"):
        _fit(tuner, X, y)
    assert tuner.stop_reason_ == "interrupted"
    assert tuner.ensemble_estimators_ == [tuner.best_estimator_]
    assert tuner.ensemble_weights_.sum() == pytest.approx(1.0)
    expected = _by_hand(tuner, "predict_proba", X_test)
    np.testing.assert_allclose(tuner.predict_proba(X_test), expected)


def test_a_member_that_would_overrun_max_time_is_not_refitted(noisy, monkeypatch):
    """Check that the members share the budget: no refit starts past it."""
    X, y, _, _ = noisy
    tuner = _tuner(ensemble_size=8, scoring="neg_log_loss")
    _fit(tuner, X, y)
    assert len(tuner.ensemble_estimators_) > 1
    monkeypatch.setattr(_searchbase, "refit", pytest.fail)  # no refit may start
    monitor = type(
        "Spent", (), {"elapsed": 9.99, "max_time": 10, "stop_reason": "completed"}
    )()
    # The folds' training rows scale a member's fold fit time to all rows.
    job = type("Job", (), {"X": X, "splits": lambda self: [(np.arange(400), None)]})()
    row = next(r for r in tuner.ensemble_indices_ if r != tuner.best_index_)
    assert tuner.search_._refit_member(job, row, monitor, None) is None


def test_a_skops_file_predicts_as_the_ensemble_did(ensemble, noisy, tmp_path):
    pytest.importorskip("skops.io", reason="skops is not installed (the 'io' extra)")
    from sk_mlp_tune import load, save

    path = tmp_path / "ensemble.skops"
    save(ensemble, path)
    loaded = load(path)
    _, _, X_test, _ = noisy
    np.testing.assert_array_equal(
        loaded.predict_proba(X_test), ensemble.predict_proba(X_test)
    )
    np.testing.assert_array_equal(loaded.ensemble_weights_, ensemble.ensemble_weights_)


def test_a_resumed_asha_search_builds_the_same_ensemble(noisy, tmp_path):
    """Check that the checkpoint keeps the fold predictions: replayed, alike."""
    X, y, X_test, _ = noisy
    tuner = _tuner(
        search="asha", n_iter=9, ensemble_size=4, checkpoint=tmp_path / "s.ckpt"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _fit(tuner, X, y)
        first = (tuner.ensemble_indices_, tuner.ensemble_weights_)
        proba = tuner.predict_proba(X_test)
        _fit(tuner, X, y)  # every fold replayed from the checkpoint
    assert len(first[0]) > 1
    assert tuner.search_.n_tasks_replayed_ > 0
    assert tuner.ensemble_indices_ == first[0]
    np.testing.assert_array_equal(tuner.ensemble_weights_, first[1])
    np.testing.assert_allclose(tuner.predict_proba(X_test), proba)


def test_warm_start_ensembles_every_rounds_candidates(noisy):
    """Check that a continued round chooses among the candidates of every round.

    The second round searches a poor space (one neuron, a heavy penalty).
    Before, its ensemble came from those alone while ``best_score_`` was the
    first round's, and ``predict`` scored far below ``best_estimator_``.
    """
    X, y, X_test, y_test = noisy
    tuner = _tuner(warm_start=True, ensemble_size=4, n_iter=4)
    _fit(tuner, X, y)
    first_round = len(tuner.cv_results_["params"])
    poor = {"hidden_layer_sizes": [(1,)], "alpha": [10.0, 30.0, 100.0]}
    _fit(tuner.set_params(n_iter=3, param_space=poor), X, y)
    assert len(tuner.cv_results_["params"]) == first_round + 3
    assert tuner.best_index_ < first_round
    assert any(row < first_round for row in tuner.ensemble_indices_)
    assert tuner.ensemble_weights_.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(
        tuner.predict_proba(X_test), _by_hand(tuner, "predict_proba", X_test)
    )
    alone = accuracy_score(y_test, tuner.best_estimator_.predict(X_test))
    assert accuracy_score(y_test, tuner.predict(X_test)) >= alone - 0.05


def test_a_selection_of_one_member_is_the_best_alone(noisy, monkeypatch):
    """Check that what predict uses is what ensemble_*_ describe, for one member.

    Before, a one-member ensemble other than the best was described by
    ``ensemble_indices_`` and ignored by ``predict``.
    """
    X, y, X_test, _ = noisy
    chosen = {}
    real_select = _searchbase.select

    def one_member(*args, **kwargs):
        selection = real_select(*args, **kwargs)
        other = next(r for r in args[0] if r != chosen["best"])
        return dataclasses.replace(selection, rows=[other], weights=np.ones(1))

    monkeypatch.setattr(_searchbase, "select", one_member)
    tuner = _tuner(ensemble_size=4)
    real_select_best = _searchbase._EngineSearchMixin._select_best_index

    def remember(self, *args):
        chosen["best"] = real_select_best(self, *args)
        return chosen["best"]

    monkeypatch.setattr(_searchbase._EngineSearchMixin, "_select_best_index", remember)
    _fit(tuner, X, y)
    assert tuner.ensemble_indices_ == [tuner.best_index_]
    assert tuner.ensemble_estimators_ == [tuner.best_estimator_]
    np.testing.assert_array_equal(
        tuner.predict_proba(X_test), tuner.best_estimator_.predict_proba(X_test)
    )


def test_pickle_and_clone_carry_the_ensemble(ensemble, noisy):
    _, _, X_test, _ = noisy
    again = pickle.loads(pickle.dumps(ensemble))
    np.testing.assert_array_equal(
        again.predict_proba(X_test), ensemble.predict_proba(X_test)
    )
    assert clone(ensemble).get_params()["ensemble_size"] == 8
    assert not hasattr(clone(ensemble), "ensemble_estimators_")


def test_the_report_shows_members_weights_and_both_scores(ensemble):
    from sk_mlp_tune.report import build_report

    page = build_report(ensemble)
    section = page.split("<h2>Ensemble</h2>")[1].split("<h2>")[0]
    assert f"the ensemble scores {ensemble.ensemble_score_:.4f}" in section
    assert f"alone {ensemble.ensemble_single_score_:.4f}" in section
    assert "neg_log_loss" in section
    for row, weight in zip(
        ensemble.ensemble_indices_, ensemble.ensemble_weights_, strict=True
    ):
        assert re.search(rf"<td[^>]*>{row}</td>", section)
        assert f"{weight:.3f}" in section
