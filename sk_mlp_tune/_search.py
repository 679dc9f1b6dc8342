"""The strategies: one search class each, found by name through one registry.

Each class is scikit-learn's (or scikit-optimize's, in ``_skopt``; or the
engine's own asha, in ``_asha``) with its fold fits on the engine
(:mod:`._searchbase`) and the starting candidates first. It carries its
strategy's traits (``_searchbase._EngineSearchMixin``) and builds itself
from the tuner's settings (``build``). :data:`SEARCHES` maps each
``search=`` to its class: a new strategy is a class here and a line in it,
and the rest of the package asks the class, never the name.
"""

import math
import numbers
from collections.abc import Mapping

import numpy as np
from sklearn.base import is_classifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingRandomSearchCV,
    ParameterGrid,
    ParameterSampler,
    RandomizedSearchCV,
)

from ._asha import AsynchronousHalvingSearchCV
from ._choice import ESTIMATOR_ORIGIN
from ._searchbase import _EngineSearchMixin, common_parameters
from ._space import default_space, to_distributions, to_grid
from ._steps import final_step

# Successive halving on large data (resource="auto"): each rung below the last
# trains on 1/factor of the next rung's rows, as well as on 1/factor of its
# epochs, but on no fewer rows than this, where a sample stops being cheap
# and starts being noisy. Chosen with benchmarks/bench_scale.py.
LOWER_RUNG_MIN_ROWS = 3_000


class MonitoredGridSearchCV(_EngineSearchMixin, GridSearchCV):
    """``GridSearchCV`` with its fold fits on the engine.

    Its starting candidates (the estimator's own settings) are in its grid
    already: :meth:`build` puts them first.
    """

    name = "grid"
    takes_portfolio = False
    grid_space = True

    @classmethod
    def build(cls, estimator, subspaces, *, n_grid_points, starting, evaluated,
              **search_params):  # fmt: skip
        """Return the grid search of ``subspaces``, less what was ``evaluated``."""
        grid = _grid(subspaces, n_grid_points, starting, evaluated)
        return cls(estimator, grid, **common_parameters(search_params))

    def n_planned_candidates(self, starting=()):
        return len(ParameterGrid(self.param_grid))


class MonitoredRandomizedSearchCV(_EngineSearchMixin, RandomizedSearchCV):
    """``RandomizedSearchCV`` with its fold fits on the engine.

    The starting candidates take the place of the last random draws, so
    that the search still evaluates ``n_iter`` candidates.
    """

    name = "random"

    @classmethod
    def build(cls, estimator, subspaces, *, n_iter, random_state, **search_params):
        """Return the random search of ``n_iter`` draws from ``subspaces``."""
        return cls(
            estimator,
            to_distributions(subspaces),
            n_iter=n_iter,
            random_state=random_state,
            **common_parameters(search_params),
        )

    def n_planned_candidates(self, starting=()):
        return len(
            ParameterSampler(self.param_distributions, self.n_iter, random_state=0)
        )

    def _run_search(self, evaluate_candidates, **context):
        def evaluate_starting_first(candidate_params, **kwargs):
            candidates = _starting_then_drawn(
                self._plan.starting, candidate_params, self.n_iter
            )
            return evaluate_candidates(candidates, **kwargs)

        super()._run_search(evaluate_starting_first, **context)


def _starting_then_drawn(starting, drawn, n_planned, resource=None):
    """Return the starting candidates, then as many draws as leave ``n_planned``.

    A draw equal to a starting candidate is left out. When the sampler
    drew fewer than planned (a small grid of choices, drawn whole), every
    other draw is kept: there is none to spare.
    """
    drawn = list(drawn)
    at_rung = {resource: drawn[0][resource]} if resource in (drawn or [{}])[0] else {}
    starting = [{**candidate, **at_rung} for candidate, _ in starting][:n_planned]
    others = [candidate for candidate in drawn if candidate not in starting]
    if len(drawn) >= n_planned:
        others = others[: max(n_planned - len(starting), 0)]
    return starting + others


