"""What every search shares: the plan it runs by, its fit on the engine, one finish.

Grid, random and Bayesian search and successive halving are scikit-learn's
and scikit-optimize's classes: their ``_run_search`` decides the candidates
and their ``cv_results_`` mean what they mean there. asha decides its own
(``_asha``). Every one is a subclass of :class:`_EngineSearchMixin`, whose
``fit`` is scikit-learn's ``BaseSearchCV.fit`` with the fold fits on the
engine's task loop, in three parts, each a method of the mixin:

- ``_prepare_fit``: the scorers, the routing and the splitter's checks.
- The strategy's ``_search_candidates``: it hands each candidate's fold
  results, as scikit-learn's ``_fit_and_score`` returns them, to one
  :class:`_Found` as they finish.
- ``_finish``, the one finish of every strategy: ``cv_results_`` through
  scikit-learn's ``_format_results``, the choice of the best row (a
  strategy overrides ``_select_best_index``, nothing else), the refit, the
  ensemble's members and the merge with a warm start's earlier rounds, all
  behind the monitor's one budget rule.

What a tuner gives the search it runs arrives in one :class:`SearchPlan`,
the keyword ``plan`` of ``fit``; a search fitted alone runs by the default
plan, as its parent class.
"""

import contextlib
import numbers
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import sklearn
from numpy import ma
from scipy.stats import rankdata
from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils import indexable
from sklearn.utils.multiclass import unique_labels

from ._callbacks import FitTasks
from ._choice import SEARCH_ORIGIN, candidate_origins, choose_index, preferred_rows
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
from ._ensemble import LIBRARY_SIZE, library_rows, out_of_fold, select
from ._monitor import (
    Interrupted,
    SearchMonitor,
    SearchStopped,
    ctrl_c_stops_training,
)
from ._network import TrainingDeadlinePassed, training_deadline
from ._steps import epochs_parameter
from ._warn import warn_user


@dataclass
class SearchPlan:
    """What a tuner hands the search it runs: everything beyond its parameters.

    Parameters
    ----------
    monitor : SearchMonitor or None
        The budget, the progress line and the stop reason; None for none.
    starting : list of (dict, str)
        The candidates evaluated first, with their origin labels (the
        estimator's own settings, then the portfolio's entries).
    selection : {"best", "one_se"}
        The rule that picks the best candidate (``_choice.choose_index``).
    callbacks : FitTasks or None
        The tuner's tasks for scikit-learn's callbacks, in whose tree the
        search's go, the search adding no level; None: the search's own.
    previous : object or None
        The earlier rounds a warm start continues: their ``cv_results``,
        ``best_index``, ``best_estimator_``, ``refit_time_`` and, for
        Bayesian search, ``prior_results``. Their rows come first in
        ``cv_results_``.
    ensemble_rounds : int
        Rounds of greedy ensemble selection; 1 keeps the best alone and
        keeps no fold predictions.
    ensemble_size : int or "auto"
        What the user asked for, as warnings quote it.
    random_state : int, RandomState instance or None
        Breaks ties between ensemble candidates, and seeds the rows of
        ``lower_rung_rows``.
    lower_rung_rows : bool
        Whether successive halving's rungs below the last train on a
        subsample of the rows as well as on fewer epochs (``resource="auto"``
        on large data); the other strategies ignore it.
    keep_library : bool
        Whether to keep the out-of-fold predictions the ensemble chose from
        (``ensemble_library_``), for the next round of a warm start to
        choose among every round's candidates.
    """

    monitor: SearchMonitor | None = None
    starting: list = field(default_factory=list)
    selection: str = "best"
    callbacks: FitTasks | None = None
    previous: object = None
    ensemble_rounds: int = 1
    ensemble_size: object = 1
    random_state: object = None
    lower_rung_rows: bool = False
    keep_library: bool = False


def common_parameters(settings):
    """Return, of a tuner's ``settings``, the parameters every search class takes."""
    names = ("scoring", "cv", "refit", "n_jobs", "pre_dispatch", "verbose",
             "error_score", "return_train_score")  # fmt: skip
    return {name: settings[name] for name in names if name in settings}


