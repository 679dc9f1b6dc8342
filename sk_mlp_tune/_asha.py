"""``search="asha"`` as a scikit-learn search object, on the package's engine.

:class:`AsynchronousHalvingSearchCV` is to the engine's ASHA
(``_engine.AsynchronousHalving``) what the other searches are to
scikit-learn's: a ``BaseSearchCV`` whose ``fit`` checks its inputs, routes
the ``fit`` parameters and refits the best as ``BaseSearchCV.fit`` does
(the same :func:`~sk_mlp_tune._searchbase.prepare` and
:func:`~sk_mlp_tune._searchbase.refit`), while the engine decides the
candidates, their rungs and their folds. So every strategy reaches the
tuner through one path: ``search.fit``.
"""

import pickle

import numpy as np

from ._compat import (
    BaseSearchCV,
    _fit_context,
    named_scorers,
    warn_or_raise_about_fit_failures,
)
from ._engine import AsynchronousHalving, EngineSettings, epochs_parameter
from ._monitor import SearchMonitor
from ._searchbase import prepare, refit, search_callbacks

# What the engine's fitted state hands on to the search object; the names
# mean what they mean on HalvingRandomSearchCV where it has them.
_ENGINE_RESULTS = (
    "cv_results_",
    "multimetric_",
    "best_index_",
    "best_params_",
    "best_score_",
    "best_epochs_",
    "n_splits_",
    "n_candidates_",
    "n_resources_",
    "n_iterations_",
    "n_epochs_trained_",
    "max_iter_reached_",
    "fold_fit_errors_",
    "n_tasks_replayed_",
    "rungs_",
    "stop_reason_",
    "worker_lost_",
    "out_of_fold_",
)


