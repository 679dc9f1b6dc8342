"""The search-space spec: its validation, its compilation per strategy, and the default.

One spec serves every strategy. A space is a dict mapping an estimator
parameter name to one of

- a list: a categorical choice among its elements (tuples such as
  ``(128, 64, 32)`` are fine);
- ``(low, high)``: a range, of integers when both bounds are integers,
  of floats otherwise;
- ``(low, high, prior)``: a range with a prior, ``"uniform"`` or
  ``"log-uniform"``;
- a scikit-optimize ``Real``, ``Integer`` or ``Categorical`` dimension.

A list of such dicts is a union of sub-spaces, as ``GridSearchCV`` accepts.

The spec is first resolved into :class:`Range` and :class:`Choice` objects,
which are then compiled to what each search object expects: lists for
``GridSearchCV``, scipy.stats distributions for ``RandomizedSearchCV`` and
scikit-optimize dimensions for ``BayesSearchCV`` (in ``_skopt.py``).
"""

import difflib
import json
import math
import numbers
import warnings
from dataclasses import dataclass
from importlib import resources

import numpy as np
from scipy import stats
from sklearn.base import is_regressor

from ._choice import ESTIMATOR_ORIGIN, portfolio_origin
from ._compat import validate_parameter_constraints
from ._steps import final_step, final_step_prefix

PRIORS = ("uniform", "log-uniform")

# Past this many candidates a grid is more than a person meant to ask for.
LARGE_GRID = 500


@dataclass(frozen=True)
class Choice:
    """A categorical hyperparameter: one of ``values``."""

    values: tuple


@dataclass(frozen=True)
class Range:
    """A numeric hyperparameter in ``[low, high]``: integer or real, maybe log."""

    low: numbers.Real
    high: numbers.Real
    log: bool
    integer: bool

    def grid(self, n_points):
        """Return up to ``n_points`` values spread over the range, ends included."""
        spread = np.geomspace if self.log else np.linspace
        values = spread(self.low, self.high, n_points)
        if self.integer:
            # Rounding can merge neighbours in a narrow integer range.
            return sorted({round(v) for v in values.tolist()})
        return values.tolist()

    def distribution(self):
        """Return a scipy.stats-like distribution that samples the range."""
        if self.integer:
            if self.log:
                return _LogUniformInt(self.low, self.high)
            return stats.randint(self.low, self.high + 1)
        if self.log:
            return stats.loguniform(self.low, self.high)
        return stats.uniform(loc=self.low, scale=self.high - self.low)


class _LogUniformInt:
    """Integers in ``[low, high]`` drawn uniformly on a log scale.

    scipy.stats has no such distribution; ``RandomizedSearchCV`` only needs
    ``rvs(random_state=...)``.
    """

    def __init__(self, low, high):
        self.low = low
        self.high = high

    def rvs(self, size=None, random_state=None):
        # floor of a log-uniform draw on [low, high + 1) gives every integer
        # in [low, high] its share of the log scale.
        draws = stats.loguniform(self.low, self.high + 1).rvs(
            size=size, random_state=random_state
        )
        if size is None:
            return min(int(draws), self.high)
        return np.minimum(np.floor(draws).astype(int), self.high)

    def __repr__(self):
        return f"{type(self).__name__}(low={self.low}, high={self.high})"


def resolve_space(param_space, estimator, name="param_space"):
    """Validate a user's space and resolve it into sub-spaces of dimensions.

    Parameters
    ----------
    param_space : dict or list of dict
        The spec described in the module docstring.
    estimator : estimator instance
        The template whose parameters the keys must name.
    name : str, default="param_space"
        How error messages call the space.

    Returns
    -------
    subspaces : list of dict
        One ``{name: Range or Choice}`` dict per sub-space, keys sorted.
        ``param_space`` itself is left untouched.
    """
    if isinstance(param_space, dict):
        return [_resolve_subspace(param_space, estimator, where=name)]
    if not param_space:
        raise ValueError(
            f"{name} is an empty list; give a dict, or a non-empty list of "
            "dicts (one per sub-space)."
        )
    subspaces = []
    for index, subspace in enumerate(param_space):
        where = f"{name}[{index}]"
        if not isinstance(subspace, dict):
            raise TypeError(
                f"{where} must be a dict mapping parameter names to values; "
                f"got {subspace!r}."
            )
        subspaces.append(_resolve_subspace(subspace, estimator, where=where))
    return subspaces


