"""A self-contained HTML report of a search: what a person reads after tuning.

The report opens in any browser with no network: the figures are embedded
as PNG data and there is no external script, style sheet or image.
"""

import base64
import html
import io
import platform
import time

import numpy as np

from ._files import replaced_atomically
from ._tuned import candidates_best_first, ranking_metric
from .plotting import (
    _pyplot,
    _searched_dimensions,
    find_tuner,
    metric_label,
    plot_hyperparameter_scores,
    plot_loss_curve,
    plot_search_history,
)

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em;
       padding: 0 1em; color: #222; line-height: 1.4; }
h1, h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; }
h1 { overflow-wrap: break-word; }
@media (max-width: 30em) { h1 { font-size: 1.5em; } }
table { border-collapse: collapse; margin: .5em 0 1em; }
.wide { overflow-x: auto; max-width: 100%; }
table.candidates { width: 100%; }
tr.chosen td { background: #e8f5e9; font-weight: 600; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f3f3f3; }
td.text, th.text { text-align: left; }
table.candidates td { white-space: nowrap; }
table.candidates td.params { font-size: .9em; white-space: normal; min-width: 14em; }
img { max-width: 100%; height: auto; }
.figures { display: grid; gap: 1em;
           grid-template-columns: repeat(auto-fit, minmax(min(18em, 100%), 1fr)); }
.note { color: #666; }
"""


def build_report(model, *, y_true=None, y_pred=None, data_shape=None, title=None):
    """Return the HTML report of a fitted tuner as a string.

    Parameters
    ----------
    model : estimator
        A fitted tuner, or a pipeline holding one.
    y_true, y_pred : array-like of shape (n_samples,), default=None
        Held-out targets and the model's predictions for them; for
        classification the report then shows the confusion matrix and the
        per-class scores, for regression R² and the mean absolute error.
    data_shape : tuple of int, default=None
        ``(n_samples, n_features)`` of the training data, to show.
    title : str, default=None
        The page title.

    Returns
    -------
    html : str
        A complete, self-contained HTML document.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sk_mlp_tune import TunedMLPClassifier
    >>> from sk_mlp_tune.report import build_report
    >>> X, y = load_iris(return_X_y=True)
    >>> tuner = TunedMLPClassifier(
    ...     MLPClassifier(hidden_layer_sizes=(8,), max_iter=200, random_state=0),
    ...     param_space={"alpha": [1e-3, 1e-1]}, search="grid", cv=2,
    ... ).fit(X, y)
    >>> page = build_report(tuner, y_true=y, y_pred=tuner.predict(X))
    >>> page.startswith("<!DOCTYPE html>"), "Confusion matrix" in page
    (True, True)
    """
    tuner = find_tuner(model)
    title = title or f"{type(tuner).__name__} search report"
    sections = [
        f"<h1>{_escape(title)}</h1>",
        _summary_section(tuner, data_shape, y_true, y_pred),
        _best_params_section(tuner),
        _ensemble_section(tuner),
        _top_candidates_section(tuner),
        _figures_section(tuner),
    ]
    if y_true is not None and y_pred is not None:
        sections.append(_holdout_section(tuner, np.asarray(y_true), np.asarray(y_pred)))
    sections.append(_versions_section())
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def write_report(model, path, **kwargs):
    """Write the HTML report of a fitted tuner to ``path``.

    Parameters
    ----------
    model : estimator
        A fitted tuner, or a pipeline holding one.
    path : str or path-like
        The file to write.
    **kwargs : dict
        Passed to :func:`build_report`: ``y_true``, ``y_pred``,
        ``data_shape``, ``title``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pathlib, tempfile
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sk_mlp_tune import TunedMLPClassifier
    >>> from sk_mlp_tune.report import write_report
    >>> X, y = load_iris(return_X_y=True)
    >>> tuner = TunedMLPClassifier(
    ...     MLPClassifier(hidden_layer_sizes=(8,), max_iter=200, random_state=0),
    ...     param_space={"alpha": [1e-3, 1e-1]}, search="grid", cv=2,
    ... ).fit(X, y)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> write_report(tuner, path, data_shape=X.shape)
    >>> "150 samples x 4 features" in path.read_text()
    True
    """
    page = build_report(model, **kwargs)  # before the file is touched
    with (
        replaced_atomically(path) as temporary,
        open(temporary, "w", encoding="utf-8") as report,
    ):
        report.write(page)


def _escape(value):
    return html.escape(str(value))


def _table(header, rows, text_columns=(0,), marked=(), wrapped_column=None, css=None):
    """Return an HTML table that scrolls within the page when it is too wide.

    ``marked`` holds the indices of rows to highlight; ``wrapped_column``,
    the index of a long text column whose cells wrap; ``css``, a class for
    the table.
    """

    def cell(tag, index, value):
        classes = ["text"] if index in text_columns else []
        if tag == "td" and index == wrapped_column:
            classes.append("params")
        attribute = f' class="{" ".join(classes)}"' if classes else ""
        return f"<{tag}{attribute}>{_escape(value)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join(
        ('<tr class="chosen">' if number in marked else "<tr>")
        + "".join(cell("td", i, v) for i, v in enumerate(row))
        + "</tr>"
        for number, row in enumerate(rows)
    )
    table = f'<table class="{css}">' if css else "<table>"
    return (
        f'<div class="wide">{table}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _format(value):
    if isinstance(value, np.generic):  # numpy 2 would print np.float64(0.1)
        value = value.item()
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value) if not isinstance(value, str) else value


def _summary_section(tuner, data_shape, y_true=None, y_pred=None):
    results = tuner.cv_results_
    n_rows = len(results["params"])
    n_candidates = _n_candidates(tuner)
    evaluated = str(n_candidates)
    if n_rows != n_candidates:  # halving and asha score a candidate per rung
        n_rungs = len(np.unique(results["iter"]))
        evaluated += f" ({n_rows} evaluations over {n_rungs} rungs)"
    rows = [
        ("search", tuner.search),
        ("candidates evaluated", evaluated),
        (
            "validation",
            "one held-out split"
            if tuner.n_splits_ == 1
            else f"{tuner.n_splits_} cross-validation folds",
        ),
        (
            f"best CV {metric_label(tuner)} (the chosen model's)",
            f"{tuner.best_score_:.4f}",
        ),
    ]
    if y_true is not None and y_pred is not None:
        rows.append(_held_out_row(tuner, np.asarray(y_true), np.asarray(y_pred)))
    if data_shape is not None:
        rows.append(
            ("training data", f"{data_shape[0]} samples x {data_shape[1]} features")
        )
    for name, label in (
        ("search_time_", "search time (s)"),
        ("refit_time_", "refit time (s)"),
        ("stop_reason_", "stopped because"),
        ("n_max_iter_reached_", "fits that stopped at max_iter"),
    ):
        if hasattr(tuner, name):
            value = getattr(tuner, name)
            rows.append((label, f"{value:.1f}" if isinstance(value, float) else value))
    return "<h2>Summary</h2>" + _table(("", "value"), rows)


def _held_out_row(tuner, y_true, y_pred):
    """Return the summary's row of the held-out score, as the CLI prints it."""
    from sklearn import metrics

    if hasattr(tuner, "classes_"):
        name, score = "accuracy", metrics.accuracy_score(y_true, y_pred)
    else:
        name, score = "R²", metrics.r2_score(y_true, y_pred)
    return (f"held-out {name} ({len(y_true)} samples)", f"{score:.4f}")


def _best_params_section(tuner):
    rows = [(name, _format(value)) for name, value in tuner.best_params_.items()]
    extra = ""
    best = getattr(tuner, "best_estimator_", None)
    if best is not None and hasattr(best, "hidden_layer_sizes_"):
        extra = (
            f"<p>Hidden layers of the refitted model: "
            f"{_escape(best.hidden_layer_sizes_)}.</p>"
        )
    return (
        "<h2>Best hyperparameters</h2>"
        + _table(("hyperparameter", "value"), rows)
        + extra
    )


def _ensemble_section(tuner):
    """Show the ensemble's members, their weights, and what it scored out of fold."""
    if np.isnan(getattr(tuner, "ensemble_score_", np.nan)):  # no ensemble chosen
        return ""
    results = tuner.cv_results_
    metric = ranking_metric(tuner)
    rows = [
        (
            row,
            "chosen" if row == tuner.best_index_ else "",
            f"{weight:.3f}",
            f"{results[f'mean_test_{metric}'][row]:.4f}",
            ", ".join(f"{k}={_format(v)}" for k, v in results["params"][row].items()),
        )
        for row, weight in zip(
            tuner.ensemble_indices_, tuner.ensemble_weights_, strict=True
        )
    ]
    label = metric_label(tuner)
    note = (
        "<p>Greedy ensemble selection, with replacement, on the "
        f"candidates' out-of-fold predictions, scored by {_escape(label)}: "
        f"the ensemble scores {tuner.ensemble_score_:.4f} out of fold, the best "
        f"candidate alone {tuner.ensemble_single_score_:.4f}. Predictions are the "
        "weighted mean of the members, each refitted on all the training data; "
        "best_estimator_ and coefs_ are the chosen candidate's alone.</p>"
    )
    return (
        "<h2>Ensemble</h2>"
        + note
        + _table(
            ("row", "", "weight", f"mean CV {label}", "hyperparameters"),
            rows,
            text_columns=(1, 4),
            wrapped_column=4,
            css="candidates",
        )
    )


def _n_candidates(tuner):
    """Distinct candidates: halving and asha have a row per candidate per rung."""
    search = getattr(tuner, "search_", None)
    if "iter" in tuner.cv_results_ and getattr(search, "n_candidates_", None):
        return int(search.n_candidates_[0])
    return len(tuner.cv_results_["params"])


def _selection_note(tuner):
    """Say how the chosen row was chosen, and why it may not rank first."""
    if getattr(tuner, "selection", "best") != "one_se" or callable(tuner.refit):
        return "It has the best mean CV score."
    return (
        "Origin: the estimator's own settings, the portfolio's entries, or the "
        "search's proposals. The chosen row is the estimator's own settings if "
        "their mean CV score is within one standard error of the best, else the "
        "portfolio's first entry that is, else the best (selection='one_se'): a "
        "lead within the noise of the folds does not replace what is known to "
        "work."
    )


def _top_candidates_section(tuner, n_top=10):
    results = tuner.cv_results_
    chosen = getattr(tuner, "best_index_", None)
    metric = ranking_metric(tuner)
    with_rungs = "n_resources" in results
    # resource="auto" on large data: the lower rungs trained on fewer rows.
    with_rows = "n_train_samples" in results
    # The resource has its own column; the rest wrap in one, to fit the page.
    resource = getattr(tuner, "resource", None) if with_rungs else None
    order = _one_row_per_candidate(tuner, resource)[:n_top]
    origins = results.get("origin", [""] * len(results["params"]))
    rows = [
        (
            "chosen" if i == chosen else "",
            position,
            i,
            origins[i],
            *((results["n_resources"][i],) if with_rungs else ()),
            *((results["n_train_samples"][i],) if with_rows else ()),
            f"{results[f'mean_test_{metric}'][i]:.4f}",
            f"{results[f'std_test_{metric}'][i]:.4f}",
            f"{results['mean_fit_time'][i]:.2f}",
            _hyperparameters_text(results["params"][i], leave_out=resource),
        )
        for position, i in enumerate(order, start=1)
    ]
    resource_header = ("resource",) if with_rungs else ()
    resource_header += ("training rows",) if with_rows else ()
    header = (
        "", "#", "row", "origin", *resource_header,
        f"mean CV {metric_label(tuner)}", "sd", "fit time (s)", "hyperparameters",
    )  # fmt: skip
    rung_note = ""
    if with_rungs:
        rung_note = (
            "; successive halving trains candidates in rungs, each with more "
            "epochs (or samples) than the last, and chooses from the last rung "
            "it reached, whatever the scores at fewer"
            + (", and the rungs below the last on fewer rows" if with_rows else "")
            + ", so the search history's "
            "best-so-far line follows that rung only. Each candidate has one "
            "row here, at the highest rung it reached (its resource)"
        )
    note = (
        '<p class="note">The chosen row is the model refitted on all the '
        "training data" + rung_note + ". " + _selection_note(tuner) + "</p>"
    )
    tie = _tie_note(tuner)
    if tie:
        note += f'<p class="note">{html.escape(tie, quote=False)}</p>'
    return (
        f"<h2>Top {len(order)} candidates</h2>"
        + _table(
            header,
            rows,
            text_columns=(0, 3, len(header) - 1),
            marked=(0,),
            wrapped_column=len(header) - 1,
            css="candidates",
        )
        + note
    )


def _one_row_per_candidate(tuner, resource):
    """Return the rows best first, each candidate once: at its highest rung.

    Successive halving has a row per candidate per rung it reached; rows
    come highest rung first, so a candidate's first row is its highest.
    """
    seen, rows = set(), []
    for row in candidates_best_first(tuner):
        params = tuner.cv_results_["params"][row]
        key = repr(sorted((k, repr(v)) for k, v in params.items() if k != resource))
        if key not in seen:
            seen.add(key)
            rows.append(row)
    return rows


def _hyperparameters_text(params, leave_out=None):
    """Return ``name=value`` pairs, sorted by name, to fit in one cell."""
    return ", ".join(
        f"{name}={_format(params[name])}"
        for name in sorted(params)
        if name != leave_out
    )


def _tie_note(tuner):
    """Say how many rows tie at the best rank, and which of them is chosen, and why.

    On accuracy with little data several candidates often have equal mean
    scores; the table then shows rank 1 several times. Under successive
    halving the rows that count are the highest rung's, as for the choice.
    """
    chosen = getattr(tuner, "best_index_", None)
    results = tuner.cv_results_
    metric = ranking_metric(tuner)
    means = np.asarray(results[f"mean_test_{metric}"], dtype=float)
    ranks = np.asarray(results[f"rank_test_{metric}"])
    eligible = np.arange(len(means))
    if "iter" in results:  # successive halving chooses within its highest rung
        eligible = np.flatnonzero(results["iter"] == np.max(results["iter"]))
    if chosen is None or np.isnan(means[eligible]).all():
        return ""
    best = eligible[np.nanargmax(means[eligible])]
    tied = eligible[ranks[eligible] == ranks[best]]
    if len(tied) < 2:
        return ""
    rung = " of the highest rung" if "iter" in results else ""
    text = (
        f"{len(tied)} rows{rung} ({_rows_in_words(tied)}) tie at rank "
        f"{ranks[best]}: their mean CV {metric_label(tuner)}, {means[best]:.4f}, "
        "is equal."
    )
    if callable(tuner.refit):
        return text + f" The chosen row, {chosen}, is the one refit, a callable, chose."
    if chosen == tied[0]:
        return text + (
            f" The chosen row, {chosen}, is the first of them in cv_results_: "
            "on a tie, scikit-learn's searches choose the first."
        )
    if chosen in tied:
        return text + (
            f" The chosen row, {chosen}, holds "
            f"{_origin_in_words(results['origin'][chosen])}, which "
            "selection='one_se' prefers to the first of them."
        )
    return text + (
        f" The chosen row, {chosen}, is not among them: selection='one_se' chose it."
    )


def _rows_in_words(rows, most=8):
    """Return "rows 1, 4 and 7", or the first ``most`` rows and how many more."""
    rows = [str(row) for row in rows]
    if len(rows) > most:
        return f"rows {', '.join(rows[:most])} and {len(rows) - most} more"
    return f"rows {', '.join(rows[:-1])} and {rows[-1]}"


def _origin_in_words(origin):
    """Return "the estimator's own settings" or "the portfolio's entry 2"."""
    if origin == "estimator":
        return "the estimator's own settings"
    return f"the portfolio's entry {origin.removeprefix('portfolio ')}"


def _png(figure, alt):
    plt = _pyplot()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{_escape(alt)}" src="data:image/png;base64,{encoded}">'


def _figures_section(tuner):
    label = metric_label(tuner)
    parts = [
        "<h2>Figures</h2>",
        _png(plot_search_history(tuner), f"CV {label} of each candidate, in order"),
        "<h3>Score against each hyperparameter</h3>",
    ]
    # A small figure each, in a grid that stacks to one column on a phone:
    # one image of them all would shrink to unreadable.
    parts.append('<div class="figures">')
    for name in _searched_dimensions(tuner):
        figure = plot_hyperparameter_scores(tuner, params=[name])
        # Drawn about the size it is shown at, so its text is not scaled down.
        figure.set_size_inches(3.4, 2.8)
        parts.append(_png(figure, f"CV {label} by {name}"))
    parts.append("</div>")
    try:
        parts.append(
            _png(plot_loss_curve(tuner), "training loss of the refitted model")
        )
    except (AttributeError, ValueError) as reason:
        parts.append(f'<p class="note">No loss curve: {_escape(reason)}</p>')
    return "\n".join(parts)


def _holdout_section(tuner, y_true, y_pred):
    from sklearn import metrics

    if not hasattr(tuner, "classes_"):
        rows = [
            ("R²", f"{metrics.r2_score(y_true, y_pred):.4f}"),
            (
                "mean absolute error",
                f"{metrics.mean_absolute_error(y_true, y_pred):.4g}",
            ),
            ("held-out samples", len(y_true)),
        ]
        return "<h2>Held-out scores</h2>" + _table(("", "value"), rows)
    labels = list(tuner.classes_)
    matrix = metrics.confusion_matrix(y_true, y_pred, labels=labels)
    confusion = _table(
        ("true \\ predicted", *labels),
        [(label, *row) for label, row in zip(labels, matrix, strict=True)],
    )
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    per_class = _table(
        ("class", "precision", "recall", "F1", "support"),
        [
            (label, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", int(s))
            for label, p, r, f, s in zip(
                labels, precision, recall, f1, support, strict=True
            )
        ],
    )
    accuracy = metrics.accuracy_score(y_true, y_pred)
    return (
        f"<h2>Held-out scores</h2><p>Accuracy on {len(y_true)} held-out samples: "
        f"{accuracy:.4f}.</p><h3>Confusion matrix</h3>{confusion}"
        f"<h3>Per-class scores</h3>{per_class}"
    )


def _versions_section():
    import joblib
    import sklearn
    import skopt

    from . import __version__

    rows = [
        ("sk_mlp_tune", __version__),
        ("scikit-learn", sklearn.__version__),
        ("scikit-optimize", skopt.__version__),
        ("joblib", joblib.__version__),
        ("numpy", np.__version__),
        ("Python", platform.python_version()),
        ("written", time.strftime("%Y-%m-%d %H:%M")),
    ]
    return "<h2>Versions</h2>" + _table(("package", "version"), rows)
