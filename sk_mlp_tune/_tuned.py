"""The tuned MLP estimators: parameters, fit, delegation to the best model, tags."""

import contextlib
import numbers
import os
import time
import warnings
from typing import ClassVar

import numpy as np
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
from sklearn.utils import get_tags, indexable
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._build import (
    build,
    check_fit_params,
    check_settings,
    halving_resource,
    lower_rung_rows,
    num_rows,
    resolve_cv,
)
from ._callbacks import FitTasks
from ._choice import SELECTIONS
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
from ._convergence import count_unconverged
from ._docstrings import fill_docstring
from ._ensemble import AUTO_MIN_SAMPLES, AUTO_ROUNDS, weighted_mean
from ._monitor import Interrupted, SearchMonitor, catching_interrupts
from ._network import DropoutMLPClassifier, DropoutMLPRegressor
from ._search import SEARCHES
from ._searchbase import SearchPlan
from ._searchbase import ranking_metric as _results_metric
from ._steps import final_step
from ._warm import WarmState, previous_round
from ._warn import warn_user

MAX_ENSEMBLE_ROUNDS = 500

# What fit copies from the fitted search object; the names mean what they
# mean on GridSearchCV, and the ensemble's are set with the refit.
_SEARCH_RESULTS = (
    "best_params_",
    "best_score_",
    "best_index_",
    "cv_results_",
    "n_splits_",
)
_REFIT_RESULTS = (
    "best_estimator_",
    "refit_time_",
    "ensemble_estimators_",
    "ensemble_weights_",
    "ensemble_indices_",
    "ensemble_score_",
    "ensemble_single_score_",
)


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


