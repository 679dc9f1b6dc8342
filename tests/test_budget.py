"""Budgets, halving, progress, the warning summary and continuing a search."""

import io
import os
import time
import warnings

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier
from sk_mlp_tune._monitor import ProgressLine, SearchMonitor
from sk_mlp_tune._skopt import default_n_points

SEARCHES = ["grid", "random", "bayes", "halving"]
SPACE = {
    "hidden_layer_sizes": [(16,), (32,), (64,)],
    "alpha": (1e-5, 1e-1, "log-uniform"),
    "learning_rate_init": (1e-3, 1e-1, "log-uniform"),
}


def slow_tuner(search, **params):
    """Return a tuner whose full search would take far longer than a few seconds."""
    defaults = {
        "param_space": SPACE,
        "search": search,
        "n_iter": 300,
        "n_grid_points": 10,
        "cv": 2,
        "random_state": 0,
    }
    return TunedMLPClassifier(MLPClassifier(max_iter=60), **{**defaults, **params})


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("search", SEARCHES)
def test_max_time_bounds_the_whole_fit(digits, search):
    """Check that a 3-second budget bounds the search and the refit together."""
    X, y = digits
    tuner = slow_tuner(search, max_time=3)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tuner.fit(X, y)
    wall = time.perf_counter() - start

    results = tuner.cv_results_
    n_evaluated = len(results["params"])
    assert tuner.stop_reason_ == "max_time"
    if search == "halving":
        # Stopped before the last rung, which trains with the full max_iter.
        assert results["n_resources"].max() < 60
        assert tuner.search_.n_iterations_ == len(np.unique(results["iter"]))
        assert tuner.search_.n_candidates_ == [
            int(np.sum(results["iter"] == r)) for r in np.unique(results["iter"])
        ]
    else:
        assert 0 < n_evaluated < 300
    # Exactly the evaluated candidates, each with a score for every fold.
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        assert len(results[key]) == n_evaluated
        assert np.isfinite(results[key]).all()
    assert tuner.best_params_ == results["params"][tuner.best_index_]
    # The documented bound: no candidate starts once the time spent plus the
    # best candidate's estimated refit (its fold fit time, scaled to all the
    # samples: twice, with cv=2) reaches the budget; those started finish.
    # So the fit ends within the budget plus the longest candidate, plus
    # what the refit took beyond its estimate, plus 1.5 s of bookkeeping on
    # a loaded machine.
    longest_candidate = 2 * np.max(
        results["mean_fit_time"] + results["mean_score_time"]
    )
    refit_estimate = 2 * results["mean_fit_time"][tuner.best_index_]
    beyond_estimate = max(tuner.refit_time_ - refit_estimate, 0.0)
    bound = 3 + longest_candidate + beyond_estimate + 1.5
    if search == "bayes":
        # And the optimizer's step under way (its ask, or its tell of the
        # last step's scores), each about as long as one more of the final
        # optimizer's, which knows the most: timed now, twice over for a
        # machine whose load varies.
        (optimizer,) = tuner.search_.optimizers_
        step_start = time.perf_counter()
        points = optimizer.ask(n_points=tuner.search_.n_points)
        optimizer.tell(points, [0.0] * len(points))
        bound += 2 * (time.perf_counter() - step_start)
    assert tuner.search_time_ <= bound
    assert wall <= bound + 0.5


def test_budget_keeps_time_for_the_refit():
    """Check that no candidate starts once time spent plus refit reach the budget."""
    six_seconds_ago = time.perf_counter() - 6
    monitor = SearchMonitor(
        max_time=10, n_planned=6, progress=False, start=six_seconds_ago
    )
    monitor.started()
    assert monitor.may_start()
    # A weaker candidate is not the one refitted: its refit time is not counted.
    monitor.candidate_finished(0.9, refit_estimate=3.0)
    monitor.candidate_finished(0.5, refit_estimate=50.0)
    assert monitor.may_start()
    # The best so far would take 5 s to refit: 6 + 5 > 10.
    monitor.candidate_finished(0.95, refit_estimate=5.0)
    assert not monitor.may_start()
    assert monitor.stop_reason == "max_time"


