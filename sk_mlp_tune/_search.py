"""Build the search object for a strategy; the budget and progress hooks.

Every search object built here evaluates its candidates in batches and
hands each batch to a :class:`SearchMonitor`, which checks the clock before
starting the next batch and reports progress after each. That is the only
change to scikit-learn's and scikit-optimize's searches: the subclasses
override ``_run_search`` alone, so ``cv_results_`` and the other results
mean exactly what they mean on the originals.
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

from ._monitor import BudgetSpent
from ._space import to_distributions, to_grid

SEARCHES = ("grid", "random", "bayes", "halving", "asha")


class _MonitoredSearchMixin:
    """Run the parent's ``_run_search`` with a monitor between batches."""

    monitor = None

    def _run_search(self, evaluate_candidates, *, callback_ctx=None):
        # scikit-learn >= 1.9 hands a callback context to _run_search; older
        # versions call it with evaluate_candidates alone.
        context = {} if callback_ctx is None else {"callback_ctx": callback_ctx}
        if self.monitor is None:
            return super()._run_search(evaluate_candidates, **context)
        try:
            super()._run_search(self.monitor.batched(evaluate_candidates), **context)
        except BudgetSpent:
            pass
        finally:
            self.monitor.close()


class MonitoredGridSearchCV(_MonitoredSearchMixin, GridSearchCV):
    """``GridSearchCV`` evaluated in monitored batches."""


class MonitoredRandomizedSearchCV(_MonitoredSearchMixin, RandomizedSearchCV):
    """``RandomizedSearchCV`` evaluated in monitored batches."""


class MonitoredHalvingRandomSearchCV(_MonitoredSearchMixin, HalvingRandomSearchCV):
    """``HalvingRandomSearchCV`` with the budget checked between rungs."""

    def _run_search(self, evaluate_candidates, *, callback_ctx=None):
        super()._run_search(evaluate_candidates, callback_ctx=callback_ctx)
        if not hasattr(self, "n_iterations_"):
            # Cut short by the budget, after the rung that did not start was
            # announced: describe the rungs that ran.
            del self.n_candidates_[-1], self.n_resources_[-1]
            self.n_iterations_ = len(self.n_candidates_)
            self.n_remaining_candidates_ = self.n_candidates_[-1]


def n_planned_candidates(search):
    """Return how many candidates ``search`` evaluates without a budget."""
    if isinstance(search, GridSearchCV):
        return len(ParameterGrid(search.param_grid))
    if isinstance(search, HalvingRandomSearchCV):
        # Every rung keeps the best 1/factor of the previous one; with
        # min_resources="exhaust" there are as many rungs as that takes.
        n, factor = search.n_candidates, search.factor
        n_rungs = 1 + math.floor(math.log(n) / math.log(factor) + 1e-9)
        return sum(math.ceil(n / factor**rung) for rung in range(n_rungs))
    if isinstance(search, RandomizedSearchCV):
        return len(
            ParameterSampler(search.param_distributions, search.n_iter, random_state=0)
        )
    return search.total_iterations


