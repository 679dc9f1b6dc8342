"""Asynchronous successive halving (``search="asha"``): its rule and its driver.

ASHA's pieces, each small:

- the :class:`Scheduler`, ASHA's promotion rule plus a proposer, pure:
  whenever a worker is free it takes the most useful next decision:
  promote a paused candidate that is in the top ``1 / factor`` of its rung
  (the highest rung first), else start a new candidate.
- ``_Decisions``, which turns the scheduler's decisions into fold tasks,
  in an order that does not depend on the workers' timing when seeded.
- ``_AshaTasks``, the source of the engine's :class:`~._engine.TaskLoop`:
  each fold task (``_engine.run_fold_task``) trains one cross-validation
  fold model up to its rung's epochs, continuing the model the previous
  rung left; its result is journalled (``_checkpoint``), recorded and
  heard by the decisions.
- :class:`AsynchronousHalvingSearchCV`, the search object: its
  ``_search_candidates`` drives the loop, then hands each rung's fold
  results, as scikit-learn's ``_fit_and_score`` returns them, to the one
  finish every strategy shares (``_searchbase``). Its ranking by the
  highest rung is its ``_select_best_index`` and its ranks, no more.
"""

import math
import pickle

import numpy as np

from ._checkpoint import Checkpoint, fingerprint
from ._choice import ESTIMATOR_ORIGIN
from ._compat import BaseSearchCV
from ._engine import (
    FoldResult,
    FoldTask,
    Task,
    TaskLoop,
    _cut_by_deadline,
    _n_samples,
    _raise_if_unscorable,
    _worker_lost,
    run_fold_task,
)
from ._propose import MIN_STARTUP_CANDIDATES, GPProposer, Observation, TPEProposer
from ._searchbase import _EngineSearchMixin, common_parameters
from ._steps import epochs_parameter

# How asha proposes its candidates and when a rung promotes: the defaults,
# and the alternatives benchmarks/bench_asha_variants.py measures against
# them (benchmarks/README.md).
PROPOSER = TPEProposer
PROPOSERS = {"tpe": TPEProposer, "gp": GPProposer}
PROMOTION_WAIT = 0.0

# The factor of successive halving: each rung trains for factor times the
# epochs of the previous one and keeps about 1 / factor of its candidates.
FACTOR = 3

# Decisions (a new candidate or a promotion) that a seeded search takes ahead
# of the results of earlier ones: at least 4, and enough for about 4 fold
# fits per worker, since one slow decision holds up those behind it.
MIN_LOOKAHEAD = 4


def default_lookahead(n_workers, n_splits):
    """Return the decisions a seeded search takes ahead of their predecessors' results.

    4 up to ``n_workers = n_splits`` (5 workers with 5-fold CV), so that a
    seeded search gives the same results with 1 to 5 workers; more beyond,
    to keep the workers busy.

    Examples
    --------
    >>> from sk_mlp_tune._asha import default_lookahead
    >>> default_lookahead(1, 5), default_lookahead(2, 5), default_lookahead(16, 5)
    (4, 4, 13)
    """
    return max(MIN_LOOKAHEAD, math.ceil(4 * n_workers / n_splits))


def rung_epochs(max_epochs, n_candidates, factor=FACTOR):
    """Return the epochs of each rung: ``max_epochs / factor**k``, rounded.

    There are as many rungs as successive halving over ``n_candidates``
    needs to leave one (``1 + floor(log_factor(n_candidates))``), fewer if
    the first would train for less than one epoch; the last is
    ``max_epochs`` itself.

    Examples
    --------
    >>> from sk_mlp_tune._asha import rung_epochs
    >>> rung_epochs(200, 20)
    [22, 67, 200]
    >>> rung_epochs(10, 81)
    [1, 3, 10]
    """
    n_rungs = 1 + math.floor(math.log(max(n_candidates, 1)) / math.log(factor) + 1e-9)
    epochs = [round(max_epochs / factor**k) for k in reversed(range(n_rungs))]
    return sorted({e for e in epochs if e >= 1} | {max_epochs})


