"""The tuned MLP estimators: parameters, fit, delegation to the best model, tags."""

import contextlib
import inspect
import numbers
import os
import sys
import time
import warnings
from dataclasses import dataclass
from typing import ClassVar

import joblib
import numpy as np
from joblib import effective_n_jobs
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    RegressorMixin,
    clone,
    is_classifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils import Bunch, check_random_state, get_tags, indexable
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._callbacks import FitTasks
from ._choice import SELECTIONS, choose_index, preferred_rows
from ._compat import (
    CallbackSupportMixin,
    HasMethods,
    Interval,
    StrOptions,
    VisualBlock,
    _fit_context,
    _routing_enabled,
    num_samples,
    search_scorers,
)
from ._engine import epochs_name, epochs_parameter, final_step
from ._ensemble import AUTO_MIN_SAMPLES, AUTO_ROUNDS, select, weighted_mean
from ._monitor import Interrupted, SearchMonitor, catching_interrupts
from ._network import (
    DropoutMLPClassifier,
    DropoutMLPRegressor,
    TrainingDeadlinePassed,
    check_architecture_space,
    training_deadline,
)
from ._search import (
    SEARCHES,
    build_search,
    default_n_points,
    merge_results,
    stopped_at_max_iter,
)
from ._searchbase import refit
from ._space import (
    check_portfolio,
    check_values_accepted,
    default_param_space,
    final_step_prefix,
    resolve_space,
    starting_candidates,
)
from ._warn import warn_user

# What fit copies from the fitted search object; the names mean what they
# mean on GridSearchCV.
_SEARCH_RESULTS = (
    "best_params_",
    "best_score_",
    "best_index_",
    "cv_results_",
    "n_splits_",
)
_REFIT_RESULTS = ("best_estimator_", "refit_time_")

_SEED_BOUND = np.iinfo(np.int32).max


def _refit_needed_message(estimator, what):
    return (
        f"This {type(estimator).__name__} was initialised with refit=False, so "
        f"{what} is not available: no model was refitted on the whole data. "
        "Set refit=True, or fit the estimator yourself with best_params_."
    )


def _best_estimator_has(attr):
    """Make an ``available_if`` check for ``attr`` on the refitted model.

    With ``refit=False`` the methods stay visible, so that calling one gives
    the reason it cannot work rather than a bare "no attribute".
    """

    def check(self):
        if hasattr(self, "best_estimator_"):
            return hasattr(self.best_estimator_, attr)
        return hasattr(self._template_estimator(), attr)

    return check


def _best_estimator_attribute(name):
    """Make a read-only property that reads ``name`` off the refitted model."""

    def get(self):
        return getattr(self._refitted_estimator(name), name)

    return property(get, doc=f"``best_estimator_.{name}``, the refitted model's.")


@dataclass
class _Refitted:
    """A refitted model and its time, as a search holds them."""

    best_estimator_: object
    refit_time_: float


@dataclass
class _WarmState:
    """What a warm-started fit needs of the previous one."""

    fingerprint: str
    search: str
    settings: dict
    rounds: int
    cv_results: dict
    evaluated: list
    prior_results: list
    best_index: int
    best_estimator_: object
    refit_time_: float
    n_max_iter_reached: int

    @classmethod
    def after(cls, tuner, X, y, previous):
        """Record the state of ``tuner`` just fitted on ``X, y``."""
        search = tuner.search_
        optimizers = getattr(search, "optimizers_", ())
        return cls(
            fingerprint=joblib.hash((X, y)),
            search=tuner.search,
            settings=_scoring_settings(tuner),
            rounds=previous.rounds + 1 if previous is not None else 1,
            cv_results=tuner.cv_results_,
            evaluated=list(tuner.cv_results_["params"]),
            prior_results=[(list(o.Xi), list(o.yi)) for o in optimizers],
            best_index=getattr(tuner, "best_index_", None),
            best_estimator_=getattr(tuner, "best_estimator_", None),
            refit_time_=getattr(tuner, "refit_time_", None),
            n_max_iter_reached=tuner.n_max_iter_reached_,
        )

    def same_data(self, X, y):
        """Tell whether ``X, y`` are the data of the previous fit."""
        return joblib.hash((X, y)) == self.fingerprint


