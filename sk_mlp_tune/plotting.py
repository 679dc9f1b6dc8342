"""Figures of a fitted tuner: the search history, scores per hyperparameter, losses.

matplotlib is an optional dependency (the ``plot`` extra), imported only
when a function here is called. Each function takes a fitted
:class:`~sk_mlp_tune.TunedMLPClassifier` or
:class:`~sk_mlp_tune.TunedMLPRegressor` (or a pipeline ending in one) and
returns a matplotlib Figure, or draws on the Axes it is given.
"""

import re

import numpy as np
from sklearn.base import is_classifier

from ._compat import import_optional
from ._search import default_param_space
from ._space import Choice, resolve_space
from ._tuned import _BaseTunedMLP, ranking_metric, rungs_grow_epochs


def _pyplot():
    return import_optional(
        "matplotlib.pyplot", extra="plot", needed_by="sk_mlp_tune.plotting"
    )


def find_tuner(model):
    """Return the tuner in ``model``: itself, a pipeline's last step, or wrapped.

    Parameters
    ----------
    model : estimator
        A fitted tuner, or a pipeline or ``TransformedTargetRegressor`` that
        holds one.

    Returns
    -------
    tuner : TunedMLPClassifier or TunedMLPRegressor
        The fitted tuner.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> tuner = TunedMLPClassifier(
    ...     DropoutMLPClassifier(max_iter=100, random_state=0),
    ...     param_space={"alpha": (1e-4, 1.0, "log-uniform"), "n_neurons": [8, 16]},
    ...     search="random", n_iter=4, cv=2, random_state=0,
    ... ).fit(X, y)
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sk_mlp_tune.plotting import find_tuner
    >>> find_tuner(make_pipeline(StandardScaler(), tuner).fit(X, y)) is not None
    True
    """
    while not isinstance(model, _BaseTunedMLP):
        if hasattr(model, "steps"):
            model = model.steps[-1][1]
        elif hasattr(model, "regressor_"):
            model = model.regressor_
        else:
            raise TypeError(
                f"Expected a fitted TunedMLPClassifier or TunedMLPRegressor (or a "
                f"pipeline ending in one); got {type(model).__name__}."
            )
    if not hasattr(model, "cv_results_"):
        raise ValueError(
            f"This {type(model).__name__} is not fitted yet; fit it first."
        )
    return model


def metric_label(model):
    """Return the name of the metric that ranks the candidates, to label a score.

    ``scoring=None`` is the estimator's own ``score``: accuracy for a
    classifier, R² for a regressor. With several metrics it is the one
    ``refit`` names (else the first), as ``cv_results_`` spells it; a
    callable scorer gives its function's name where it has one.

    Parameters
    ----------
    model : estimator
        A fitted tuner, or a pipeline holding one.

    Returns
    -------
    label : str
        The metric's name, such as ``"accuracy"``, ``"roc_auc"`` or ``"R²"``;
        ``"score"`` for a callable that names no metric.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sk_mlp_tune import TunedMLPClassifier
    >>> from sk_mlp_tune.plotting import metric_label
    >>> X, y = load_iris(return_X_y=True)
    >>> tuner = TunedMLPClassifier(
    ...     MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0),
    ...     param_space={"alpha": [1e-3, 1e-1]}, search="grid", cv=2,
    ...     scoring=["f1_macro", "accuracy"], refit="accuracy",
    ... ).fit(X, y)
    >>> metric_label(tuner)
    'accuracy'
    """
    tuner = find_tuner(model)
    scoring = tuner.scoring
    if scoring is None:
        return "accuracy" if is_classifier(tuner) else "R²"
    if isinstance(scoring, str):
        return scoring
    if isinstance(scoring, list | tuple | dict):
        return ranking_metric(tuner)
    return _scorer_name(scoring)


