"""The Bayesian search: scikit-optimize's ``BayesSearchCV`` on the engine.

Besides this module, only ``_propose.GPProposer`` imports scikit-optimize
(its ``Optimizer``, when asked for a candidate); the space reads a user's
scikit-optimize dimensions by duck typing.

scikit-optimize cannot search tuple values such as ``hidden_layer_sizes``:
``BayesSearchCV`` turns every proposed value into a scalar with
``np.array(value).item()``, which fails for a sequence (upstream issues 653,
697, 926, 950). Here every categorical value that is not a scalar is wrapped
in an :class:`_Encoded` box before it reaches the optimizer, and
:class:`BayesSearchCV` unwraps it before the candidate reaches the estimator,
so ``cv_results_`` and ``best_params_`` show the real values while the
optimizer sees opaque categories.
"""

import math
from dataclasses import dataclass

import numpy as np
from joblib import effective_n_jobs
from skopt import BayesSearchCV as _SkoptBayesSearchCV
from skopt.space import Categorical, Integer, Real

from ._compat import skopt_optimizer_results
from ._monitor import SearchStopped
from ._searchbase import _EngineSearchMixin, common_parameters
from ._space import Range

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
    >>> from sk_mlp_tune._skopt import default_n_points
    >>> default_n_points(1, 5), default_n_points(20, 5), default_n_points(64, 5)
    (4, 4, 13)
    """
    return max(MIN_BAYES_POINTS, math.ceil(n_jobs / n_splits))


@dataclass(frozen=True)
class _Encoded:
    """An opaque box around a categorical value that numpy must not unpack."""

    value: object

    def __repr__(self):
        return repr(self.value)


def _decode(params):
    return {
        name: value.value if isinstance(value, _Encoded) else value
        for name, value in params.items()
    }


class BayesSearchCV(_SkoptBayesSearchCV, _EngineSearchMixin):
    """scikit-optimize's ``BayesSearchCV`` that also searches tuple categories.

    Identical to its parent but for four hooks: its fold fits run on the
    package's engine (``_EngineSearchMixin.fit`` comes after the parent's
    ``fit`` and before ``BaseSearchCV.fit``); ``_run_search`` unwraps the
    :class:`_Encoded` values of each candidate before evaluating it, and
    tells the optimizer the worst score so far for a candidate whose fits
    failed, where the parent would tell it NaN and fail; ``_step`` starts
    no step once the time budget is spent; and ``_make_optimizer`` tells
    each new optimizer the ``prior_results`` of an earlier search over the
    same sub-space, to continue it.
    """

    name = "bayes"
    ranks_by_one_metric = "proposes"
    _starting_results = ((), ())

    @classmethod
    def starting_share(cls, starting, n_iter, n_subspaces):
        """Leave scikit-optimize at least one step of its own in each sub-space."""
        first_share = -(-n_iter // n_subspaces)
        return list(starting)[:n_iter][: first_share - 1]

    @classmethod
    def build(cls, estimator, subspaces, *, n_iter, n_points, random_state,
              starting, n_splits, **search_params):  # fmt: skip
        """Return the Bayesian search of ``n_iter`` candidates over ``subspaces``."""
        if n_points is None:
            n_workers = effective_n_jobs(search_params.get("n_jobs"))
            n_points = default_n_points(n_workers, n_splits)
        return cls(
            estimator,
            to_search_spaces(subspaces, n_iter, n_starting=len(starting)),
            n_iter=n_iter,
            n_points=n_points,
            random_state=random_state,
            **common_parameters(search_params),
        )

    def n_planned_candidates(self, starting=()):
        # The starting candidates come before the optimizer's steps.
        return self.total_iterations + len(starting)

    def _run_search(self, evaluate_candidates, **context):
        # scikit-optimize's _run_search takes no callback context: the
        # search's task is made here, as scikit-learn's searches make theirs.
        root = context.get("callback_ctx")
        search_task = None
        if root is not None:
            search_task = root.subcontext(
                task_name="search", max_subtasks=None, sequential_subtasks=False
            ).call_on_fit_task_begin(estimator=self)

        def evaluate_decoded(candidate_params):
            candidates = [_decode(p) for p in candidate_params]
            return _failures_scored_worst(
                evaluate_candidates(candidates, callback_ctx=search_task),
                len(candidates),
            )

        self._starting_results = ((), ())
        try:
            starting = [candidate for candidate, _ in self._plan.starting]
            if starting:
                results = evaluate_decoded(starting)
                self._starting_results = self._as_told(starting, results)
            super()._run_search(evaluate_decoded)
        except SearchStopped:
            if not hasattr(self, "optimizers_"):
                raise  # stopped among the starting candidates
            # The optimizers of the sub-spaces cut short still have results.
            results = skopt_optimizer_results(self)
            results.extend(
                optimizer.get_result()
                for optimizer in self.optimizers_[len(results) :]
                if optimizer.Xi
            )
            raise
        finally:
            if search_task is not None:
                search_task.call_on_fit_task_end(estimator=self)

    def _step(self, *args, **kwargs):
        # The budget is checked before the optimizer's ask too, which takes
        # seconds with many results: no step starts once it is spent.
        monitor = self._plan.monitor
        if monitor is not None and monitor.n_evaluated and not monitor.may_start():
            raise SearchStopped
        return super()._step(*args, **kwargs)

    def _make_optimizer(self, params_space):
        optimizer = super()._make_optimizer(params_space)
        # search_spaces holds (space, n_iter) pairs, as to_search_spaces makes.
        index = next(
            k
            for k, (space, _) in enumerate(self.search_spaces)
            if space is params_space
        )
        earlier = self._plan.previous
        prior_results = earlier.prior_results if earlier is not None else ()
        if index < len(prior_results) and prior_results[index][0]:
            points, values = prior_results[index]
            optimizer.tell(list(points), list(values))
        if index == 0 and self._starting_results[0]:
            # The starting candidates count as the optimizer's first points.
            points, values = self._starting_results
            optimizer.tell(list(points), list(values))
        return optimizer

    def _as_told(self, candidates, results):
        """Return the starting candidates in the first sub-space, as told.

        Each as scikit-optimize's point, with minus its score; a candidate
        outside the space (the estimator's own settings may be) is left out.
        """
        space = self.search_spaces[0][0]
        names = sorted(space)
        key = next(
            (k for k in ("mean_test_score", f"mean_test_{self.refit}") if k in results),
            None,
        )
        points, values = [], []
        if key is None:  # several metrics and none named to optimise
            return points, values
        scores = np.asarray(results[key], dtype=float)[-len(candidates) :]
        for candidate, score in zip(candidates, scores, strict=True):
            point = [_encode(candidate[name]) for name in names]
            if set(candidate) == set(names) and all(
                value in space[name] for name, value in zip(names, point, strict=True)
            ):
                points.append(point)
                values.append(-float(score))
        return points, values


def _failures_scored_worst(results, n_new):
    """Return ``results`` with the NaN means of the last ``n_new`` rows made worst.

    scikit-optimize tells its optimizer the mean scores of each step, and a
    Gaussian process cannot learn from NaN; the worst score seen is what a
    failed candidate is worth to it. ``cv_results_`` keeps the NaN.
    """
    told = dict(results)
    for key in [k for k in results if k.startswith("mean_test_")]:
        means = np.asarray(results[key], dtype=float)
        if np.isnan(means[-n_new:]).any():
            finite = means[np.isfinite(means)]
            worst = finite.min() if finite.size else 0.0
            told[key] = np.where(np.isnan(means), worst, means)
    return told


def _encode(value):
    return value if np.ndim(value) == 0 else _Encoded(value)


def _to_skopt_dimension(dimension):
    if isinstance(dimension, Range):
        kind = Integer if dimension.integer else Real
        prior = "log-uniform" if dimension.log else "uniform"
        return kind(dimension.low, dimension.high, prior=prior)
    return Categorical([_encode(value) for value in dimension.values])


def to_search_spaces(subspaces, n_iter, n_starting=0):
    """Compile sub-spaces into ``BayesSearchCV`` search spaces.

    ``n_iter`` is shared out over the sub-spaces, so that it means the total
    number of candidates as it does for random search; the ``n_starting``
    candidates evaluated before the optimizer's steps are taken from the
    first sub-space's share.
    """
    if len(subspaces) > n_iter:
        raise ValueError(
            f"search='bayes' shares n_iter out over the {len(subspaces)} "
            f"sub-spaces of param_space, so n_iter must be at least "
            f"{len(subspaces)}; got n_iter={n_iter}."
        )
    share, extra = divmod(n_iter, len(subspaces))
    return [
        (
            {name: _to_skopt_dimension(dim) for name, dim in subspace.items()},
            share + (index < extra) - (index == 0) * n_starting,
        )
        for index, subspace in enumerate(subspaces)
    ]