@dataclass
class _Job:
    """The checked inputs of one search's fit, as ``_prepare_fit`` leaves them."""

    X: object
    y: object
    cv: object
    split_params: dict
    fit_params: dict
    score_params: dict
    scorers: object
    refit_metric: object
    score_name: str | None
    base_estimator: object
    options: dict

    def splits(self, cv=None):
        """Return the folds of ``cv`` (the search's by default) as a list."""
        return list((cv or self.cv).split(self.X, self.y, **self.split_params))


class _Found:
    """The candidates that finished, in the layout of ``cv_results_``.

    With ``keep_predictions`` (for an ensemble), also ``predictions``: the
    out-of-fold predictions of the rows that can still be chosen, that is
    of the highest rung reached (successive halving) and among the best
    ``LIBRARY_SIZE``.
    """

    def __init__(self, search, job, keep_predictions=False):
        self.search = search
        self.job = job
        self.keep_predictions = keep_predictions
        self.candidate_params = []
        self.out = []
        self.more_results = defaultdict(list)
        self.results = {}
        self.predictions = {}

    def keep(self, candidate_params, finished, more_results, splits):
        """Add the ``finished`` candidates of a batch; return how many.

        ``finished`` is ``{candidate index: [_fit_and_score dict per split]}``.
        """
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


def ranking_metric(results, refit):
    """Return the ``cv_results_`` suffix of the metric that ranks the candidates.

    ``"score"`` for one metric; with several, the one ``refit`` names, else
    (``refit`` a callable or False) the first, as ``mean_test_<name>``,
    ``std_test_<name>`` and ``rank_test_<name>`` spell it.
    """
    if "mean_test_score" in results:
        return "score"
    if isinstance(refit, str):
        return refit
    return next(
        k.removeprefix("mean_test_") for k in results if k.startswith("mean_test_")
    )


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