def test_without_budget_the_search_completes(iris, fast_mlp):
    """Check that without max_time every candidate runs and says so."""
    X, y = iris
    tuner = TunedMLPClassifier(
        fast_mlp, param_space={"alpha": [1e-3, 1e-2, 1e-1]}, search="grid", cv=2
    ).fit(X, y)
    assert tuner.stop_reason_ == "completed"
    assert len(tuner.cv_results_["params"]) == 3
    assert tuner.search_time_ > 0


def test_bad_max_time_is_refused(iris):
    """Check that a non-positive budget is refused by parameter validation."""
    X, y = iris
    with pytest.raises(ValueError, match="'max_time' parameter"):
        TunedMLPClassifier(max_time=0).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("resource", ["max_iter", "n_samples"])
def test_halving_grows_the_resource(digits, resource):
    """Check that halving keeps the best candidates and grows their resource."""
    X, y = digits
    tuner = TunedMLPClassifier(
        DropoutMLPClassifier(max_iter=27),
        search="halving",
        resource=resource,
        n_iter=9,
        cv=2,
        random_state=0,
    ).fit(X, y)
    results = tuner.cv_results_
    rungs = np.unique(results["iter"])
    assert len(rungs) >= 2
    first, last = results["iter"] == rungs[0], results["iter"] == rungs[-1]
    assert first.sum() == 9
    assert last.sum() < first.sum()
    assert results["n_resources"][last].min() > results["n_resources"][first].max()
    if resource == "max_iter":
        assert results["n_resources"][last].max() == 27
        # The architecture and dropout space works as in the other strategies.
        assert {"n_neurons", "dropout"} <= set(tuner.best_params_)
    # The best candidate comes from the last rung, scored at the full resource.
    assert tuner.best_index_ in np.flatnonzero(last)


def test_halving_max_iter_needs_the_parameter(iris):
    """Check that resource='max_iter' on an estimator without it is refused."""
    from sklearn.neighbors import KNeighborsClassifier

    X, y = iris
    tuner = TunedMLPClassifier(
        KNeighborsClassifier(),
        param_space={"n_neighbors": [3, 5]},
        search="halving",
        resource="max_iter",
    )
    with pytest.raises(ValueError, match="does not have; use resource='n_samples'"):
        tuner.fit(X, y)


def test_halving_auto_grows_the_samples_of_an_estimator_without_epochs(iris):
    """resource="auto" grows what the estimator has: no max_iter, the samples."""
    from sklearn.neighbors import KNeighborsClassifier

    X, y = iris
    tuner = TunedMLPClassifier(
        KNeighborsClassifier(), param_space={"n_neighbors": [3, 5, 7]}, cv=2
    ).fit(X, y)
    assert tuner.search_.resource == "n_samples"
    assert not tuner.search_.rungs_grow_epochs()
    assert len(set(tuner.cv_results_["n_resources"])) > 1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("search", ["grid", "bayes", "halving"])
def test_progress_reports_candidates_score_and_time(iris, fast_mlp, search, capsys):
    """Check that verbose=1 prints candidates done, best score and elapsed time."""
    X, y = iris
    tuner = TunedMLPClassifier(
        fast_mlp,
        param_space={"alpha": [1e-3, 1e-2, 1e-1, 1.0]},
        search=search,
        n_iter=4,
        cv=2,
        verbose=1,
        random_state=0,
    ).fit(X, y)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines, "no progress was shown"
    assert lines[-1].startswith("Tuning [")
    # Every evaluation of the plan, as the fitted search ran it.
    n_rows = len(tuner.cv_results_["params"])
    if search == "halving":
        assert n_rows == sum(tuner.search_.n_candidates_)
    assert f"{n_rows}/{n_rows} evaluated" in lines[-1]
    scores = tuner.cv_results_["mean_test_score"]
    if search == "halving":  # the best at the highest rung: the one chosen
        top = np.max(tuner.cv_results_["iter"])
        scores = scores[tuner.cv_results_["iter"] == top]
        assert f"best score at rung {top + 1} {np.nanmax(scores):.4f}" in lines[-1]
        assert tuner.best_score_ == np.nanmax(scores)
    else:
        assert f"best score {np.nanmax(scores):.4f}" in lines[-1]
    assert lines[-1].endswith(" s")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_asha_reports_once_per_candidate_and_rung(iris, fast_mlp, capsys, monkeypatch):
    """One update per candidate's rung, as halving prints, not one per fold fit."""
    # On a terminal, where every update is written (rewriting the line).
    monkeypatch.setattr(ProgressLine, "in_place", property(lambda self: True))
    X, y = iris
    tuner = TunedMLPClassifier(
        fast_mlp,
        param_space={"alpha": [1e-3, 1e-2, 1e-1, 1.0]},
        search="asha",
        n_iter=4,
        cv=2,
        verbose=1,
        random_state=0,
    ).fit(X, y)
    lines = capsys.readouterr().err.split("\r")[1:]
    # A first update before any fit, then one per row of cv_results_.
    assert len(lines) == 1 + len(tuner.cv_results_["params"])
    assert "best score" not in lines[0]  # nothing to say before a first score
    assert all("nan" not in line for line in lines)


