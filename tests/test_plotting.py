"""Plots and the HTML report of a fitted tuner."""

import re
import shutil
import sys
from html.parser import HTMLParser

import numpy as np
import pytest

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier

pytest.importorskip(
    "matplotlib", reason="matplotlib is not installed (the 'plot' extra)"
)
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sk_mlp_tune.plotting import (
    metric_label,
    plot_hyperparameter_scores,
    plot_loss_curve,
    plot_search_history,
)
from sk_mlp_tune.report import build_report

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

STRATEGIES = ["grid", "random", "bayes", "halving", "asha"]


@pytest.fixture(scope="module", params=["random", "asha"])
def tuner(request):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    return TunedMLPClassifier(
        DropoutMLPClassifier(max_iter=60, early_stopping=True),
        param_space={
            "alpha": (1e-5, 1e-1, "log-uniform"),
            "n_neurons": [8, 16],
            "dropout": (0.0, 0.3),
        },
        search=request.param,
        n_iter=6,
        cv=2,
        random_state=0,
    ).fit(X, y)


@pytest.fixture(scope="module", params=STRATEGIES)
def by_strategy(request):
    """One small fit per strategy, with the default space but for grid search.

    asha's first candidate is the estimator's own settings: with the default
    space, batch_size="auto" and the unset depth and width.
    """
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    grid = {
        "alpha": (1e-5, 1e-1, "log-uniform"),
        "n_hidden_layers": (1, 3),
        "activation": ["relu", "tanh"],
    }
    return TunedMLPClassifier(
        DropoutMLPClassifier(max_iter=30),
        param_space=grid if request.param == "grid" else None,
        search=request.param,
        n_iter=6,
        n_grid_points=2,
        cv=2,
        random_state=0,
    ).fit(X, y)


def _counted_rows(tuner):
    """Return the rows the best so far runs over: the highest rung, or every row."""
    results = tuner.cv_results_
    if "iter" in results:
        return np.flatnonzero(results["iter"] == np.max(results["iter"]))
    return np.arange(len(results["params"]))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_search_history_shows_each_candidate_and_the_best(tuner):
    """Check that the history plots every mean score and the running best.

    Under successive halving the best so far runs over the highest rung, the
    rows the chosen candidate is chosen from.
    """
    figure = plot_search_history(tuner)
    (ax,) = figure.axes
    means = tuner.cv_results_["mean_test_score"]
    drawn = np.concatenate([c.lines[0].get_xydata() for c in ax.containers])
    drawn = drawn[np.argsort(drawn[:, 0])]
    np.testing.assert_allclose(
        drawn, np.column_stack([np.arange(len(means)) + 1, means])
    )
    counted = _counted_rows(tuner)
    best_line = next(
        line for line in ax.get_lines() if line.get_label().startswith("best so far")
    )
    np.testing.assert_allclose(best_line.get_xdata(), counted + 1)
    np.testing.assert_allclose(
        best_line.get_ydata(), np.maximum.accumulate(means[counted])
    )
    assert ax.get_xlabel() == (
        "evaluation, in order (a candidate at each rung it reached)"
        if "iter" in tuner.cv_results_
        else "candidate, in evaluation order"
    )
    assert ax.get_ylabel() == "CV accuracy"


def test_missing_matplotlib_names_the_extra(tuner, monkeypatch):
    """Check that plotting without matplotlib says which extra to install."""
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # import fails
    with pytest.raises(ImportError, match=r"needs matplotlib \(the 'plot' extra\)"):
        plot_search_history(tuner)


def test_history_draws_on_given_axes(tuner):
    """Check that a given Axes is drawn on and its figure returned."""
    figure, ax = plt.subplots()
    assert plot_search_history(tuner, ax=ax) is figure
    assert ax.get_title() == "Search history"