class AsynchronousHalvingSearchCV(BaseSearchCV):
    """Asynchronous successive halving (ASHA) over the epochs of an MLP.

    Parameters
    ----------
    estimator : estimator
        An MLP, or a pipeline ending in one; its ``max_iter`` is the top
        rung's epochs.
    subspaces : list of dict
        The space, as resolved by ``_space.resolve_space``.
    n_iter : int
        Candidates to start in all.
    scoring, refit, cv, n_jobs, verbose, error_score, return_train_score
        As for ``GridSearchCV``; with several metrics, ``refit`` names the
        one candidates are promoted by.
    random_state : int or None
        Seed of the proposer; None draws one.
    seeded : bool
        Whether the search must give the same results whatever the number
        and speed of the workers (the tuner's ``random_state`` is set).
    n_points : int or None
        Decisions taken ahead of the results of earlier ones, when seeded.
    checkpoint : path-like or None
        The journal to resume from and write to.

    Attributes
    ----------
    monitor : SearchMonitor or None
        Set before ``fit``: the budget, the progress line, the stop reason.
    starting_candidates : list of (dict, str)
        Set before ``fit``: the candidates evaluated first, and their origin.
    selection : {"best", "one_se"}
        Set before ``fit``: the rule that picks the best candidate.
    keep_predictions : bool
        Set before ``fit``: whether to keep the top rung's out-of-fold
        predictions, for an ensemble, in ``out_of_fold_``.
    callback_tasks : FitTasks or None
        Set before ``fit`` by a tuner: its tasks for scikit-learn's
        callbacks, in whose tree the search's go.
    """

    monitor = None
    starting_candidates = ()
    selection = "best"
    keep_predictions = False
    callback_tasks = None

    def __init__(
        self,
        estimator,
        subspaces,
        *,
        n_iter=20,
        scoring=None,
        refit=True,
        cv=None,
        n_jobs=None,
        verbose=0,
        error_score=np.nan,
        return_train_score=False,
        random_state=None,
        seeded=False,
        n_points=None,
        checkpoint=None,
    ):
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.subspaces = subspaces
        self.n_iter = n_iter
        self.random_state = random_state
        self.seeded = seeded
        self.n_points = n_points
        self.checkpoint = checkpoint

    def refit_params(self, row):
        """Return the parameters that refit the candidate of ``cv_results_[row]``.

        Its rung's epochs included, as the best candidate is refitted.
        """
        resource = epochs_parameter(self.estimator)
        return {
            **self.cv_results_["params"][row],
            resource: int(self.cv_results_["n_resources"][row]),
        }

    def n_planned_candidates(self):
        """Return how many candidates the search starts without a budget."""
        return self.n_iter

    def _run_search(self, evaluate_candidates):
        raise NotImplementedError("ASHA decides its candidates in fit, on the engine.")

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **params):
        """Search, then refit the best candidate at its rung's epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,), default=None
            Target values.
        **params : dict
            Parameters of the estimator's ``fit``, the scorer and the
            splitter, routed as ``BaseSearchCV.fit`` routes them.

        Returns
        -------
        self : object
            The fitted search.
        """
        job = prepare(self, X, y, params)
        folds = list(job.cv.split(job.X, job.y, **job.split_params))
        if self.checkpoint is not None:
            _check_resumable(self, job, folds)
        seed = self.random_state
        if seed is None:
            seed = int(np.random.default_rng().integers(np.iinfo(np.int32).max))
        resource = epochs_parameter(self.estimator)
        starting = list(self.starting_candidates)[: self.n_iter]
        settings = EngineSettings(
            template=job.base_estimator,
            subspaces=self.subspaces,
            resource=resource,
            max_epochs=int(self.estimator.get_params()[resource]),
            n_candidates=self.n_iter,
            starting=starting,
            selection=self.selection,
            random_state=seed,
            scorer=job.scorers,
            refit_metric=job.refit_metric,
            error_score=self.error_score,
            return_train_score=self.return_train_score,
            n_jobs=self.n_jobs,
            seeded=self.seeded,
            n_points=self.n_points,
            checkpoint=self.checkpoint,
            keep_predictions=self.keep_predictions,
            fingerprint_parts=(
                job.X,
                job.y,
                job.fit_params,
                job.score_params,
                _stable(job.base_estimator),
                self.subspaces,
                starting,
                self.n_iter,
                seed,
                _stable(job.scorers),
                self.error_score,
                self.return_train_score,
            ),
        )
        monitor = self.monitor or SearchMonitor(
            max_time=None, n_planned=self.n_iter, progress=False
        )
        callbacks = search_callbacks(self, job)
        engine = AsynchronousHalving(settings).run(
            job.X, job.y, folds, job.fit_params, job.score_params, monitor, callbacks
        )
        for name in _ENGINE_RESULTS:
            setattr(self, name, getattr(engine, name))
        self.starting_candidates = starting
        # One warning, or one error if every fit failed, as BaseSearchCV's.
        warn_or_raise_about_fit_failures(
            [{"fit_error": error} for error in self.fold_fit_errors_], self.error_score
        )
        if self.refit:
            self.best_estimator_, self.refit_time_ = refit(
                job.base_estimator,
                {**self.best_params_, resource: self.best_epochs_},
                job.X,
                job.y,
                job.fit_params,
                callbacks,
                "refit-with-best-params",
            )
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        self.scorer_ = named_scorers(job.scorers)
        if callbacks.owner is self:
            callbacks.end(job.X, job.y)
        return self


def _check_resumable(search, job, folds):
    """Refuse, before any fit, settings whose checkpoint no later fit could resume.

    A checkpoint is resumed by a fit with the same fingerprint: settings
    that hash differently in every process (a lambda, unseeded folds) would
    write a journal nothing can read back.
    """
    for name, value in (("scoring", job.scorers), ("estimator", job.base_estimator)):
        try:
            pickle.dumps(value)
        except Exception as error:
            raise ValueError(
                f"checkpoint= needs a {name} that is the same in every process, "
                f"to know a resumed search for its own; {getattr(search, name)!r} "
                f"cannot be saved ({type(error).__name__}: {error}), as a lambda "
                "cannot. Use a named metric or a function defined at module "
                "level, or checkpoint=None."
            ) from None
    again = list(job.cv.split(job.X, job.y, **job.split_params))
    if any(
        not np.array_equal(a, b)
        for (a_train, a_test), (b_train, b_test) in zip(folds, again, strict=True)
        for a, b in ((a_train, b_train), (a_test, b_test))
    ):
        raise ValueError(
            f"checkpoint= needs a cv whose folds are the same at every call, so "
            f"that a resumed search scores the same folds; cv={search.cv!r} draws "
            "new ones each time (shuffle=True without a random_state). Give it a "
            "random_state, or checkpoint=None."
        )


def _stable(obj):
    """Return something that hashes the same for equal settings across runs."""
    try:
        return pickle.dumps(obj)
    except Exception:  # a lambda scorer, say: its repr is the best we have
        return repr(obj)