def test_a_higher_rung_starts_the_best_score_afresh():
    """Scores after fewer epochs do not compare with those after more."""
    monitor = SearchMonitor(max_time=None, n_planned=6, progress=False)
    monitor.candidate_finished(0.99, rung=0)
    monitor.candidate_finished(0.90, rung=1)
    assert (monitor.best_score, monitor.best_rung) == (0.90, 1)
    assert not monitor.rung_scored(0.95, 0)  # a late first-rung score
    assert monitor.rung_scored(0.93, 1)
    assert (monitor.best_score, monitor.best_rung) == (0.93, 1)


def test_the_estimate_of_the_whole_fit_comes_once_the_first_rung_is_done():
    """Check the time per unit of work, times the work planned, plus the refits."""
    monitor = SearchMonitor(
        max_time=None, n_planned=13, progress=False,
        start=time.perf_counter() - 10.0, n_refits=2,
    )  # fmt: skip
    # Successive halving's rungs: each a third of the candidates, 3x the epochs.
    monitor.plan_work([10, 30, 90], [9, 3, 1])
    monitor.estimate_refit(5.0)
    for _ in range(8):
        monitor.candidate_finished(0.5, rung=0)
    assert monitor.estimated_total() is None
    monitor.candidate_finished(0.5, rung=0)
    # A third of the work in 10 s: 30 s in all, and two refits of 5 s.
    assert monitor.estimated_total() == pytest.approx(30.0 + 10.0, abs=0.5)
    for _ in range(3):
        monitor.candidate_finished(0.5, rung=1)
    monitor.candidate_finished(0.5, rung=2)
    assert monitor.estimated_total() == pytest.approx(monitor.elapsed + 10.0, abs=0.5)


def test_a_search_without_rungs_estimates_after_a_fifth_of_its_candidates():
    monitor = SearchMonitor(
        max_time=None, n_planned=10, progress=False, start=time.perf_counter() - 4.0
    )
    monitor.candidate_finished(0.5)
    assert monitor.estimated_total() is None
    monitor.candidate_finished(0.5)
    assert monitor.estimated_total() == pytest.approx(20.0 + 0.0, abs=0.5)


def test_progress_line_gives_the_estimate_a_line_of_its_own():
    """Outside a terminal the first estimate is news, as the first score is."""
    log = io.StringIO()
    line = ProgressLine(100, stream=log)
    line.update(1, 0.5, 1.0)
    line.update(1, 0.5, 2.0, total=130.0)  # the same cell of the bar
    line.update(1, 0.5, 3.0, total=6000.0)
    line.update(1, 0.5, 4.0, total=4.5)  # about done: nothing to add
    line.close("completed")
    assert [text.split(" | ")[-1] for text in log.getvalue().splitlines()] == [
        "1.0 s",
        "2.0 s of about 2 min",
        "4.0 s",  # held, then written at the end
    ]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("search", ["halving", "asha"])