def test_scores_per_hyperparameter_log_axes_and_groups(tuner):
    """Check log x axes for log ranges and one group per category."""
    figure = plot_hyperparameter_scores(tuner)
    axes = {ax.get_xlabel(): ax for ax in figure.axes if ax.get_visible()}
    assert set(axes) == {"alpha", "n_neurons", "dropout"}
    assert axes["alpha"].get_xscale() == "log"
    assert axes["dropout"].get_xscale() == "linear"
    labels = [t.get_text() for t in axes["n_neurons"].get_xticklabels()]
    assert labels == ["8", "16"]
    alphas = axes["alpha"].collections[0].get_offsets()[:, 0]
    np.testing.assert_allclose(
        sorted(alphas), sorted(p["alpha"] for p in tuner.cv_results_["params"])
    )
    with pytest.raises(ValueError, match=r"\['momentum'\] were not searched"):
        plot_hyperparameter_scores(tuner, params=["momentum"])


def test_loss_curve_and_validation_score(tuner):
    """Check the refitted model's loss curve and early-stopping validation score."""
    figure = plot_loss_curve(tuner)
    ax, twin = figure.axes
    best = tuner.best_estimator_
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), best.loss_curve_)
    np.testing.assert_allclose(twin.get_lines()[0].get_ydata(), best.validation_scores_)


class _StrictHTML(HTMLParser):
    """Collect tags, check nesting, and note every external reference and meta."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self):
        super().__init__()
        self.stack, self.references, self.errors, self.metas = [], [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "meta":
            self.metas.append(dict(attrs))
        for name, value in attrs:
            if name in ("src", "href"):
                self.references.append(value)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def test_report_is_valid_self_contained_and_holds_the_numbers(tuner):
    """Check the report's HTML, that it needs nothing outside, and its numbers."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    page = build_report(tuner, y_true=y, y_pred=tuner.predict(X), data_shape=X.shape)
    parser = _StrictHTML()
    parser.feed(page)
    assert page.startswith("<!DOCTYPE html>")
    assert not parser.errors
    assert not parser.stack
    assert parser.references, "the figures are missing"
    assert all(ref.startswith("data:image/png;base64,") for ref in parser.references)
    # The history, one figure per hyperparameter, the loss curve.
    n_searched = len(plot_hyperparameter_scores(tuner).axes)  # three, no blank
    assert len(parser.references) == 2 + n_searched
    # A phone lays the page out at its own width, not a desktop's shrunk.
    assert {
        "name": "viewport",
        "content": "width=device-width, initial-scale=1",
    } in parser.metas
    assert f"{tuner.best_score_:.4f}" in page
    for name in tuner.best_params_:
        assert name in page
    accuracy = (tuner.predict(X) == y).mean()
    assert f"{accuracy:.4f}" in page
    assert "Confusion matrix" in page
    matrix_cells = re.findall(r"<td>(\d+)</td>", page)
    assert str(int((y == 0).sum())) in matrix_cells
    assert "scikit-learn" in page


def test_history_legend_covers_no_point(tuner):
    """Check that the legend sits where no candidate is drawn."""
    figure = plot_search_history(tuner)
    (ax,) = figure.axes
    figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    means = np.asarray(tuner.cv_results_["mean_test_score"])
    order = np.arange(1, len(means) + 1)
    points = ax.transData.transform(np.column_stack([order, means]))
    assert not any(legend.contains(x, y) for x, y in points)
    # The chosen model is marked.
    (star,) = [line for line in ax.get_lines() if line.get_label().startswith("chosen")]
    assert star.get_ydata()[0] == means[tuner.best_index_]


def test_report_marks_the_chosen_model_and_counts_candidates(tuner):
    """Check the chosen row comes first, marked, and candidates are not rows."""
    page = build_report(tuner)
    chosen_rows = re.findall(r'<tr class="chosen">(.*?)</tr>', page)
    assert len(chosen_rows) == 1
    assert f"{tuner.best_score_:.4f}" in chosen_rows[0]
    table = page.split("candidates</h2>")[1]
    assert table.index('<tr class="chosen">') < table.index(
        '<tr><td class="text"></td>'
    )
    n_rows = len(tuner.cv_results_["params"])
    if tuner.search == "asha":
        n_candidates = tuner.search_.n_candidates_[0]
        assert f"<td>{n_candidates} ({n_rows} evaluations over" in page
    else:
        assert f"<td>{n_rows}</td>" in page


