"""The searches on the engine, and the one to build for a strategy.

Each class here is scikit-learn's search with its fold fits on the engine
(:mod:`._searchbase`) and the starting candidates first; the Bayesian one
is in ``_skopt``. :func:`build_search` makes the one a strategy needs.
"""

import math
import numbers

import numpy as np
from scipy.stats import rankdata
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingRandomSearchCV,
    ParameterGrid,
    ParameterSampler,
    RandomizedSearchCV,
)

from ._asha import AsynchronousHalvingSearchCV
from ._choice import (
    ESTIMATOR_ORIGIN,
    SEARCH_ORIGIN,
)
from ._engine import final_step
from ._searchbase import _EngineSearchMixin
from ._space import to_distributions, to_grid

SEARCHES = ("grid", "random", "bayes", "halving", "asha")


class MonitoredGridSearchCV(_EngineSearchMixin, GridSearchCV):
    """``GridSearchCV`` with its fold fits on the engine.

    Its starting candidates are in its grid already: :func:`build_search`
    puts them first.
    """

    def n_planned_candidates(self):
        return len(ParameterGrid(self.param_grid))


class MonitoredRandomizedSearchCV(_EngineSearchMixin, RandomizedSearchCV):
    """``RandomizedSearchCV`` with its fold fits on the engine.

    The starting candidates take the place of the last random draws, so
    that the search still evaluates ``n_iter`` candidates.
    """

    def n_planned_candidates(self):
        return len(
            ParameterSampler(self.param_distributions, self.n_iter, random_state=0)
        )

    def _run_search(self, evaluate_candidates, **context):
        def evaluate_starting_first(candidate_params, **kwargs):
            candidates = _starting_then_drawn(
                self.starting_candidates, candidate_params, self.n_iter
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

    def n_planned_candidates(self):
        # The estimator's own settings join a last rung of one candidate.
        sizes = _halving_rung_sizes(self)
        carried = any(o == ESTIMATOR_ORIGIN for _, o in self.starting_candidates)
        return sum(sizes) + (carried and len(sizes) > 1 and sizes[-1] == 1)

    def _run_search(self, evaluate_candidates, **context):
        own = next(
            (c for c, o in self.starting_candidates if o == ESTIMATOR_ORIGIN), None
        )
        last = {}  # the results so far, as evaluate_candidates returns them

        def evaluate_keeping_own(candidate_params, cv=None, more_results=None, **kw):
            candidates = list(candidate_params)
            if more_results["iter"][0] == 0:
                candidates = _starting_then_drawn(
                    self.starting_candidates, candidates, len(candidates),
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

    def fit(self, X, y=None, **params):
        """Run successive halving, as the parent class does.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,), default=None
            Target values.
        **params : dict
            Parameters of the estimator's ``fit``, the scorer and the splitter.

        Returns
        -------
        self : object
            The fitted search.
        """
        super().fit(X, y, **params)
        if not hasattr(self, "n_iterations_"):
            # Cut short: describe the rungs as they ran, not as planned.
            rungs = np.asarray(self.cv_results_["iter"])
            n_ran = int(rungs.max()) + 1
            self.n_candidates_ = [int(np.sum(rungs == i)) for i in range(n_ran)]
            self.n_resources_ = self.n_resources_[:n_ran]
            self.n_iterations_ = n_ran
            self.n_remaining_candidates_ = self.n_candidates_[-1]
        return self


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


# Candidates per Bayesian step at the least: 4 took 0.58x the time of 1 at
# the same scores on 2 cores (benchmarks/bench_bayes_batching.py), and a
# fixed number keeps seeded results the same for any n_jobs up to 4 * cv.
MIN_BAYES_POINTS = 4


def default_n_points(n_jobs, n_splits):
    """Candidates per Bayesian step: 4, or more to give every worker a fit.

    Each candidate is ``n_splits`` fits; beyond ``4 * n_splits`` workers,
    ``ceil(n_jobs / n_splits)`` candidates keep them all busy.

    Examples
    --------
    >>> from sk_mlp_tune._search import default_n_points
    >>> default_n_points(1, 5), default_n_points(20, 5), default_n_points(64, 5)
    (4, 4, 13)
    """
    return max(MIN_BAYES_POINTS, math.ceil(n_jobs / n_splits))


def build_search(
    search,
    estimator,
    subspaces,
    *,
    n_iter,
    n_grid_points,
    n_points,
    resource,
    random_state,
    starting=(),
    selection="best",
    evaluated=(),
    prior_results=(),
    seeded=False,
    checkpoint=None,
    **search_params,
):
    """Return an unfitted search object for ``search`` over ``subspaces``.

    Parameters
    ----------
    search : {"grid", "random", "bayes", "halving"}
        The strategy.
    estimator : estimator instance
        The template each candidate is cloned from.
    subspaces : list of dict
        The space, as resolved by ``_space.resolve_space``.
    n_iter : int
        Number of candidates for random, Bayesian and halving search.
    n_grid_points : int
        Values per range for grid search.
    n_points : int or None
        Candidates proposed per Bayesian step; for asha, the decisions a
        seeded search takes ahead of earlier results (None: the default).
    resource : str
        What successive halving grows from rung to rung: ``"n_samples"``, or
        the name of the epochs parameter (``"max_iter"``, or
        ``"mlp__max_iter"`` for a pipeline).
    random_state : int or None
        Seed of the candidate sampling; grid search has none.
    starting : list of (dict, str), default=()
        Candidates to evaluate first, with their origin labels
        (``_space.starting_candidates``); grid search takes the estimator's
        own settings alone, as the first point of its grid.
    selection : {"one_se", "best"}, default="best"
        How the best candidate is chosen (``_choice.choose_index``).
    evaluated : list of dict, default=()
        Candidates an earlier round evaluated: a continued grid leaves them out.
    prior_results : list, default=()
        The optimizers' results of an earlier round, for Bayesian search to
        continue from.
    seeded, checkpoint
        For asha: whether its results must not depend on the workers'
        timing, and the journal to resume from.
    **search_params
        Passed on unchanged: ``scoring``, ``cv``, ``refit``, ``n_jobs``,
        ``pre_dispatch``, ``verbose``, ``error_score``, ``return_train_score``.

    Returns
    -------
    search : search object
        A subclass of GridSearchCV, RandomizedSearchCV, HalvingRandomSearchCV
        or BayesSearchCV, or the engine's AsynchronousHalvingSearchCV, whose
        ``monitor`` attribute may be set.
    """
    starting = list(starting)[:n_iter]
    if search == "bayes":
        # scikit-optimize takes at least one step of its own in each sub-space.
        first_share = -(-n_iter // len(subspaces))
        starting = starting[: first_share - 1]
    if search == "grid":
        grid = _grid(subspaces, n_grid_points, starting, evaluated)
        found = MonitoredGridSearchCV(estimator, grid, **search_params)
    elif search == "random":
        found = MonitoredRandomizedSearchCV(
            estimator,
            to_distributions(subspaces),
            n_iter=n_iter,
            random_state=random_state,
            **search_params,
        )
    elif search == "halving":
        # The rungs run up to the estimator's own max_iter (or all samples);
        # "exhaust" sizes the first rung so that the last one reaches it.
        halving_params = {"min_resources": "exhaust"}
        if resource != "n_samples":  # the epochs: "max_iter", "mlp__max_iter"
            halving_params["max_resources"] = estimator.get_params()[resource]
        # Halving dispatches one rung at a time and takes no pre_dispatch.
        search_params.pop("pre_dispatch")
        found = MonitoredHalvingRandomSearchCV(
            estimator,
            to_distributions(subspaces),
            n_candidates=n_iter,
            resource=resource,
            random_state=random_state,
            **halving_params,
            **search_params,
        )
    elif search == "asha":
        search_params.pop("pre_dispatch")  # it dispatches one task per worker
        found = AsynchronousHalvingSearchCV(
            estimator,
            subspaces,
            n_iter=n_iter,
            random_state=random_state,
            seeded=seeded,
            n_points=n_points,
            checkpoint=checkpoint,
            **search_params,
        )
    else:
        from ._skopt import BayesSearchCV, to_search_spaces

        found = BayesSearchCV(
            estimator,
            to_search_spaces(subspaces, n_iter, n_starting=len(starting)),
            n_iter=n_iter,
            n_points=n_points,
            random_state=random_state,
            **search_params,
        )
        found.prior_results = prior_results
    found.starting_candidates = starting
    found.selection = selection
    return found


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


def stopped_at_max_iter(estimator):
    """Tell whether a fitted MLP (or a pipeline ending in one) hit ``max_iter``."""
    final = final_step(estimator)
    n_iter, max_iter = getattr(final, "n_iter_", None), getattr(final, "max_iter", None)
    if n_iter is None or not isinstance(max_iter, numbers.Number):
        return False
    # Some estimators keep one count per class or target.
    return bool(np.max(n_iter) >= max_iter)


def merge_results(earlier, later):
    """Concatenate two ``cv_results_`` dicts and rank the candidates anew.

    Parameters
    ----------
    earlier, later : dict
        ``cv_results_`` of two searches over the same data and folds.

    Returns
    -------
    results : dict
        The candidates of both, earlier first, with ``rank_*`` recomputed as
        scikit-learn computes them (ties share the lowest rank, NaN last).
    """
    from numpy import ma

    n_earlier, n_later = len(earlier["params"]), len(later["params"])
    merged = {"params": list(earlier["params"]) + list(later["params"])}
    for key in sorted(set(earlier) | set(later)):
        if key == "params" or key.startswith("rank_"):
            continue
        if key == "origin":
            merged[key] = np.concatenate(
                [
                    np.asarray(results.get(key, [SEARCH_ORIGIN] * n), dtype=object)
                    for results, n in ((earlier, n_earlier), (later, n_later))
                ]
            )
        elif key.startswith("param_"):
            parts = [
                results[key] if key in results else ma.masked_all(n, dtype=object)
                for results, n in ((earlier, n_earlier), (later, n_later))
            ]
            merged[key] = ma.concatenate([ma.asarray(p, dtype=object) for p in parts])
        else:
            parts = [
                np.asarray(results[key], dtype=float)
                if key in results
                else np.full(n, np.nan)
                for results, n in ((earlier, n_earlier), (later, n_later))
            ]
            merged[key] = np.concatenate(parts)
    for key in [k for k in merged if k.startswith("mean_test_")]:
        means = merged[key]
        if np.isnan(means).all():
            ranks = np.ones(len(means), dtype=np.int32)
        else:
            filled = np.nan_to_num(means, nan=np.nanmin(means) - 1)
            ranks = rankdata(-filled, method="min").astype(np.int32)
        merged["rank_test_" + key.removeprefix("mean_test_")] = ranks
    return merged
