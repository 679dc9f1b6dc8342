"""Tuning that pays: the estimator's own settings, the portfolio, the robust choice."""

import json
import math
from importlib import resources

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import (
    DropoutMLPClassifier,
    DropoutMLPRegressor,
    TunedMLPClassifier,
    TunedMLPRegressor,
    default_param_space,
)
from sk_mlp_tune._choice import (
    candidate_origins,
    choose_index,
    preferred_rows,
)
from sk_mlp_tune._space import (
    estimator_settings,
    lies_in,
    portfolio,
    resolve_space,
    starting_candidates,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

STRATEGIES = ["random", "bayes", "halving", "asha"]


# The rule, with made-up scores.


def test_choose_index_best_takes_the_best_mean():
    """Check that selection="best" is the first best mean, as GridSearchCV's."""
    means = [0.8, 0.9, 0.9, np.nan]
    assert choose_index(means, [0.1] * 4, 5, [0, 1, 2, 3], [0], "best") == 1


def test_choose_index_one_se_prefers_the_first_preferred_within_reach():
    """Check that one_se takes the first preferred row within one standard error."""
    means = [0.88, 0.90, 0.878, 0.86]
    stds = [0.0, math.sqrt(5) * 0.025, 0.0, 0.0]  # the best's error is 0.025
    rows = [0, 1, 2, 3]
    assert choose_index(means, stds, 5, rows, [2, 0], "one_se") == 2
    assert choose_index(means, stds, 5, rows, [3, 0], "one_se") == 0
    assert choose_index(means, stds, 5, rows, [3], "one_se") == 1  # out of reach
    assert choose_index(means, stds, 5, rows, [], "one_se") == 1


def test_choose_index_keeps_to_the_eligible_rows():
    """Check that rows outside eligible (lower rungs) are never chosen."""
    means, stds = [0.99, 0.80, 0.79], [0.0, 0.05, 0.0]
    assert choose_index(means, stds, 3, [1, 2], [0, 2], "one_se") == 2
    assert choose_index(means, stds, 3, [1, 2], [0], "best") == 1


def test_choose_index_with_every_score_failed():
    """Check that a search whose every score is NaN gets its first eligible row."""
    assert choose_index([np.nan, np.nan], [np.nan] * 2, 3, [1, 0], [0], "one_se") == 1


def test_preferred_rows_order_estimator_then_portfolio():
    """Check the order of preference: the estimator's settings, then the portfolio."""
    origins = ["portfolio 10", "search", "portfolio 2", "estimator"]
    assert preferred_rows(origins, [0, 1, 2, 3]) == [3, 2, 0]
    assert preferred_rows(origins, [0, 1]) == [0]


def test_candidate_origins_ignore_the_resource():
    """Check that halving's added max_iter does not hide where a candidate came from."""
    starting = [({"alpha": 1.0}, "estimator"), ({"alpha": 2.0}, "portfolio 1")]
    params = [{"alpha": 2.0, "max_iter": 9}, {"alpha": 3.0, "max_iter": 9}]
    origins = candidate_origins(params, starting, ignore={"max_iter"})
    assert origins.tolist() == ["portfolio 1", "search"]


# The estimator's own settings, in the space's terms.


def test_estimator_settings_describe_the_default_network():
    """Check that the default dropout MLP is described as the space describes one."""
    mlp = DropoutMLPClassifier()
    [subspace] = resolve_space(default_param_space(), mlp)
    own = estimator_settings(mlp, subspace)
    assert own == {
        "activation": "relu",
        "alpha": 1e-4,
        "batch_size": 200,
        "dropout": 0.0,
        "layer_shape": "constant",
        "learning_rate_init": 1e-3,
        "n_hidden_layers": 1,
        "n_neurons": 100,
    }
    assert lies_in(own, subspace)
    # The same network: the shorthands build scikit-learn's (100,).
    built = DropoutMLPClassifier(**own)._resolve_hidden_layer_sizes()
    assert built == mlp._resolve_hidden_layer_sizes() == (100,)


def test_estimator_settings_of_a_funnel_in_a_pipeline():
    """Check a pipeline's step whose hidden_layer_sizes is a funnel."""
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("mlp", DropoutMLPClassifier(hidden_layer_sizes=(128, 64, 32))),
        ]
    )
    space = {
        "mlp__n_hidden_layers": (1, 3),
        "mlp__n_neurons": (16, 256),
        "mlp__layer_shape": ["constant", "funnel"],
    }
    [subspace] = resolve_space(space, pipe)
    own = estimator_settings(pipe, subspace)
    assert own == {
        "mlp__n_hidden_layers": 3,
        "mlp__n_neurons": 128,
        "mlp__layer_shape": "funnel",
    }