def _scorer_name(scorer):
    """Name a callable scorer: its function's name, the metric make_scorer wraps."""
    name = getattr(scorer, "__name__", None)
    if name and name != "<lambda>":
        return name
    # A make_scorer object keeps its metric in a private attribute only; its
    # repr, "make_scorer(fbeta_score, ...)", names it in public.
    wrapped = re.match(r"make_scorer\((\w+)", repr(scorer))
    return wrapped.group(1) if wrapped else "score"


def _chosen_label(tuner):
    return "chosen (refitted)" if tuner.refit else "chosen"


def _rung_groups(tuner):
    """Return ``(label, rows)`` per group of ``cv_results_`` rows to draw alike.

    Successive halving (``"halving"``, ``"asha"``) records a rung per row
    (``iter``) and the epochs or samples it trained with (``n_resources``):
    a group per rung, lowest first. Other searches: one group of every row.
    """
    results = tuner.cv_results_
    if "iter" not in results:
        every_row = np.arange(len(results["params"]))
        return [("candidate (mean ± sd over folds)", every_row)]
    grows_epochs = rungs_grow_epochs(tuner)
    unit = "epochs" if grows_epochs else "samples"
    rungs = np.asarray(results["iter"])
    groups = []
    for rung in np.unique(rungs):
        rows = np.flatnonzero(rungs == rung)
        resource = int(results["n_resources"][rows[0]])
        groups.append((f"rung {rung + 1} ({resource} {unit})", rows))
    return groups


def _figure_and_axes(ax, figsize):
    plt = _pyplot()
    if ax is None:
        figure, ax = plt.subplots(figsize=figsize)
        return figure, ax
    return ax.figure, ax


def plot_search_history(model, ax=None):
    """Plot each candidate's CV score in evaluation order, and the best so far.

    The y axis names the metric that ranks the candidates, and a star marks
    the chosen one. Under successive halving (``"halving"``, ``"asha"``)
    each rung has its shade, labelled with its epochs (or samples), and the
    best so far counts the highest rung only, the rows the chosen candidate
    is chosen from: a score at fewer epochs is not comparable.

    Parameters
    ----------
    model : estimator
        A fitted tuner, or a pipeline holding one.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    figure : matplotlib Figure
        The figure drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> tuner = TunedMLPClassifier(
    ...     DropoutMLPClassifier(max_iter=100, random_state=0),
    ...     param_space={"alpha": (1e-4, 1.0, "log-uniform"), "n_neurons": [8, 16]},
    ...     search="random", n_iter=4, cv=2, random_state=0,
    ... ).fit(X, y)
    >>> from sk_mlp_tune.plotting import plot_search_history
    >>> figure = plot_search_history(tuner)
    >>> figure.axes[0].get_title()
    'Search history'
    """
    tuner = find_tuner(model)
    results = tuner.cv_results_
    figure, ax = _figure_and_axes(ax, (6, 3.5))  # says if matplotlib is missing
    from matplotlib import colormaps

    order = np.arange(1, len(results["params"]) + 1)
    metric = ranking_metric(tuner)
    means = np.asarray(results[f"mean_test_{metric}"], dtype=float)
    spread = np.asarray(results[f"std_test_{metric}"], dtype=float)
    groups = _rung_groups(tuner)
    # Rungs from light to dark: green and red are the chosen star and the line.
    shades = colormaps["Blues"](np.linspace(0.45, 0.95, len(groups)))
    for (label, rows), shade in zip(groups, shades, strict=True):
        ax.errorbar(
            order[rows], means[rows], yerr=spread[rows], fmt="o", markersize=4,
            capsize=2, label=label, color="tab:blue" if len(groups) == 1 else shade,
        )  # fmt: skip
    # Successive halving chooses within its highest rung: a score at fewer
    # epochs or samples is no bar the chosen candidate had to pass.
    counted = groups[-1][1]
    best_so_far = np.fmax.accumulate(
        np.where(np.isnan(means[counted]), -np.inf, means[counted])
    )
    ax.step(
        order[counted], best_so_far, where="post", color="tab:red",
        label="best so far, highest rung" if "iter" in results else "best so far",
    )  # fmt: skip
    if hasattr(tuner, "best_index_"):
        chosen = tuner.best_index_
        ax.plot(
            order[chosen], means[chosen], "*", color="tab:green", markersize=12,
            label=_chosen_label(tuner), zorder=3,
        )  # fmt: skip
    ax.set_xlabel(
        "evaluation, in order (a candidate at each rung it reached)"
        if "iter" in results
        else "candidate, in evaluation order"
    )
    ax.set_ylabel(f"CV {metric_label(tuner)}")
    ax.set_title("Search history")
    # Below the axes, where it can cover no point; the points (rungs) first.
    handles, labels = ax.get_legend_handles_labels()
    points = {label for label, _ in groups}
    listed = sorted(range(len(labels)), key=lambda i: labels[i] not in points)
    ax.legend(
        [handles[i] for i in listed], [labels[i] for i in listed],
        loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False,
    )  # fmt: skip
    return figure