class MonitoredHalvingRandomSearchCV(_EngineSearchMixin, HalvingRandomSearchCV):
    """``HalvingRandomSearchCV`` with its fold fits on the engine.

    The starting candidates take the place of the last random draws of the
    first rung, and the estimator's own settings go on to every rung
    whatever their score: they learn slowly at few epochs, and cut at the
    first rung they would never be compared at full training, so the search
    could end below the model it started from. They take the place of the
    weakest candidate kept, so that the rungs keep the sizes scikit-learn
    plans, but join a rung of one candidate beside it.
    """

    name = "halving"
    has_rungs = True
    continues = False

    @classmethod
    def check_settings(cls, template, *, resource, multimetric, **settings):
        """Refuse several metrics, and epochs an estimator does not have."""
        if multimetric:
            raise ValueError(
                "search='halving' keeps candidates by one metric; scikit-learn's "
                "HalvingRandomSearchCV takes no multi-metric scoring. Use "
                "search='asha' (successive halving by the refit metric), "
                "'grid', 'random' or 'bayes', or one metric in scoring."
            )
        if (
            resource == "max_iter"
            and "max_iter" not in final_step(template).get_params()
        ):
            raise ValueError(
                f"search='halving' with resource='max_iter' grows the "
                f"estimator's max_iter, which {type(template).__name__} does not "
                "have; use resource='n_samples'."
            )

    @classmethod
    def build(cls, estimator, subspaces, *, n_iter, resource, random_state,
              **search_params):  # fmt: skip
        """Return the halving search of ``n_iter`` candidates, over ``resource``.

        The rungs run up to the estimator's own max_iter (or all samples):
        ``"exhaust"`` sizes the first rung so that the last one reaches it.
        """
        halving_params = {"min_resources": "exhaust"}
        if resource != "n_samples":  # the epochs: "max_iter", "mlp__max_iter"
            halving_params["max_resources"] = estimator.get_params()[resource]
        # Halving dispatches one rung at a time and takes no pre_dispatch.
        search_params.pop("pre_dispatch", None)
        return cls(
            estimator,
            to_distributions(subspaces),
            n_candidates=n_iter,
            resource=resource,
            random_state=random_state,
            **halving_params,
            **common_parameters(search_params),
        )

    @classmethod
    def grows_epochs(cls, resource):
        """Tell whether each rung trains for more epochs: not on more samples."""
        return resource != "n_samples"

    def n_planned_candidates(self, starting=()):
        # The estimator's own settings join a last rung of one candidate.
        sizes = _halving_rung_sizes(self)
        carried = any(o == ESTIMATOR_ORIGIN for _, o in starting)
        return sum(sizes) + (carried and len(sizes) > 1 and sizes[-1] == 1)

    def planned_work(self, starting=(), n_train=None):
        # A candidate's training grows with its rung's resource and rows.
        sizes = _halving_rung_sizes(self)
        sizes[-1] += self.n_planned_candidates(starting) - sum(sizes)
        if not hasattr(self, "max_resources_"):  # before the inputs are checked
            return [1.0] * len(sizes), sizes
        # As scikit-learn's _run_search sizes the rungs under "exhaust".
        smallest = self.max_resources_ // self.factor ** (len(sizes) - 1)
        smallest = max(self.min_resources_, smallest)
        work = [
            min(int(self.factor**k * smallest), self.max_resources_)
            for k in range(len(sizes))
        ]
        if n_train and self._subsamples_rows():
            work = [
                w * self._rung_rows(k, len(sizes), n_train) / n_train
                for k, w in enumerate(work)
            ]
        return work, sizes

    def _subsamples_rows(self):
        return self._plan.lower_rung_rows and self.resource != "n_samples"

    def _rung_rows(self, rung, n_rungs, n_train):
        """Return the rows a fold trains on at ``rung``: see ``LOWER_RUNG_MIN_ROWS``."""
        rows = n_train / self.factor ** (n_rungs - 1 - rung)
        return int(min(n_train, max(rows, LOWER_RUNG_MIN_ROWS)))

    def _rung_splits(self, job, splits, rung):
        n_rungs = len(_halving_rung_sizes(self))
        if not self._subsamples_rows() or rung >= n_rungs - 1:
            return splits
        y = job.y if is_classifier(self.estimator) else None
        return [
            (
                subsample(
                    train, self._rung_rows(rung, n_rungs, len(train)), y,
                    random_state=[self._plan_seed(), rung, fold],
                ),
                test,
            )
            for fold, (train, test) in enumerate(splits)
        ]  # fmt: skip

    def _plan_seed(self):
        seed = self._plan.random_state
        return seed if isinstance(seed, numbers.Integral) else 0

    def _run_search(self, evaluate_candidates, **context):
        own = next((c for c, o in self._plan.starting if o == ESTIMATOR_ORIGIN), None)
        last = {}  # the results so far, as evaluate_candidates returns them

        def evaluate_keeping_own(candidate_params, cv=None, more_results=None, **kw):
            candidates = list(candidate_params)
            if more_results["iter"][0] == 0:
                candidates = _starting_then_drawn(
                    self._plan.starting, candidates, len(candidates),
                    self.resource,
                )  # fmt: skip
            elif own is not None and own not in self._without_resource(candidates):
                carried = {**own, **self._resource_of(candidates)}
                if len(candidates) > 1:
                    weakest = int(np.argmin(self._last_scores(candidates, last)))
                    candidates[weakest] = carried
                else:  # the last rung: never the estimator's settings alone
                    candidates.append(carried)
            # Every row of a rung has the same iter and n_resources.
            more_results = {
                k: [v[0]] * len(candidates) for k, v in more_results.items()
            }
            last.update(
                evaluate_candidates(candidates, cv, more_results=more_results, **kw)
            )
            return last

        super()._run_search(evaluate_keeping_own, **context)

    def _resource_of(self, candidates):
        """Return ``{resource: value}`` of this rung, or {} for n_samples."""
        if self.resource in candidates[0]:
            return {self.resource: candidates[0][self.resource]}
        return {}

    def _without_resource(self, candidates):
        return [{k: v for k, v in c.items() if k != self.resource} for c in candidates]

    def _last_scores(self, candidates, results):
        """Return each candidate's mean score at the previous rung; NaN lowest."""
        last_rung = np.flatnonzero(results["iter"] == np.max(results["iter"]))
        params = self._without_resource([results["params"][i] for i in last_rung])
        means = np.nan_to_num(results["mean_test_score"][last_rung], nan=-np.inf)
        return [means[params.index(c)] for c in self._without_resource(candidates)]

    def _search_candidates(self, job, found, monitor, plan, tasks):
        stop = super()._search_candidates(job, found, monitor, plan, tasks)
        if not hasattr(self, "n_iterations_") and found.out:
            # Cut short: describe the rungs as they ran, not as planned.
            rungs = np.asarray(found.results["iter"])
            n_ran = int(rungs.max()) + 1
            self.n_candidates_ = [int(np.sum(rungs == i)) for i in range(n_ran)]
            self.n_resources_ = self.n_resources_[:n_ran]
            self.n_iterations_ = n_ran
            self.n_remaining_candidates_ = self.n_candidates_[-1]
        return stop