def test_progress_estimates_the_whole_fit_after_the_first_rung(search, monkeypatch):
    """The rungs' work is known: halving's and asha's lines get an estimate."""
    updates = []  # (candidates done, estimated total), as the line is told
    real_update = ProgressLine.update

    def record(self, n_done, best, elapsed, detail="", rung=0, total=None):
        updates.append((n_done, total))
        real_update(self, n_done, best, elapsed, detail, rung, total)

    monkeypatch.setattr(ProgressLine, "update", record)
    X, y = make_classification(600, n_features=20, random_state=0)
    tuner = TunedMLPClassifier(
        DropoutMLPClassifier(max_iter=90, random_state=0),
        param_space={"alpha": (1e-5, 1e-1, "log-uniform")},
        search=search, n_iter=9, cv=2, verbose=1, random_state=0,
        portfolio=False,
    ).fit(X, y)  # fmt: skip
    assert tuner.search_.n_candidates_[0] == 9
    estimated = [n_done for n_done, total in updates if total is not None]
    assert estimated, "no estimate of the whole fit was made"
    assert updates[-1][1] is not None
    if search == "halving":  # not before the first rung's 9 have finished
        assert min(estimated) >= 9
        assert all(total is None for n_done, total in updates if n_done < 9)


def test_progress_is_silent_by_default(iris, fast_mlp, capsys):
    """Check that verbose=0 prints nothing."""
    X, y = iris
    TunedMLPClassifier(fast_mlp, param_space={"alpha": [1e-3]}, cv=2).fit(X, y)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == ""


class _FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_line_rewrites_in_place_on_a_terminal():
    """Check that a terminal gets one line rewritten, a file one line per update."""
    terminal, log = _FakeTerminal(), io.StringIO()
    for stream in (terminal, log):
        line = ProgressLine(4, stream=stream)
        line.update(2, 0.5, 1.0)
        line.update(4, 0.75, 2.0)
        line.close("max_time")
    assert terminal.getvalue().count("\r") == 2
    assert terminal.getvalue().count("\n") == 2  # the end, and the stop reason
    assert log.getvalue().count("\r") == 0
    assert log.getvalue().splitlines()[:2] == [
        "Tuning [##########..........] 2/4 evaluated | best score 0.5000 | 1.0 s",
        "Tuning [####################] 4/4 evaluated | best score 0.7500 | 2.0 s",
    ]
    assert "Stopped early: max_time." in log.getvalue()


def test_progress_line_outside_a_terminal_writes_a_line_per_cell_and_the_end():
    """Check 200 quick updates in a log: a line per cell of the bar, then the last."""
    log = io.StringIO()
    line = ProgressLine(100, stream=log, unit="candidates")
    line.update(0, float("nan"), 0.0)
    for n_done in range(1, 101):
        line.update(n_done, 0.5, n_done / 10)
    for n_done in range(100):  # asha's promotions after the last start
        line.update(100, 0.5 + n_done / 1000, 10.0 + n_done / 10)
    line.close("completed")
    lines = log.getvalue().splitlines()
    assert len(lines) == 23  # no score, the first score, 1 to 20 cells, the end
    assert lines[0].endswith("0/100 candidates | 0.0 s")
    assert lines[1].startswith("Tuning [....................]   1/100")
    assert lines[2].startswith("Tuning [#...................]   3/100")
    assert lines[-2].startswith("Tuning [####################]  98/100")
    assert lines[-1].endswith("best score 0.5990 | 19.9 s")


def test_progress_line_outside_a_terminal_speaks_after_a_quiet_while():
    log = io.StringIO()
    line = ProgressLine(100, stream=log)
    for elapsed in (0.0, 10.0, ProgressLine.QUIET_SECONDS, 40.0):
        line.update(1, 0.5, elapsed)
    assert [text.split(" | ")[-1] for text in log.getvalue().splitlines()] == [
        "0.0 s",
        f"{ProgressLine.QUIET_SECONDS:.1f} s",
    ]


def test_progress_line_says_nothing_of_a_best_score_before_there_is_one():
    log = io.StringIO()
    ProgressLine(4, stream=log).update(0, float("nan"), 0.0)
    assert log.getvalue() == "Tuning [....................] 0/4 evaluated | 0.0 s\n"


def test_monitor_always_starts_the_first_candidate():
    """Check that an already spent budget still lets one candidate run."""
    monitor = SearchMonitor(max_time=1e-9, n_planned=6, progress=False)
    time.sleep(0.01)
    assert monitor.may_start()
    monitor.started()
    assert not monitor.may_start()
    assert monitor.stop_reason == "max_time"


def test_monitor_starts_nothing_after_ctrl_c_but_the_first():
    """Check that a stopped search starts no more work, but always a first piece."""
    monitor = SearchMonitor(max_time=None, n_planned=6, progress=False)
    monitor.stop("interrupted")
    assert monitor.may_start()
    monitor.started()
    assert not monitor.may_start()


