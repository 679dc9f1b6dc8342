"""Figures of a fitted tuner: the search history, scores per hyperparameter, losses.

matplotlib is an optional dependency (the ``plot`` extra), imported only
when a function here is called. Each function takes a fitted
:class:`~sk_mlp_tune.TunedMLPClassifier` or
:class:`~sk_mlp_tune.TunedMLPRegressor` (or a pipeline ending in one) and
returns a matplotlib Figure, or draws on the Axes it is given.
"""

import numpy as np

from ._compat import import_optional
from ._space import Choice, default_param_space, resolve_space
from ._tuned import _BaseTunedMLP, ranking_metric


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


def _figure_and_axes(ax, figsize):
    plt = _pyplot()
    if ax is None:
        figure, ax = plt.subplots(figsize=figsize)
        return figure, ax
    return ax.figure, ax


def plot_search_history(model, ax=None):
    """Plot each candidate's CV score in evaluation order, and the best so far.

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
    figure, ax = _figure_and_axes(ax, (6, 3.5))
    order = np.arange(1, len(results["params"]) + 1)
    metric = ranking_metric(tuner)
    means = np.asarray(results[f"mean_test_{metric}"], dtype=float)
    spread = np.asarray(results[f"std_test_{metric}"], dtype=float)
    ax.errorbar(
        order,
        means,
        yerr=spread,
        fmt="o",
        markersize=4,
        capsize=2,
        label="candidate (mean ± sd over folds)",
    )
    best_so_far = np.fmax.accumulate(np.where(np.isnan(means), -np.inf, means))
    ax.step(order, best_so_far, where="post", color="tab:red", label="best so far")
    if hasattr(tuner, "best_index_"):
        chosen = tuner.best_index_
        ax.plot(
            order[chosen], means[chosen], "*", color="tab:green", markersize=12,
            label="chosen (refitted)", zorder=3,
        )  # fmt: skip
    ax.set_xlabel("candidate, in evaluation order")
    ax.set_ylabel("CV score")
    ax.set_title("Search history")
    # Below the axes, where it can cover no point.
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False,
        fontsize="small",
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

    Ranges are scatter plots (log x axis for log ranges); choices are
    grouped, one box of scores per value.

    Parameters
    ----------
    model : estimator
        A fitted tuner, or a pipeline holding one.
    params : list of str, default=None
        The hyperparameters to show; None means all that were searched.

    Returns
    -------
    figure : matplotlib Figure
        One Axes per hyperparameter.

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
    results = tuner.cv_results_
    scores = np.asarray(results[f"mean_test_{ranking_metric(tuner)}"], dtype=float)
    n_cols = min(3, len(names))
    n_rows = -(-len(names) // n_cols)
    figure, axes = plt.subplots(
        n_rows, n_cols, figsize=(4 * n_cols, 3 * n_rows), squeeze=False
    )
    for ax, name in zip(axes.flat, names, strict=False):
        column = results[f"param_{name}"]
        present = ~np.ma.getmaskarray(column)
        values = [column[i] for i in np.flatnonzero(present)]
        these = scores[present]
        dimension = dimensions[name]
        if isinstance(dimension, Choice):
            labels = [
                repr(v) if not isinstance(v, str) else v for v in dimension.values
            ]
            groups = [these[[v == value for v in values]] for value in dimension.values]
            ax.boxplot(
                [g[~np.isnan(g)] for g in groups], tick_labels=labels, showmeans=True
            )
            ax.tick_params(axis="x", labelrotation=30)
        else:
            ax.scatter(np.asarray(values, dtype=float), these, s=14)
            if dimension.log:
                _log_axis(ax, integer=dimension.integer)
        ax.set_xlabel(name)
        ax.set_ylabel("CV score")
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    figure.suptitle("Score against each hyperparameter")
    figure.tight_layout()
    return figure


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