def _resolve_subspace(subspace, estimator, *, where):
    if not subspace:
        raise ValueError(
            f"{where} is an empty dict; name at least one hyperparameter to search."
        )
    valid = estimator.get_params(deep=True)
    resolved = {}
    for name in sorted(subspace):
        if name not in valid:
            raise ValueError(_unknown_parameter_message(name, valid, estimator, where))
        resolved[name] = _resolve_dimension(subspace[name], f"{where}[{name!r}]")
    return resolved


def check_values_accepted(estimator, subspaces, name="param_space"):
    """Refuse a value, or a range end, that the estimator's own constraints refuse.

    Otherwise every candidate holding it would fail in every fold, and the
    search would end with "all fits failed" long after the cause.

    Parameters
    ----------
    estimator : estimator instance
        The template; a nested key such as ``"mlp__alpha"`` is checked
        against the step it names.
    subspaces : list of dict
        The resolved space.
    name : str, default="param_space"
        How error messages call the space.
    """
    params = estimator.get_params(deep=True)
    for index, subspace in enumerate(subspaces):
        where = name if len(subspaces) == 1 else f"{name}[{index}]"
        for key, dimension in subspace.items():
            owner_key, _, parameter = key.rpartition("__")
            owner = params[owner_key] if owner_key else estimator
            constraints = getattr(owner, "_parameter_constraints", {})
            if parameter not in constraints:
                continue
            if isinstance(dimension, Choice):
                values = dimension.values
            else:
                values = (dimension.low, dimension.high)
            for value in values:
                try:
                    validate_parameter_constraints(
                        {parameter: constraints[parameter]},
                        {parameter: value},
                        caller_name=type(owner).__name__,
                    )
                except (ValueError, TypeError) as error:
                    what = "holds" if isinstance(dimension, Choice) else "reaches"
                    raise ValueError(
                        f"{where}[{key!r}] {what} {value!r}, which "
                        f"{type(owner).__name__} refuses: {error} Change that "
                        "value or range end."
                    ) from None


