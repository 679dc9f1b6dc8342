"""What every search on the engine shares: :func:`fit_search` and its mixin.

Grid, random and Bayesian search and successive halving are scikit-learn's
and scikit-optimize's classes: their ``_run_search`` decides the candidates
and their ``cv_results_`` mean what they mean there. The subclasses
(``_search`` and ``_skopt``) change one thing, who runs the fold fits:
:func:`fit_search`, scikit-learn's ``BaseSearchCV.fit`` with the fold fits
on the engine's task loop (``_engine.CandidateRunner``), which keeps every
candidate as it finishes, has no barrier between candidates, budgets the
time (the refit included) and keeps what finished on Ctrl-C. Both import
this module, and it imports neither.
"""

import contextlib
import time
from collections import defaultdict
from types import SimpleNamespace

import numpy as np
import sklearn
from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils import indexable

from ._callbacks import FitTasks
from ._choice import candidate_origins, choose_index, preferred_rows
from ._compat import (
    SEARCH_FIT_TESTED_SKLEARN,
    SEARCH_INTERNALS,
    BaseSearchCV,
    BaseSuccessiveHalving,
    _fit_context,
    check_method_params,
    insert_error_scores,
    named_scorers,
    num_samples,
    run_search_context,
    warn_or_raise_about_fit_failures,
)
from ._engine import CandidateRunner, WorkerLostError
from ._ensemble import LIBRARY_SIZE, out_of_fold
from ._monitor import Interrupted, SearchMonitor, SearchStopped


def fit_search(search, X, y, params, run_candidates, on_checked=None):
    """Fit ``search``, a scikit-learn search object, with the engine's fold fits.

    This is ``BaseSearchCV.fit`` of scikit-learn 1.9, step for step (scorers,
    routing, the splitter's checks, ``_run_search``, the choice of the best
    candidate, the refit), in three parts: :func:`prepare`, the search,
    :func:`_finish`. One thing differs, who runs the fold fits:
    scikit-learn hands each call of ``evaluate_candidates`` to one
    ``joblib.Parallel`` call, which returns all of its fits or none.
    ``run_candidates`` returns the candidates that finished, as they
    finish, and may stop the search: what finished is kept and the best of
    it refitted. The parts of ``search`` it calls are checked against the
    installed scikit-learn (``_compat.SEARCH_INTERNALS``).

    Parameters
    ----------
    search : BaseSearchCV
        The unfitted search; its ``_run_search`` decides the candidates.
    X, y : array-like
        The data.
    params : dict
        The ``fit`` parameters, routed as ``BaseSearchCV.fit`` routes them.
    run_candidates : callable
        ``run_candidates(estimator, X, y, candidate_params, splits, options,
        score_name, rung)`` returns ``({candidate index: [_fit_and_score dict per
        split]}, lost)`` for the candidates whose folds all finished;
        ``options`` are the keyword arguments of ``_fit_and_score``, and
        ``lost`` a :class:`~sk_mlp_tune.WorkerLostError` if a worker died.
    on_checked : callable, default=None
        Called with ``search`` once its inputs are checked, before any fit:
        successive halving knows its rungs' resources then.

    Returns
    -------
    stop : SearchStopped, Interrupted, WorkerLostError or None
        Why the search stopped early, if it did. With nothing finished, the
        search is left unfitted.
    """
    job = prepare(search, X, y, params)
    if on_checked is not None:
        on_checked(search)
    found = _Found(search, job)
    tasks = search_callbacks(search, job)

    def evaluate_candidates(candidate_params, cv=None, more_results=None, **context):
        # ``context`` is scikit-learn >= 1.9's callback context: the task
        # of this batch, made by scikit-learn's ``_run_search``.
        candidate_params = list(candidate_params)
        splits = list((cv or job.cv).split(job.X, job.y, **job.split_params))
        if len(splits) != search.n_splits_:
            raise ValueError(
                "cv.split and cv.get_n_splits return inconsistent results. "
                f"Expected {search.n_splits_} splits, got {len(splits)}"
            )
        # Successive halving tells each batch's rung as its "iter".
        rung = int((more_results or {}).get("iter", [0])[0])
        fold_tasks = tasks.fold_tasks(
            context.get("callback_ctx"), len(candidate_params) * len(splits)
        )
        finished, lost = run_candidates(
            job.base_estimator, job.X, job.y, candidate_params, splits,
            job.options, job.score_name, rung, (fold_tasks, tasks.caller),
        )  # fmt: skip
        n_kept = found.keep(candidate_params, finished, more_results, splits)
        if lost is not None:
            raise lost
        if n_kept < len(candidate_params):
            raise SearchStopped
        return found.results

    stop = None
    try:
        search._run_search(
            evaluate_candidates, **run_search_context(search, tasks.root)
        )
    except SearchStopped as stopped:
        stop = stopped
    except Interrupted as interrupted:
        # Ctrl-C between two calls of evaluate_candidates; a second aborts.
        if interrupted.presses > 1:
            raise
        stop = interrupted
    except WorkerLostError as lost:
        # Like Ctrl-C: what finished is kept, and the best of it refitted.
        stop = lost
    if not found.out:
        if stop is None:
            raise ValueError(
                "No fits were performed. Was the CV iterator empty? Were there "
                "no candidates?"
            )
        return stop
    _finish(search, job, found, tasks)
    if tasks.owner is search:
        tasks.end(job.X, job.y)
    return stop


