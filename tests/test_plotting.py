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
    plot_hyperparameter_scores,
    plot_loss_curve,
    plot_search_history,
)
from sk_mlp_tune.report import build_report

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


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


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_search_history_shows_each_candidate_and_the_best(tuner):
    """Check that the history plots every mean score and the running best."""
    figure = plot_search_history(tuner)
    (ax,) = figure.axes
    means = tuner.cv_results_["mean_test_score"]
    points = ax.containers[0].lines[0].get_ydata()
    np.testing.assert_allclose(points, means)
    best_line = next(
        line for line in ax.get_lines() if line.get_label() == "best so far"
    )
    np.testing.assert_allclose(best_line.get_ydata(), np.maximum.accumulate(means))
    assert ax.get_xlabel() == "candidate, in evaluation order"


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
    """Collect tags, check nesting, and note every external reference."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self):
        super().__init__()
        self.stack, self.references, self.errors = [], [], []

    def handle_starttag(self, tag, attrs):
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
    assert len(parser.references) == 3
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


CHROMIUM = shutil.which("chromium-headless-shell")

# Run in the page once it is laid out at 1280 px: does anything reach past
# the window's width, and is exactly one row marked as the chosen model?
_LAYOUT_CHECK = """
<script>
window.addEventListener("load", () => {
  const root = document.documentElement;
  const outside = [...document.body.querySelectorAll("*")].filter(
    (element) => element.getBoundingClientRect().right > window.innerWidth + 1
      && !element.closest(".wide"));
  document.body.setAttribute("data-check", JSON.stringify({
    pageWidth: root.scrollWidth, windowWidth: window.innerWidth,
    outside: outside.map((element) => element.tagName),
    chosen: document.querySelectorAll("tr.chosen").length}));
});
</script>
"""


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs Debian's chromium-headless-shell (apt-get install "
    "chromium-headless-shell; .ci/run installs it)",
)
def test_report_fits_the_page_in_a_real_browser(tmp_path):
    """Check in headless Chromium at 1280 px that nothing overflows the page.

    Many searched hyperparameters make the candidate table wider than the
    page; it must scroll in its own box rather than cut off the page.
    """
    import json
    import subprocess

    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    wide = TunedMLPClassifier(n_iter=6, cv=2, random_state=0).fit(X, y)
    page = build_report(wide, y_true=y, y_pred=wide.predict(X))
    path = tmp_path / "report.html"
    path.write_text(page.replace("</body>", _LAYOUT_CHECK + "</body>"))
    dom = subprocess.run(
        [CHROMIUM, "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
         "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    found = re.search(r'data-check="([^"]*)"', dom)
    assert found, "the check did not run in the page"
    check = json.loads(found.group(1).replace("&quot;", '"'))
    assert check["pageWidth"] <= check["windowWidth"], check
    assert check["outside"] == []
    assert check["chosen"] == 1