class _BaseTunedMLP(MetaEstimatorMixin, CallbackSupportMixin, BaseEstimator):
    """Shared machinery of the tuned estimators; subclasses add the task."""

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict", "get_params"]), None],
        "param_space": [dict, list, None],
        "search": [StrOptions(set(SEARCHES))],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_grid_points": [Interval(numbers.Integral, 2, None, closed="left")],
        "n_points": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "resource": [StrOptions({"max_iter", "n_samples"})],
        "max_time": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "warm_start": ["boolean"],
        "scoring": [
            StrOptions(set(get_scorer_names())),
            callable,
            list,
            tuple,
            dict,
            None,
        ],
        "cv": ["cv_object"],
        "refit": ["boolean", str, callable],
        "n_jobs": [numbers.Integral, None],
        "pre_dispatch": [numbers.Integral, str],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "error_score": [StrOptions({"raise"}), numbers.Real],
        "return_train_score": ["boolean"],
        "checkpoint": [str, os.PathLike, None],
        "portfolio": ["boolean", list],
        "selection": [StrOptions(set(SELECTIONS))],
        "ensemble_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
    }

    def __init__(
        self,
        estimator=None,
        *,
        param_space=None,
        search="halving",
        n_iter=20,
        n_grid_points=3,
        n_points=None,
        resource="max_iter",
        max_time=None,
        warm_start=False,
        scoring=None,
        cv=None,
        refit=True,
        n_jobs=None,
        pre_dispatch="2*n_jobs",
        verbose=0,
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
        checkpoint=None,
        portfolio=True,
        selection="best",
        ensemble_size="auto",
    ):
        self.estimator = estimator
        self.param_space = param_space
        self.search = search
        self.n_iter = n_iter
        self.n_grid_points = n_grid_points
        self.n_points = n_points
        self.resource = resource
        self.max_time = max_time
        self.warm_start = warm_start
        self.scoring = scoring
        self.cv = cv
        self.refit = refit
        self.n_jobs = n_jobs
        self.pre_dispatch = pre_dispatch
        self.verbose = verbose
        self.random_state = random_state
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.checkpoint = checkpoint
        self.portfolio = portfolio
        self.selection = selection
        self.ensemble_size = ensemble_size

    def _default_estimator(self):
        """Return the MLP used when ``estimator`` is None."""
        raise NotImplementedError

    def _template_estimator(self):
        """Return an unfitted copy of the estimator each candidate starts from."""
        if self.estimator is not None:
            return clone(self.estimator)
        template = self._default_estimator()
        if _routing_enabled():
            # Nobody else can request sample_weight for a model we create;
            # weights that shape the fit should shape its score too.
            template.set_fit_request(sample_weight=True)
            template.set_score_request(sample_weight=True)
        return template

    def _make_search(self, *, n_splits=5, previous=None):
        """Build the unfitted search object, validating the space on the way.

        ``previous`` is the state of an earlier fit to continue (warm start).
        """
        template, search_seed, subspaces = self._seeded_template_and_space()
        # A continued search evaluated its starting candidates in its first round.
        starting = []
        if previous is None:
            starting = self._starting_candidates(template, subspaces)
        if self.random_state is not None:
            if previous is not None:
                # Each continued round of random search draws new candidates.
                round_rng = np.random.RandomState([search_seed, previous.rounds])
                search_seed = int(round_rng.randint(_SEED_BOUND))

        n_points = self.n_points
        if self.search == "bayes" and n_points is None:
            n_points = default_n_points(effective_n_jobs(self.n_jobs), n_splits)
        return build_search(
            self.search,
            template,
            subspaces,
            n_iter=self.n_iter,
            n_grid_points=self.n_grid_points,
            n_points=n_points,
            # The epochs of a pipeline are its final step's: "mlp__max_iter".
            resource=(
                epochs_name(template) if self.resource == "max_iter" else "n_samples"
            ),
            random_state=search_seed,
            starting=starting,
            selection=self.selection,
            scoring=self.scoring,
            cv=self.cv,
            refit=self.refit,
            n_jobs=self.n_jobs,
            pre_dispatch=self.pre_dispatch,
            verbose=max(self.verbose - 1, 0),
            error_score=self.error_score,
            return_train_score=self.return_train_score,
            evaluated=previous.evaluated if previous is not None else (),
            prior_results=previous.prior_results if previous is not None else (),
            seeded=self.random_state is not None,
            checkpoint=self.checkpoint,
        )

    def _starting_candidates(self, template, subspaces):
        """Return the candidates every search begins with, and their origins.

        The estimator's own settings (but in a grid of the user's), then,
        with the default space and ``portfolio=True``, the portfolio.
        """
        if self.search == "grid" and self.param_space is not None:
            return []
        entries = self.portfolio
        if entries is True and self.param_space is not None:
            entries = False  # the shipped portfolio is for the default space
        if self.search == "grid":
            entries = False
        return starting_candidates(template, subspaces, entries)

    def _seeded_template_and_space(self):
        """Return the template, the search's seed and the resolved space.

        A seeded tuner must give seeded fits, whatever n_jobs is: the
        template (and each step of a pipeline) gets a seed too where its own
        ``random_state`` is None.
        """
        template = self._template_estimator()
        search_seed = None
        if self.random_state is not None:
            rng = check_random_state(self.random_state)
            search_seed = int(rng.randint(_SEED_BOUND))
            # Every step of a pipeline, too.
            current = template.get_params(deep=True)
            template.set_params(
                **{
                    name: int(rng.randint(_SEED_BOUND))
                    for name in sorted(current)
                    if name.split("__")[-1] == "random_state" and current[name] is None
                }
            )
        if self.param_space is None:
            space = default_param_space(self.search, template)
            space_name = "the default param_space (give a param_space of your own)"
            step = final_step_prefix(template)[:-2]
            if step and self.verbose > 0:
                print(
                    f"Searching the default space of the pipeline's last step {step!r}",
                    file=sys.stderr,
                )
        else:
            space, space_name = self.param_space, "param_space"
        subspaces = resolve_space(space, template, name=space_name)
        check_values_accepted(template, subspaces, name=space_name)
        check_architecture_space(template, subspaces)
        return template, search_seed, subspaces

    def _validate_training_data(self, X, y):
        """Validate ``X`` and ``y`` for the task; set attributes derived from them."""
        raise NotImplementedError

    def _multimetric(self):
        return isinstance(self.scoring, list | tuple | dict)

    def _ensemble_rounds(self, n_samples=None):
        """Return the rounds of ensemble selection ``ensemble_size`` asks for.

        ``"auto"`` ensembles where it can (the best candidate is refitted
        and a metric ranks the candidates) and where it pays (at least
        ``AUTO_MIN_SAMPLES`` training rows, when ``n_samples`` is known),
        and keeps the best alone otherwise, without a word: the user asked
        for nothing in particular.
        """
        if self.ensemble_size != "auto":
            return self.ensemble_size
        if not self.refit or (self._multimetric() and not isinstance(self.refit, str)):
            return 1
        if n_samples is not None and n_samples < AUTO_MIN_SAMPLES:
            return 1
        return AUTO_ROUNDS

    def _check_search_combination(self):
        template = self._template_estimator()
        # Refuses a refit that names no metric, before any fit.
        _, refit_metric = search_scorers(
            template, self.scoring, self.refit, self.error_score
        )
        if self._ensemble_rounds() > 1 and (not self.refit or refit_metric is None):
            raise ValueError(
                f"ensemble_size={self.ensemble_size} refits the candidates it "
                "chooses, scored by the metric the search ranks by: it needs "
                f"refit=True (or the name of a metric); got refit={self.refit!r}. "
                "Set refit, or ensemble_size=1."
            )
        if self._multimetric():
            if self.search == "halving":
                raise ValueError(
                    "search='halving' keeps candidates by one metric; scikit-learn's "
                    "HalvingRandomSearchCV takes no multi-metric scoring. Use "
                    "search='asha' (successive halving by the refit metric), "
                    "'grid', 'random' or 'bayes', or one metric in scoring."
                )
            if self.search in ("asha", "bayes") and refit_metric is None:
                what = {"asha": "promotes", "bayes": "proposes"}[self.search]
                raise ValueError(
                    f"search={self.search!r} {what} candidates by one metric: with "
                    f"several in scoring, refit must name it; got refit={self.refit!r}."
                )
            if self.warm_start:
                raise ValueError(
                    "warm_start=True does not continue a multi-metric search; give "
                    "one metric in scoring, or warm_start=False."
                )
        if self.warm_start and self.search in ("halving", "asha"):
            raise ValueError(
                f"warm_start=True cannot continue search={self.search!r}: "
                "successive halving plans its rungs for a fixed set of candidates. "
                "Use search='random' or 'bayes' to extend a search, checkpoint= "
                "with search='asha' to resume one, or warm_start=False."
            )
        if self.checkpoint is not None and self.search != "asha":
            raise ValueError(
                f"checkpoint={self.checkpoint!r} needs search='asha', the search "
                f"that records its work as it goes; got search={self.search!r}. "
                "Use search='asha', or checkpoint=None."
            )
        if self.checkpoint is not None and not isinstance(
            self.random_state, numbers.Integral
        ):
            raise ValueError(
                f"checkpoint={self.checkpoint!r} needs an integer random_state: "
                "resuming replays the search's decisions, which only a seeded "
                f"search repeats; got random_state={self.random_state!r}. Set "
                "random_state=0 (or any integer), or checkpoint=None."
            )
        if isinstance(self.portfolio, list):
            if self.search == "grid":
                raise ValueError(
                    "search='grid' evaluates its grid and no portfolio; got a "
                    "portfolio of "
                    f"{len(self.portfolio)} entries. Add them to the grid, or use "
                    "search='random', 'bayes', 'halving' or 'asha'."
                )
            check_portfolio(self.portfolio, template)
        if self.search == "asha":
            epochs_parameter(self._template_estimator())
        if self.search == "halving" and self.resource == "max_iter":
            template = self._template_estimator()
            if "max_iter" not in final_step(template).get_params():
                raise ValueError(
                    f"search='halving' with resource='max_iter' grows the "
                    f"estimator's max_iter, which {type(template).__name__} does not "
                    "have; use resource='n_samples'."
                )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Search the hyperparameters by cross-validation, then refit the best.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. A pandas DataFrame keeps its column names in
            ``feature_names_in_``.
        y : array-like of shape (n_samples,)
            Target values.
        **fit_params : dict
            Passed to the search's ``fit``: ``sample_weight`` reaches every
            MLP fit, ``groups`` the CV splitter. With metadata routing
            enabled, they go where the estimator, scorer and splitter request
            them.

        Returns
        -------
        self : object
            The fitted tuner.
        """
        start = time.perf_counter()
        with catching_interrupts(), self._new_state_or_previous() as keep_previous:
            try:
                with _fit_hooks(self, X, y):
                    search, X, y, previous = self._prepare(X, y, fit_params)
                    # As GridSearchCV's: the search, each fold fit, the refits.
                    callbacks = FitTasks.begin(self, X, y, max_subtasks=None)
                    if search is None:  # a warm start with nothing left to do
                        keep_previous()
                        callbacks.end(X, y)
                        self.search_time_ = time.perf_counter() - start
                        return self
                    search.callback_tasks = callbacks if callbacks.active else None
                    monitor = self._run(search, X, y, fit_params, start)
                    self._finish(search, monitor, previous, (X, y, fit_params))
                    # It holds the callbacks' tree: not fitted state.
                    search.callback_tasks = None
                    callbacks.end(X, y)
                    self.search_time_ = time.perf_counter() - start
            except Interrupted:
                # Ctrl-C before any candidate finished, or during the refit.
                raise KeyboardInterrupt from None
        return self

    @contextlib.contextmanager
    def _new_state_or_previous(self):
        """Start a fit clean; leave the previous state whole, or none, if it raises.

        Never a mix: ``classes_`` of the new data with the old model. Yields
        the function that puts the previous state back.
        """
        fitted = {k: v for k, v in vars(self).items() if _is_fitted_state(k)}
        # A new fit starts clean: nothing of the last one (its best_params_
        # after refit=False, say) outlives it, but the warm-start record.
        for name in fitted:
            if name != "_warm_state":
                delattr(self, name)

        def keep_previous():
            for name in [k for k in vars(self) if _is_fitted_state(k)]:
                delattr(self, name)
            vars(self).update(fitted)

        try:
            yield keep_previous
        except BaseException:
            keep_previous()
            raise

    def _prepare(self, X, y, fit_params):
        """Check everything and build the search, before any fit.

        Returns the search (None when a warm start has nothing left to
        evaluate), the validated data and the previous round to continue.
        """
        self._check_search_combination()
        X, y = self._validate_training_data(X, y)
        # Compared as validated arrays, as recorded: a DataFrame, a Series or
        # lists are the same data as the arrays made from them.
        previous = self._previous_round(X, y) if self.warm_start else None
        cv = check_cv(self.cv, y, classifier=is_classifier(self))
        n_splits = cv.get_n_splits(X, y, fit_params.get("groups"))
        search = self._make_search(n_splits=n_splits, previous=previous)
        _check_fit_params(
            search.estimator, fit_params, _num_rows(X), routed=_routing_enabled()
        )
        if previous is not None and search.n_planned_candidates() == 0:
            warn_user(
                "warm_start=True, but the previous fit already evaluated every "
                "candidate of the grid; nothing is left to continue. Enlarge the "
                "space or n_grid_points to search further.",
                UserWarning,
            )
            return None, X, y, previous
        return search, X, y, previous

    def _run(self, search, X, y, fit_params, start):
        """Fit ``search`` under this fit's budget; return its monitor."""
        # The budget is the whole fit's, validation included. asha decides
        # the number of fits as it goes: its bar counts candidates started.
        monitor = SearchMonitor(
            max_time=self.max_time,
            n_planned=search.n_planned_candidates(),
            progress=self.verbose > 0,
            start=start,
            unit="candidates" if self.search == "asha" else "evaluated",
            rungs=self.search in ("halving", "asha"),
        )
        search.monitor = monitor
        search.keep_predictions = self._ensemble_rounds(num_samples(X)) > 1
        try:
            with warnings.catch_warnings():
                _silence_refit_warnings()
                search.fit(X, y, **fit_params)
        finally:
            # It holds a stream and the clock of this fit: not fitted state.
            search.monitor = None
        return monitor

    def _finish(self, search, monitor, previous, refit_data):
        """Take the search's results, count what did not converge, say how it ended."""
        self.search_ = search
        self.scorer_ = search.scorer_
        self._collect_results(search, previous, refit_data)
        self._features_seen_by_best_estimator()
        self._count_unconverged(search, previous)
        self.stop_reason_ = search.stop_reason_
        kept = "kept them and refitted the best" if self.refit else "kept them"
        kept = (
            f"{monitor.n_evaluated} of {monitor.n_planned} candidates had "
            f"finished: {kept} (best CV score "
            f"{getattr(self, 'best_score_', float('nan')):.4f}); "
            f"stop_reason_ is {self.stop_reason_!r}."
        )
        if self.stop_reason_ == "interrupted":
            warn_user(
                f"Interrupted (Ctrl-C) after {kept} A second Ctrl-C aborts the fit.",
                UserWarning,
            )
        elif self.stop_reason_ == "worker_lost":
            warn_user(
                f"{search.worker_lost_} The search stopped after {kept}", UserWarning
            )
        predictions = getattr(search, "out_of_fold_", None) or {}
        # The fitted search keeps its results, not the predictions behind them.
        search.out_of_fold_ = None
        if self.refit:
            self._fit_ensemble(search, predictions, monitor, refit_data)
        # Only a warm-started fit pays for hashing the data.
        X, y, _ = refit_data
        self._warm_state = (
            _WarmState.after(self, X, y, previous) if self.warm_start else None
        )

    def _fit_ensemble(self, search, predictions, monitor, refit_data):
        """Choose the ensemble by greedy selection and refit its members.

        ``predictions`` are the search's out-of-fold predictions, by row of
        its ``cv_results_``. The members' refits share the fit's budget:
        one that would not finish within ``max_time`` is not started (a
        dropout MLP stops at the deadline and is dropped), and Ctrl-C keeps
        the members already refitted. The weights of the members kept are
        scaled back to a sum of 1.
        """
        self.ensemble_estimators_ = [self.best_estimator_]
        self.ensemble_weights_ = np.ones(1)
        self.ensemble_indices_ = [int(self.best_index_)]
        self.ensemble_score_ = self.ensemble_single_score_ = float("nan")
        X, y, fit_params = refit_data
        rounds = self._ensemble_rounds(num_samples(X))
        if rounds == 1:
            return
        # Rows of an earlier round (warm start) come first in cv_results_.
        offset = len(self.cv_results_["params"]) - len(search.cv_results_["params"])
        metric = ranking_metric(self)
        scorer = (
            self.scorer_[metric] if isinstance(self.scorer_, dict) else self.scorer_
        )
        chosen = select(
            {row + offset: values for row, values in predictions.items()},
            self.cv_results_[f"mean_test_{metric}"],
            scorer,
            y,
            self._routed(fit_params).scorer.score,
            getattr(self, "classes_", None),
            rounds,
            self.random_state,  # breaks ties between candidates
        )
        if chosen is None:
            warn_user(
                f"ensemble_size={self.ensemble_size!r}, but no candidate that can "
                "be chosen has predictions with a score: the model is the best "
                "candidate alone.",
                UserWarning,
            )
            return
        # "auto" asks for no number of members: fewer is no news.
        if self.ensemble_size != "auto" and chosen.n_usable < rounds:
            which = "candidates"
            if "iter" in self.cv_results_:
                which = "candidates of the highest rung"
            warn_user(
                f"ensemble_size={self.ensemble_size}, but only {chosen.n_usable} "
                f"{which} can be chosen: the ensemble draws on those, with "
                "repeats. A larger n_iter gives it more to choose from.",
                UserWarning,
            )
        self.ensemble_score_ = chosen.score
        self.ensemble_single_score_ = chosen.single_score
        members, weights, rows = [], [], []
        for row, weight in zip(chosen.rows, chosen.weights, strict=True):
            member = self._refit_member(
                search, row - offset, row, monitor, X, y, fit_params
            )
            if member is None:
                break
            members.append(member)
            weights.append(weight)
            rows.append(row)
        if len(members) < len(chosen.rows):
            why = (
                "Ctrl-C"
                if self.stop_reason_ == "interrupted"
                else f"max_time={self.max_time}"
            )
            warn_user(
                f"{why} left room to refit {len(members)} of the "
                f"{len(chosen.rows)} ensemble members: the ensemble is those, "
                "reweighted.",
                UserWarning,
            )
        if not members:  # even the first: the best candidate alone, as refitted
            return
        self.ensemble_estimators_ = members
        self.ensemble_weights_ = np.asarray(weights) / np.sum(weights)
        self.ensemble_indices_ = rows

    def _refit_member(self, search, search_row, row, monitor, X, y, fit_params):
        """Refit the member of ``row``; None if the budget or Ctrl-C stops it."""
        if row == self.best_index_:
            return self.best_estimator_
        if self.stop_reason_ == "interrupted":
            return None
        results = self.cv_results_
        if self.max_time is not None:
            # The folds trained on a share of the rows; the refit on all.
            share = (
                (search.n_splits_ - 1) / search.n_splits_ if search.n_splits_ > 1 else 1
            )
            estimate = results["mean_fit_time"][row] / share
            if monitor.elapsed + estimate > self.max_time:
                return None
            deadline = time.time() + self.max_time - monitor.elapsed
        else:
            deadline = None
        try:
            with warnings.catch_warnings(), training_deadline(deadline):
                _silence_refit_warnings()
                member, _ = refit(
                    search.estimator,
                    search.refit_params(search_row),
                    X,
                    y,
                    self._routed(fit_params).estimator.fit,
                    search.callback_tasks,
                    "refit-ensemble-member",
                )
        except TrainingDeadlinePassed:
            return None
        except Interrupted as interrupted:
            if interrupted.presses > 1:
                raise
            self.stop_reason_ = "interrupted"
            return None
        return member

    def _routed(self, fit_params):
        """Return ``fit_params`` routed as the search routes them."""
        if _routing_enabled():
            return process_routing(self, "fit", **fit_params)
        # Without routing, as BaseSearchCV: all but groups to the estimator's fit.
        return Bunch(
            estimator=Bunch(fit={k: v for k, v in fit_params.items() if k != "groups"}),
            scorer=Bunch(score={}),
        )

    def _count_unconverged(self, search, previous):
        """Set ``n_max_iter_reached_`` and say, once, how many fits did not converge.

        Under successive halving only the last rung counts: the earlier ones
        stop at a small ``max_iter`` on purpose.
        """
        results = search.cv_results_
        top_rung = None
        if self.search == "asha" or (
            self.search == "halving" and self.resource == "max_iter"
        ):
            # Rarely the estimator's own max_iter: with 200 epochs and a
            # factor of 3 halving's rungs train for 22, 66 and 198.
            top_rung = int(np.max(results["n_resources"]))
        n_stopped = sum(
            reached is not None and (top_rung is None or reached >= top_rung)
            for reached in search.max_iter_reached_
        )
        n_candidates = len(results["params"])
        if top_rung is not None:
            n_candidates = int(np.sum(np.asarray(results["n_resources"]) >= top_rung))
        n_fits = search.n_splits_ * n_candidates
        if self.refit:
            n_fits += 1
            n_stopped += stopped_at_max_iter(search.best_estimator_)
        self.n_max_iter_reached_ = n_stopped + (
            previous.n_max_iter_reached if previous is not None else 0
        )
        if n_stopped:
            max_iter = top_rung or final_step(search.estimator).max_iter
            warn_user(
                f"{n_stopped} of {n_fits} MLP fits stopped at max_iter={max_iter} "
                f"before converging; {self._convergence_advice(search, max_iter)} "
                "The count is in n_max_iter_reached_.",
                ConvergenceWarning,
            )

    def _convergence_advice(self, search, max_iter):
        """Say how to train longer, in the terms of the estimator searched."""
        network = final_step(search.estimator)
        lbfgs = getattr(network, "solver", None) == "lbfgs"
        larger = 2 * max_iter
        how = f"{epochs_parameter(search.estimator)}={larger} on the estimator"
        if network is search.estimator:
            solver = "solver='lbfgs', " if lbfgs else ""
            how = (
                f"{type(self).__name__}({type(network).__name__}"
                f"({solver}max_iter={larger}))"
            )
        if lbfgs:  # a full-batch line search: no early stopping, no step size
            return f"consider a larger max_iter: {how}."
        return (
            f"consider a larger max_iter ({how}), early_stopping=True, or a "
            "larger learning_rate_init."
        )

    def _previous_round(self, X, y):
        """Return the state to continue from, or None to start over (and say so)."""
        state = getattr(self, "_warm_state", None)
        if state is None:
            return None
        settings = _scoring_settings(self)
        # A state recorded by an earlier version has no settings: start over.
        recorded = getattr(state, "settings", {})
        changed = [name for name in settings if settings[name] != recorded.get(name)]
        if state.search != self.search:
            changed.insert(0, "the search strategy")
        if not state.same_data(X, y):
            changed.insert(0, "the data")
        if changed:
            # Scores of another metric, folds or model would be ranked together.
            warn_user(
                f"warm_start=True, but {' and '.join(changed)} differ from the "
                "previous fit; starting a new search.",
                UserWarning,
            )
            return None
        return state

    def _collect_results(self, search, previous, refit_data=None):
        """Copy the search's results, merged with the previous round's if any.

        ``refit_data`` (``X, y, fit_params``) refits the merged choice when it
        is neither round's own: the one-standard-error rule's bar moves
        with the best mean, so it may pick an earlier row that no round
        refitted.
        """
        if previous is None:
            for name in _SEARCH_RESULTS + (_REFIT_RESULTS if self.refit else ()):
                # As GridSearchCV: several metrics and refit=False give no
                # best_*, a callable refit no best_score_.
                if hasattr(search, name):
                    setattr(self, name, getattr(search, name))
            self.multimetric_ = getattr(search, "multimetric_", False)
        else:
            self.multimetric_ = False  # warm_start refuses several metrics
            self.cv_results_ = merge_results(previous.cv_results, search.cv_results_)
            results = self.cv_results_
            every_row = np.arange(len(results["params"]))
            self.best_index_ = choose_index(
                results["mean_test_score"],
                results["std_test_score"],
                search.n_splits_,
                every_row,
                preferred_rows(results["origin"], every_row),
                self.selection,
            )
            self.best_params_ = self.cv_results_["params"][self.best_index_]
            self.best_score_ = self.cv_results_["mean_test_score"][self.best_index_]
            self.n_splits_ = search.n_splits_
            if self.refit:
                n_earlier = len(previous.cv_results["params"])
                if self.best_index_ == previous.best_index:
                    source = previous
                elif self.best_index_ == n_earlier + search.best_index_:
                    source = search
                else:
                    source = self._refit_merged_choice(search, *refit_data)
                self.best_estimator_ = source.best_estimator_
                self.refit_time_ = source.refit_time_
        # A plain dict of plain Python values, whatever the search object keeps.
        if hasattr(self, "best_params_"):
            self.best_params_ = {
                name: value.item() if isinstance(value, np.generic) else value
                for name, value in self.best_params_.items()
            }

    def _refit_merged_choice(self, search, X, y, fit_params):
        """Refit ``best_params_`` as the search refits; return the fitted state."""
        fit_params = self._routed(fit_params).estimator.fit
        with warnings.catch_warnings():
            _silence_refit_warnings()
            return _Refitted(
                *refit(
                    search.estimator,
                    self.best_params_,
                    X,
                    y,
                    fit_params,
                    search.callback_tasks,
                    "refit-with-best-params",
                )
            )

    def _refitted_estimator(self, what):
        """Return ``best_estimator_``, or say why ``what`` cannot be had."""
        check_is_fitted(self)
        if not self.refit:
            raise AttributeError(_refit_needed_message(self, what))
        return self.best_estimator_

    def _features_seen_by_best_estimator(self):
        # As BaseSearchCV: what a pipeline saw is what its refitted model saw.
        if self._checks_input_itself() or not self.refit:
            return
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.best_estimator_, name):
                setattr(self, name, getattr(self.best_estimator_, name))

    def _checks_input_itself(self):
        """Tell whether the tuner validates ``X`` itself, or leaves it to the estimator.

        An MLP takes numbers only, and the tuner checks them before any fit,
        with messages that name the problem. Anything else, a pipeline that
        one-hot encodes text or resamples, say, takes ``X`` as it comes:
        the tuner checks only what the search needs, as ``GridSearchCV``.
        """
        template = (
            self.estimator if self.estimator is not None else self._default_estimator()
        )
        return isinstance(template, MLPClassifier | MLPRegressor)

    def _validate_X(self, X):
        if not self._checks_input_itself():
            return X
        return validate_data(self, X, accept_sparse=("csr", "csc"), reset=False)

    @available_if(_best_estimator_has("predict"))
    def predict(self, X):
        """Predict with the refitted best model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The predicted values.
        """
        best = self._refitted_estimator("predict")
        X = self._validate_X(X)
        members, weights = self._ensemble()
        if len(members) == 1:
            return best.predict(X)
        if is_classifier(self):
            proba = weighted_mean(members, weights, "predict_proba", X)
            return best.classes_[np.argmax(proba, axis=1)]
        return weighted_mean(members, weights, "predict", X)

    def _ensemble(self):
        """Return the members and weights to predict with: the best alone, or more."""
        # A model saved before ensembles has none.
        members = getattr(self, "ensemble_estimators_", None) or [self.best_estimator_]
        return members, getattr(self, "ensemble_weights_", np.ones(1))

    def _score(self, X, y, **score_params):
        # Subclasses expose this as ``score``: their task mixin's ``score``
        # comes first in the MRO and would measure something else.
        best = self._refitted_estimator("score")
        search = getattr(self, "search_", None)
        if len(self._ensemble()[0]) > 1:
            # The ensemble's predictions, scored as the search scored.
            if self.scoring is None:  # the task's own metric, as the MLP's score
                task = ClassifierMixin if is_classifier(self) else RegressorMixin
                return task.score(self, X, y, **score_params)
            scorer = self.scorer_
            if isinstance(scorer, dict):
                scorer = scorer[self.refit]
            return scorer(self, X, y, **score_params)
        X = self._validate_X(X)
        if search is None or not hasattr(search, "score"):
            # A loaded model has no search object (``io.save`` leaves it
            # behind), and the engine's has no score method; score as the
            # searches' ``score`` does, with the scorer of the refit metric.
            scorer = self.scorer_
            if isinstance(scorer, dict):
                scorer = scorer[self.refit]
            return scorer(best, X, y, **score_params)
        return search.score(X, y, **score_params)

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        ``fit`` routes its metadata to the estimator, the scorer and the CV
        splitter, as :class:`~sklearn.model_selection.GridSearchCV` does.
        Nothing is built or checked here.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter`
            encapsulating the routing information.
        """
        template = self._template_estimator()
        return (
            MetadataRouter(owner=self)
            .add(
                estimator=template,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
            .add(
                scorer=search_scorers(
                    template, self.scoring, self.refit, self.error_score
                )[0],
                method_mapping=MethodMapping()
                .add(caller="fit", callee="score")
                .add(caller="score", callee="score"),
            )
            .add(
                splitter=check_cv(self.cv),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        )

    def _sk_visual_block_(self):
        # As GridSearchCV's: a fitted tuner shows the model it became.
        if hasattr(self, "best_estimator_"):
            key, estimator = "best_estimator_", self.best_estimator_
        else:
            key, estimator = "estimator", self._template_estimator()
        return VisualBlock(
            "parallel",
            [estimator],
            names=[f"{key}: {type(estimator).__name__}"],
            name_details=[str(estimator)],
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        template = (
            self.estimator if self.estimator is not None else self._default_estimator()
        )
        template_tags = get_tags(template).input_tags
        for name in ("sparse", "allow_nan", "string", "categorical"):
            setattr(tags.input_tags, name, getattr(template_tags, name))
        return tags

    # Fitted state that exists to run or continue a search, not to predict.
    _SEARCH_STATE = ("search_", "_warm_state")

    def __getstate__(self):
        # skops (behind sk_mlp_tune.save and MLflow's default log_model)
        # describes an object by this state; it leaves the search behind:
        # skops cannot describe scipy's frozen distributions or
        # scikit-optimize's optimizers, and a saved model needs neither (see
        # "Saved models leave the search behind" in docs/design.rst).
        state = super().__getstate__()
        return {k: v for k, v in state.items() if k not in self._SEARCH_STATE}

    def __reduce_ex__(self, protocol):
        # pickle, joblib and copy keep everything, search included, as they
        # do for scikit-learn's searches.
        constructor, args, _, *rest = super().__reduce_ex__(protocol)
        return (constructor, args, dict(vars(self)), *rest)

    coefs_ = _best_estimator_attribute("coefs_")
    intercepts_ = _best_estimator_attribute("intercepts_")
    n_layers_ = _best_estimator_attribute("n_layers_")
    n_outputs_ = _best_estimator_attribute("n_outputs_")
    out_activation_ = _best_estimator_attribute("out_activation_")
    loss_ = _best_estimator_attribute("loss_")
    loss_curve_ = _best_estimator_attribute("loss_curve_")
    best_loss_ = _best_estimator_attribute("best_loss_")
    validation_scores_ = _best_estimator_attribute("validation_scores_")
    n_iter_ = _best_estimator_attribute("n_iter_")


def ranking_metric(tuner):
    """Return the ``cv_results_`` suffix of the metric that ranks the candidates.

    ``"score"`` for one metric; with several, the one ``refit`` names, else
    (``refit`` a callable or False) the first, as ``mean_test_<name>``,
    ``std_test_<name>`` and ``rank_test_<name>`` spell it.
    """
    results = tuner.cv_results_
    if "mean_test_score" in results:
        return "score"
    if isinstance(tuner.refit, str):
        return tuner.refit
    return next(
        k.removeprefix("mean_test_") for k in results if k.startswith("mean_test_")
    )


def candidates_best_first(tuner):
    """Return the rows of ``cv_results_`` in the order to show them.

    The chosen (refitted) row first, then by rung reached, highest first (a
    score at few epochs is not comparable with one at many), then by rank.
    """
    results = tuner.cv_results_
    n_rows = len(results["params"])
    rungs = np.asarray(results.get("iter", np.zeros(n_rows)))
    ranked = np.lexsort((results[f"rank_test_{ranking_metric(tuner)}"], -rungs))
    chosen = getattr(tuner, "best_index_", None)
    if chosen is None:
        return [int(i) for i in ranked]
    return [chosen, *(int(i) for i in ranked if i != chosen)]


# Context managers entered around every tuner's fit, as
# ``hook(tuner, X, y)``: how an integration (MLflow's autologging) takes
# part in ``fit`` without the estimator importing it. See register_fit_hook.
_FIT_HOOKS = []


def register_fit_hook(hook):
    """Enter ``hook(tuner, X, y)``, a context manager, around every tuner's ``fit``.

    Registering the same hook twice keeps one.
    """
    if hook not in _FIT_HOOKS:
        _FIT_HOOKS.append(hook)


@contextlib.contextmanager
def _fit_hooks(tuner, X, y):
    with contextlib.ExitStack() as stack:
        for hook in _FIT_HOOKS:
            stack.enter_context(hook(tuner, X, y))
        yield


def _scoring_settings(tuner):
    """Return what decides a candidate's score besides the data and the candidate.

    A warm-started round is merged with the last only when these are equal:
    scores of another metric, other folds or another model would be ranked
    together.
    """

    def stable(value):
        try:
            return joblib.hash(value)
        except Exception:  # a lambda scorer, say: its repr is the best we have
            return repr(value)

    return {
        "scoring": stable(tuner.scoring),
        "cv": stable(tuner.cv),
        "estimator": stable(tuner.estimator),
    }


def _silence_refit_warnings():
    """Ignore, in the current ``catch_warnings`` block, what a refit need not say.

    The fold fits silence the same where they run: a ConvergenceWarning
    (counted in ``n_max_iter_reached_`` and said once), and scikit-learn's
    clipping of ``batch_size`` (200, the estimator's ``"auto"``, on fewer
    samples).
    """
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.filterwarnings("ignore", message="Got `batch_size`", category=UserWarning)


def _is_fitted_state(name):
    # Fitted attributes end with "_" (scikit-learn's convention); the
    # warm-start record is fitted state too.
    return (name.endswith("_") and not name.startswith("__")) or name == "_warm_state"


def _num_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _check_fit_params(estimator, fit_params, n_samples, routed=False):
    """Refuse, before any fit, fit parameters that would fail every fold.

    A parameter the estimator's ``fit`` does not take, or weights that are
    not one non-negative finite number per sample with a positive sum,
    would otherwise fail inside every fold, and the search would end with
    "All the N fits failed" long after the real cause. Without metadata
    routing every parameter but ``groups`` goes to the estimator's ``fit``;
    with it (``routed``), where they go is the user's request, and only the
    weights are checked.
    """
    parameters = inspect.signature(estimator.fit).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    unknown = sorted(
        name for name in fit_params if name != "groups" and name not in parameters
    )
    if unknown and not takes_any and not routed:
        what = (
            "sample_weight was given, but"
            if unknown == ["sample_weight"]
            else (f"fit parameter(s) {unknown} were given, but")
        )
        raise TypeError(
            f"{what} {type(estimator).__name__}.fit does not accept "
            f"{'it' if len(unknown) == 1 else 'them'}; it takes "
            f"{sorted(set(parameters) - {'self', 'X', 'y'})}. Use an estimator "
            "whose fit takes them (scikit-learn's MLPs take sample_weight), or "
            "leave them out."
        )
    weights = fit_params.get("sample_weight")
    if weights is None:
        return
    weights = np.asarray(weights)
    problem = None
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        problem = f"has shape {weights.shape}, not ({n_samples},), one per sample"
    elif not np.issubdtype(weights.dtype, np.number):
        problem = f"holds {weights.dtype} values, not numbers"
    elif not np.all(np.isfinite(weights)):
        problem = f"holds {int(np.sum(~np.isfinite(weights)))} NaN or infinite values"
    elif np.any(weights < 0):
        problem = f"holds {int(np.sum(weights < 0))} negative values"
    elif not np.sum(weights) > 0:
        problem = "sums to zero: no sample would count"
    if problem is not None:
        raise ValueError(
            f"sample_weight {problem}; give one finite, non-negative weight per "
            "sample, not all zero."
        )


# scikit-learn's own settings: 200 epochs at most, stopping once the training
# loss settles; no early stopping, whose 10% validation split and early halt
# cost 0.2 to 3 points of held-out accuracy in benchmarks/bench_quality.py.
# Successive halving, the default search, bounds the epochs of most fits.
_DEFAULT_MLP_SETTINGS = {"max_iter": 200}

# The parameters and attributes both tuned estimators share, in numpydoc.
_SHARED_PARAMETERS = """
    param_space : dict or list of dict, default=None
        The hyperparameters to search. Each key is a parameter of
        ``estimator``; each value is

        - a list: a choice among its elements, e.g. ``["relu", "tanh"]`` or
          ``[(64,), (128, 64, 32)]``;
        - ``(low, high)``: a range, of integers when both bounds are
          integers and of floats otherwise;
        - ``(low, high, "log-uniform")``: a range searched on a log scale;
        - a scikit-optimize ``Real``, ``Integer`` or ``Categorical``.

        A list of dicts searches a union of sub-spaces. ``None`` means
        :func:`~sk_mlp_tune.default_param_space`: the learning rate (1e-4 to
        1e-1, log), 1 to 3 hidden layers (``n_hidden_layers``) of 16 to 256
        neurons (``n_neurons``, log) in a constant or funnel
        (``layer_shape``) architecture, ``dropout`` (0 to 0.5), ``alpha``
        (1e-6 to 1e-1, log), ``batch_size`` (32 to 256, log) and the
        activation (relu or tanh). For grid search the default is a grid of
        32 candidates: two values each of the learning rate, depth, width,
        dropout and activation, after the estimator's own settings. For a
        plain scikit-learn MLP the architecture is searched as
        ``hidden_layer_sizes`` tuples instead, and for a pipeline it is the
        default space of its last step, its names prefixed with the step's
        (``mlp__alpha``). The dict given is never modified.

    search : {"grid", "random", "bayes", "halving", "asha"}, default="halving"
        How candidates are chosen; every strategy but a grid of your own
        starts from the estimator's own settings, which halving and asha
        carry to full training whatever their early scores, so a search
        never ends below them in CV. Halving is the default for its time:
        at 20 candidates it matched the best of scikit-learn's,
        scikit-optimize's and Optuna's searches on two problems of four and
        fell short on two (wine, by a test sample in three splits, and a
        harder synthetic problem, by 1.3 points), in a seventh to a half of
        the best one's time; asha beat it on five problems of six but stayed
        below the full searches on three (see the benchmarks page):
        ``"grid"`` tries every combination with
        :class:`~sklearn.model_selection.GridSearchCV`, ranges cut into
        ``n_grid_points`` values (log-spaced for log ranges);
        ``"random"`` draws ``n_iter`` candidates with
        :class:`~sklearn.model_selection.RandomizedSearchCV`; ``"bayes"``
        proposes ``n_iter`` candidates, ``n_points`` per step, with
        scikit-optimize's ``BayesSearchCV``, each step informed by the
        scores so far; ``"halving"`` trains ``n_iter`` random candidates with
        a small ``resource`` and keeps the best third for the next, larger
        rung (:class:`~sklearn.model_selection.HalvingRandomSearchCV`),
        each rung training from scratch; ``"asha"`` is the package's own
        asynchronous successive halving over the epochs: ``n_iter``
        candidates, the estimator's own settings and the portfolio first,
        then proposals from Optuna's TPE model of the scores so far (random
        until it has ``max(5, n_iter // 4)`` results); each rung trains
        three times the epochs of the previous one, up to the estimator's
        ``max_iter``, and a
        candidate in the top third of its rung *continues* training from
        where it stopped, as soon as a worker is free (see
        :ref:`strategies`).

    n_iter : int, default=20
        Number of candidates for random, Bayesian, halving and asha search
        (shared out over the sub-spaces). Ignored by grid search. It caps
        the search whatever ``max_time`` allows: a search stops at the
        first of the two.

    n_grid_points : int, default=3
        Number of values each range is cut into for grid search. Ignored by
        the other strategies. A grid of more than 500 candidates warns.

    n_points : int, default=None
        Candidates Bayesian search proposes per step. None means 4, or
        ``ceil(n_jobs / n_splits)`` when that is more (enough for every
        worker to have a fit): 4 per step took 0.58x the time of 1 at the
        same scores. For ``search="asha"`` with an integer ``random_state``, the
        decisions (new candidates or promotions) taken ahead of the results
        of earlier ones; None means ``max(4, ceil(4 * n_jobs / n_splits))``.
        Either way seeded results depend on ``n_points``, not on
        ``n_jobs``, so the default gives the same results from 1 to
        ``4 * n_splits`` jobs for Bayesian search and 1 to ``n_splits`` for
        asha; fix ``n_points`` to get the same results on any machine.

    resource : {"max_iter", "n_samples"}, default="max_iter"
        What successive halving grows from rung to rung: the epochs, up to
        the estimator's ``max_iter``, or the training samples.

    max_time : float, default=None
        Time budget of the whole ``fit`` in seconds, the refit included: no
        candidate starts once the time spent plus the estimated refit of the
        best candidate so far reaches it, and the candidates already started
        finish their folds, so the fit ends at most about one candidate's
        folds after it. The first candidate always runs. None means no
        budget.

    warm_start : bool, default=False
        Whether a new ``fit`` on the same data continues the previous search
        (earlier candidates kept, new ones evaluated) instead of starting
        over; the previous search must have been fitted with
        ``warm_start=True`` too, which records a hash of its data (a fit with
        ``warm_start=False`` hashes nothing). The same data in another form
        (a DataFrame, a list) counts as the same. Not with
        ``search="halving"`` or ``"asha"``.

    scoring : str, callable, list, tuple, dict or None, default=None
        The metric maximised, as in
        :class:`~sklearn.model_selection.GridSearchCV`; ``None`` means the
        estimator's ``score`` ({default_metric}). Several metrics (a list or
        tuple of names, or a dict of name to scorer) are all recorded in
        ``cv_results_`` (``mean_test_<name>``, ...), and ``refit`` names the
        one that picks the best candidate; Bayesian search and asha optimise
        that one. Not with ``search="halving"``.

    cv : int, cross-validation generator or iterable, default=None
        The cross-validation splitting, as in
        :class:`~sklearn.model_selection.GridSearchCV`; ``None`` means
        {default_cv}.

    refit : bool, str or callable, default=True
        Whether to refit the best candidate on the whole data, as in
        :class:`~sklearn.model_selection.GridSearchCV`. With several
        metrics, the name of the one that picks it; a callable takes
        ``cv_results_`` and returns the index of the best candidate. With
        ``refit=False`` the search results are available but ``predict``
        and the learned weights are not.

    n_jobs : int, default=None
        Number of jobs to run in parallel over candidates and folds (joblib).
        ``None`` means 1 unless in a :func:`joblib.parallel_config` context;
        ``-1`` means all processors.

    pre_dispatch : int or str, default="2*n_jobs"
        Number of fold fits handed to the workers ahead of time, as in
        :class:`~sklearn.model_selection.GridSearchCV`: an integer,
        ``"k*n_jobs"`` or ``"all"``; at least one per worker.

    verbose : int, default=0
        ``1`` shows a progress line on standard error (candidates done, best
        score so far, time elapsed) after each candidate, and under halving
        and asha after each candidate's rung, with the best score at the
        highest rung reached; ``2`` and more also pass ``verbose - 1`` to
        scikit-learn's fold fits.

    random_state : int, RandomState instance or None, default=None
        Seeds the choice of candidates and, when the estimator's own
        ``random_state`` is None, the weight initialisation, batch shuffling
        and dropout masks of every MLP fit. An int gives the same results for
        any ``n_jobs``.

    error_score : "raise" or float, default=np.nan
        The score given to a fit that fails; ``"raise"`` raises instead.

    return_train_score : bool, default=False
        Whether ``cv_results_`` also holds training scores.

    checkpoint : str or path-like, default=None
        A file where ``search="asha"`` records every finished fold fit as it
        arrives (appended, flushed and fsynced). A ``fit`` with the same
        file, data and settings resumes: what is recorded is not computed
        again, so a search killed halfway ends with the results of an
        uninterrupted one (seeded, ``n_jobs=1``). Other data or settings are
        refused and the file left as it is. Needs an integer
        ``random_state``, since resuming replays the search's decisions.
        The file holds pickles: load only checkpoints you wrote. None
        records nothing.

    portfolio : bool or list of dict, default=True
        The candidates evaluated after the estimator's own settings, before
        the strategy proposes its own; ``n_iter`` counts them all. ``True``:
        with the default space (``param_space=None``), the learned
        portfolio, an ordered list of networks that did well across 25 real
        tables (``benchmarks/build_portfolio.py``; see :ref:`portfolio`).
        ``False``: none. A list of dicts of the estimator's parameters:
        these, in this order, with any space (as Optuna's
        ``enqueue_trial``). Grid search takes none.

    selection : {"best", "one_se"}, default="best"
        How the best candidate is chosen among those fully trained (the
        last rung, for successive halving). ``"best"``: the best mean CV
        score, as :class:`~sklearn.model_selection.GridSearchCV` chooses.
        ``"one_se"``: the one-standard-error rule: the estimator's own
        settings if their mean score is within one standard error
        (``std_test_score / sqrt(n_splits)``) of the best, else the
        portfolio's first entry within it, else the best; a lead within the
        noise of the folds then does not replace what is known to work. On
        25 real tables it scored below ``"best"`` (see :ref:`portfolio`),
        so it is not the default. With grid, random, Bayesian or halving
        search, a callable ``refit`` chooses by itself.

    ensemble_size : int or "auto", default="auto"
        Rounds of greedy ensemble selection (Caruana et al., 2004). ``1``
        predicts with the best network alone. Greater, each round adds,
        with replacement, the candidate whose out-of-fold predictions most
        improve the average of those chosen so far, by the metric the
        search ranks by (the highest rung's candidates, under successive
        halving); the chosen ones are refitted on all the data within the
        fit's ``max_time``, and predictions are their weighted mean, each
        weighted by how often it was chosen. ``"auto"``: 10 rounds, or the
        best alone where there is no ensemble to choose (``refit=False``,
        or several metrics and a callable ``refit``) or too few rows to
        choose one well (fewer than 500): on 26 problems 10 rounds beat the
        best network alone on 14 and lost on 5, at 1.04x the fit time, but
        on tables of fewer than 600 rows they lost more often than they
        gained. An int ensembles whatever the size.
        ``best_estimator_``, ``best_params_``, ``coefs_`` and
        ``intercepts_`` stay the single best network's. See
        :ref:`ensemble`.

    Attributes
    ----------
    search_ : GridSearchCV, RandomizedSearchCV, BayesSearchCV, \
HalvingRandomSearchCV or the engine's AsynchronousHalvingSearchCV
        The fitted search object (a subclass whose fold fits run on the
        package's engine; the engine's own for ``search="asha"``, with the
        rungs' epochs in ``rungs_`` and the epochs trained in
        ``n_epochs_trained_``); with ``warm_start``, that of the last round.

    best_estimator_ : estimator
        The best candidate refitted on the whole data. Only with
        ``refit=True``; ``best_estimator_.hidden_layer_sizes_`` is the
        architecture it was built with.

    best_params_ : dict
        Hyperparameters of the best candidate, as plain Python values, e.g.
        ``{"n_hidden_layers": 3, "n_neurons": 128, "layer_shape": "funnel",
        "dropout": 0.2, ...}``.

    best_score_ : float
        Mean cross-validated score of the best candidate.

    best_index_ : int
        Index of the chosen candidate in ``cv_results_``; with
        ``selection="one_se"`` it may rank below the first.

    cv_results_ : dict of numpy (masked) ndarrays
        One entry per candidate, as in
        :class:`~sklearn.model_selection.GridSearchCV`; ``pd.DataFrame`` of
        it is a table. Its ``"origin"`` column says where each candidate
        came from: ``"estimator"`` (the estimator's own settings, in the
        space's terms: ``batch_size="auto"`` as 200, the layers as
        ``n_hidden_layers`` and ``n_neurons``), ``"portfolio 1"``, ...
        or ``"search"`` (the strategy's own proposals).

    scorer_ : callable or dict
        The scorer used to pick the best candidate; with several metrics, a
        dict of them by name.

    multimetric_ : bool
        Whether several metrics were scored.

    n_splits_ : int
        Number of cross-validation splits.

    refit_time_ : float
        Seconds spent refitting the best candidate. Only with ``refit=True``.

    ensemble_estimators_ : list of estimator
        The networks predictions average, refitted on the whole data:
        ``[best_estimator_]`` when no ensemble was chosen
        (``ensemble_size=1``). Only with ``refit=True``.

    ensemble_weights_ : ndarray of shape (n_members,)
        Their weights: positive, summing to 1.

    ensemble_indices_ : list of int
        Their rows in ``cv_results_``.

    ensemble_score_ : float
        The ensemble's score out of fold (on the candidates' out-of-fold
        predictions), by the metric the search ranks by; NaN when no
        ensemble was chosen.

    ensemble_single_score_ : float
        The best-ranked candidate's out-of-fold score on the same samples,
        to compare with ``ensemble_score_``; NaN when no ensemble was chosen.

    stop_reason_ : {"completed", "max_time", "interrupted", "worker_lost"}
        Why the search stopped: it ran every candidate, the time budget ran
        out, Ctrl-C was pressed, or a worker process died (out of memory,
        say). After the last two the candidates that had finished are kept
        and the best refitted, with a warning; see :ref:`faults`.

    search_time_ : float
        Seconds the last ``fit`` took, refit included.

    n_max_iter_reached_ : int
        Number of MLP fits (cross-validation and refit) that stopped at
        ``max_iter`` before converging; one ``ConvergenceWarning`` sums them
        up instead of one warning per fit.
{task_attributes}
    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.

    coefs_ : list of ndarray
        Weight matrices of the refitted best MLP (the single best, also
        with an ensemble); ``coefs_[i]`` connects layer ``i`` to layer
        ``i + 1``.

    intercepts_ : list of ndarray
        Bias vectors of the refitted best MLP.

    n_layers_ : int
        Number of layers of the refitted best MLP.

    n_outputs_ : int
        Number of outputs of the refitted best MLP.

    out_activation_ : str
        Output activation of the refitted best MLP.

    loss_ : float
        Final training loss of the refitted best MLP.

    loss_curve_ : list of float
        Training loss at each epoch of the refitted best MLP, for the
        stochastic solvers.

    best_loss_ : float or None
        Lowest training loss of the refitted best MLP, stochastic solvers
        without early stopping.

    validation_scores_ : list of float or None
        Validation score at each epoch of the refitted best MLP, with early
        stopping.

    n_iter_ : int
        Number of epochs the refitted best MLP ran."""


def _fill_docstring(docstring, **task):
    if not docstring:  # python -OO strips docstrings; nothing to fill
        return docstring
    shared = _SHARED_PARAMETERS
    for name, text in task.items():
        shared = shared.replace("{" + name + "}", text)
    return docstring.replace("{shared}", shared.strip())


class TunedMLPClassifier(ClassifierMixin, _BaseTunedMLP):
    """MLP classifier that tunes its own hyperparameters by cross-validation.

    The *parameters* of a neural network (its weights and biases) are learned
    by ``fit``; its *hyperparameters* (learning rate, hidden layers and
    neurons, dropout, batch size, L2 penalty, activation, ...) are set
    before. This estimator searches the hyperparameters inside ``fit``, by
    successive halving (the default), grid, random or Bayesian search with
    cross-validation, running
    candidates and folds in parallel through joblib, then refits the best
    candidate on the whole data and behaves like it: ``predict``,
    ``predict_proba``, ``coefs_`` and ``intercepts_`` are those of
    ``best_estimator_``.

    Read more in the :ref:`User Guide <tuning>`.

    Parameters
    ----------
    estimator : classifier, default=None
        The template each candidate is cloned from; the settings it has and
        the space does not search are kept, e.g.
        ``MLPClassifier(max_iter=300, early_stopping=True)``. Any classifier
        with the parameters that ``param_space`` names will do. ``None``
        means ``DropoutMLPClassifier(max_iter=200)``. The estimator given is
        never modified.

    {shared}

    See Also
    --------
    TunedMLPRegressor : The same for regression.
    DropoutMLPClassifier : The network tuned by default.
    sklearn.model_selection.GridSearchCV : Exhaustive search over a grid.
    sklearn.model_selection.RandomizedSearchCV : Search over random candidates.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sk_mlp_tune import TunedMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = TunedMLPClassifier(
    ...     MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=500),
    ...     param_space={"alpha": (1e-4, 1e1, "log-uniform")},
    ...     search="grid",
    ...     cv=3,
    ...     random_state=0,
    ... ).fit(X, y)
    >>> clf.best_params_
    {'alpha': ...}
    >>> print(f"{clf.best_score_:.2f}")
    0.9...
    >>> [w.shape for w in clf.coefs_]
    [(4, 10), (10, 3)]
    """

    __doc__ = _fill_docstring(
        __doc__,
        default_metric="accuracy",
        default_cv="5-fold stratified",
        task_attributes="""
    classes_ : ndarray of shape (n_classes,)
        The class labels.
""",
    )

    def _default_estimator(self):
        return DropoutMLPClassifier(**_DEFAULT_MLP_SETTINGS)

    def _validate_training_data(self, X, y):
        if self._checks_input_itself():
            X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"))
        else:
            X, y = indexable(X, y)
        check_classification_targets(y)
        self.classes_ = unique_labels(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in y; "
                f"got 1 class, {self.classes_.tolist()}. A classifier cannot learn "
                "from a single class: check that y is the target you meant."
            )
        return X, y

    def score(self, X, y, **score_params):
        """Score the refitted best model with the metric the search maximised.

        That is ``scoring`` (accuracy by default), so the result is on the
        same scale as ``best_score_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,)
            True labels for ``X``.
        **score_params : dict
            Passed to the scorer, e.g. ``sample_weight``.

        Returns
        -------
        score : float
            The score of ``best_estimator_`` on ``(X, y)``.
        """
        return self._score(X, y, **score_params)

    @available_if(_best_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Predict class probabilities with the refitted best model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probability of each class, in the order of ``classes_``.
        """
        best = self._refitted_estimator("predict_proba")
        X = self._validate_X(X)
        members, weights = self._ensemble()
        if len(members) == 1:
            return best.predict_proba(X)
        return weighted_mean(members, weights, "predict_proba", X)

    @available_if(_best_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Predict the logarithm of class probabilities with the refitted best model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probability of each class, in the order of ``classes_``.
        """
        best = self._refitted_estimator("predict_log_proba")
        if len(self._ensemble()[0]) == 1:
            return best.predict_log_proba(self._validate_X(X))
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class TunedMLPRegressor(RegressorMixin, _BaseTunedMLP):
    """MLP regressor that tunes its own hyperparameters by cross-validation.

    The regression twin of :class:`TunedMLPClassifier`: the same search
    strategies, search space and attributes, around
    :class:`~sk_mlp_tune.DropoutMLPRegressor` by default, with R² as the
    default metric. Like any MLP it learns best from standardised features
    and a target of moderate scale: the default network standardises the
    target itself (``normalize_y=True``), and searches identity layers (a
    linear model) beside relu and tanh.

    Read more in the :ref:`User Guide <regressor>`.

    Parameters
    ----------
    estimator : regressor, default=None
        The template each candidate is cloned from; the settings it has and
        the space does not search are kept, e.g.
        ``MLPRegressor(max_iter=300, early_stopping=True)``. Any regressor
        with the parameters that ``param_space`` names will do. ``None``
        means ``DropoutMLPRegressor(max_iter=200, normalize_y=True)``, which
        learns the target standardised and predicts in its units; pass
        ``DropoutMLPRegressor(max_iter=200)`` to learn the raw target. The
        estimator given is never modified.

    {shared}

    See Also
    --------
    TunedMLPClassifier : The same for classification.
    DropoutMLPRegressor : The network tuned by default.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sk_mlp_tune import TunedMLPRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1, random_state=0)
    >>> reg = TunedMLPRegressor(
    ...     param_space={"learning_rate_init": (1e-3, 1e-1, "log-uniform"),
    ...                  "n_neurons": [32, 64]},
    ...     search="random", n_iter=3, cv=3, random_state=0,
    ... ).fit(X, y / 100)
    >>> sorted(reg.best_params_)
    ['learning_rate_init', 'n_neurons']
    >>> print(f"{reg.best_score_:.1f}")
    0.9...
    """

    __doc__ = _fill_docstring(
        __doc__, default_metric="R²", default_cv="5-fold", task_attributes=""
    )

    def _default_estimator(self):
        # A standardised target: the raw one (diabetes: mean 152) left the
        # default network below a ridge regression.
        return DropoutMLPRegressor(**_DEFAULT_MLP_SETTINGS, normalize_y=True)

    def _validate_training_data(self, X, y):
        if self._checks_input_itself():
            X, y = validate_data(
                self, X, y, accept_sparse=("csr", "csc"), y_numeric=True
            )
        else:
            X, y = indexable(X, y)
            y = check_array(y, ensure_2d=False, dtype="numeric")
        # y_numeric converts object arrays only; strings would fail in every fit.
        if y.dtype.kind not in "biuf":
            raise ValueError(
                f"{type(self).__name__} needs a numeric target y; got dtype "
                f"{y.dtype} (first value {y[0]!r}). For class labels, use "
                "TunedMLPClassifier."
            )
        return X, y

    def score(self, X, y, **score_params):
        """Score the refitted best model with the metric the search maximised.

        That is ``scoring`` (R² by default), so the result is on the same
        scale as ``best_score_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,)
            True values for ``X``.
        **score_params : dict
            Passed to the scorer, e.g. ``sample_weight``.

        Returns
        -------
        score : float
            The score of ``best_estimator_`` on ``(X, y)``.
        """
        return self._score(X, y, **score_params)