def test_report_and_plots_of_a_multi_metric_search():
    """Check several metrics: the one refit names ranks the rows and the plots.

    The report and the plots read ``mean_test_score``, which a search with
    several metrics does not have (it failed with a KeyError).
    """
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    tuner = TunedMLPClassifier(
        DropoutMLPClassifier(max_iter=30, random_state=0),
        param_space={"alpha": [1e-4, 1e-1, 10.0]},
        search="grid",
        cv=2,
        scoring={"accuracy": "accuracy", "f1": "f1_macro"},
        refit="f1",
    ).fit(X, y)
    results = tuner.cv_results_
    page = build_report(tuner)
    (chosen_row,) = re.findall(r'<tr class="chosen">(.*?)</tr>', page)
    assert f"{results['mean_test_f1'][tuner.best_index_]:.4f}" in chosen_row
    history = plot_search_history(tuner)
    drawn = history.axes[0].lines[0].get_ydata()
    np.testing.assert_allclose(drawn, results["mean_test_f1"])


def _visible_axes(figure):
    return [ax for ax in figure.axes if ax.get_visible()]


def test_report_and_every_plot_under_each_strategy(by_strategy):
    """Check the report and every plot, with the metric named, under each search.

    asha's first candidate, the estimator's own settings, once failed the
    report with "could not convert string to float: 'auto'".
    """
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    tuner = by_strategy
    page = build_report(tuner, y_true=y, y_pred=tuner.predict(X))
    parser = _StrictHTML()
    parser.feed(page)
    assert not parser.errors
    assert not parser.stack
    scores = plot_hyperparameter_scores(tuner)
    searched = [ax.get_xlabel() for ax in _visible_axes(scores)]
    assert "n_hidden_layers" in searched
    # The history, one figure per hyperparameter, the loss curve.
    assert len(parser.references) == 2 + len(searched)
    for name in searched:
        assert f'alt="CV accuracy by {name}"' in page
    assert plot_search_history(tuner).axes[0].get_ylabel() == "CV accuracy"
    assert {ax.get_ylabel() for ax in _visible_axes(scores)} == {"CV accuracy"}
    assert plot_loss_curve(tuner).axes[0].get_lines()
    assert "<th>mean CV accuracy</th>" in page
    held_out = f"{np.mean(tuner.predict(X) == y):.4f}"
    row = f"held-out accuracy (150 samples)</td><td>{held_out}</td>"
    assert f'<td class="text">{row}' in page
    assert '<td class="text">best CV accuracy (the chosen model' in page
    assert "CV score</th>" not in page


def test_the_top_candidates_show_each_candidate_once_at_its_highest_rung(
    by_strategy,
):
    from sk_mlp_tune.report import _one_row_per_candidate

    tuner = by_strategy
    results = tuner.cv_results_
    resource = tuner.resource if "n_resources" in results else None
    rows = _one_row_per_candidate(tuner, resource)
    assert rows[0] == tuner.best_index_

    def candidate(row):
        params = results["params"][row]
        return repr(sorted((k, repr(v)) for k, v in params.items() if k != resource))

    assert len({candidate(row) for row in rows}) == len(rows)
    assert {candidate(row) for row in rows} == {
        candidate(row) for row in range(len(results["params"]))
    }
    if resource is not None:  # each at the highest rung it reached
        for row in rows:
            same = [
                r
                for r in range(len(results["params"]))
                if candidate(r) == candidate(row)
            ]
            assert results["n_resources"][row] == max(results["n_resources"][same])


def test_hyperparameter_plots_star_the_chosen_candidate(by_strategy):
    """Check a star at the chosen candidate's value and score on every axes."""
    tuner = by_strategy
    chosen = tuner.best_index_
    params = tuner.cv_results_["params"][chosen]
    score = tuner.cv_results_["mean_test_score"][chosen]
    figure = plot_hyperparameter_scores(tuner)
    for ax in _visible_axes(figure):
        value = params[ax.get_xlabel()]
        (star,) = [line for line in ax.get_lines() if line.get_label() == "chosen"]
        (x,), (y,) = star.get_xdata(), star.get_ydata()
        assert y == score
        if ax.collections:  # a range: a scatter plot
            assert x == pytest.approx(value)
        else:  # a choice: boxes at 1, 2, ..., labelled with the values
            labels = [t.get_text() for t in ax.get_xticklabels()]
            assert labels[round(x) - 1] == (
                value if isinstance(value, str) else repr(value)
            )
    (legend,) = figure.legends
    assert [text.get_text() for text in legend.get_texts()] == ["chosen"]