def search_callbacks(search, job):
    """Return the callbacks' tasks of ``search``'s fit.

    A tuner's, which it sets as ``search.callback_tasks`` (its search adds
    no level of its own), or the search's own, with its root begun, as
    ``BaseSearchCV.fit`` begins it: its fit, then the search and the refit.
    """
    given = getattr(search, "callback_tasks", None)
    if given is not None:
        return given
    max_subtasks = 1 + (search.refit is not False)
    return FitTasks.begin(search, job.X, job.y, max_subtasks)


def prepare(search, X, y, params):
    """Check the inputs and set up the fold fits, as ``BaseSearchCV.fit`` starts.

    The first part of every strategy's ``fit``, asha's included: the
    scorers, the routing of ``params`` and the splitter's checks. Returns
    what the fold fits need, with the data made indexable.
    """
    if SEARCH_INTERNALS is None:
        raise RuntimeError(
            f"sk_mlp_tune's searches run scikit-learn's BaseSearchCV.fit step for "
            f"step, as it is in scikit-learn {SEARCH_FIT_TESTED_SKLEARN}; the "
            f"installed scikit-learn {sklearn.__version__} has changed it. Install "
            "a scikit-learn in that range."
        )
    if isinstance(search, BaseSuccessiveHalving):
        search._n_samples_orig = num_samples(X)
    scorers, refit_metric = search._get_scorers()
    X, y = indexable(X, y)
    params = check_method_params(X, params=params)
    routed_params = search._get_routed_params_for_fit(params)
    search._checked_cv_orig = check_cv(
        search.cv, y, classifier=is_classifier(search.estimator)
    )
    split_params = routed_params.splitter.split
    search._check_input_parameters(X=X, y=y, split_params=split_params)
    search.n_splits_ = search._checked_cv_orig.get_n_splits(X, y, **split_params)
    return SimpleNamespace(
        X=X,
        y=y,
        cv=search._checked_cv_orig,
        split_params=split_params,
        fit_params=routed_params.estimator.fit,
        score_params=routed_params.scorer.score,
        scorers=scorers,
        refit_metric=refit_metric,
        score_name=refit_metric if isinstance(refit_metric, str) else None,
        base_estimator=clone(search.estimator),
        options={
            "scorer": scorers,
            "fit_params": routed_params.estimator.fit,
            "score_params": routed_params.scorer.score,
            "return_train_score": search.return_train_score,
            "return_n_test_samples": True,
            "error_score": search.error_score,
            "verbose": search.verbose,
        },
    )