def test_estimator_settings_keep_what_the_space_cannot_describe():
    """Check that values outside the space, or past the shorthands, are kept."""
    mlp = DropoutMLPClassifier(hidden_layer_sizes=(10, 30), batch_size=16)
    space = {"n_neurons": (16, 64), "batch_size": (32, 256)}
    [subspace] = resolve_space(space, mlp)
    assert estimator_settings(mlp, subspace) == {"n_neurons": None, "batch_size": 16}
    plain = MLPClassifier()
    [subspace] = resolve_space({"hidden_layer_sizes": [(8,), (16,)]}, plain)
    assert estimator_settings(plain, subspace) == {"hidden_layer_sizes": (100,)}


# The portfolio.


@pytest.mark.parametrize(
    ("estimator", "key"),
    [(DropoutMLPClassifier(), "classifier"), (DropoutMLPRegressor(), "regressor")],
)
def test_portfolio_ships_with_its_provenance_and_lies_in_the_default_space(
    estimator, key
):
    """Check the shipped portfolio: in the default space, with how it was made."""
    with resources.files("sk_mlp_tune").joinpath("portfolio.json").open() as file:
        data = json.load(file)
    assert data["made_by"].startswith("python benchmarks/build_portfolio.py")
    assert (
        len(data["tables"]["classification"]) + len(data["tables"]["regression"]) >= 20
    )
    entries = portfolio(estimator)
    assert entries == data[key]
    assert 4 <= len(entries) <= 16
    [subspace] = resolve_space(default_param_space("random", estimator), estimator)
    assert all(lies_in(entry, subspace) for entry in entries)
    own = estimator_settings(estimator, subspace)
    assert own not in entries


def test_starting_candidates_follow_the_space_and_the_switch():
    """Check the portfolio comes only with the default space, after the estimator."""
    mlp = DropoutMLPClassifier()
    default = resolve_space(default_param_space(), mlp)
    starting = starting_candidates(mlp, default, True)
    labels = [label for _, label in starting]
    assert labels[0] == "estimator"
    assert labels[1:] == [f"portfolio {k}" for k in range(1, len(labels))]
    assert len(labels) == 1 + len(portfolio(mlp))
    assert starting_candidates(mlp, default, False) == starting[:1]
    # A space of one's own: the entries do not lie in it.
    own_space = resolve_space({"alpha": (1e-5, 1.0, "log-uniform")}, mlp)
    assert starting_candidates(mlp, own_space, True) == [({"alpha": 1e-4}, "estimator")]


# The strategies.


def _tuner(search, **params):
    settings = {
        "estimator": DropoutMLPClassifier(max_iter=9),
        "search": search,
        "n_iter": 6,
        "cv": 3,
        "random_state": 0,
    }
    return TunedMLPClassifier(**{**settings, **params})