class _EngineSearchMixin(BaseSearchCV):
    """A search fitted on the engine, with one finish, and its strategy's traits.

    A subclass of ``BaseSearchCV`` so that it comes before it in every
    search's method order, also where the search class's own ``fit`` calls
    ``super().fit`` (scikit-optimize's ``BayesSearchCV``).

    ``fit`` takes one keyword more than its parent's: ``plan``, a
    :class:`SearchPlan`. ``cv_results_["origin"]`` says where each
    candidate came from.

    The class attributes are the strategy's traits, read by the tuner, the
    command line and the report instead of its name: ``name``, the
    ``search=`` that builds it (``_search.SEARCHES``); ``unit``, what its
    progress line counts (``"evaluated"`` or ``"candidates"``);
    ``has_rungs``, whether it scores candidates at rungs; ``continues``,
    whether ``warm_start`` extends it; ``resumable``, whether it records
    its work in a checkpoint; ``takes_portfolio``, whether it evaluates
    starting candidates beyond the estimator's own settings;
    ``grid_space``, whether it searches the default grid rather than the
    default ranges; ``ranks_by_one_metric``, what it does by one metric
    (a verb for the error message) when scoring has several, or None.
    """

    name = None
    unit = "evaluated"
    has_rungs = False
    continues = True
    resumable = False
    takes_portfolio = True
    grid_space = False
    ranks_by_one_metric = None

    @classmethod
    def check_settings(cls, template, *, resource, multimetric, refit, refit_metric):
        """Refuse, before any fit, settings this strategy cannot search with."""
        if multimetric and cls.ranks_by_one_metric and refit_metric is None:
            raise ValueError(
                f"search={cls.name!r} {cls.ranks_by_one_metric} candidates by one "
                f"metric: with several in scoring, refit must name it; got "
                f"refit={refit!r}."
            )

    @classmethod
    def starting_share(cls, starting, n_iter, n_subspaces):
        """Return the starting candidates that fit in this search's ``n_iter``."""
        return list(starting)[:n_iter]

    @classmethod
    def grows_epochs(cls, resource):
        """Tell whether each rung trains for more epochs, given the resource."""
        return False

    def rungs_grow_epochs(self):
        """Tell whether this search's rungs train for more epochs, as it was built.

        The resource it grows, resolved: a tuner's ``resource="auto"`` grows
        the samples of an estimator without epochs.
        """
        return self.grows_epochs(getattr(self, "resource", "max_iter"))

    def n_finished_candidates(self):
        """Return how many of the planned candidates finished."""
        return len(self.cv_results_["params"])

    def refit_params(self, row):
        """Return the parameters that refit the candidate of ``cv_results_[row]``.

        Successive halving's rows hold their rung's resource already.
        """
        return self.cv_results_["params"][row]

    def _select_best_index(self, refit, refit_metric, results):
        best = super()._select_best_index(refit, refit_metric, results)
        if callable(refit) or self._plan.selection == "best":
            return best
        return self._choose_in(self._eligible_rows(results), refit_metric, results)

    def _eligible_rows(self, results):
        """Return the rows the best is chosen among: successive halving's last rung."""
        if "iter" in results:
            return np.flatnonzero(results["iter"] == np.max(results["iter"]))
        return np.arange(len(results["params"]))

    def _choose_in(self, eligible, refit_metric, results):
        metric = refit_metric if isinstance(refit_metric, str) else "score"
        return choose_index(
            results[f"mean_test_{metric}"],
            results[f"std_test_{metric}"],
            self.n_splits_,
            eligible,
            preferred_rows(results["origin"], eligible),
            self._plan.selection,
        )

    def n_planned_candidates(self, starting=()):
        """Return how many candidates the search evaluates without a budget."""
        raise NotImplementedError

    def _format_results(self, candidate_params, n_splits, out, more_results=None):
        results = super()._format_results(candidate_params, n_splits, out, more_results)
        if "iter" in results:
            # Successive halving chooses from its highest rung: rank 1 is
            # the best there, as the guide's sorting by rank_test_score
            # assumes. scikit-learn's halving ranks every rung together.
            for key in [k for k in results if k.startswith("rank_test_")]:
                metric = key.removeprefix("rank_test_")
                results[key] = _rank_by_rung_then_score(
                    results["iter"], results["mean_test_" + metric]
                )
        return results

    def planned_work(self, starting=(), n_train=None):
        """Return the training one candidate costs at each rung, and their sizes.

        For :meth:`SearchMonitor.plan_work`, given the training rows of a
        fold: here one rung, every candidate trained alike.
        """
        return [1.0], [self.n_planned_candidates(starting)]

    def _rung_splits(self, job, splits, rung):
        """Return the folds a batch at ``rung`` trains and scores on: ``splits``."""
        return splits

    def _search_candidates(self, job, found, monitor, plan, tasks):
        """Run ``_run_search``'s batches on the engine; keep each in ``found``.

        Returns why the search stopped early, if it did.
        """
        runner = CandidateRunner(
            self.n_jobs,
            monitor,
            getattr(self, "pre_dispatch", "2*n_jobs"),
            predict=found.keep_predictions,
        )

        def evaluate_candidates(candidate_params, cv=None, more_results=None, **ctx):
            # ``ctx`` is scikit-learn >= 1.9's callback context: the task of
            # this batch, made by scikit-learn's ``_run_search``.
            candidate_params = list(candidate_params)
            splits = job.splits(cv)
            if len(splits) != self.n_splits_:
                raise ValueError(
                    "cv.split and cv.get_n_splits return inconsistent results. "
                    f"Expected {self.n_splits_} splits, got {len(splits)}"
                )
            # Successive halving tells each batch's rung as its "iter".
            rung = int((more_results or {}).get("iter", [0])[0])
            splits = self._rung_splits(job, splits, rung)
            if self._plan.lower_rung_rows and more_results is not None:
                rows = round(np.mean([len(train) for train, _ in splits]))
                more_results = {
                    **more_results,
                    "n_train_samples": [rows] * len(candidate_params),
                }
            fold_tasks = tasks.fold_tasks(
                ctx.get("callback_ctx"), len(candidate_params) * len(splits)
            )
            finished, lost = runner(
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
        with runner:
            try:
                self._run_search(
                    evaluate_candidates, **run_search_context(self, tasks.root)
                )
            except SearchStopped as stopped:
                stop = stopped
            except Interrupted as interrupted:
                # Ctrl-C between two batches; a second aborts.
                if interrupted.presses > 1:
                    raise
                stop = interrupted
            except WorkerLostError as lost:
                # Like Ctrl-C: what finished is kept, and the best of it refitted.
                stop = lost
        self.max_iter_reached_ = runner.max_iter_reached
        return stop

    def _fit_on_engine(self, X, y, params, plan):
        """Fit the search by ``plan``, with its fold fits on the engine.

        This is ``BaseSearchCV.fit`` of scikit-learn 1.9, step for step (scorers,
        routing, the splitter's checks, the search, the choice of the best
        candidate, the refit). One thing differs, who runs the fold fits:
        scikit-learn hands each batch of candidates to one ``joblib.Parallel``
        call, which returns all of its fits or none; here each candidate is
        kept as it finishes, and the monitor may stop the search: what finished
        is kept and the best of it refitted. The parts of the search it calls
        are checked against the installed scikit-learn
        (``_compat.SEARCH_INTERNALS``).

        Like Ctrl-C, a worker process that dies stops the search and keeps what
        finished (``stop_reason_`` ``"worker_lost"``); ``worker_lost_`` is then
        the :class:`~sk_mlp_tune.WorkerLostError` naming what was running, and
        None otherwise. The fits that stopped at ``max_iter`` are counted in
        ``max_iter_reached_``.

        Raises
        ------
        KeyboardInterrupt
            On Ctrl-C before any candidate finished.
        WorkerLostError
            When a worker died before any candidate finished.
        """
        monitor = plan.monitor or SearchMonitor(
            max_time=None, n_planned=self.n_planned_candidates(plan.starting),
            progress=False,
        )  # fmt: skip
        try:
            job = self._prepare_fit(X, y, params)
            # Successive halving knows its rungs' resources once its inputs are.
            monitor.replan(self.n_planned_candidates(plan.starting))
            n_train = np.mean([len(train) for train, _ in job.splits()])
            monitor.plan_work(*self.planned_work(plan.starting, n_train))
            tasks = plan.callbacks or FitTasks.begin(
                self, job.X, job.y, 1 + (self.refit is not False)
            )
            found = _Found(self, job, keep_predictions=plan.ensemble_rounds > 1)
            stop = self._search_candidates(job, found, monitor, plan, tasks)
            if isinstance(stop, Interrupted):
                monitor.stop("interrupted")
            elif isinstance(stop, WorkerLostError):
                monitor.stop("worker_lost")
            lost = stop if isinstance(stop, WorkerLostError) else None
            if not found.out:
                if monitor.stop_reason in ("interrupted", "worker_lost"):
                    # Nothing finished: Ctrl-C, or the dead worker, goes on up.
                    raise lost or KeyboardInterrupt()
                raise ValueError(
                    "No fits were performed. Was the CV iterator empty? Were there "
                    "no candidates?"
                )
            self._finish(job, found, plan, monitor, tasks)
        finally:
            monitor.close()
        self.worker_lost_ = lost
        self.stop_reason_ = monitor.stop_reason
        self.starting_candidates_ = list(plan.starting)
        if tasks.owner is self:
            tasks.end(job.X, job.y)
        return self

    def _prepare_fit(self, X, y, params):
        """Check the inputs and set up the fold fits, as ``BaseSearchCV.fit`` starts.

        The scorers, the routing of ``params`` and the splitter's checks.
        Returns what the fold fits need, with the data made indexable.
        """
        if SEARCH_INTERNALS is None:
            raise RuntimeError(
                f"sk_mlp_tune's searches run scikit-learn's BaseSearchCV.fit step for "
                f"step, as it is in scikit-learn {SEARCH_FIT_TESTED_SKLEARN}; the "
                f"installed scikit-learn {sklearn.__version__} has changed it. Install "
                "a scikit-learn in that range."
            )
        if isinstance(self, BaseSuccessiveHalving):
            self._n_samples_orig = num_samples(X)
        scorers, refit_metric = self._get_scorers()
        X, y = indexable(X, y)
        params = check_method_params(X, params=params)
        routed_params = self._get_routed_params_for_fit(params)
        self._checked_cv_orig = check_cv(
            self.cv, y, classifier=is_classifier(self.estimator)
        )
        split_params = routed_params.splitter.split
        self._check_input_parameters(X=X, y=y, split_params=split_params)
        self.n_splits_ = self._checked_cv_orig.get_n_splits(X, y, **split_params)
        return _Job(
            X=X,
            y=y,
            cv=self._checked_cv_orig,
            split_params=split_params,
            fit_params=routed_params.estimator.fit,
            score_params=routed_params.scorer.score,
            scorers=scorers,
            refit_metric=refit_metric,
            score_name=refit_metric if isinstance(refit_metric, str) else None,
            base_estimator=clone(self.estimator),
            options={
                "scorer": scorers,
                "fit_params": routed_params.estimator.fit,
                "score_params": routed_params.scorer.score,
                "return_train_score": self.return_train_score,
                "return_n_test_samples": True,
                "error_score": self.error_score,
                "verbose": self.verbose,
            },
        )

    def _finish(self, job, found, plan, monitor, tasks):
        """Set the search's results, choose, refit, ensemble: every strategy's end."""
        results, refit_metric = found.results, job.refit_metric
        # One warning, or one error if every fit failed, for the whole self.
        warn_or_raise_about_fit_failures(found.out, self.error_score)
        first_test_score = found.out[0]["test_scores"]
        self.multimetric_ = isinstance(first_test_score, dict)
        if callable(self.scoring) and self.multimetric_:
            self._check_refit_for_multimetric(first_test_score)
            refit_metric = self.refit
        results["origin"] = candidate_origins(
            results["params"], plan.starting, ignore={getattr(self, "resource", None)}
        )
        earlier = plan.previous
        if earlier is not None:  # a warm start: the earlier rounds' rows first
            results = merge_results(earlier.cv_results, results)
        self.cv_results_ = results
        if self.refit or not self.multimetric_:
            self.best_index_ = self._select_best_index(
                self.refit, refit_metric, results
            )
            if not callable(self.refit):
                self.best_score_ = results[f"mean_test_{refit_metric}"][
                    self.best_index_
                ]
            self.best_params_ = results["params"][self.best_index_]
        if isinstance(self, BaseSuccessiveHalving):
            # As HalvingRandomSearchCV.fit: BaseSearchCV does not set it.
            self.best_score_ = results["mean_test_score"][self.best_index_]
        self.scorer_ = named_scorers(job.scorers)
        if not self.refit:
            return
        if earlier is not None and self.best_index_ == earlier.best_index:
            self.best_estimator_ = earlier.best_estimator_
            self.refit_time_ = earlier.refit_time_
        else:
            self.best_estimator_, self.refit_time_ = self._refit_best(
                job, monitor, tasks
            )
        if hasattr(self.best_estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.best_estimator_.feature_names_in_
        offset = len(results["params"]) - len(found.candidate_params)
        predictions = {
            row + offset: values for row, values in found.predictions.items()
        }
        if earlier is not None:  # the earlier rounds' rows come first, as they were
            predictions = {**getattr(earlier, "predictions", {}), **predictions}
        self._fit_ensemble(job, predictions, plan, monitor, tasks)
        if plan.keep_library:
            scores = results[f"mean_test_{ranking_metric(results, self.refit)}"]
            self.ensemble_library_ = {
                row: predictions[row] for row in library_rows(predictions, scores)
            }

    def _refit_best(self, job, monitor, tasks):
        """Refit the best candidate on all the data; a first Ctrl-C ends its training.

        The network then keeps the epochs it trained, as scikit-learn's MLPs
        do on Ctrl-C, the search stops as interrupted and
        ``refit_interrupted_`` is True: the work of the search is kept. A
        Ctrl-C before the first epoch leaves nothing to keep, and aborts.
        """
        params = self._full_training(self.refit_params(self.best_index_), monitor)
        with ctrl_c_stops_training() as ctrl_c, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Training interrupted by user")
            try:
                estimator, seconds = refit(
                    job.base_estimator, params, job.X, job.y, job.fit_params,
                    tasks, "refit-with-best-params",
                )  # fmt: skip
            except KeyboardInterrupt:  # outside the epochs: nothing trained
                raise Interrupted(1) from None
        self.refit_interrupted_ = ctrl_c.pressed
        if ctrl_c.pressed:
            monitor.stop("interrupted")
        return estimator, seconds

    def _full_training(self, params, monitor):
        """Return ``params`` with the estimator's own epochs if a cut search allows.

        A search with rungs of epochs that stopped early (the budget, Ctrl-C,
        a dead worker) chose among candidates trained for a low rung's
        epochs. The refit trains the winner for the estimator's own
        ``max_iter`` where the budget leaves room for it (its estimated refit
        scaled by the epochs); else, or after Ctrl-C (the user asked to end),
        for the rung's, and ``refit_epochs_`` records both, for the tuner's
        one warning.
        """
        self.refit_epochs_ = None
        if monitor.stop_reason == "completed" or not self.rungs_grow_epochs():
            return params
        name = getattr(self, "resource", None) or epochs_parameter(self.estimator)
        own, trained = self.estimator.get_params().get(name), params.get(name)
        if not isinstance(trained, numbers.Integral) or not trained < own:
            return params
        room = monitor.max_time is None or (
            monitor.elapsed + monitor.refit_estimate * own / trained <= monitor.max_time
        )
        if monitor.stop_reason != "interrupted" and room:
            return {**params, name: own}
        self.refit_epochs_ = (trained, own)
        return params

    def _fit_ensemble(self, job, predictions, plan, monitor, tasks):
        """Choose the ensemble by greedy selection and refit its members.

        ``predictions`` are the out-of-fold predictions, by row of
        ``cv_results_``. The members' refits share the fit's budget: one that
        would not finish within ``max_time`` is not started (a dropout MLP
        stops at the deadline and is dropped), and Ctrl-C keeps the members
        already refitted. The weights of the members kept are scaled back to a
        sum of 1.
        """
        self.ensemble_estimators_ = [self.best_estimator_]
        self.ensemble_weights_ = np.ones(1)
        self.ensemble_indices_ = [int(self.best_index_)]
        self.ensemble_score_ = self.ensemble_single_score_ = float("nan")
        if plan.ensemble_rounds == 1:
            return
        results = self.cv_results_
        metric = ranking_metric(results, self.refit)
        scorer = self.scorer_
        chosen = select(
            predictions,
            results[f"mean_test_{metric}"],
            scorer[metric] if isinstance(scorer, dict) else scorer,
            job.y,
            job.score_params,
            unique_labels(job.y) if is_classifier(self) else None,
            plan.ensemble_rounds,
            plan.random_state,  # breaks ties between candidates
        )
        size = plan.ensemble_size
        if chosen is None:
            warn_user(
                f"ensemble_size={size!r}, but no candidate that can be chosen has "
                "predictions with a score: the model is the best candidate alone.",
                UserWarning,
            )
            return
        # "auto" asks for no number of members: fewer is no news.
        if size != "auto" and chosen.n_usable < plan.ensemble_rounds:
            which = (
                "candidates of the highest rung" if "iter" in results else "candidates"
            )
            warn_user(
                f"ensemble_size={size}, but only {chosen.n_usable} {which} can be "
                "chosen: the ensemble draws on those, with repeats. A larger n_iter "
                "gives it more to choose from.",
                UserWarning,
            )
        self.ensemble_single_score_ = chosen.single_score
        if len(chosen.rows) == 1:
            # One member is no ensemble: the model is the candidate the
            # selection rule chose, as ``best_estimator_`` says.
            self.ensemble_score_ = chosen.single_score
            return
        self.ensemble_score_ = chosen.score
        members, weights, rows = [], [], []
        for row, weight in zip(chosen.rows, chosen.weights, strict=True):
            member = self._refit_member(job, row, monitor, tasks)
            if member is None:
                break
            members.append(member)
            weights.append(weight)
            rows.append(row)
        if len(members) < len(chosen.rows):
            why = (
                "Ctrl-C"
                if monitor.stop_reason == "interrupted"
                else f"max_time={monitor.max_time}"
            )
            warn_user(
                f"{why} left room to refit {len(members)} of the {len(chosen.rows)} "
                "ensemble members: the ensemble is those, reweighted.",
                UserWarning,
            )
        if not members:  # even the first: the best candidate alone, as refitted
            return
        self.ensemble_estimators_ = members
        self.ensemble_weights_ = np.asarray(weights) / np.sum(weights)
        self.ensemble_indices_ = rows

    def _refit_member(self, job, row, monitor, tasks):
        """Refit the member of ``row``; None if the budget or Ctrl-C stops it."""
        if row == self.best_index_:
            return self.best_estimator_
        if monitor.stop_reason == "interrupted":
            return None
        deadline = None
        if monitor.max_time is not None:
            # The folds trained on a share of the rows (a held-out split's
            # 80 %, a lower rung's sample); the refit trains on all.
            if "n_train_samples" in self.cv_results_:
                fold_rows = self.cv_results_["n_train_samples"][row]
            else:
                fold_rows = np.mean([len(train) for train, _ in job.splits()])
            fit_time = self.cv_results_["mean_fit_time"][row]
            estimate = fit_time * num_samples(job.X) / fold_rows
            if monitor.elapsed + estimate > monitor.max_time:
                return None
            deadline = time.time() + monitor.max_time - monitor.elapsed
        try:
            with training_deadline(deadline):
                member, _ = refit(
                    job.base_estimator, self.refit_params(row), job.X, job.y,
                    job.fit_params, tasks, "refit-ensemble-member",
                )  # fmt: skip
        except TrainingDeadlinePassed:
            return None
        except Interrupted as interrupted:
            if interrupted.presses > 1:
                raise
            monitor.stop("interrupted")
            return None
        return member

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, *, plan=None, **params):
        """Run fit with all sets of parameters, as the parent class does.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,), default=None
            Target values.
        plan : SearchPlan, default=None
            What a tuner gives the search; None runs it as its parent class.
        **params : dict
            Parameters of the estimator's ``fit``, the scorer and the splitter,
            routed as the parent class routes them.

        Returns
        -------
        self : object
            The fitted search.
        """
        # Held for this fit only: the monitor holds a stream and a clock.
        self._plan = plan if plan is not None else SearchPlan()
        try:
            self._fit_on_engine(X, y, params, self._plan)
        except Interrupted:
            # A second Ctrl-C, during the refit: abort.
            raise KeyboardInterrupt from None
        finally:
            del self._plan
        return self


def _rank_by_rung_then_score(rungs, means):
    """Rank rows by rung (highest first), then by mean score; NaN last.

    Ties share the lowest rank, as scikit-learn ranks.
    """
    keys = list(
        zip(-np.asarray(rungs), -np.nan_to_num(means, nan=-np.inf), strict=True)
    )
    order = sorted(range(len(keys)), key=keys.__getitem__)
    ranks = np.empty(len(keys), dtype=np.int32)
    for position, row in enumerate(order):
        tied = position and keys[row] == keys[order[position - 1]]
        ranks[row] = ranks[order[position - 1]] if tied else position + 1
    return ranks