def test_integer_range_has_whole_number_ticks(by_strategy):
    """Check that n_hidden_layers, an integer range, has no tick at 1.5."""
    figure = plot_hyperparameter_scores(by_strategy, params=["n_hidden_layers"])
    (ax,) = figure.axes
    figure.canvas.draw()
    low, high = ax.get_xlim()
    ticks = [tick for tick in ax.get_xticks() if low <= tick <= high]
    assert ticks
    assert all(float(tick).is_integer() for tick in ticks), ticks


def test_history_best_line_reaches_the_chosen_star(by_strategy):
    """Check that the chosen star lies on the best-so-far line, rungs or not.

    Successive halving chooses within its highest rung; a line that counted
    the lower rungs' scores ran above the star.
    """
    tuner = by_strategy
    results = tuner.cv_results_
    (ax,) = plot_search_history(tuner).axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    best = lines["best so far, highest rung" if "iter" in results else "best so far"]
    star = lines["chosen (refitted)"]
    (x,), (y,) = star.get_xdata(), star.get_ydata()
    at_star = list(best.get_xdata()).index(x)
    assert best.get_ydata()[at_star] == y == best.get_ydata()[-1]
    if "iter" in results:
        rungs = np.unique(results["iter"])
        epochs = [results["n_resources"][results["iter"] == r][0] for r in rungs]
        assert [c.get_label() for c in ax.containers] == [
            f"rung {r + 1} ({n} epochs)" for r, n in zip(rungs, epochs, strict=True)
        ]


def test_report_says_how_many_rows_tie_and_which_is_chosen():
    """Check the note on rows tied at rank 1, and no note without a tie.

    The adam solver ignores momentum: candidates that differ only in it
    train the same network and score the same.
    """
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)

    def fit(space):
        return TunedMLPClassifier(
            DropoutMLPClassifier(max_iter=60, learning_rate_init=0.01, random_state=0),
            param_space=space,
            search="grid",
            cv=2,
        ).fit(X, y)

    tied = fit({"alpha": [1e-4, 10.0], "momentum": [0.8, 0.9]})
    ranks = tied.cv_results_["rank_test_score"]
    first, second = np.flatnonzero(ranks == 1)  # as constructed, two tie
    assert tied.best_index_ == first
    page = build_report(tied)
    assert (
        f"2 rows (rows {first} and {second}) tie at rank 1: their mean CV "
        f"accuracy, {tied.best_score_:.4f}, is equal. The chosen row, {first}, is "
        "the first of them in cv_results_" in page
    )
    untied = fit({"alpha": [1e-4, 10.0]})
    assert sorted(untied.cv_results_["rank_test_score"]) == [1, 2]
    assert "tie at rank" not in build_report(untied)