@pytest.mark.parametrize(
    ("n_jobs", "n_splits", "expected"),
    [(1, 5, 4), (2, 5, 4), (20, 5, 4), (21, 5, 5), (64, 5, 13), (8, 2, 4)],
)
def test_default_n_points_keeps_workers_busy(n_jobs, n_splits, expected):
    """Check that a Bayesian step proposes 4, or enough for every worker."""
    assert default_n_points(n_jobs, n_splits) == expected


def test_seeded_bayes_does_not_depend_on_n_jobs(iris, fast_mlp):
    """Check that the same seed proposes the same candidates with 1 or 4 jobs.

    The default n_points used to be ceil(n_jobs / n_splits): 1 with one job,
    2 with four, and different proposals.
    """
    X, y = iris
    tuner = TunedMLPClassifier(
        fast_mlp,
        param_space={"alpha": (1e-4, 10.0, "log-uniform")},
        search="bayes",
        n_iter=8,
        cv=2,
        random_state=0,
    )
    one = tuner.set_params(n_jobs=1).fit(X, y).cv_results_
    four = tuner.set_params(n_jobs=4).fit(X, y).cv_results_
    assert one["params"] == four["params"]
    np.testing.assert_array_equal(one["mean_test_score"], four["mean_test_score"])


def test_bayes_proposes_n_points_per_step(iris, fast_mlp):
    """Check that n_points candidates are proposed and evaluated per step."""
    X, y = iris
    tuner = TunedMLPClassifier(
        fast_mlp,
        param_space={"alpha": (1e-4, 1.0, "log-uniform")},
        search="bayes",
        n_iter=6,
        n_points=3,
        cv=2,
        random_state=0,
    ).fit(X, y)
    assert tuner.search_.n_points == 3
    assert len(tuner.cv_results_["params"]) == 6
    # Constant-liar proposals of one step differ from each other.
    alphas = [p["alpha"] for p in tuner.cv_results_["params"]]
    assert len(set(alphas[:3])) == 3
    assert len(set(alphas[3:])) == 3


def test_convergence_warnings_become_one_summary(iris):
    """Check that fits stopping at max_iter give one warning and a count."""
    X, y = iris
    tuner = TunedMLPClassifier(
        MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0),
        param_space={"alpha": [1e-3, 1e-2]},
        search="grid",
        cv=3,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.fit(X, y)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(convergence) == 1
    # Two candidates x three folds, and the refit: all stop after 2 epochs.
    assert "7 of 7 MLP fits stopped at max_iter=2" in str(convergence[0].message)
    assert tuner.n_max_iter_reached_ == 7


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_convergence_count_crosses_worker_processes(digits):
    """Check that fits in other processes are counted, with train scores too."""
    X, y = digits
    tuner = TunedMLPClassifier(
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0),
        param_space={"alpha": [1e-3, 1e-2], "batch_size": [50, 100]},
        search="grid",
        cv=2,
        n_jobs=2,
        return_train_score=True,
    ).fit(X, y)
    assert tuner.n_max_iter_reached_ == 4 * 2 + 1


def test_converged_fits_are_not_counted(iris, fast_mlp):
    """Check that fits that converge leave no summary and a zero count."""
    X, y = iris
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner = TunedMLPClassifier(
            MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=5000),
            param_space={"alpha": [1.0]},
            search="grid",
            cv=2,
        ).fit(X, y)
    assert tuner.n_max_iter_reached_ == 0
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("search", ["random", "bayes"])
def test_warm_start_continues_the_search(iris, fast_mlp, search):
    """Check that a second fit adds candidates and keeps the earlier ones."""
    X, y = iris
    tuner = TunedMLPClassifier(
        fast_mlp,
        param_space={"alpha": (1e-4, 10.0, "log-uniform")},
        search=search,
        n_iter=3,
        cv=2,
        warm_start=True,
        random_state=0,
        selection="best",  # test_portfolio.py merges rounds by the other rule
    )
    first = tuner.fit(X, y).cv_results_
    first_params = list(first["params"])
    second = tuner.fit(X, y).cv_results_
    assert len(second["params"]) == 6
    assert second["params"][:3] == first_params
    assert second["params"][3:] != first_params
    np.testing.assert_allclose(second["mean_test_score"][:3], first["mean_test_score"])
    assert tuner.best_score_ == np.max(second["mean_test_score"])
    assert tuner.best_params_ == second["params"][tuner.best_index_]
    assert second["rank_test_score"].min() == 1
    assert tuner.best_estimator_.get_params()["alpha"] == tuner.best_params_["alpha"]
    if search == "bayes":
        # The optimizer was told the three earlier points before proposing.
        (optimizer,) = tuner.search_.optimizers_
        assert len(optimizer.Xi) == 6