@pytest.mark.parametrize("search", STRATEGIES)
def test_every_strategy_starts_from_the_estimator_then_the_portfolio(digits, search):
    """Check the first candidates of each strategy, in the space's terms."""
    X, y = digits
    entries = portfolio(DropoutMLPClassifier())
    n_iter = len(entries) + 3
    tuner = _tuner(search, n_iter=n_iter).fit(X, y)
    results = tuner.cv_results_
    first_rung = np.flatnonzero(results.get("iter", np.zeros(n_iter)) == 0)
    assert len(first_rung) == n_iter
    origins = results["origin"][first_rung].tolist()
    assert origins == [
        "estimator",
        *(f"portfolio {k + 1}" for k in range(len(entries))),
        "search",
        "search",
    ]
    params = [
        {k: v for k, v in results["params"][row].items() if k != "max_iter"}
        for row in first_rung
    ]
    assert params[0]["batch_size"] == 200
    assert (params[0]["n_hidden_layers"], params[0]["n_neurons"]) == (1, 100)
    assert params[1 : 1 + len(entries)] == entries


@pytest.mark.parametrize("search", ["halving", "asha"])
def test_successive_halving_carries_the_estimator_to_the_top_rung(digits, search):
    """Check that the estimator's own settings reach full training, even when worst.

    Its own alpha of 10 scores worst at every rung; the rungs keep the sizes
    successive halving plans.
    """
    X, y = digits
    tuner = _tuner(
        search,
        estimator=DropoutMLPClassifier(max_iter=9, alpha=10.0),
        param_space={"alpha": (1e-5, 1e-3, "log-uniform")},
        n_iter=9,
    ).fit(X, y)
    results = tuner.cv_results_
    own_rows = np.flatnonzero(results["origin"] == "estimator")
    top = np.max(results["iter"])
    assert results["iter"][own_rows].tolist() == list(range(top + 1))
    first_rung = results["mean_test_score"][results["iter"] == 0]
    assert results["mean_test_score"][own_rows[0]] == np.min(first_rung)
    if search == "halving":
        assert tuner.search_.n_candidates_ == [9, 3, 1][: top + 1]
    assert tuner.best_params_["alpha"] != 10.0


@pytest.mark.parametrize("search", [*STRATEGIES, "grid"])
@pytest.mark.parametrize("selection", ["one_se", "best"])
def test_the_chosen_candidate_never_scores_below_the_estimator(
    digits, search, selection
):
    """Check that the chosen candidate's CV score is at least the estimator's."""
    X, y = digits
    tuner = _tuner(search, selection=selection, n_iter=4).fit(X, y)
    results = tuner.cv_results_
    top = results.get("iter", np.zeros(len(results["params"])))
    top_rung = top == np.max(top)
    own = np.flatnonzero((results["origin"] == "estimator") & top_rung)
    assert len(own) == 1
    assert tuner.best_score_ >= results["mean_test_score"][own[0]]
    assert top[tuner.best_index_] == np.max(top)
    expected = choose_index(
        results["mean_test_score"],
        results["std_test_score"],
        tuner.n_splits_,
        np.flatnonzero(top_rung),
        preferred_rows(results["origin"], np.flatnonzero(top_rung)),
        selection,
    )
    assert tuner.best_index_ == expected
    assert tuner.best_params_ == results["params"][expected]


def test_selection_best_on_a_grid_of_ones_own_equals_grid_search_cv(iris, fast_mlp):
    """Check that a grid of its own starts from nothing and chooses as GridSearchCV."""
    X, y = iris
    grid = {"alpha": [1e-4, 1e-2, 1.0, 10.0], "activation": ["relu", "tanh"]}
    tuner = TunedMLPClassifier(
        fast_mlp, param_space=grid, search="grid", cv=3, selection="best"
    ).fit(X, y)
    reference = GridSearchCV(fast_mlp, grid, cv=3).fit(X, y)
    assert tuner.best_index_ == reference.best_index_
    assert tuner.best_params_ == reference.best_params_
    assert set(tuner.cv_results_["origin"]) == {"search"}


def test_selection_defaults_to_the_best_mean():
    """Check that the default chooses as GridSearchCV, as the benchmark decided."""
    assert TunedMLPClassifier().selection == "best"
    assert TunedMLPRegressor().selection == "best"