class _Found:
    """The candidates that finished, in the layout of ``cv_results_``.

    With fold predictions (for an ensemble), also ``predictions``: the
    out-of-fold predictions of the rows that can still be chosen, that is
    of the highest rung reached (successive halving) and among the best
    ``LIBRARY_SIZE``.
    """

    def __init__(self, search, job):
        self.search = search
        self.job = job
        self.candidate_params = []
        self.out = []
        self.more_results = defaultdict(list)
        self.results = {}
        self.predictions = {}

    def keep(self, candidate_params, finished, more_results, splits):
        """Add the ``finished`` candidates of a batch; return how many."""
        search = self.search
        kept = sorted(finished)
        first_row = len(self.candidate_params)
        for row, index in enumerate(kept, start=first_row):
            folds = [out.pop("predictions", None) for out in finished[index]]
            if all(values is not None for values in folds):
                self.predictions[row] = out_of_fold(
                    folds, splits, num_samples(self.job.X)
                )
        out = [fold for index in kept for fold in finished[index]]
        if callable(search.scoring):
            insert_error_scores(out, search.error_score)
        self.candidate_params.extend(candidate_params[i] for i in kept)
        self.out.extend(out)
        for key, values in (more_results or {}).items():
            self.more_results[key].extend(values[i] for i in kept)
        if self.out:
            self.results = search._format_results(
                self.candidate_params, search.n_splits_, self.out, self.more_results
            )
        if kept and "iter" in (more_results or {}):
            # A new rung of successive halving: the earlier ones are out.
            self.predictions = {
                row: values
                for row, values in self.predictions.items()
                if row >= first_row
            }
        self._keep_the_best_predictions()
        return len(kept)

    def _keep_the_best_predictions(self):
        name = self.job.score_name
        if len(self.predictions) <= LIBRARY_SIZE or name is None:
            return
        means = np.nan_to_num(self.results[f"mean_test_{name}"], nan=-np.inf)
        best = sorted(self.predictions, key=lambda row: -means[row])[:LIBRARY_SIZE]
        self.predictions = {row: self.predictions[row] for row in sorted(best)}


def _finish(search, job, found, tasks):
    """Choose the best candidate and refit it, as ``BaseSearchCV.fit`` ends."""
    results, refit_metric = found.results, job.refit_metric
    # One warning, or one error if every fit failed, for the whole search.
    warn_or_raise_about_fit_failures(found.out, search.error_score)
    first_test_score = found.out[0]["test_scores"]
    search.multimetric_ = isinstance(first_test_score, dict)
    if callable(search.scoring) and search.multimetric_:
        search._check_refit_for_multimetric(first_test_score)
        refit_metric = search.refit
    if search.refit or not search.multimetric_:
        search.best_index_ = search._select_best_index(
            search.refit, refit_metric, results
        )
        if not callable(search.refit):
            search.best_score_ = results[f"mean_test_{refit_metric}"][
                search.best_index_
            ]
        search.best_params_ = results["params"][search.best_index_]
    if search.refit:
        search.best_estimator_, search.refit_time_ = refit(
            job.base_estimator, search.best_params_, job.X, job.y, job.fit_params,
            tasks, "refit-with-best-params",
        )  # fmt: skip
        if hasattr(search.best_estimator_, "feature_names_in_"):
            search.feature_names_in_ = search.best_estimator_.feature_names_in_
    search.scorer_ = named_scorers(job.scorers)
    search.cv_results_ = results
    search.out_of_fold_ = found.predictions
    if isinstance(search, BaseSuccessiveHalving):
        # As HalvingRandomSearchCV.fit: BaseSearchCV does not set it.
        search.best_score_ = results["mean_test_score"][search.best_index_]