def test_warm_start_continues_an_interrupted_grid(iris, fast_mlp):
    """Check that a grid cut short by its budget is finished by a second fit."""
    X, y = iris
    grid = {"alpha": list(np.logspace(-4, 1, 8))}
    tuner = TunedMLPClassifier(
        fast_mlp, param_space=grid, search="grid", cv=2, warm_start=True
    )
    tuner.set_params(max_time=1e-9).fit(X, y)
    assert tuner.stop_reason_ == "max_time"
    n_first = len(tuner.cv_results_["params"])
    tuner.set_params(max_time=None).fit(X, y)
    assert tuner.stop_reason_ == "completed"
    alphas = sorted(p["alpha"] for p in tuner.cv_results_["params"])
    np.testing.assert_allclose(alphas, grid["alpha"])
    assert n_first < 8
    with pytest.warns(UserWarning, match="nothing is left to continue"):
        tuner.fit(X, y)
    assert len(tuner.cv_results_["params"]) == 8


def _warm_random_search(mlp):
    """Return a warm-started random search of two candidates per round."""
    return TunedMLPClassifier(
        mlp,
        param_space={"alpha": (1e-4, 10.0, "log-uniform")},
        search="random",
        n_iter=2,
        cv=2,
        warm_start=True,
        random_state=0,
    )


def test_warm_start_on_new_data_starts_over(iris, fast_mlp):
    """Check that different data restart the search, and say so."""
    X, y = iris
    tuner = _warm_random_search(fast_mlp).fit(X, y)
    with pytest.warns(UserWarning, match="the data differ"):
        tuner.fit(X[::-1], y[::-1])
    assert len(tuner.cv_results_["params"]) == 2


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"scoring": "neg_log_loss"}, "scoring"),
        ({"cv": 3}, "cv"),
        (
            {"estimator": MLPClassifier(hidden_layer_sizes=(3,), max_iter=50)},
            "estimator",
        ),
    ],
)
def test_warm_start_with_other_scoring_cv_or_estimator_starts_over(
    iris, fast_mlp, change, named
):
    """Check that a round scored otherwise is not merged with the last one."""
    X, y = iris
    tuner = _warm_random_search(fast_mlp).fit(X, y)
    with pytest.warns(UserWarning, match=f"{named} differ from the previous fit"):
        tuner.set_params(**change).fit(X, y)
    assert len(tuner.cv_results_["params"]) == 2
    if named == "scoring":  # a log-loss, not the last round's accuracy
        assert tuner.best_score_ < 0


def test_warm_start_refuses_halving(iris):
    """Check that warm_start with halving is refused before fitting."""
    X, y = iris
    with pytest.raises(ValueError, match="cannot continue search='halving'"):
        TunedMLPClassifier(search="halving", warm_start=True).fit(X, y)


def test_batch_clipping_warnings_are_silenced(iris, fast_mlp):
    """Check that batch sizes larger than a fold do not warn from every fit."""
    X, y = iris
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        TunedMLPClassifier(
            MLPClassifier(hidden_layer_sizes=(4,), max_iter=300, random_state=0),
            param_space={"batch_size": [500]},
            search="grid",
            cv=2,
        ).fit(X, y)
    assert not [w for w in caught if "batch_size" in str(w.message)]