def test_one_se_chooses_the_estimator_below_rank_one():
    """Check, on made-up results, that the search refits a row ranked second."""
    from sk_mlp_tune._search import MonitoredRandomizedSearchCV
    from sk_mlp_tune._searchbase import SearchPlan

    search = MonitoredRandomizedSearchCV(DropoutMLPClassifier(), {"alpha": [1.0]})
    search._plan = SearchPlan(selection="one_se")  # as its fit holds it
    search.n_splits_ = 4
    results = {
        "origin": np.array(["estimator", "search", "search"], dtype=object),
        "params": [{"alpha": 1e-4}, {"alpha": 0.1}, {"alpha": 0.5}],
        "mean_test_score": np.array([0.90, 0.92, 0.80]),
        "std_test_score": np.array([0.01, 0.05, 0.01]),  # the best's error: 0.025
        "rank_test_score": np.array([2, 1, 3]),
    }
    assert search._select_best_index(True, "score", results) == 0
    search._plan = SearchPlan(selection="best")
    assert search._select_best_index(True, "score", results) == 1


def test_warm_start_refits_a_merged_choice_no_round_refitted(iris, fast_mlp):
    """Check that when the rule's bar moves, the model is that of the new choice.

    Round 1 chose the estimator's row (0.90; the portfolio's 0.91 within
    reach); round 2 finds 0.925 with an error of 0.015, so the bar is 0.91
    and the portfolio's row, which no round refitted, is chosen.
    """
    from types import SimpleNamespace

    from sk_mlp_tune._callbacks import FitTasks
    from sk_mlp_tune._monitor import SearchMonitor
    from sk_mlp_tune._search import MonitoredRandomizedSearchCV
    from sk_mlp_tune._searchbase import SearchPlan

    def results(alphas, means, errors, origins):
        return {
            "params": [{"alpha": a} for a in alphas],
            "param_alpha": np.ma.asarray(alphas, dtype=object),
            "mean_test_score": np.array(means),
            "std_test_score": np.array(errors) * math.sqrt(5),
            "origin": np.asarray(origins, dtype=object),
        }

    first = results([1e-4, 1e-2, 1.0], [0.90, 0.91, 0.92], [0, 0, 0.02],
                    ["estimator", "portfolio 1", "search"])  # fmt: skip
    previous = SimpleNamespace(
        cv_results=first, best_index=0, best_estimator_="round 1's", refit_time_=0.1
    )
    # Round 2's one candidate, as the one finish receives it.
    found = SimpleNamespace(
        results=results([3.0], [0.925], [0.015], ["search"]),
        out=[{"test_scores": 0.925, "fit_error": None}],
        candidate_params=[{"alpha": 3.0}], predictions={},
    )  # fmt: skip
    search = MonitoredRandomizedSearchCV(fast_mlp, {"alpha": [3.0]}, n_iter=1)
    plan = SearchPlan(previous=previous, selection="one_se")
    search._plan = plan  # as its fit holds it
    job = search._prepare_fit(*iris, {})
    monitor = SearchMonitor(max_time=None, n_planned=1, progress=False)
    search._finish(job, found, plan, monitor, FitTasks.begin(search, *iris, 2))
    assert search.best_index_ == 1
    assert search.best_params_ == {"alpha": 1e-2}
    assert search.best_estimator_.get_params()["alpha"] == 1e-2
    assert hasattr(search.best_estimator_, "coefs_")


def test_the_robust_choice_is_visible_and_switchable(digits):
    """Check one_se may choose below rank 1, and selection="best" never does."""
    X, y = digits
    n_iter = len(portfolio(DropoutMLPClassifier())) + 4
    robust = _tuner("random", n_iter=n_iter, selection="one_se").fit(X, y)
    best = _tuner("random", n_iter=n_iter).fit(X, y)  # the default
    assert best.cv_results_["rank_test_score"][best.best_index_] == 1
    # The same candidates either way; only the choice may differ.
    assert robust.cv_results_["params"] == best.cv_results_["params"]
    chosen = robust.best_index_
    bar = best.best_score_ - best.cv_results_["std_test_score"][
        best.best_index_
    ] / math.sqrt(3)
    assert robust.best_score_ >= bar
    if chosen != best.best_index_:  # only a starting candidate is preferred
        assert robust.cv_results_["origin"][chosen] != "search"