class Scheduler:
    """ASHA's decisions: which candidate trains next, and for how long.

    Parameters
    ----------
    rungs : list of int
        Epochs of each rung.
    n_candidates : int
        Candidates to start in all (the ``n_iter`` budget).
    propose : callable
        ``propose(index, history)`` returns the parameters of a new candidate.
    factor : int
        A candidate is promoted from a rung when it is in the top
        ``1 / factor`` of the candidates that have finished that rung.
    always_promoted : set of int
        Candidates promoted from every rung whatever their score: the
        estimator's own settings, which learn slowly at few epochs and
        would otherwise be cut before their fair comparison, so that the
        search never ends below them.
    wait : float
        The share of a rung's expected candidates (``n_candidates /
        factor**rung``) that must finish it before it promotes any: 0 is
        ASHA's rule, which promotes the best of the first ``factor``.
    """

    def __init__(
        self,
        rungs,
        n_candidates,
        propose,
        factor=FACTOR,
        always_promoted=(),
        wait=0.0,
    ):
        self.rungs = rungs
        self.n_candidates = n_candidates
        self.propose = propose
        self.factor = factor
        self.always_promoted = set(always_promoted)
        self.wait = wait
        self.params = []  # per candidate
        self.scores = []  # per candidate: {rung: mean score}
        self.promoted = [set() for _ in rungs]  # per rung: candidates moved on

    def next_candidate_rung(self):
        """Return ``(candidate, rung)`` to run next, or None if none can start.

        Promotions come first, from the highest rung down, as ASHA does: a
        candidate further along is closer to a final answer.
        """
        for rung in reversed(range(len(self.rungs) - 1)):
            promotable = self._promotable(rung)
            if promotable is not None:
                self.promoted[rung].add(promotable)
                return promotable, rung + 1
        if len(self.params) < self.n_candidates:
            index = len(self.params)
            self.params.append(self.propose(index, self.history()))
            self.scores.append({})
            return index, 0
        return None

    def _promotable(self, rung):
        finished = [
            (score, -candidate)
            for candidate, scores in enumerate(self.scores)
            if rung in scores and np.isfinite(score := scores[rung])
        ]
        n_top = len(finished) // self.factor
        if len(finished) < self.wait * self.n_candidates / self.factor**rung:
            n_top = 0
        protected = [
            (np.inf, -c)
            for c in sorted(self.always_promoted)
            if c < len(self.scores) and np.isfinite(self.scores[c].get(rung, np.nan))
        ]
        for _, negated in protected + sorted(finished, reverse=True)[:n_top]:
            if -negated not in self.promoted[rung]:
                return -negated
        return None

    def record(self, candidate, rung, score):
        """Take note that ``candidate`` finished ``rung`` with mean ``score``."""
        self.scores[candidate][rung] = score

    def history(self):
        """Return what is known of every candidate with results, for proposers."""
        top = len(self.rungs) - 1
        return [
            Observation(
                params,
                {self.rungs[r]: s for r, s in scores.items()},
                finished=top in scores,
            )
            for params, scores in zip(self.params, self.scores, strict=True)
            if scores
        ]