def _unknown_parameter_message(name, valid, estimator, where):
    close = difflib.get_close_matches(str(name), valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (
        f"{where} has the key {name!r}, which is not a parameter of "
        f"{type(estimator).__name__}.{hint} Valid parameters are: "
        f"{sorted(valid)}."
    )


def _resolve_dimension(value, where):
    if isinstance(value, (list, np.ndarray)):
        values = tuple(value.tolist() if isinstance(value, np.ndarray) else value)
        if not values:
            raise ValueError(
                f"{where} is an empty list; give at least one value to choose from."
            )
        return Choice(values)
    if isinstance(value, tuple):
        return _resolve_range(value, where)
    dimension = _from_skopt(value)
    if dimension is None:
        raise TypeError(
            f"{where} must be a list (a choice), a (low, high) or "
            "(low, high, prior) tuple (a range) or a scikit-optimize dimension; "
            f"got {value!r}. To fix a value without searching it, set it on the "
            "estimator or give a one-element list."
        )
    return dimension


def _from_skopt(value):
    """Return a scikit-optimize dimension as a Range or Choice, else None.

    Read by duck typing, so that the space imports nothing of the search
    that compiles it back into scikit-optimize's terms.
    """
    kind = type(value)
    if not kind.__module__.startswith("skopt."):
        return None
    if kind.__name__ == "Categorical":
        return Choice(tuple(value.categories))
    if kind.__name__ in ("Real", "Integer"):
        return Range(
            value.low,
            value.high,
            log=value.prior == "log-uniform",
            integer=kind.__name__ == "Integer",
        )
    return None


def _resolve_range(value, where):
    if len(value) not in (2, 3):
        raise ValueError(
            f"{where} is a tuple of length {len(value)}, but a range is "
            f"(low, high) or (low, high, prior); got {value!r}. For a choice "
            "among values, use a list."
        )
    low, high = value[:2]
    prior = value[2] if len(value) == 3 else "uniform"
    if not all(_is_number(bound) for bound in (low, high)):
        raise TypeError(
            f"{where} is a tuple, which means a numeric range (low, high[, prior]); "
            f"got {value!r}. For a choice among values, use a list: "
            f"{list(value)!r}."
        )
    if prior not in PRIORS:
        raise ValueError(f"{where} has the prior {prior!r}; use one of {list(PRIORS)}.")
    if not low < high:
        raise ValueError(
            f"{where} needs low < high; got low={low!r}, high={high!r}. "
            "To fix a value, give a one-element list instead."
        )
    log = prior == "log-uniform"
    if log and low <= 0:
        raise ValueError(
            f"{where} is a log-uniform range, which needs low > 0; got "
            f"low={low!r}. Use a positive lower bound or the 'uniform' prior."
        )
    integer = all(isinstance(bound, numbers.Integral) for bound in (low, high))
    if integer:
        return Range(int(low), int(high), log=log, integer=True)
    return Range(float(low), float(high), log=log, integer=False)


def _is_number(value):
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def to_grid(subspaces, n_grid_points):
    """Compile sub-spaces into a ``GridSearchCV`` parameter grid.

    Ranges become ``n_grid_points`` values, log-spaced for log priors.
    Warns when the grid is larger than a person likely meant.
    """
    grid = [
        {
            name: list(dim.values)
            if isinstance(dim, Choice)
            else dim.grid(n_grid_points)
            for name, dim in subspace.items()
        }
        for subspace in subspaces
    ]
    n_candidates = sum(math.prod(len(v) for v in sub.values()) for sub in grid)
    if n_candidates > LARGE_GRID:
        warnings.warn(
            f"The grid has {n_candidates} candidates (n_grid_points="
            f"{n_grid_points} per range), and each is fitted once per CV fold. "
            "Lower n_grid_points, search fewer hyperparameters, or use "
            "search='random' or search='bayes' with a fixed n_iter.",
            UserWarning,
            stacklevel=3,
        )
    return grid


def to_distributions(subspaces):
    """Compile sub-spaces into ``RandomizedSearchCV`` parameter distributions."""
    return [
        {
            name: list(dim.values) if isinstance(dim, Choice) else dim.distribution()
            for name, dim in subspace.items()
        }
        for subspace in subspaces
    ]


# The learning rate, the architecture, dropout, the L2 penalty, the batch size
# and the activation decide whether an MLP learns well; the bounds bracket the
# values that work on small to medium tabular and image data. Architecture is
# searched as scalars (depth, width, shape), which every strategy can search.
_DEFAULT_SPACE = {
    "learning_rate_init": (1e-4, 1e-1, "log-uniform"),
    "n_hidden_layers": (1, 3),
    "n_neurons": (16, 256, "log-uniform"),
    "layer_shape": ["constant", "funnel"],
    "dropout": (0.0, 0.5),
    "alpha": (1e-6, 1e-1, "log-uniform"),
    "batch_size": (32, 256, "log-uniform"),
    "activation": ["relu", "tanh"],
}

# A grid over every default dimension would have thousands of candidates, so
# the grid keeps two values of the dimensions that matter most and leaves the
# rest at the estimator's values (alpha, batch size; funnel-shaped layers):
# 2 ** 5 = 32 candidates.
_DEFAULT_GRID = {
    "learning_rate_init": [1e-3, 1e-2],
    "n_hidden_layers": [1, 3],
    "n_neurons": [64, 256],
    "layer_shape": ["funnel"],
    "dropout": [0.0, 0.2],
    "activation": ["relu", "tanh"],
}

# What a regressor's space changes, chosen with benchmarks/bench_regressor.py
# (diabetes went from 1 seed in 5 reaching RidgeCV to 3). An MLP's alpha
# weighs its L2 penalty as ridge's does, and RidgeCV picks from 0.1, 1 and 10
# on small, nearly linear problems: the classifiers' ceiling of 0.1 is too
# low. A learning rate of 0.1 overshoots on a standardised target. Identity
# layers (added to the activations) make a linear model with that penalty.
_REGRESSOR_CHANGES = {
    "learning_rate_init": (1e-4, 1e-2, "log-uniform"),
    "alpha": (1e-4, 10.0, "log-uniform"),
}

_NETWORK_PARAMETERS = {"dropout", "n_hidden_layers", "n_neurons", "layer_shape"}

# For a plain scikit-learn MLP, which has neither dropout nor the shorthands,
# the architecture is a choice among tuples spanning the same depths and widths.
_PLAIN_MLP_SPACE = {
    "hidden_layer_sizes": [
        (16,),
        (64,),
        (256,),
        (64, 32),
        (128, 64),
        (256, 128),
        (128, 64, 32),
        (256, 128, 64),
    ],
    **{k: v for k, v in _DEFAULT_SPACE.items() if k not in _NETWORK_PARAMETERS},
}
_PLAIN_MLP_GRID = {
    "learning_rate_init": [1e-3, 1e-2],
    "hidden_layer_sizes": [(64,), (256,), (128, 64, 32)],
    "alpha": [1e-5, 1e-2],
    "activation": ["relu", "tanh"],
}


def default_space(estimator=None, *, grid=False):
    """Return the default space for ``estimator``: its grid, or its ranges.

    The data behind :func:`~sk_mlp_tune.default_param_space`, which says
    what it holds; ``grid`` is the strategy's ``grid_space`` trait.
    """
    prefix = final_step_prefix(estimator)
    if prefix:
        estimator = final_step(estimator)
        space = default_space(estimator, grid=grid)
        return {prefix + name: value for name, value in space.items()}
    plain = estimator is not None and not _NETWORK_PARAMETERS <= set(
        estimator.get_params()
    )
    if grid:
        space = _PLAIN_MLP_GRID if plain else _DEFAULT_GRID
    else:
        space = _PLAIN_MLP_SPACE if plain else _DEFAULT_SPACE
    # Copies, so that editing the result cannot change the defaults.
    space = {name: list(v) if isinstance(v, list) else v for name, v in space.items()}
    if not grid and estimator is not None and is_regressor(estimator):
        space.update(_REGRESSOR_CHANGES)
        space["activation"] = [*space["activation"], "identity"]
    return space


# scikit-learn's batch_size="auto" is min(200, n_samples); 200 clipped to the
# samples (with a warning the searches silence) trains the same network.
_AUTO_BATCH_SIZE = 200
# hidden_layer_sizes=None on the dropout MLPs: scikit-learn's default.
_DEFAULT_HIDDEN_LAYER_SIZES = (100,)


def estimator_settings(estimator, subspace):
    """Return the estimator's own values of the keys of ``subspace``, in its terms.

    The estimator's own settings are the first candidate of every search but
    a user's grid. They are given as the space describes a network, so that
    ``cv_results_``, the report and the proposers read them as any other
    candidate: ``batch_size="auto"`` as 200, and ``n_hidden_layers=None,
    n_neurons=None`` as the layers they build (``hidden_layer_sizes``, by
    default one layer of 100). A value the space cannot describe is kept.

    Parameters
    ----------
    estimator : estimator instance
        The template; keys of a pipeline's steps (``"mlp__alpha"``) too.
    subspace : dict
        One resolved sub-space: ``{name: Range or Choice}``.

    Returns
    -------
    candidate : dict
        One value per key of ``subspace``: a candidate that builds the same
        network as the estimator.

    Examples
    --------
    >>> from sk_mlp_tune import DropoutMLPClassifier, default_param_space
    >>> from sk_mlp_tune._space import estimator_settings, resolve_space
    >>> mlp = DropoutMLPClassifier()
    >>> [subspace] = resolve_space(default_param_space(), mlp)
    >>> own = estimator_settings(mlp, subspace)
    >>> own["batch_size"], own["n_hidden_layers"], own["n_neurons"], own["layer_shape"]
    (200, 1, 100, 'constant')
    """
    params = estimator.get_params(deep=True)
    own = {name: params[name] for name in subspace}
    for name in subspace:
        prefix, _, parameter = name.rpartition("__")
        prefix = prefix + "__" if prefix else ""
        if parameter == "batch_size" and own[name] == "auto":
            own[name] = _AUTO_BATCH_SIZE
        if parameter in ("n_hidden_layers", "n_neurons") and own[name] is None:
            own.update(_shorthands_of(params, prefix, own))
    return own


def _shorthands_of(params, prefix, own):
    """Return the shorthands (of those in ``own``) that describe the layers built.

    With neither shorthand set, the layers are ``hidden_layer_sizes``, and
    the shorthands and shape that build them are given, if any do. With one
    set, the network fills the other with 1 layer or 100 units; the shape
    is the estimator's.
    """
    depth = params.get(prefix + "n_hidden_layers")
    width = params.get(prefix + "n_neurons")
    if depth is not None or width is not None:
        described = {
            prefix + "n_hidden_layers": depth or 1,
            prefix + "n_neurons": width or _DEFAULT_HIDDEN_LAYER_SIZES[0],
        }
        return {k: v for k, v in described.items() if k in own}
    sizes = params.get(prefix + "hidden_layer_sizes")
    sizes = _DEFAULT_HIDDEN_LAYER_SIZES if sizes is None else sizes
    sizes = (sizes,) if isinstance(sizes, numbers.Integral) else tuple(sizes)
    shape = _layer_shape_of(sizes)
    if shape is None:
        return {}  # no shorthand describes them: keep the estimator's values
    described = {
        prefix + "n_hidden_layers": len(sizes),
        prefix + "n_neurons": sizes[0],
        prefix + "layer_shape": shape,
    }
    return {k: v for k, v in described.items() if k in own}


def _layer_shape_of(sizes):
    from ._network import architecture

    for shape in ("constant", "funnel"):
        if architecture(len(sizes), sizes[0], shape) == sizes:
            return shape
    return None


def lies_in(candidate, subspace):
    """Tell whether every value of ``candidate`` lies in ``subspace``, key for key."""
    if set(candidate) != set(subspace):
        return False
    for name, dimension in subspace.items():
        value = candidate[name]
        if isinstance(dimension, Choice):
            if value not in dimension.values:
                return False
        elif isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        elif dimension.integer and int(value) != value:
            return False
        elif not dimension.low <= value <= dimension.high:
            return False
    return True


def portfolio(estimator):
    """Return the learned portfolio for ``estimator``'s task, best first.

    The portfolio is an ordered list of configurations of the default
    space that did well across many real tables, built greedily by
    ``benchmarks/build_portfolio.py`` and shipped as ``portfolio.json``
    beside this module, with the tables and the command that made it.

    Parameters
    ----------
    estimator : estimator instance
        A classifier or a regressor: each task has its own portfolio.

    Returns
    -------
    entries : list of dict
        Candidates in the default space's terms, in the order to try them:
        for a pipeline, the names prefixed as :func:`default_param_space`'s.
    """
    with resources.files(__package__).joinpath("portfolio.json").open() as file:
        data = json.load(file)
    prefix = final_step_prefix(estimator)
    task = "regressor" if is_regressor(final_step(estimator)) else "classifier"
    return [
        {prefix + name: value for name, value in entry.items()} for entry in data[task]
    ]


def starting_candidates(estimator, subspaces, entries):
    """Return the candidates a search begins with, each with its origin label.

    The estimator's own settings first (:func:`estimator_settings` of the
    first sub-space), then the portfolio's entries that differ from them.

    Parameters
    ----------
    estimator : estimator instance
        The template.
    subspaces : list of dict
        The resolved space.
    entries : bool or list of dict
        ``True``: the shipped :func:`portfolio`'s entries that lie in the
        first sub-space. ``False``: none. A list: these entries, as given
        (checked by :func:`check_portfolio`).

    Returns
    -------
    starting : list of (dict, str)
        Candidates and their labels: ``"estimator"``, ``"portfolio 1"``, ...
        (the entry's position in the portfolio, from 1).
    """
    own = estimator_settings(estimator, subspaces[0])
    if entries is True:
        entries = [
            e if lies_in(e, subspaces[0]) else None for e in portfolio(estimator)
        ]
    starting = [(own, ESTIMATOR_ORIGIN)]
    for position, entry in enumerate(entries or ()):
        if entry is not None and entry != own:
            starting.append((dict(entry), portfolio_origin(position)))
    return starting


def check_portfolio(entries, estimator):
    """Refuse a portfolio of the user's that is not a list of parameter dicts.

    Parameters
    ----------
    entries : list
        The ``portfolio`` given to the tuner.
    estimator : estimator instance
        The template whose parameters the entries must name.
    """
    valid = estimator.get_params(deep=True)
    for index, entry in enumerate(entries):
        where = f"portfolio[{index}]"
        if not isinstance(entry, dict) or not entry:
            raise TypeError(
                f"{where} must be a non-empty dict of the estimator's parameters, "
                f"e.g. {{'alpha': 1e-3}}; got {entry!r}."
            )
        for name in entry:
            if name not in valid:
                raise ValueError(
                    _unknown_parameter_message(name, valid, estimator, where)
                )