def test_portfolio_false_starts_from_the_estimator_alone(digits):
    """Check that portfolio=False leaves the estimator's settings and the search."""
    X, y = digits
    tuner = _tuner("random", portfolio=False).fit(X, y)
    assert tuner.cv_results_["origin"].tolist() == ["estimator"] + ["search"] * 5


def test_warm_start_keeps_the_origins(digits):
    """Check that a continued search keeps where each candidate came from."""
    X, y = digits
    tuner = _tuner("random", n_iter=3, warm_start=True)
    tuner.fit(X, y)
    first = tuner.cv_results_["origin"].tolist()
    tuner.fit(X, y)
    assert tuner.cv_results_["origin"].tolist() == first + ["search"] * 3


def test_regressor_starts_from_its_own_portfolio():
    """Check that the regressor's first candidates are the regressor's entries."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(scale=0.1, size=120)
    tuner = TunedMLPRegressor(
        DropoutMLPRegressor(max_iter=9, normalize_y=True),
        search="random",
        n_iter=3,
        cv=3,
        random_state=0,
    ).fit(X, y)
    entries = portfolio(DropoutMLPRegressor())
    assert tuner.cv_results_["params"][1:3] == entries[:2]


def test_a_portfolio_of_ones_own_follows_the_estimator(iris, fast_mlp):
    """Check that a list of entries is evaluated as given, in order, in any space."""
    entries = [{"alpha": 1.0}, {"alpha": 0.1, "activation": "tanh"}]
    tuner = TunedMLPClassifier(
        fast_mlp,
        param_space={"alpha": (1e-4, 10.0, "log-uniform")},
        search="random",
        n_iter=4,
        cv=2,
        random_state=0,
        portfolio=entries,
    ).fit(*iris)
    results = tuner.cv_results_
    assert results["params"][:3] == [{"alpha": 1e-4}, *entries]
    assert results["origin"].tolist() == [
        "estimator",
        "portfolio 1",
        "portfolio 2",
        "search",
    ]
    assert entries == [{"alpha": 1.0}, {"alpha": 0.1, "activation": "tanh"}]


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"selection": "median"}, ValueError, "'selection' parameter"),
        ({"portfolio": "yes"}, ValueError, "'portfolio' parameter"),
        ({"portfolio": [1]}, TypeError, r"portfolio\[0\] must be a non-empty dict"),
        ({"portfolio": [{}]}, TypeError, r"portfolio\[0\] must be a non-empty dict"),
        (
            {"portfolio": [{"alpha": 1.0}, {"alfa": 1.0}]},
            ValueError,
            r"portfolio\[1\] has the key 'alfa'.*Did you mean 'alpha'",
        ),
        (
            {"portfolio": [{"alpha": 1.0}], "search": "grid"},
            ValueError,
            "search='grid' evaluates its grid and no portfolio",
        ),
    ],
)
def test_bad_selection_or_portfolio_is_refused(iris, params, error, match):
    """Check that a bad selection or portfolio is refused before any fit."""
    tuner = TunedMLPClassifier(DropoutMLPClassifier(max_iter=5), **params)
    with pytest.raises(error, match=match):
        tuner.fit(*iris)
    assert not hasattr(tuner, "cv_results_")


def test_the_report_shows_origins_and_the_rule(digits):
    """Check that the report names each candidate's origin and how it chose."""
    matplotlib = pytest.importorskip("matplotlib", reason="the report draws figures")
    matplotlib.use("Agg")
    from sk_mlp_tune.report import build_report

    page = build_report(_tuner("halving", n_iter=4, selection="one_se").fit(*digits))
    assert '<th class="text">origin</th>' in page
    assert '<td class="text">estimator</td>' in page
    assert '<td class="text">portfolio 1</td>' in page
    assert "within one standard error" in page
    best = build_report(_tuner("random", n_iter=3).fit(*digits))
    assert "It has the best mean CV score." in best