def _searched_dimensions(tuner):
    """Return {name: Range or Choice} for every searched hyperparameter."""
    estimator = tuner.best_estimator_ if hasattr(tuner, "best_estimator_") else None
    space = tuner.param_space
    if space is None:
        space = default_param_space(tuner.search, estimator)
    template = estimator if estimator is not None else tuner._template_estimator()
    dimensions = {}
    for subspace in resolve_space(space, template):
        dimensions.update(subspace)
    return dimensions


def plot_hyperparameter_scores(model, params=None):
    """Plot the CV score against each searched hyperparameter.

    Ranges are scatter plots (log x axis for log ranges, whole-number ticks
    for integer ranges); choices are grouped, one box of scores per value.
    A green star marks the chosen candidate (``best_index_``) on each axes.

    Parameters
    ----------
    model : estimator
        A fitted tuner, or a pipeline holding one.
    params : list of str, default=None
        The hyperparameters to show; None means all that were searched.

    Returns
    -------
    figure : matplotlib Figure
        One Axes per hyperparameter, and a legend for the star; a title
        when there are several.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> tuner = TunedMLPClassifier(
    ...     DropoutMLPClassifier(max_iter=100, random_state=0),
    ...     param_space={"alpha": (1e-4, 1.0, "log-uniform"), "n_neurons": [8, 16]},
    ...     search="random", n_iter=4, cv=2, random_state=0,
    ... ).fit(X, y)
    >>> from sk_mlp_tune.plotting import plot_hyperparameter_scores
    >>> figure = plot_hyperparameter_scores(tuner)
    >>> [ax.get_xlabel() for ax in figure.axes]
    ['alpha', 'n_neurons']
    >>> figure.axes[0].get_xscale()
    'log'
    """
    plt = _pyplot()
    tuner = find_tuner(model)
    dimensions = _searched_dimensions(tuner)
    names = list(dimensions) if params is None else list(params)
    unknown = sorted(set(names) - set(dimensions))
    if unknown:
        raise ValueError(
            f"{unknown} were not searched; choose among {sorted(dimensions)}."
        )
    n_cols = min(3, len(names))
    n_rows = -(-len(names) // n_cols)
    # Constrained layout keeps room below the axes for the legend.
    figure, axes = plt.subplots(
        n_rows, n_cols, figsize=(4 * n_cols, 3 * n_rows + 0.4), squeeze=False,
        layout="constrained",
    )  # fmt: skip
    for ax, name in zip(axes.flat, names, strict=False):
        _plot_scores_against(ax, tuner, name, dimensions[name])
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    if len(names) > 1:  # one hyperparameter is named by its x axis
        figure.suptitle("Score against each hyperparameter")
    stars = [
        line
        for ax in figure.axes
        for line in ax.get_lines()
        if line.get_label() == "chosen"
    ]
    if stars:  # outside the axes, where it can cover no point
        figure.legend(handles=stars[:1], loc="outside lower center", frameon=False)
    return figure


def _plot_scores_against(ax, tuner, name, dimension):
    """Draw every candidate's CV score against ``name``, and star the chosen one.

    A choice is a box of scores per value, a range a scatter plot. A row
    without ``name`` (another sub-space's) is left out.
    """
    from matplotlib import ticker

    results = tuner.cv_results_
    scores = np.asarray(results[f"mean_test_{ranking_metric(tuner)}"], dtype=float)
    column = results[f"param_{name}"]
    rows = np.flatnonzero(~np.ma.getmaskarray(column))
    values = [column[row] for row in rows]
    if isinstance(dimension, Choice):
        labels = [repr(v) if not isinstance(v, str) else v for v in dimension.values]
        groups = [
            scores[rows][[v == value for v in values]] for value in dimension.values
        ]
        # The means in grey: green is the chosen candidate's star.
        ax.boxplot(
            [g[~np.isnan(g)] for g in groups], tick_labels=labels, showmeans=True,
            meanprops={"markerfacecolor": "tab:gray", "markeredgecolor": "tab:gray"},
        )  # fmt: skip
        ax.tick_params(axis="x", labelrotation=30)

        def position(value):  # boxes stand at 1, 2, ...; None off the choices
            return next(
                (i for i, v in enumerate(dimension.values, 1) if v == value), None
            )
    else:
        ax.scatter(np.asarray(values, dtype=float), scores[rows], s=14)
        if dimension.log:
            _log_axis(ax, integer=dimension.integer)
        elif dimension.integer:  # no tick between 1 and 2 hidden layers
            ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        position = float
    chosen = getattr(tuner, "best_index_", None)
    if chosen is not None and chosen in rows and not np.isnan(scores[chosen]):
        at = position(column[chosen])
        if at is not None:
            ax.plot(
                at, scores[chosen], "*", color="tab:green", markersize=12,
                label="chosen", zorder=3,
            )  # fmt: skip
    ax.set_xlabel(name)
    ax.set_ylabel(f"CV {metric_label(tuner)}")


def _log_axis(ax, *, integer):
    """Use a log x axis with readable ticks: powers of 2 for integer ranges."""
    from matplotlib import ticker

    if integer:
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(ticker.ScalarFormatter())
    else:
        ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())