class AsynchronousHalvingSearchCV(_EngineSearchMixin):
    """Asynchronous successive halving (ASHA) over the epochs of an MLP.

    What :class:`~sklearn.model_selection.HalvingRandomSearchCV` calls its
    ``cv_results_``, ``n_resources_`` and ``n_candidates_`` mean the same
    here: one row per candidate per rung it finished, with the rung
    (``iter``) and its epochs (``n_resources``). The best candidate is the
    best of the highest rung any candidate reached: ``rank_test_score``
    orders the rows by rung, highest first, then by mean score, so a score
    at few epochs never outranks one earned at more.

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
    """

    name = "asha"
    unit = "candidates"
    has_rungs = True
    continues = False
    resumable = True
    ranks_by_one_metric = "promotes"

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
        BaseSearchCV.__init__(
            self,
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

    @classmethod
    def check_settings(cls, template, **settings):
        """Refuse an estimator whose epochs cannot grow, before any fit."""
        super().check_settings(template, **settings)
        epochs_parameter(template)

    @classmethod
    def build(cls, estimator, subspaces, *, n_iter, random_state, seeded, n_points,
              checkpoint, **search_params):  # fmt: skip
        """Return the asha search of ``n_iter`` candidates over ``subspaces``."""
        search_params.pop("pre_dispatch", None)  # it dispatches one task per worker
        return cls(
            estimator, subspaces, n_iter=n_iter, random_state=random_state,
            seeded=seeded, n_points=n_points, checkpoint=checkpoint,
            **common_parameters(search_params),
        )  # fmt: skip

    @classmethod
    def grows_epochs(cls, resource):
        """Tell whether each rung trains for more epochs: always."""
        return True

    def n_finished_candidates(self):
        """Return the candidates finished: those through their first rung."""
        return self.n_candidates_[0]

    def refit_params(self, row):
        """Return the parameters that refit the candidate of ``cv_results_[row]``.

        Its rung's epochs included, as the best candidate is refitted.
        """
        resource = epochs_parameter(self.estimator)
        return {
            **self.cv_results_["params"][row],
            resource: int(self.cv_results_["n_resources"][row]),
        }

    def n_planned_candidates(self, starting=()):
        """Return how many candidates the search starts without a budget."""
        return self.n_iter

    def _run_search(self, evaluate_candidates):
        raise NotImplementedError("ASHA decides its candidates on the engine.")

    def _select_best_index(self, refit, refit_metric, results):
        # The best of the highest rung reached, by the plan's rule, always.
        return self._choose_in(self._eligible_rows(results), refit_metric, results)

    def _search_candidates(self, job, found, monitor, plan, tasks):
        """Run ASHA on the engine's loop, then keep each rung's rows in ``found``.

        Returns why it stopped early, if it did.
        """
        folds = job.splits()
        if self.checkpoint is not None:
            _check_resumable(self, job, folds)
        seed = self.random_state
        if seed is None:
            seed = int(np.random.default_rng().integers(np.iinfo(np.int32).max))
        resource = epochs_parameter(self.estimator)
        max_epochs = int(self.estimator.get_params()[resource])
        self.rungs_ = rung_epochs(max_epochs, self.n_iter)
        # A promoted candidate trains on from its last rung's epochs.
        monitor.plan_work(
            np.diff(self.rungs_, prepend=0),
            [math.ceil(self.n_iter / FACTOR**k) for k in range(len(self.rungs_))],
        )
        proposer = PROPOSER(
            self.subspaces,
            n_startup=max(MIN_STARTUP_CANDIDATES, self.n_iter // 4),
            random_state=seed,
        )
        starting = list(plan.starting)

        def propose(index, history):
            if index < len(starting):
                return dict(starting[index][0])
            return proposer.ask(index, history)

        scheduler = Scheduler(
            self.rungs_,
            self.n_iter,
            propose,
            always_promoted={
                index
                for index, (_, origin) in enumerate(starting)
                if origin == ESTIMATOR_ORIGIN
            },
            wait=PROMOTION_WAIT,
        )
        checkpoint = None
        if self.checkpoint is not None:
            parts = (
                job.X, job.y, job.fit_params, job.score_params,
                _stable(job.base_estimator), self.subspaces, starting, self.n_iter,
                seed, _stable(job.scorers), self.error_score,
                self.return_train_score, folds,
            )  # fmt: skip
            checkpoint = Checkpoint(self.checkpoint, fingerprint(*parts))
        context = {
            "scorer": job.scorers,
            "refit_metric": job.refit_metric,
            "resource": resource,
            "fit_params": job.fit_params,
            "score_params": job.score_params,
            "return_train_score": self.return_train_score,
            "error_score": self.error_score,
            "predict": found.keep_predictions,
        }
        monitor.report(0, ", 0 fits")
        search_task = tasks.search_task(tasks.root, None)
        try:
            with TaskLoop(self.n_jobs, monitor) as loop:
                # Seeded, the decisions must not depend on the workers' timing.
                lookahead = None
                if self.seeded:
                    lookahead = self.n_points or default_lookahead(
                        loop.n_workers, len(folds)
                    )
                source = _AshaTasks(
                    _Decisions(scheduler, len(folds), lookahead),
                    checkpoint,
                    {**context, "parent_pid": loop.parent_pid},
                    (job.base_estimator, *loop.share(job.X, job.y), (job.X, job.y)),
                    folds,
                    # The refit trains on every sample, the folds on a share.
                    refit_scale=max_epochs
                    * _n_samples(job.X)
                    / np.mean([max(len(t), 1) for t, _ in folds]),
                    monitor=monitor,
                    callbacks=(tasks, search_task, loop.in_process),
                )
                if checkpoint is not None:
                    checkpoint.open()
                end = loop.run(source)
        finally:
            if checkpoint is not None:
                checkpoint.close()
            tasks.end_search_task(search_task)
        self._keep_rungs(scheduler, source, found, folds)
        if end is None:
            return None
        if end.worker_died is not None:
            running = sorted({(t.candidate, t.rung) for t in end.running})
            return _worker_lost(
                end.worker_died,
                [(c, scheduler.params[c]) for c, _ in running],
                resume_hint=(
                    f"Every finished fold is in the checkpoint {self.checkpoint!r}: "
                    "fit again to resume from there."
                    if checkpoint is not None
                    else "Give checkpoint= (with an integer random_state) to "
                    "resume a search from where it stopped."
                ),
            )
        return end.interrupted

    def _keep_rungs(self, scheduler, source, found, folds):
        """Hand ``found`` the rows whose every fold finished, rung by rung.

        Also set what asha records beside ``cv_results_``, as
        ``HalvingRandomSearchCV`` does: the candidates and epochs of each
        rung, and what the fold fits did.
        """
        results, n_splits = source.results, len(folds)
        self.n_tasks_replayed_ = source.n_replayed
        started = {(c, r) for c, _, r in results}
        # A row is a candidate at a rung whose every fold finished.
        rows = sorted(
            ((c, r) for c, r in started
             if all((c, f, r) in results for f in range(n_splits))),
            key=lambda row: (row[1], row[0]),
        )  # fmt: skip
        first = results[rows[0][0], 0, rows[0][1]] if rows else None
        multimetric = first is not None and list(first.test_scores) != ["score"]
        for rung in sorted({r for _, r in rows}):
            candidates = [c for c, r in rows if r == rung]
            folds_of = {
                i: [_as_fit_and_score(results[c, f, rung], multimetric)
                    for f in range(n_splits)]
                for i, c in enumerate(candidates)
            }  # fmt: skip
            at_rung = {"iter": [rung], "n_resources": [self.rungs_[rung]]}
            found.keep(
                [scheduler.params[c] for c in candidates],
                folds_of,
                {key: value * len(candidates) for key, value in at_rung.items()},
                folds,
            )
        rungs = np.array([r for _, r in rows], dtype=int)
        self.n_candidates_ = [int(np.sum(rungs == r)) for r in range(len(self.rungs_))]
        self.n_resources_ = list(self.rungs_)
        self.n_iterations_ = int(rungs.max()) + 1 if rows else 0
        self.n_epochs_trained_ = int(
            sum(
                r.n_epochs - _epochs_before(r, results)
                for r in results.values()
                if r.error is None
            )
        )
        # Per fold fit: the epochs it ran out of before converging, or None.
        self.max_iter_reached_ = [
            r.task.epochs if r.reached_max_iter else None for r in results.values()
        ]


def _as_fit_and_score(result, multimetric):
    """Return a fold result as scikit-learn's ``_fit_and_score`` returns it."""

    def scores(named):
        return named if multimetric or list(named) != ["score"] else named["score"]

    return {
        "test_scores": scores(result.test_scores),
        "train_scores": scores(result.train_scores),
        "fit_time": result.fit_time,
        "score_time": result.score_time,
        "fit_error": result.error,
        "predictions": result.predictions,
    }


def _epochs_before(result, results):
    if result.task.rung == 0:
        return 0
    previous = results.get(
        (result.task.candidate, result.task.fold, result.task.rung - 1)
    )
    return previous.n_epochs if previous is not None else 0


class _AshaTasks:
    """ASHA's decisions as fold tasks for the :class:`TaskLoop`, and their results.

    Each result is journalled in the checkpoint, recorded, and heard by the
    decisions; a task the checkpoint holds is replayed instead of run, and
    a fold model that stopped by its tolerance carries its scores over.
    """

    def __init__(
        self, decisions, checkpoint, context, data, folds, refit_scale, monitor,
        callbacks=(None, None, True),
    ):  # fmt: skip
        self.decisions = decisions
        self.scheduler = decisions.scheduler
        self.checkpoint = checkpoint
        self.context = context
        # The template, and the data as the tasks take them (a cluster's copy)
        # and as they are here.
        self.template, self.X, self.y, self.raw_data = data
        self.folds = folds
        self.n_folds = range(len(folds))
        self.refit_scale = refit_scale
        self.results = {}  # (candidate, fold, rung) -> FoldResult
        self.models = {}  # (candidate, fold) -> latest fitted model
        self.epoch_times = []
        self.n_replayed = 0
        self.monitor = monitor
        # The fit's callback tasks, the search's task, and whether the fits
        # run in this process.
        self.callbacks, self.search_task, self.in_process = callbacks

    def next_task(self, monitor):
        def may_decide():
            # After the budget no candidate or promotion starts, but those
            # started finish their folds.
            if not monitor.may_start():
                return False
            monitor.started()
            return True

        task = self.decisions.next_task(may_decide)
        if task is None:
            return None
        replayed = self.checkpoint.lookup(task) if self.checkpoint else None
        if replayed is not None:
            self.n_replayed += 1
            return Task(task, known=replayed)
        previous = None
        if task.rung:
            previous = self.results[task.candidate, task.fold, task.rung - 1]
        if previous is not None and previous.stopped_by_tol:
            # Stopped for good: its scores stand at every rung.
            return Task(task, known=_carried_over(previous, task))
        model = self.models.get((task.candidate, task.fold))
        # A model replayed from the checkpoint is retrained, then continued.
        rebuild = previous.task if previous is not None and model is None else None
        # The first candidate's first rung always finishes: a search with no
        # result would have nothing to give.
        first = task.candidate == 0 and task.rung == 0
        deadline = None if first else monitor.deadline()
        callback_task = caller = None
        if self.callbacks is not None:
            callback_task = self.callbacks.fold_task_to_send(
                self.search_task, self.in_process
            )
            caller = self.callbacks.caller
        arguments = (
            task, model, self.template, self.X, self.y, self.folds[task.fold],
            self.context, rebuild, deadline, callback_task, caller,
        )  # fmt: skip
        return Task(task, run_fold_task, arguments)

    def finished(self, task, result):
        if _cut_by_deadline(result.error):
            # Past the deadline: discarded, as a fit cut short by Ctrl-C.
            self.monitor.stop("max_time")
            return
        checkpoint = self.checkpoint
        if checkpoint is not None and checkpoint.lookup(task) is None:
            checkpoint.write(result)
        self.results[task.candidate, task.fold, task.rung] = result
        if task.rung:
            # Only a candidate's highest rung can join an ensemble.
            below = self.results.get((task.candidate, task.fold, task.rung - 1))
            if below is not None:
                below.predictions = None
        if result.model is not None:
            # Only the latest model of a fold is continued from.
            self.models[task.candidate, task.fold] = result.model
            result.model = None
        self.decisions.finished(result)
        first_rung = [self.results.get((task.candidate, f, 0)) for f in self.n_folds]
        if task.rung == 0 and all(first_rung) and self.monitor.n_evaluated == 0:
            context = self.context
            _raise_if_unscorable(
                [r.test_score for r in first_rung],
                [r.error for r in first_rung],
                self.template,
                *self.raw_data,
                {**task.params, context["resource"]: task.epochs},
                self.folds,
                {
                    "scorer": context["scorer"],
                    "fit_params": context["fit_params"],
                    "score_params": context["score_params"],
                },
            )
        if task.rung == 0 and all(first_rung):
            # Candidates finished are counted at the first rung, as started.
            self.monitor.candidate_finished(
                float(np.mean([r.test_score for r in first_rung]))
            )
        if task.rung == 0 and result.error is None:
            # The refit trains the winner from scratch on all the data, for
            # max_epochs: estimated from the first rung's time per epoch.
            self.epoch_times.append(result.fit_time / max(result.n_epochs, 1))
            self.monitor.estimate_refit(np.mean(self.epoch_times) * self.refit_scale)
        rung = [self.results.get((task.candidate, f, task.rung)) for f in self.n_folds]
        if all(rung):
            if task.rung > 0:  # the first rung's, with candidate_finished
                self.monitor.finished_work(task.rung)
            # One line per candidate and rung, as halving reports, not per fit.
            self.monitor.rung_scored(
                float(np.mean([r.test_score for r in rung])), task.rung
            )
            self.monitor.report(
                len(self.scheduler.params), f", {len(self.results)} fits"
            )


class _Decisions:
    """Turn the scheduler's decisions into fold tasks, and results into news.

    Asynchronous (``lookahead=None``), the scheduler hears of each
    candidate's rung as soon as its last fold finishes, and decides with
    whatever it knows then: no worker waits, but which results are known at
    a decision depends on the timing of the fits.

    Deterministic (``lookahead=k``), decision ``i`` is taken knowing the
    results of decisions ``0 .. i - k`` exactly, heard in decision order:
    the same whatever the number of workers and however fast they are,
    while up to ``k`` decisions' folds run at once. When nothing can start
    with what is known, one more result is waited for, in order.
    """

    def __init__(self, scheduler, n_splits, lookahead):
        self.scheduler = scheduler
        self.n_splits = n_splits
        self.lookahead = lookahead
        self.made = []  # (candidate, rung) per decision
        self.index = {}  # (candidate, rung) -> decision number
        self.fold_scores = {}  # decision number -> {fold: score}
        self.finished_means = {}  # decision number -> mean score, not yet told
        self.n_told = 0
        self.queue = []

    def next_task(self, may_decide):
        """Return the next fold task to run, or None to wait for results.

        ``may_decide()`` is asked before a new decision, and only then.
        """
        if not self.queue:
            if not may_decide():
                return None
            decision = self._decide()
            if decision is None:
                return None
            candidate, rung = decision
            self.index[decision] = len(self.made)
            self.made.append(decision)
            self.queue.extend(
                FoldTask(
                    candidate,
                    self.scheduler.params[candidate],
                    fold,
                    rung,
                    self.scheduler.rungs[rung],
                )
                for fold in range(self.n_splits)
            )
        return self.queue.pop(0)

    def _decide(self):
        if self.lookahead is None:
            return self.scheduler.next_candidate_rung()
        if not self._tell_until(len(self.made) - self.lookahead + 1):
            return None
        while (decision := self.scheduler.next_candidate_rung()) is None:
            if not self._tell_until(self.n_told + 1):
                return None
        return decision

    def _tell_until(self, n_decisions):
        """Tell the scheduler the results of the first ``n_decisions``, in order.

        Return whether it knows them all now.
        """
        while self.n_told < min(n_decisions, len(self.made)):
            if self.n_told not in self.finished_means:
                return False
            candidate, rung = self.made[self.n_told]
            self.scheduler.record(candidate, rung, self.finished_means.pop(self.n_told))
            self.n_told += 1
        return self.n_told >= n_decisions

    def finished(self, result):
        """Take note of a finished fold task."""
        task = result.task
        number = self.index[task.candidate, task.rung]
        scores = self.fold_scores.setdefault(number, {})
        scores[task.fold] = result.test_score
        if len(scores) < self.n_splits:
            return
        mean = float(np.mean([scores[f] for f in range(self.n_splits)]))
        del self.fold_scores[number]
        if self.lookahead is None:
            self.scheduler.record(task.candidate, task.rung, mean)
        else:
            self.finished_means[number] = mean


def _carried_over(previous, task):
    """Return the result of a fold model that has nothing left to train."""
    return FoldResult(
        **{**previous.__dict__, "task": task, "fit_time": 0.0, "score_time": 0.0}
    )


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