def default_n_points(n_jobs, n_splits):
    """Candidates per Bayesian step that keep ``n_jobs`` workers busy.

    Each candidate is ``n_splits`` fits, so ``ceil(n_jobs / n_splits)``
    candidates give every worker at least one fit.
    """
    return max(1, math.ceil(n_jobs / n_splits))


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
    n_points : int
        Candidates proposed per Bayesian step.
    resource : {"max_iter", "n_samples"}
        What successive halving grows from rung to rung.
    random_state : int or None
        Seed of the candidate sampling; grid search has none.
    **search_params
        Passed on unchanged: ``scoring``, ``cv``, ``refit``, ``n_jobs``,
        ``pre_dispatch``, ``verbose``, ``error_score``, ``return_train_score``.

    Returns
    -------
    search : search object
        A subclass of GridSearchCV, RandomizedSearchCV, HalvingRandomSearchCV
        or BayesSearchCV whose ``monitor`` attribute may be set.
    """
    if search == "grid":
        return MonitoredGridSearchCV(
            estimator, to_grid(subspaces, n_grid_points), **search_params
        )
    if search == "random":
        return MonitoredRandomizedSearchCV(
            estimator,
            to_distributions(subspaces),
            n_iter=n_iter,
            random_state=random_state,
            **search_params,
        )
    if search == "halving":
        # The rungs run up to the estimator's own max_iter (or all samples);
        # "exhaust" sizes the first rung so that the last one reaches it.
        halving_params = {"min_resources": "exhaust"}
        if resource == "max_iter":
            halving_params["max_resources"] = estimator.get_params()["max_iter"]
        # Halving dispatches one rung at a time and takes no pre_dispatch.
        search_params.pop("pre_dispatch")
        return MonitoredHalvingRandomSearchCV(
            estimator,
            to_distributions(subspaces),
            n_candidates=n_iter,
            resource=resource,
            random_state=random_state,
            **halving_params,
            **search_params,
        )
    from ._skopt import BayesSearchCV, to_search_spaces

    return BayesSearchCV(
        estimator,
        to_search_spaces(subspaces, n_iter),
        n_iter=n_iter,
        n_points=n_points,
        random_state=random_state,
        **search_params,
    )


class MaxIterCounter:
    """Count, across worker processes, the fits that stopped at ``max_iter``.

    The count travels through the scorer, the one object scikit-learn's
    searches call on every fitted candidate in the worker that fitted it:
    this wrapper notes the ``max_iter`` of each fit that ran out of
    iterations (a short line appended to a file in a private folder, an
    atomic write on a local file system), then returns the wrapped scorer's
    score unchanged. The search's results are therefore exactly those of the
    wrapped scorer.

    Parameters
    ----------
    scorer : callable
        The scorer to wrap, as ``check_scoring`` returns it.
    path : str
        The file the marks are appended to.
    """

    def __init__(self, scorer, path):
        self.scorer = scorer
        self.path = path

    def __call__(self, estimator, X, y=None, **score_params):
        # With return_train_score the scorer sees each fit twice; mark once.
        if not getattr(estimator, "_sk_mlp_tune_counted", False):
            if stopped_at_max_iter(estimator):
                max_iter = getattr(_final_step(estimator), "max_iter", 0)
                try:
                    with open(self.path, "a") as marks:
                        marks.write(f"{max_iter}\n")
                except OSError:
                    # A worker on another machine cannot reach the folder;
                    # its fits go uncounted rather than unscored.
                    pass
            estimator._sk_mlp_tune_counted = True
        return self.scorer(estimator, X, y, **score_params)

    def get_metadata_routing(self):
        """Route metadata as the wrapped scorer does.

        Returns
        -------
        routing : MetadataRequest or MetadataRouter
            The wrapped scorer's routing.
        """
        from sklearn.utils.metadata_routing import get_routing_for_object

        return get_routing_for_object(self.scorer)

    def count(self, min_max_iter=None):
        """Return the number of marked fits.

        Parameters
        ----------
        min_max_iter : int, default=None
            Count only the fits whose ``max_iter`` was at least this: the
            early rungs of successive halving over epochs stop at a small
            ``max_iter`` on purpose.

        Returns
        -------
        count : int
            The number of fits that stopped at their ``max_iter``.
        """
        try:
            with open(self.path) as marks:
                max_iters = [int(line) for line in marks if line.strip()]
        except FileNotFoundError:
            return 0
        return sum(min_max_iter is None or m >= min_max_iter for m in max_iters)


def _final_step(estimator):
    """Return the last step of a pipeline, or the estimator itself."""
    return estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator


def stopped_at_max_iter(estimator):
    """Tell whether a fitted MLP (or a pipeline ending in one) hit ``max_iter``."""
    final = _final_step(estimator)
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
        if key.startswith("param_"):
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