@pytest.mark.parametrize("max_iter", [9, 10])
def test_halving_rungs_do_not_count_as_unconverged(iris, max_iter):
    """Check that only the last rung's fits count when halving grows max_iter.

    With max_iter=10 the rungs train for 1, 3 and 9 epochs: the last rung
    stops short of the estimator's max_iter, as the defaults' (22, 66, 198
    of 200) do.
    """
    X, y = iris
    tuner = TunedMLPClassifier(
        MLPClassifier(hidden_layer_sizes=(5,), max_iter=max_iter, random_state=0),
        param_space={"alpha": [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 1e-5, 1e-6, 3.0]},
        search="halving",
        n_iter=9,
        cv=2,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.fit(X, y)
    results = tuner.cv_results_
    assert max(results["n_resources"]) == 9
    last_rung = int(np.sum(results["n_resources"] == 9))
    assert last_rung < len(results["params"])
    # Nine epochs never converge here: every last-rung fit and the refit.
    assert tuner.n_max_iter_reached_ == last_rung * 2 + 1
    (summary,) = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert (
        f"{last_rung * 2 + 1} of {last_rung * 2 + 1} MLP fits stopped at max_iter=9"
        in str(summary.message)
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    ("n_iter", "max_iter"), [(20, 200), (9, 200), (27, 10), (10, 4)]
)
def test_halving_plans_every_rung(iris, n_iter, max_iter):
    """Check the planned evaluations against scikit-learn's halving, run for real.

    With max_iter=10 and 27 candidates the epochs allow three rungs (1, 3
    and 9 epochs), not the four that 27 candidates would need.
    """
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV

    from sk_mlp_tune._search import build_search
    from sk_mlp_tune._space import resolve_space

    X, y = iris
    mlp = MLPClassifier(hidden_layer_sizes=(2,), max_iter=max_iter, tol=1.0)
    subspaces = resolve_space({"alpha": (1e-5, 1.0, "log-uniform")}, mlp)
    search = build_search(
        "halving",
        mlp,
        subspaces,
        n_iter=n_iter,
        n_grid_points=2,
        n_points=1,
        resource="max_iter",
        random_state=0,
        pre_dispatch="2*n_jobs",
        cv=2,
    ).fit(X, y)
    reference = HalvingRandomSearchCV(
        mlp,
        search.param_distributions,
        n_candidates=n_iter,
        resource="max_iter",
        max_resources=max_iter,
        min_resources="exhaust",
        cv=2,
        random_state=0,
    ).fit(X, y)
    assert search.n_planned_candidates() == sum(reference.n_candidates_)
    assert search.n_candidates_ == reference.n_candidates_


@pytest.mark.parametrize("kind", ["array", "pandas", "list"])
def test_warm_start_continues_with_pandas_and_lists(iris, fast_mlp, kind):
    """Check that the same data as a DataFrame, Series or lists continue too."""
    import pandas as pd

    X, y = iris
    if kind == "pandas":
        X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
        y = pd.Series(y, name="target")
    elif kind == "list":
        X, y = X.tolist(), y.tolist()
    tuner = _warm_random_search(fast_mlp).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "data differ"
        warnings.simplefilter("ignore", ConvergenceWarning)
        tuner.fit(X, y)
    assert len(tuner.cv_results_["params"]) == 4


def test_no_hashing_without_warm_start(iris, fast_mlp, monkeypatch):
    """Check that a fit with warm_start=False does not hash the data."""
    import joblib

    def refuse(*args, **kwargs):
        raise AssertionError("the data were hashed")

    monkeypatch.setattr(joblib, "hash", refuse)
    tuner = TunedMLPClassifier(
        fast_mlp, param_space={"alpha": [1e-3, 1e-2]}, search="grid", cv=2
    ).fit(*iris)
    assert len(tuner.cv_results_["params"]) == 2


@pytest.mark.parametrize(
    ("pre_dispatch", "expected"), [(1, 2), (5, 5), ("n_jobs", 2), ("3*n_jobs", 6)]
)
def test_pre_dispatch_sets_the_tasks_ahead_of_the_workers(pre_dispatch, expected):
    """Check pre_dispatch as GridSearchCV takes it: at least one task per worker."""
    import math

    from sk_mlp_tune._engine import _dispatched_ahead

    assert _dispatched_ahead(pre_dispatch, 2) == expected
    assert _dispatched_ahead("all", 2) == math.inf
    with pytest.raises(ValueError, match="pre_dispatch='n_jobs/2' is not understood"):
        _dispatched_ahead("n_jobs/2", 2)


def _pid_after_a_nap():
    time.sleep(0.2)  # long enough for every worker to take a task
    return os.getpid()


def _joblib_worker_pids():
    return set(
        joblib.Parallel(n_jobs=2)(joblib.delayed(_pid_after_a_nap)() for _ in range(4))
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_search_shares_joblibs_workers(iris, fast_mlp):
    """Check that joblib.Parallel keeps its worker processes across a search.

    joblib restarts its workers for a caller that asks with other arguments:
    about a second each time a notebook alternated a tuner's fit with
    ``cross_val_score(n_jobs=2)`` (benchmarks/bench_worker_reuse.py).
    """
    before = _joblib_worker_pids()
    TunedMLPClassifier(
        fast_mlp, param_space={"alpha": [1e-3, 1e-1]}, search="grid", cv=2, n_jobs=2
    ).fit(*iris)
    after = _joblib_worker_pids()
    assert before & after


@pytest.mark.parametrize("search", ["random", "asha"])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_max_time_cuts_slow_dropout_fits_at_an_epoch(digits, search, n_jobs):
    """Check the budget holds with candidates each far longer than it.

    The estimator's own settings (one layer of 8) come first and always
    finish; the networks of 2 x 2048 units after them take many seconds a
    fold. Without the deadline in the epoch loop, every candidate started
    ran all its folds: these searches took 33 to 47 s, against about 4.5 s
    with it. The target is 1.2 x max_time + 2 s (benchmarks/bench_budget.py);
    the bound here leaves room for a loaded machine.
    """
    X, y = digits[0][:600], digits[1][:600]
    max_time = 3.0
    tuner = TunedMLPClassifier(
        DropoutMLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0),
        param_space={"hidden_layer_sizes": [(2048, 2048)], "alpha": [1e-4, 1e-3]},
        search=search,
        n_iter=6,
        cv=3,
        max_time=max_time,
        n_jobs=n_jobs,
        random_state=0,
        portfolio=False,
    )
    start = time.perf_counter()
    tuner.fit(X, y)
    wall = time.perf_counter() - start
    assert tuner.stop_reason_ == "max_time"
    assert wall <= 2 * max_time + 4, wall
    # What was cut short left no trace: every row has every fold's score.
    assert np.isfinite(tuner.cv_results_["mean_test_score"]).all()
    assert tuner.predict(X[:5]).shape == (5,)


def _stopped_monitor(reason, max_time=None, elapsed=0.0, refit_estimate=1.0):
    monitor = SearchMonitor(
        max_time=max_time, n_planned=9, progress=False,
        start=time.perf_counter() - elapsed,
    )  # fmt: skip
    monitor.estimate_refit(refit_estimate)
    if reason != "completed":
        monitor.stop(reason)
    return monitor


@pytest.mark.parametrize(
    ("reason", "max_time", "epochs"),
    [
        ("completed", None, 22),  # a completed search's choice, as it is
        ("max_time", 60.0, 200),  # 10 s spent, 1 s x 200/22 = 9 s: room
        ("max_time", 15.0, 22),  # no room for 9 s more: the rung's, said
        ("interrupted", None, 22),  # Ctrl-C asked to end: the rung's, said
    ],
)
def test_a_search_cut_short_refits_in_full_where_the_budget_allows(
    reason, max_time, epochs
):
    """Halving stopped at a low rung refitted its winner for 22 epochs of 200."""
    from sk_mlp_tune._search import MonitoredHalvingRandomSearchCV

    search = MonitoredHalvingRandomSearchCV(
        DropoutMLPClassifier(max_iter=200), {"alpha": [1e-4, 1e-2]},
        resource="max_iter",
    )  # fmt: skip
    monitor = _stopped_monitor(reason, max_time, elapsed=10.0)
    params = search._full_training({"alpha": 1e-4, "max_iter": 22}, monitor)
    assert params == {"alpha": 1e-4, "max_iter": epochs}
    said = reason != "completed" and epochs == 22
    assert search.refit_epochs_ == ((22, 200) if said else None)


def test_the_convergence_advice_never_cuts_the_users_max_iter():
    """Cut short at a rung of 22 epochs, the advice said max_iter=44 of 200."""
    from sk_mlp_tune._convergence import _advice

    search = type("Search", (), {"estimator": DropoutMLPClassifier(max_iter=200)})()
    advice = _advice(TunedMLPClassifier(), search, 22)
    assert "max_iter=400" in advice