def plot_loss_curve(model, ax=None):
    """Plot the training loss of the refitted best MLP, and its validation score.

    Parameters
    ----------
    model : estimator
        A fitted tuner (with ``refit=True``), or a pipeline holding one.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None. The validation score, recorded
        with early stopping, goes on a second y axis.

    Returns
    -------
    figure : matplotlib Figure
        The figure drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> tuner = TunedMLPClassifier(
    ...     DropoutMLPClassifier(max_iter=100, random_state=0),
    ...     param_space={"alpha": (1e-4, 1.0, "log-uniform"), "n_neurons": [8, 16]},
    ...     search="random", n_iter=4, cv=2, random_state=0,
    ... ).fit(X, y)
    >>> from sk_mlp_tune.plotting import plot_loss_curve
    >>> figure = plot_loss_curve(tuner)
    >>> len(figure.axes[0].get_lines()[0].get_ydata()) == tuner.n_iter_
    True
    """
    tuner = find_tuner(model)
    best = tuner._refitted_estimator("plot_loss_curve")
    if not hasattr(best, "loss_curve_"):
        raise ValueError(
            f"The best model ({type(best).__name__} with solver="
            f"{best.get_params().get('solver')!r}) records no loss curve; only the "
            "stochastic solvers 'adam' and 'sgd' do."
        )
    figure, ax = _figure_and_axes(ax, (6, 3.5))
    epochs = np.arange(1, len(best.loss_curve_) + 1)
    ax.plot(epochs, best.loss_curve_, color="tab:blue", label="training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title("Training of the refitted best model")
    validation = getattr(best, "validation_scores_", None)
    if validation is not None:
        twin = ax.twinx()
        twin.plot(epochs, validation, color="tab:orange", label="validation score")
        twin.set_ylabel("validation score")
        lines = ax.get_lines() + twin.get_lines()
        ax.legend(lines, [line.get_label() for line in lines], loc="center right")
    else:
        ax.legend(loc="upper right")
    return figure