class _BaseTunedMLP(MetaEstimatorMixin, CallbackSupportMixin, BaseEstimator):
    """Shared machinery of the tuned estimators; subclasses add the task."""

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict", "get_params"]), None],
        "param_space": [dict, list, None],
        "search": [StrOptions(set(SEARCHES))],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_grid_points": [Interval(numbers.Integral, 2, None, closed="left")],
        "n_points": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "resource": [StrOptions({"auto", "max_iter", "n_samples"})],
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
        "cv": ["cv_object", StrOptions({"auto"})],
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
        # Rounds of greedy selection over at most 50 candidates: past a few
        # hundred they change nothing but the time (10**6 took hours).
        "ensemble_size": [
            Interval(numbers.Integral, 1, MAX_ENSEMBLE_ROUNDS, closed="both"),
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
        resource="auto",
        max_time=None,
        warm_start=False,
        scoring=None,
        cv="auto",
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
                    search, starting, X, y, previous = self._prepare(X, y, fit_params)
                    # As GridSearchCV's: the search, each fold fit, the refits.
                    callbacks = FitTasks.begin(self, X, y, max_subtasks=None)
                    if search is None:  # a warm start with nothing left to do
                        keep_previous()
                        callbacks.end(X, y)
                        self.search_time_ = time.perf_counter() - start
                        return self
                    plan = self._plan(
                        search, starting, previous, num_samples(X), callbacks, start
                    )
                    self._run(search, X, y, fit_params, plan)
                    self._finish(search, plan.monitor, previous, X, y)
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
        evaluate), its starting candidates, the validated data and the
        previous round to continue.
        """
        check_settings(self)
        X, y = self._validate_training_data(X, y)
        # Compared as validated arrays, as recorded: a DataFrame, a Series or
        # lists are the same data as the arrays made from them.
        previous = previous_round(self, X, y) if self.warm_start else None
        cv = resolve_cv(self, X, y)
        n_splits = cv.get_n_splits(X, y, fit_params.get("groups"))
        search, starting = build(self, cv=cv, n_splits=n_splits, previous=previous)
        check_fit_params(
            search.estimator, fit_params, num_rows(X), routed=_routing_enabled()
        )
        if not type(search).grid_space and self.n_iter == 1 and starting:
            # Every search starts from the estimator's own settings.
            warn_user(
                "n_iter=1 evaluates the estimator's own settings only: no "
                "candidate is drawn from the space, and nothing is tuned. Give "
                "n_iter=2 or more to search it.",
                UserWarning,
            )
        if previous is not None and search.n_planned_candidates() == 0:
            warn_user(
                "warm_start=True, but the previous fit already evaluated every "
                "candidate of the grid; nothing is left to continue. Enlarge the "
                "space or n_grid_points to search further.",
                UserWarning,
            )
            return None, starting, X, y, previous
        return search, starting, X, y, previous

    def _run(self, search, X, y, fit_params, plan):
        """Fit ``search`` by ``plan``, its monitor holding this fit's budget."""
        try:
            with warnings.catch_warnings():
                _silence_refit_warnings()
                search.fit(X, y, plan=plan, **fit_params)
        finally:
            plan.monitor.close()

    def _plan(self, search, starting, previous, n_samples, callbacks, start):
        """Return what this fit hands ``search``: budget, candidates, ensemble."""
        strategy = type(search)
        ensemble_rounds = self._ensemble_rounds(n_samples)
        # The budget is the whole fit's, validation included. asha decides
        # the number of fits as it goes: its bar counts candidates started.
        monitor = SearchMonitor(
            max_time=self.max_time,
            n_planned=search.n_planned_candidates(starting),
            progress=self.verbose > 0,
            start=start,
            unit=strategy.unit,
            rungs=strategy.has_rungs,
            # An ensemble refits a member beside the best: one, at the median
            # of benchmarks/bench_scale.py's fits.
            n_refits=0 if not self.refit else min(ensemble_rounds, 2),
        )
        return SearchPlan(
            monitor=monitor,
            starting=starting,
            selection=self.selection,
            callbacks=callbacks if callbacks.active else None,
            previous=previous,
            ensemble_rounds=ensemble_rounds,
            lower_rung_rows=lower_rung_rows(self, n_samples),
            keep_library=self.warm_start and ensemble_rounds > 1,
            ensemble_size=self.ensemble_size,
            random_state=self.random_state,
        )

    def _finish(self, search, monitor, previous, X, y):
        """Take the search's results, count what did not converge, say how it ended."""
        self.search_ = search
        self.scorer_ = search.scorer_
        self.multimetric_ = search.multimetric_
        for name in _SEARCH_RESULTS + (_REFIT_RESULTS if self.refit else ()):
            # As GridSearchCV: several metrics and refit=False give no
            # best_*, a callable refit no best_score_.
            if hasattr(search, name):
                setattr(self, name, getattr(search, name))
        if hasattr(self, "best_params_"):
            # A plain dict of plain Python values, whatever the search keeps.
            self.best_params_ = {
                name: value.item() if isinstance(value, np.generic) else value
                for name, value in self.best_params_.items()
            }
        self._features_seen_by_best_estimator()
        self.n_max_iter_reached_ = count_unconverged(self, search, previous)
        self.stop_reason_ = search.stop_reason_
        kept = "kept them and refitted the best" if self.refit else "kept them"
        kept = (
            f"{monitor.n_evaluated} of {monitor.n_planned} candidates had "
            f"finished: {kept} (best CV score "
            f"{getattr(self, 'best_score_', float('nan')):.4f}); "
            f"stop_reason_ is {self.stop_reason_!r}."
        )
        if getattr(search, "refit_interrupted_", False):
            warn_user(
                "Interrupted (Ctrl-C) during the refit of the best candidate, after "
                f"{monitor.n_evaluated} of {monitor.n_planned} candidates had "
                f"finished: {_epochs_trained(self.best_estimator_)}; predictions "
                "come from it, and stop_reason_ is 'interrupted'. Fit again to "
                "train it in full. A second Ctrl-C aborts the fit.",
                UserWarning,
            )
        elif self.stop_reason_ == "interrupted":
            warn_user(
                f"Interrupted (Ctrl-C) after {kept}{_under_trained(search)} A "
                "second Ctrl-C aborts the fit.",
                UserWarning,
            )
        elif self.stop_reason_ == "max_time" and getattr(search, "refit_epochs_", None):
            warn_user(
                f"max_time={self.max_time} ended the search before its last rung: "
                f"{_under_trained(search).strip()} A larger max_time trains it in "
                "full.",
                UserWarning,
            )
        elif self.stop_reason_ == "worker_lost":
            warn_user(
                f"{search.worker_lost_} The search stopped after {kept}", UserWarning
            )
        # Only a warm-started fit pays for hashing the data.
        self._warm_state = (
            WarmState.after(self, X, y, previous) if self.warm_start else None
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
        if len(members) == 1:  # the best, or the one member a cut ensemble kept
            return members[0].predict(X)
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
        if self._ensemble()[0] != [best]:
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
                # "auto" is folds or one split: neither asks for metadata.
                splitter=check_cv(None if self.cv == "auto" else self.cv),
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
    the first.
    """
    return _results_metric(tuner.cv_results_, tuner.refit)


def rungs_grow_epochs(tuner):
    """Tell whether the fitted ``tuner``'s rungs trained for more epochs, or samples.

    Its search says, as it was built; a loaded model has no search object
    (``io.save`` leaves it behind), and its settings say the same.
    """
    search = getattr(tuner, "search_", None)
    if search is not None:
        return search.rungs_grow_epochs()
    resource = halving_resource(tuner.resource, tuner._template_estimator())
    return SEARCHES[tuner.search].grows_epochs(resource)


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


def _under_trained(search):
    """Say, after a space, that the refit trained less than in full; or nothing."""
    epochs = getattr(search, "refit_epochs_", None)
    if not epochs:
        return ""
    trained, own = epochs
    return (
        f" The chosen network was refitted for its rung's {trained} epochs of "
        f"max_iter={own}: it is under-trained."
    )


def _epochs_trained(estimator):
    """Say how far a refit cut short by Ctrl-C trained its network."""
    network = final_step(estimator)
    trained = getattr(network, "n_iter_", None)
    if trained is None:
        return "the network kept what it had trained"
    return (
        f"its network kept the {trained} epochs it had trained, of "
        f"max_iter={network.max_iter}"
    )


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


# scikit-learn's own settings: 200 epochs at most, stopping once the training
# loss settles; no early stopping, whose 10% validation split and early halt
# cost 0.2 to 3 points of held-out accuracy in benchmarks/bench_quality.py.
# Successive halving, the default search, bounds the epochs of most fits.
_DEFAULT_MLP_SETTINGS = {"max_iter": 200}


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

    __doc__ = fill_docstring(
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
        self._refitted_estimator("predict_proba")
        X = self._validate_X(X)
        members, weights = self._ensemble()
        if len(members) == 1:
            return members[0].predict_proba(X)
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
        self._refitted_estimator("predict_log_proba")
        members, _ = self._ensemble()
        if len(members) == 1:
            return members[0].predict_log_proba(self._validate_X(X))
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

    __doc__ = fill_docstring(
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
