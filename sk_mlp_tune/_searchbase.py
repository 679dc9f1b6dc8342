"""What every search on the engine shares: :func:`run_search` and its mixin.

Grid, random and Bayesian search and successive halving are scikit-learn's
and scikit-optimize's classes: their ``_run_search`` decides the candidates
and their ``cv_results_`` mean what they mean there. The subclasses
(``_search`` and ``_skopt``) change one thing, who runs the fold fits:
:func:`run_search` fits them through the package's engine
(``_compat.fit_search`` and ``_engine.CandidateRunner``), which keeps every
candidate as it finishes, has no barrier between candidates, budgets the
time (the refit included) and keeps what finished on Ctrl-C. Both import
this module, and it imports neither.
"""

import numpy as np

from ._choice import candidate_origins, choose_index, preferred_rows
from ._compat import BaseSearchCV, _fit_context, fit_search
from ._engine import CandidateRunner
from ._monitor import Interrupted, SearchMonitor


def run_search(search, X, y, params):
    """Fit ``search`` with its fold fits on the engine; return ``search``.

    ``search.monitor`` (a :class:`SearchMonitor`) is the budget, the
    progress line and the stop reason; without one the search runs to the
    end, silently. The fits that stopped at ``max_iter`` are counted in
    ``search.max_iter_reached_``.

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C before any candidate finished.
    """
    monitor = getattr(search, "monitor", None) or SearchMonitor(
        max_time=None, n_planned=search.n_planned_candidates(), progress=False
    )
    runner = CandidateRunner(
        search.n_jobs, monitor, getattr(search, "pre_dispatch", "2*n_jobs")
    )
    try:
        with runner:
            stop = fit_search(
                search,
                X,
                y,
                params,
                runner,
                on_checked=lambda checked: monitor.replan(
                    checked.n_planned_candidates()
                ),
            )
        if isinstance(stop, Interrupted):
            monitor.stop("interrupted")
    finally:
        monitor.close()
    if monitor.stop_reason == "interrupted" and monitor.n_evaluated == 0:
        # Nothing finished: Ctrl-C goes on up.
        raise KeyboardInterrupt
    search.max_iter_reached_ = runner.max_iter_reached
    search.stop_reason_ = monitor.stop_reason
    return search


class _EngineSearchMixin(BaseSearchCV):
    """Fit through :func:`run_search`; ``monitor`` may be set before ``fit``.

    A subclass of ``BaseSearchCV`` so that it comes before it in every
    search's method order, also where the search class's own ``fit`` calls
    ``super().fit`` (scikit-optimize's ``BayesSearchCV``).

    Two more attributes may be set before ``fit``: ``starting_candidates``,
    the ``(candidate, origin)`` pairs the search evaluates first (the
    estimator's own settings, then the portfolio), and ``selection``, the
    rule that picks the best candidate (``_choice.choose_index``). Left
    unset, the search is its parent class. ``cv_results_["origin"]`` says
    where each candidate came from. Both are attributes, not parameters:
    ``clone`` of a search object leaves them out.
    """

    monitor = None
    starting_candidates = ()
    selection = "best"

    def _select_best_index(self, refit, refit_metric, results):
        best = super()._select_best_index(refit, refit_metric, results)
        if callable(refit) or self.selection == "best":
            return best
        metric = refit_metric if isinstance(refit_metric, str) else "score"
        origins = self._origins(results["params"])
        eligible = np.arange(len(origins))
        if "iter" in results:  # successive halving: its last rung
            eligible = np.flatnonzero(results["iter"] == np.max(results["iter"]))
        return choose_index(
            results[f"mean_test_{metric}"],
            results[f"std_test_{metric}"],
            self.n_splits_,
            eligible,
            preferred_rows(origins, eligible),
            self.selection,
        )

    def n_planned_candidates(self):
        """Return how many candidates the search evaluates without a budget."""
        raise NotImplementedError

    def _origins(self, params):
        resource = getattr(self, "resource", None)
        return candidate_origins(params, self.starting_candidates, ignore={resource})

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **params):
        """Run fit with all sets of parameters, as the parent class does.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,), default=None
            Target values.
        **params : dict
            Parameters of the estimator's ``fit``, the scorer and the splitter,
            routed as the parent class routes them.

        Returns
        -------
        self : object
            The fitted search.
        """
        try:
            run_search(self, X, y, params)
        except Interrupted:
            # A second Ctrl-C, during the refit: abort.
            raise KeyboardInterrupt from None
        self.cv_results_["origin"] = self._origins(self.cv_results_["params"])
        return self