def test_the_metric_refit_names_labels_the_axes_and_tables():
    """Check that roc_auc, which refit names among two metrics, is named everywhere."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    X, y = X[y > 0], y[y > 0]  # two classes that overlap
    tuner = TunedMLPClassifier(
        DropoutMLPClassifier(max_iter=30, random_state=0),
        param_space={"alpha": [1e-4, 1e-1], "n_hidden_layers": (1, 2)},
        search="grid",
        n_grid_points=2,
        cv=2,
        scoring=["roc_auc", "accuracy"],
        refit="roc_auc",
    ).fit(X, y)
    assert metric_label(tuner) == "roc_auc"
    assert plot_search_history(tuner).axes[0].get_ylabel() == "CV roc_auc"
    scores = plot_hyperparameter_scores(tuner)
    assert [ax.get_ylabel() for ax in scores.axes] == ["CV roc_auc"] * 2
    page = build_report(tuner)
    with_ensemble = "<h2>Ensemble</h2>" in page
    assert page.count("<th>mean CV roc_auc</th>") == 1 + with_ensemble
    assert "best CV roc_auc (the chosen model" in page
    assert 'alt="CV roc_auc by alpha"' in page


def _balanced(estimator, X, y):
    from sklearn.metrics import balanced_accuracy_score

    return balanced_accuracy_score(y, estimator.predict(X))


@pytest.mark.parametrize(
    ("task", "scoring", "expected"),
    [
        ("classification", None, "accuracy"),
        ("regression", None, "R²"),
        ("classification", "balanced_accuracy", "balanced_accuracy"),
        ("classification", _balanced, "_balanced"),
        ("classification", "make_scorer", "fbeta_score"),
        ("classification", lambda estimator, X, y: 0.0, "score"),
        ("classification", {"a": "accuracy", "b": "f1_macro"}, "a"),
    ],
)
def test_metric_label_names_each_kind_of_scoring(task, scoring, expected):
    """Check the name a score is labelled with, for each way to give scoring."""
    from sklearn.datasets import load_diabetes, load_iris
    from sklearn.metrics import fbeta_score, make_scorer

    from sk_mlp_tune import DropoutMLPRegressor, TunedMLPRegressor

    if scoring == "make_scorer":
        scoring = make_scorer(fbeta_score, beta=2, average="macro")
    if task == "classification":
        X, y = load_iris(return_X_y=True)
        tuner = TunedMLPClassifier(DropoutMLPClassifier(max_iter=5, random_state=0))
    else:
        X, y = load_diabetes(return_X_y=True)
        tuner = TunedMLPRegressor(DropoutMLPRegressor(max_iter=5, random_state=0))
    tuner.set_params(
        param_space={"alpha": [1e-4]}, search="grid", cv=2, scoring=scoring,
        refit="a" if isinstance(scoring, dict) else True,
    )  # fmt: skip
    assert metric_label(tuner.fit(X, y)) == expected


CHROMIUM = shutil.which("chromium-headless-shell")

# Run in the page once it is laid out: does anything reach past the
# window's width, is exactly one row marked as the chosen model, does a
# candidate table scroll in its box, and in how many columns do the figures
# of the hyperparameters stand?
_LAYOUT_CHECK = """
<script>
window.addEventListener("load", () => {
  const root = document.documentElement;
  const outside = [...document.body.querySelectorAll("*")].filter(
    (element) => element.getBoundingClientRect().right > window.innerWidth + 1
      && !element.closest(".wide"));
  const scrolls = [...document.querySelectorAll("table.candidates")].map(
    (table) => table.parentElement.scrollWidth > table.parentElement.clientWidth);
  const lefts = [...document.querySelectorAll(".figures img")].map(
    (image) => Math.round(image.getBoundingClientRect().left));
  document.body.setAttribute("data-check", JSON.stringify({
    pageWidth: root.scrollWidth, windowWidth: window.innerWidth,
    outside: outside.map((element) => element.tagName),
    chosen: document.querySelectorAll("tr.chosen").length,
    tablesScroll: scrolls, figureColumns: new Set(lefts).size}));
});
</script>
"""


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs Debian's chromium-headless-shell (apt-get install "
    "chromium-headless-shell; .ci/run installs it)",
)
def test_report_fits_the_page_in_a_real_browser(tmp_path):
    """Check in headless Chromium that nothing overflows, on a desktop or a phone.

    At 1280 px the candidate tables fit, their hyperparameters wrapped in one
    column, and the figures of the hyperparameters stand side by side; at
    390 px (a phone) a table may scroll in its own box, never the page, and
    the figures stack in one column.
    """
    import json
    import subprocess

    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    wide = TunedMLPClassifier(n_iter=6, cv=2, random_state=0).fit(X, y)
    page = build_report(wide, y_true=y, y_pred=wide.predict(X))
    path = tmp_path / "report.html"
    path.write_text(page.replace("</body>", _LAYOUT_CHECK + "</body>"))

    def laid_out(width):
        dom = subprocess.run(
            [CHROMIUM, "--no-sandbox", "--disable-gpu", f"--window-size={width},900",
             "--dump-dom", path.as_uri()],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        found = re.search(r'data-check="([^"]*)"', dom)
        assert found, "the check did not run in the page"
        check = json.loads(found.group(1).replace("&quot;", '"'))
        assert check["windowWidth"] == width
        assert check["pageWidth"] <= check["windowWidth"], check
        assert check["outside"] == []
        assert check["chosen"] == 1
        return check

    desktop = laid_out(1280)
    assert desktop["tablesScroll"], "no candidate table"
    assert not any(desktop["tablesScroll"]), desktop
    assert desktop["figureColumns"] > 1
    assert laid_out(390)["figureColumns"] == 1