def refit(template, params, X, y, fit_params, tasks=None, task_name="refit"):
    """Fit a clone of ``template`` with ``params`` on all the data.

    The refit of every strategy, and of the ensemble's members: the task
    ``task_name`` of the callbacks' ``tasks`` (a :class:`FitTasks`), if any.

    Returns
    -------
    estimator : estimator
        The fitted clone.
    refit_time : float
        Seconds the fit took.
    """
    estimator = clone(template).set_params(**clone(params, safe=False))
    start = time.time()
    refitting = tasks.refitting if tasks is not None else _untracked
    with refitting(task_name, estimator, X, y):
        if y is not None:
            estimator.fit(X, y, **fit_params)
        else:
            estimator.fit(X, **fit_params)
    return estimator, time.time() - start


@contextlib.contextmanager
def _untracked(task_name, estimator, X, y):
    yield


def run_search(search, X, y, params):
    """Fit ``search`` with its fold fits on the engine; return ``search``.

    ``search.monitor`` (a :class:`SearchMonitor`) is the budget, the
    progress line and the stop reason; without one the search runs to the
    end, silently. The fits that stopped at ``max_iter`` are counted in
    ``search.max_iter_reached_``.

    Like Ctrl-C, a worker process that dies stops the search and keeps what
    finished (``stop_reason_`` ``"worker_lost"``); ``search.worker_lost_``
    is then the :class:`~sk_mlp_tune.WorkerLostError` naming what was
    running, and None otherwise.

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C before any candidate finished.
    WorkerLostError
        When a worker died before any candidate finished.
    """
    monitor = getattr(search, "monitor", None) or SearchMonitor(
        max_time=None, n_planned=search.n_planned_candidates(), progress=False
    )
    runner = CandidateRunner(
        search.n_jobs,
        monitor,
        getattr(search, "pre_dispatch", "2*n_jobs"),
        predict=getattr(search, "keep_predictions", False),
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
        elif isinstance(stop, WorkerLostError):
            monitor.stop("worker_lost")
    finally:
        monitor.close()
    lost = stop if isinstance(stop, WorkerLostError) else None
    stopped_short = monitor.stop_reason in ("interrupted", "worker_lost")
    if stopped_short and not monitor.n_evaluated:
        # Nothing finished: Ctrl-C, or the dead worker, goes on up.
        raise lost or KeyboardInterrupt()
    search.worker_lost_ = lost
    search.max_iter_reached_ = runner.max_iter_reached
    search.stop_reason_ = monitor.stop_reason
    return search


class _EngineSearchMixin(BaseSearchCV):
    """Fit through :func:`run_search`; ``monitor`` may be set before ``fit``.

    A subclass of ``BaseSearchCV`` so that it comes before it in every
    search's method order, also where the search class's own ``fit`` calls
    ``super().fit`` (scikit-optimize's ``BayesSearchCV``).

    Four more attributes may be set before ``fit``: ``starting_candidates``,
    the ``(candidate, origin)`` pairs the search evaluates first (the
    estimator's own settings, then the portfolio); ``selection``, the
    rule that picks the best candidate (``_choice.choose_index``); and
    ``keep_predictions``, whether to keep the out-of-fold predictions of
    the candidates an ensemble can choose, in ``out_of_fold_`` (``{row of
    cv_results_: predictions}``). And ``callback_tasks``, a tuner's
    :class:`~sk_mlp_tune._callbacks.FitTasks`: the search's tasks for
    scikit-learn's callbacks then go in the tuner's tree, the search adding
    no level. Left unset, the search is its parent class.
    ``cv_results_["origin"]`` says where each candidate came from. They are
    attributes, not parameters: ``clone`` of a search object
    leaves them out.
    """

    monitor = None
    starting_candidates = ()
    selection = "best"
    keep_predictions = False
    callback_tasks = None

    def refit_params(self, row):
        """Return the parameters that refit the candidate of ``cv_results_[row]``.

        Successive halving's rows hold their rung's resource already.
        """
        return self.cv_results_["params"][row]

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