def subsample(rows, n_rows, y=None, random_state=None):
    """Return ``n_rows`` of ``rows``, sorted; stratified by ``y`` if given.

    Every class of ``rows`` keeps at least one row, so that a network
    trained on the sample knows every class its fold is scored on.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_mlp_tune._search import subsample
    >>> y = np.array([0] * 90 + [1] * 9 + [2])
    >>> picked = subsample(np.arange(100), 10, y, random_state=0)
    >>> np.bincount(y[picked]).tolist()
    [9, 1, 1]
    """
    rows = np.asarray(rows)
    rng = np.random.default_rng(random_state)
    if y is None:
        return np.sort(rng.choice(rows, size=n_rows, replace=False))
    share = n_rows / len(rows)
    labels = np.asarray(y)[rows]
    picked = [
        rng.choice(of_class, size=max(1, round(share * len(of_class))), replace=False)
        for of_class in (rows[labels == label] for label in np.unique(labels))
    ]
    return np.sort(np.concatenate(picked))


def _halving_rung_sizes(search):
    """Candidates per rung, as ``HalvingRandomSearchCV._run_search`` plans them.

    Every rung keeps the best ``1 / factor`` of the previous one. With
    ``min_resources="exhaust"`` there are as many rungs as that takes to
    leave fewer than ``factor``, unless the resource runs out first: once
    the inputs are checked (``max_resources_`` is set), the rungs that the
    resource allows, as scikit-learn counts them.
    """
    # The same floating-point expressions as scikit-learn's, to agree with it.
    n, factor = search.n_candidates, search.factor
    n_rungs = 1 + math.floor(math.log(n, factor))
    if hasattr(search, "max_resources_"):
        smallest = max(
            search.min_resources_, search.max_resources_ // factor ** (n_rungs - 1)
        )
        n_possible = 1 + math.floor(math.log(search.max_resources_ // smallest, factor))
        n_rungs = min(n_rungs, n_possible)
    sizes = [n]
    while len(sizes) < n_rungs:
        sizes.append(math.ceil(sizes[-1] / factor))
    return sizes


def _bayes_search_cv():
    from ._skopt import BayesSearchCV

    return BayesSearchCV


class _Registry(Mapping):
    """Each ``search=`` to its search class, in the order the guide lists them.

    A value may be a function that imports the class on first use:
    scikit-optimize, behind the Bayesian search, takes about half a second
    to import, which ``import sk_mlp_tune`` need not pay.
    """

    def __init__(self, entries):
        self._entries = dict(entries)

    def __getitem__(self, name):
        entry = self._entries[name]
        if not isinstance(entry, type):
            entry = self._entries[name] = entry()
        return entry

    def __iter__(self):
        return iter(self._entries)

    def __len__(self):
        return len(self._entries)


SEARCHES = _Registry(
    {
        "grid": MonitoredGridSearchCV,
        "random": MonitoredRandomizedSearchCV,
        "bayes": _bayes_search_cv,
        "halving": MonitoredHalvingRandomSearchCV,
        "asha": AsynchronousHalvingSearchCV,
    }
)


def default_param_space(search="halving", estimator=None):
    """Return the default search space of the tuned MLP estimators.

    For ``"random"``, ``"bayes"``, ``"halving"`` and ``"asha"`` search, and the default
    :class:`~sk_mlp_tune.DropoutMLPClassifier` /
    :class:`~sk_mlp_tune.DropoutMLPRegressor`, the space is the learning
    rate, the depth and width of the network and the shape of its layers,
    dropout, ``alpha``, the batch size and the activation, over the ranges
    the first example prints (run as a test, so it cannot fall out of date).

    For ``"grid"`` search, a full grid of that space would have thousands of
    candidates, so the default grid takes two values of the learning rate
    (1e-3, 1e-2), the depth (1, 3), the width (64, 256), dropout (0, 0.2)
    and the activation, with funnel-shaped layers and the estimator's
    ``alpha`` and batch size: 32 candidates.

    For a regressor (except in the grid), the learning rate spans
    ``(1e-4, 1e-2, "log-uniform")``, ``alpha`` spans ``(1e-4, 10.0,
    "log-uniform")`` and the activation may also be ``"identity"``: a
    linear model with an L2 penalty as strong as ridge regression's, which
    small, nearly linear regression problems need.

    For an estimator without dropout and the architecture shorthands, such as
    scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`, the
    architecture is instead a choice among eight ``hidden_layer_sizes``
    tuples of one to three layers of 16 to 256 neurons (128-64-32 among
    them), and there is no dropout; its default grid has 24 candidates.

    For a pipeline (anything with ``steps``), the space is that of its last
    step, each name prefixed with the step's name as the pipeline's
    parameters are: ``mlp__alpha``, ``mlp__n_hidden_layers``, ...

    Parameters
    ----------
    search : {"grid", "random", "bayes", "halving", "asha"}, default="halving"
        The strategy the space is for; every strategy but grid search uses
        the same space.
    estimator : estimator instance, default=None
        The estimator the space is for, or a pipeline ending in it; None
        means the default dropout MLPs.

    Returns
    -------
    param_space : dict
        A new dict in the search-space spec, free to modify.

    Examples
    --------
    >>> from pprint import pprint
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sk_mlp_tune import default_param_space
    >>> space = default_param_space()
    >>> pprint(space, sort_dicts=False)
    {'learning_rate_init': (0.0001, 0.1, 'log-uniform'),
     'n_hidden_layers': (1, 3),
     'n_neurons': (16, 256, 'log-uniform'),
     'layer_shape': ['constant', 'funnel'],
     'dropout': (0.0, 0.5),
     'alpha': (1e-06, 0.1, 'log-uniform'),
     'batch_size': (32, 256, 'log-uniform'),
     'activation': ['relu', 'tanh']}
    >>> space["dropout"] = (0.0, 0.2)   # a modified copy, e.g. for param_space
    >>> sorted(default_param_space("grid", MLPClassifier()))
    ['activation', 'alpha', 'hidden_layer_sizes', 'learning_rate_init']
    >>> from sklearn.pipeline import Pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> pipeline = Pipeline([("scale", StandardScaler()), ("mlp", MLPClassifier())])
    >>> sorted(default_param_space("grid", pipeline))  # doctest: +NORMALIZE_WHITESPACE
    ['mlp__activation', 'mlp__alpha', 'mlp__hidden_layer_sizes',
     'mlp__learning_rate_init']
    """
    if search not in SEARCHES:
        *others, last = [repr(name) for name in SEARCHES]
        raise ValueError(
            f"search must be one of {', '.join(others)} or {last}; got {search!r}."
        )
    return default_space(estimator, grid=SEARCHES[search].grid_space)


def build_search(search, estimator, subspaces, **settings):
    """Return the unfitted search object of strategy ``search`` over ``subspaces``.

    Parameters
    ----------
    search : str
        A key of :data:`SEARCHES`.
    estimator : estimator instance
        The template each candidate is cloned from.
    subspaces : list of dict
        The space, as resolved by ``_space.resolve_space``.
    **settings
        The tuner's: ``n_iter``, ``n_grid_points``, ``n_points``,
        ``resource`` (what successive halving grows: ``"n_samples"``, or
        the epochs parameter, ``"max_iter"`` or ``"mlp__max_iter"``),
        ``random_state``, ``starting`` (the starting candidates, as the
        class's ``starting_share`` keeps them), ``evaluated`` (what an
        earlier round evaluated), ``prior_results``, ``seeded``,
        ``checkpoint``, ``n_splits``, and the parameters every search takes
        (``scoring``, ``cv``, ``refit``, ``n_jobs``, ``pre_dispatch``,
        ``verbose``, ``error_score``, ``return_train_score``). Each class
        takes what it uses.
    """
    return SEARCHES[search].build(estimator, subspaces, **settings)


def _grid(subspaces, n_grid_points, starting, evaluated):
    """Return the grid: the estimator's own settings first, less what was evaluated.

    Empty when a continued grid has nothing left.
    """
    grid = to_grid(subspaces, n_grid_points)
    own = [
        {name: [value] for name, value in candidate.items()}
        for candidate, origin in starting
        if origin == ESTIMATOR_ORIGIN and candidate not in ParameterGrid(grid)
    ]
    if not evaluated:
        return own + grid
    return [
        {name: [value] for name, value in candidate.items()}
        for candidate in ParameterGrid(own + grid)
        if candidate not in evaluated
    ]
