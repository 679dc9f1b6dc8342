"""The package's own search loop: fold fits as they finish, and ASHA on top.

Every strategy's fold fits run on one :class:`TaskLoop`: it hands tasks to
the executor's workers, keeps each result as it comes, asks the monitor
(``_monitor.SearchMonitor``, the one budget rule) before new work, and
stops on Ctrl-C or a dead worker. What the tasks are is its source's
business:

- :class:`CandidateRunner`, for grid, random, Bayesian search and
  successive halving, whose candidates scikit-learn's and scikit-optimize's
  classes decide (``_searchbase.fit_search``): each candidate's folds, with
  no barrier between candidates.
- ``_AshaTasks``, for ``search="asha"``, whose decisions are made here.

ASHA's pieces, each small:

- a :class:`FoldTask` (candidate, fold, rung, epochs) and :func:`run_fold_task`,
  which trains one cross-validation fold model up to the rung's epochs,
  starting from the model the previous rung left (``warm_start``), and
  returns a :class:`FoldResult` with everything the search needs: scores,
  epochs run, times, the model to continue from. Nothing travels by any
  other way.
- an executor: in-process for one job, loky's reusable processes (through
  joblib) for several, or a dask client's executor inside
  ``joblib.parallel_config(backend="dask")``.
- the :class:`Scheduler`: ASHA's promotion rule plus a proposer. Whenever a
  worker is free it takes the most useful next decision: promote a paused
  candidate that is in the top ``1 / factor`` of its rung (the highest rung
  first), else start a new candidate.
- the :class:`Checkpoint`: an append-only journal of finished fold results,
  plain JSON behind a fixed first line, each record flushed and fsynced; a
  resumed search replays it instead of recomputing, and reading it runs no
  code whatever the file holds.
- the budget (``max_time``) and the progress line: the monitor the loop
  asks, as for every strategy.

Scores and timings are computed by scikit-learn's own ``_fit_and_score``,
so a row of ``cv_results_`` means what it means for ``GridSearchCV``.
"""

import base64
import binascii
import contextlib
import itertools
import json
import math
import numbers
import os
import re
import signal
import struct
import threading
import time
import warnings
import zlib
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from ._callbacks import received
from ._choice import (
    ESTIMATOR_ORIGIN,
    candidate_origins,
    choose_index,
    preferred_rows,
)
from ._compat import fit_and_score, joblib_loky_executor, loky_worker_processes
from ._ensemble import fold_predictions, out_of_fold
from ._monitor import Interrupted
from ._network import training_deadline
from ._propose import MIN_STARTUP_CANDIDATES, GPProposer, Observation, TPEProposer

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
    >>> from sk_mlp_tune._engine import default_lookahead
    >>> default_lookahead(1, 5), default_lookahead(2, 5), default_lookahead(16, 5)
    (4, 4, 13)
    """
    return max(MIN_LOOKAHEAD, math.ceil(4 * n_workers / n_splits))


@dataclass(frozen=True)
class FoldTask:
    """Train one fold model of a candidate up to a rung's epochs."""

    candidate: int
    params: dict
    fold: int
    rung: int
    epochs: int


@dataclass
class FoldResult:
    """Everything a fold task hands back.

    ``test_scores`` and ``train_scores`` map each metric's name to its
    score (``{"score": ...}`` for one metric); ``test_score`` is the score
    of the metric the search ranks by. ``model`` is the fitted fold model,
    to continue from at the next rung; ``n_epochs`` the epochs it has
    trained in all, fewer than the rung's when it stopped by its tolerance
    (``stopped_by_tol``: it has nothing left to train at the next rung).
    ``predictions`` are its predictions on the fold's held-out rows, when
    the search keeps them for an ensemble.
    """

    task: FoldTask
    test_score: float
    test_scores: dict
    train_scores: dict
    fit_time: float
    score_time: float
    n_epochs: int
    error: str | None
    stopped_by_tol: bool = False
    model: object = field(repr=False, default=None)
    predictions: object = field(repr=False, default=None)

    @property
    def reached_max_iter(self):
        """Whether the fit ran every epoch it was given (did not converge)."""
        return self.error is None and self.n_epochs >= self.task.epochs


def run_fold_task(
    task, model, template, X, y, fold, context, rebuild=None, deadline=None,
    callback_task=None, caller=None,
):  # fmt: skip
    """Train and score one fold model: the unit of work a worker runs.

    Parameters
    ----------
    task : FoldTask
        What to train.
    model : estimator or None
        The fold model of the previous rung, or None at the first rung.
    template : estimator
        The unfitted estimator candidates are cloned from.
    X, y : array-like
        The whole training data.
    fold : tuple of ndarray
        The (train, test) indices of the task's fold.
    context : dict
        ``scorer``, ``refit_metric`` (the metric ranked by, ``"score"``
        for one), ``resource`` (the epochs parameter, e.g.
        ``"mlp__max_iter"``), ``fit_params``, ``score_params``,
        ``return_train_score``, ``error_score``, and ``predict``: whether
        to return the predictions on the held-out rows.
    rebuild : FoldTask, default=None
        With no ``model``, the previous rung's task to train first: a
        resumed search retrains the fold model it replayed the scores of
        (the same model, seeded), then continues it.
    deadline : float or None
        The ``time.time()`` at which a dropout MLP stops training; the
        result of a fit so cut has an ``error`` the search discards.
    callback_task, caller : default=None
        The fit's task in the tree of scikit-learn's callbacks, as
        ``_callbacks.FitTasks.fold_task_to_send`` sent it, and the
        estimator its hooks are called with. A rebuilt model trains outside
        it: the task is the continued fit's.

    Returns
    -------
    result : FoldResult
    """
    resource = context["resource"]
    if model is None and rebuild is not None:
        rebuilt = run_fold_task(
            rebuild, None, template, X, y, fold, context, deadline=deadline
        )
        if _cut_by_deadline(rebuilt.error):
            return FoldResult(**{**rebuilt.__dict__, "task": task})
        model = rebuilt.model
    if model is None:
        estimator = clone(template).set_params(**task.params)
        parameters = {resource: task.epochs}
    else:
        estimator = model
        warm_start = resource.removesuffix("max_iter") + "warm_start"
        parameters = {resource: task.epochs - _epochs_trained(model), warm_start: True}
    train, test = fold
    with _fold_fit_conditions(context.get("parent_pid")), training_deadline(deadline):
        out = fit_and_score(
            estimator,
            X,
            y,
            scorer=context["scorer"],
            train=train,
            test=test,
            parameters=parameters,
            fit_params=context["fit_params"],
            score_params=context["score_params"],
            return_train_score=context["return_train_score"],
            error_score=context["error_score"],
            callback_ctx=received(callback_task),
            caller=caller,
        )
    failed = out["fit_error"] is not None
    test_scores = _named_scores(out["test_scores"])
    return FoldResult(
        task=task,
        test_score=test_scores[context["refit_metric"]],
        test_scores=test_scores,
        train_scores=_named_scores(out.get("train_scores", np.nan)),
        fit_time=float(out["fit_time"]),
        score_time=float(out["score_time"]),
        n_epochs=0 if failed else _epochs_trained(out["estimator"]),
        error=out["fit_error"],
        stopped_by_tol=not failed and _stopped_by_tolerance(out["estimator"]),
        model=None if failed else out["estimator"],
        predictions=(
            fold_predictions(out["estimator"], X, test)
            if context.get("predict") and not failed
            else None
        ),
    )


def _named_scores(scores):
    """Return ``{metric: score}``: one metric's score is named "score"."""
    if isinstance(scores, dict):
        return {name: float(value) for name, value in scores.items()}
    return {"score": float(scores)}


@contextlib.contextmanager
def _fold_fit_conditions(parent_pid):
    """Set up what every fold fit runs under, wherever it runs.

    One summary after the search replaces a ConvergenceWarning per fit (and
    one error a scoring failure on every fold of the first candidate); a
    batch larger than a small training fold is clipped to the fold, which
    is what the candidate asked for in effect. A worker process (whose
    search runs in ``parent_pid``; None in the search's own process) ignores
    Ctrl-C, which a terminal sends to every process of the job: the main
    process decides what an interruption means, and stops the workers. And
    it dies with its parent.
    """
    in_worker = parent_pid is not None
    if in_worker:
        _die_with_parent(parent_pid)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        warnings.filterwarnings("ignore", message="Got `batch_size`")
        # A fold that cannot be scored scores NaN; the search says why once
        # (_raise_if_unscorable), not with a traceback per fold.
        warnings.filterwarnings("ignore", message="Scoring failed")
        if not in_worker or threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


# The process that started this worker, once a watch on it is running.
_WATCHED_PARENT = None


def _die_with_parent(parent_pid):
    """End this worker process within a second of its parent's death, however it died.

    loky's workers outlive a parent killed by SIGKILL, or by a SIGTERM that
    no handler turns into a shutdown: re-parented, they would finish their
    fits and idle on for minutes, holding their memory. (An idle worker
    reads the end of its task queue and leaves by itself.) A thread started
    with the worker's first task, once per process, watches that its parent
    is still ``parent_pid``, the search's process, which the task names: a
    worker whose parent died before its first task began goes at once.
    Dask's workers are the cluster's, and are not watched.
    """
    global _WATCHED_PARENT  # one watch per process
    if _WATCHED_PARENT is not None:
        return
    _WATCHED_PARENT = parent_pid

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))

    threading.Thread(target=watch, name="sk_mlp_tune-parent", daemon=True).start()


def fit_and_score_fold(
    template, X, y, train, test, parameters, options, parent_pid, deadline=None,
    predict=False, callback_task=None, caller=None,
):  # fmt: skip
    """Fit one candidate on one fold and score it: a task of every search but asha.

    Parameters
    ----------
    template : estimator
        The unfitted estimator the candidate is cloned from.
    X, y : array-like
        The whole training data.
    train, test : ndarray
        The fold's indices.
    parameters : dict
        The candidate.
    options : dict
        Keyword arguments of scikit-learn's ``_fit_and_score``.
    parent_pid : int or None
        The search's process, when this runs in a worker process of its.
    deadline : float or None
        The ``time.time()`` at which a dropout MLP stops training
        (``max_time``); a fit so cut is marked ``out["cut_short"]``.
    predict : bool, default=False
        Whether to return the model's predictions on the fold's held-out
        rows, for an ensemble, in ``out["predictions"]``.
    callback_task, caller : CallbackContext and estimator, default=None
        The fit's task in the tree of scikit-learn's callbacks, and the
        estimator its hooks are called with (see ``_callbacks``).

    Returns
    -------
    out : dict
        ``_fit_and_score``'s result, without the fitted model.
    max_iter_reached : int or None
        The ``max_iter`` the fit ran out of before converging, if it did:
        one summary warning after the search counts these.
    """
    with _fold_fit_conditions(parent_pid), training_deadline(deadline):
        out = fit_and_score(
            clone(template), X, y, train=train, test=test, parameters=parameters,
            callback_ctx=callback_task, caller=caller, **options,
        )  # fmt: skip
    out["cut_short"] = _cut_by_deadline(out["fit_error"])
    model = out.pop("estimator", None)
    if out["fit_error"] is not None or model is None:
        return out, None
    if predict:
        out["predictions"] = fold_predictions(model, X, test)
    final = final_step(model)
    n_iter, max_iter = getattr(final, "n_iter_", None), getattr(final, "max_iter", None)
    if n_iter is None or not isinstance(max_iter, int | np.integer):
        return out, None
    # Some estimators keep one count per class or target.
    return out, (int(max_iter) if np.max(n_iter) >= max_iter else None)


class WorkerLostError(RuntimeError):
    """A worker process died before any candidate finished: killed, or out of memory.

    A worker that dies later stops the search as Ctrl-C does: the tuner
    keeps the candidates that finished, refits the best, warns naming the
    candidates that were running, and sets ``stop_reason_`` to
    ``"worker_lost"``. This error is raised only when there is nothing to
    keep.

    Parameters
    ----------
    message : str
        What happened, naming the candidates that were running.
    running : list of (int, dict)
        The index and parameters of each candidate being fitted.

    Attributes
    ----------
    running : list of (int, dict)
        As given.
    """

    def __init__(self, message, running):
        super().__init__(message)
        self.running = running
        self.without_hint = message  # the message less how to resume


def _worker_lost(error, running, *, resume_hint=""):
    shown = "; ".join(
        f"candidate {index} {_plain_params(params)}" for index, params in running
    )
    what = (
        f"A worker process died while fitting {shown} ({type(error).__name__}). "
        "The usual cause is memory: a candidate too large for the machine, or "
        "too many jobs at once; try a smaller space or fewer n_jobs."
    )
    lost = WorkerLostError(f"{what} {resume_hint}".rstrip(), running)
    lost.without_hint = what
    return lost


def _plain_params(params):
    """Return ``params`` as a user reads them: 0.001, not np.float64(0.001)."""
    return {
        name: value.item() if isinstance(value, np.generic) else value
        for name, value in params.items()
    }


@dataclass
class Task:
    """A unit of work for the :class:`TaskLoop`.

    ``function(*args)`` runs on a worker; or, with ``known`` set, the result
    is known already (replayed from a checkpoint, or carried over) and no
    worker runs anything.
    """

    key: object
    function: object = None
    args: tuple = ()
    known: object = None


@dataclass
class LoopEnd:
    """How a :meth:`TaskLoop.run` ended, when it did not run out of tasks.

    ``interrupted`` is the Ctrl-C that stopped it; ``worker_died`` the
    executor's error when a worker process died, and ``running`` the keys
    of the tasks in flight then. What finished was handed to the source
    before either.
    """

    interrupted: Interrupted | None = None
    worker_died: BaseException | None = None
    running: list = field(default_factory=list)


class TaskLoop:
    """The one loop that hands fold tasks to the workers, for every strategy.

    A *source* decides the work and hears the results: ``next_task(monitor)``
    returns the next :class:`Task`, or None when none can start now (it asks
    ``monitor.may_start()`` before new work, a candidate or a promotion, and
    calls ``monitor.started()`` when it starts some), and ``finished(key,
    result)`` takes each result as it comes, in the order the tasks were
    submitted when several finish together. The loop keeps up to
    ``capacity`` tasks in flight, with no barrier between candidates.

    On Ctrl-C the results already in are handed over, the workers are
    stopped at once and what they were fitting is discarded; when a worker
    dies, the loop stops the same way. Either is said in the returned
    :class:`LoopEnd`: the caller decides what it means.

    Use it as a context manager: the executor lives as long as the search,
    and the workers stay after it for the next search, as joblib's do,
    unless it ended by an error.

    Parameters
    ----------
    n_jobs : int or None
        As ``n_jobs`` of the search, honouring ``joblib.parallel_config``.
    monitor : SearchMonitor
        The budget, the progress line and the stop reason.
    pre_dispatch : int, str or None, default=None
        Tasks handed to the workers ahead, as in ``GridSearchCV``; None for
        one per worker.
    """

    def __init__(self, n_jobs, monitor, pre_dispatch=None):
        self.n_jobs = n_jobs
        self.monitor = monitor
        self.pre_dispatch = pre_dispatch
        self._executor = None
        self._shared = None

    def __enter__(self):
        self._executor = make_executor(self.n_jobs)
        return self

    def __exit__(self, kind, error, traceback):
        if self._executor is not None:
            self._executor.shutdown(kill_workers=kind is not None)
        self._executor = self._shared = None
        return False

    @property
    def n_workers(self):
        """The executor's workers: 1 in-process."""
        return self._executor.n_workers if self._executor is not None else 1

    @property
    def in_process(self):
        """Whether the tasks run in this process, unpickled."""
        return isinstance(self._executor, _InProcessExecutor)

    @property
    def parent_pid(self):
        """Return the id of this process if its tasks run in its worker processes.

        Its workers ignore Ctrl-C, and die with it.
        """
        return os.getpid() if isinstance(self._executor, _ProcessExecutor) else None

    def share(self, X, y):
        """Return ``X, y`` as tasks take them: sent to a cluster once, not per task."""
        if self._shared is None or self._shared[0] is not X:
            self._shared = (X, _share(self._executor, X, y))
        return self._shared[1]

    def run(self, source):
        """Run ``source``'s tasks until it has none left, or the loop must stop.

        Returns
        -------
        end : LoopEnd or None
            None when the source ran out of tasks.
        """
        if self._executor is None:  # stopped by Ctrl-C or a dead worker
            return LoopEnd()
        if self.pre_dispatch is None:
            capacity = self._executor.n_workers
        else:
            capacity = _dispatched_ahead(self.pre_dispatch, self._executor.n_workers)
        in_flight = {}  # future -> (submission number, key)
        submitted = itertools.count()
        try:
            while True:
                while len(in_flight) < capacity:
                    task = source.next_task(self.monitor)
                    if task is None:
                        break
                    if task.function is None:
                        future = _done(task.known)
                    else:
                        future = self._executor.submit(task.function, *task.args)
                    in_flight[future] = (next(submitted), task.key)
                if not in_flight:
                    return None
                done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                for future in sorted(done, key=in_flight.__getitem__):
                    try:
                        result = future.result()
                    except BrokenProcessPool as error:
                        self.monitor.stop("worker_lost")
                        running = [key for _, key in sorted(in_flight.values())]
                        self._stop_workers(in_flight)
                        return LoopEnd(worker_died=error, running=running)
                    _, key = in_flight.pop(future)
                    source.finished(key, result)
        except Interrupted as interrupted:
            self.monitor.stop("interrupted")
            # A task that finished before Ctrl-C may complete its candidate.
            for future in sorted(in_flight, key=in_flight.__getitem__):
                if future.done() and not future.cancelled() and not future.exception():
                    _, key = in_flight.pop(future)
                    source.finished(key, future.result())
            self._stop_workers(in_flight)
            return LoopEnd(interrupted=interrupted)

    def _stop_workers(self, in_flight):
        """Stop at once the workers, discarding the tasks in flight."""
        if isinstance(self._executor, _DaskExecutor):
            # The cluster is the user's: stop only our tasks. (loky's futures
            # must not be cancelled: its shutdown then fails to set their
            # error, in its own thread, and leaves its queues waiting.)
            for future in in_flight:
                future.cancel()
        self._executor.shutdown(kill_workers=True)
        self._executor = self._shared = None


class CandidateRunner:
    """Evaluate candidates fold by fold on a :class:`TaskLoop`.

    The runner of the searches that decide their candidates in batches
    (grid, random, Bayesian, halving): :func:`~sk_mlp_tune._searchbase.fit_search`
    calls it with each batch, and it returns the candidates whose every
    fold finished. The monitor is asked before each new candidate; once it
    says no, the folds of the candidates already started finish and
    nothing else starts.

    Use it as a context manager, around the whole search.

    Parameters
    ----------
    n_jobs : int or None
        As ``n_jobs`` of the search, honouring ``joblib.parallel_config``.
    monitor : SearchMonitor
        The budget, progress and stop reason.
    pre_dispatch : int or str, default="2*n_jobs"
        Fold fits handed to the workers ahead, as in ``GridSearchCV``.
    predict : bool, default=False
        Whether the fold tasks return their predictions on the held-out
        rows (``out["predictions"]``), for an ensemble.
    """

    def __init__(self, n_jobs, monitor, pre_dispatch="2*n_jobs", predict=False):
        self.loop = TaskLoop(n_jobs, monitor, pre_dispatch)
        self.predict = predict
        self.max_iter_reached = []

    def __enter__(self):
        self.loop.__enter__()
        return self

    def __exit__(self, *exc_info):
        return self.loop.__exit__(*exc_info)

    def __call__(
        self, template, X, y, candidates, splits, options, score_name, rung=0,
        callbacks=None,
    ):  # fmt: skip
        """Evaluate ``candidates``; return those that finished, and a dead worker.

        Parameters
        ----------
        template : estimator
            The estimator each candidate is cloned from.
        X, y : array-like
            The data.
        candidates : list of dict
            The candidates to evaluate.
        splits : list of (train, test)
            The folds.
        options : dict
            Keyword arguments of scikit-learn's ``_fit_and_score``.
        score_name : str or None
            The metric the best candidate is chosen by, for the monitor.
        rung : int, default=0
            Successive halving's rung (``iter``) of the batch, for the monitor.
        callbacks : (list, estimator), default=None
            The callback task of each fold fit (candidate by candidate, fold
            by fold; None for none) and the estimator their hooks get.

        Returns
        -------
        finished : dict
            ``{candidate index: [_fit_and_score dict per split]}``.
        lost : WorkerLostError or None
            Set when a worker process died: the search stops there.
        """
        batch = _CandidateFolds(
            template, self.loop, X, y, candidates, splits, options, score_name,
            self.predict, rung, callbacks,
        )  # fmt: skip
        end = self.loop.run(batch)
        self.max_iter_reached.extend(batch.max_iter_reached)
        lost = None
        if end is not None and end.worker_died is not None:
            running = sorted({candidate for candidate, _ in end.running})
            lost = _worker_lost(end.worker_died, [(c, candidates[c]) for c in running])
        return batch.complete(), lost


class _CandidateFolds:
    """A batch of candidates as fold tasks, and the folds that finished."""

    def __init__(
        self, template, loop, X, y, candidates, splits, options, score_name, predict,
        rung, callbacks,
    ):  # fmt: skip
        self.template = template
        self.X, self.y = X, y
        self.monitor = loop.monitor
        self.data = loop.share(X, y)
        self.parent_pid = loop.parent_pid
        self.n_samples = _n_samples(X)
        self.candidates = candidates
        self.splits = splits
        self.options = options
        self.score_name = score_name
        self.predict = predict
        self.rung = rung
        n_fits = len(candidates) * len(splits)
        self.callback_tasks, self.caller = callbacks or ([None] * n_fits, None)
        self.pending = deque(
            (c, s) for c in range(len(candidates)) for s in range(len(splits))
        )
        self.started = set()
        self.unbounded = set()  # the search's first candidate: it always finishes
        self.cut = set()  # candidates a fold of which ran past the deadline
        self.folds = {}  # candidate -> {split: _fit_and_score dict}
        self.reached = {}  # candidate -> [max_iter reached or None, per fold]
        self.max_iter_reached = []  # of the candidates kept

    def next_task(self, monitor):
        if not self.pending:
            return None
        candidate, split = self.pending[0]
        if candidate not in self.started:
            if not monitor.may_start():
                return None
            if not monitor.n_started:
                self.unbounded.add(candidate)
            monitor.started()
            self.started.add(candidate)
        self.pending.popleft()
        train, test = self.splits[split]
        deadline = None if candidate in self.unbounded else monitor.deadline()
        callback_task = self.callback_tasks[candidate * len(self.splits) + split]
        arguments = (
            self.template, *self.data, train, test, self.candidates[candidate],
            self.options, self.parent_pid, deadline, self.predict, callback_task,
            self.caller if callback_task is not None else None,
        )  # fmt: skip
        return Task((candidate, split), fit_and_score_fold, arguments)

    def finished(self, key, result):
        candidate, split = key
        out, max_iter_reached = result
        if out.pop("cut_short", False) or candidate in self.cut:
            # Past the deadline: discarded, as a fit cut short by Ctrl-C.
            self.cut.add(candidate)
            self.folds.pop(candidate, None)
            self.monitor.stop("max_time")
            return
        self.folds.setdefault(candidate, {})[split] = out
        self.reached.setdefault(candidate, []).append(max_iter_reached)
        if len(self.folds[candidate]) == len(self.splits):
            # Counted once the candidate is kept, not if cut short.
            self.max_iter_reached.extend(self.reached[candidate])
            self._tell_monitor(self.complete()[candidate], candidate)

    def complete(self):
        """Return the candidates whose every fold finished, folds in order."""
        return _complete(self.folds, len(self.splits))

    def _tell_monitor(self, outs, candidate):
        scores = [out["test_scores"] for out in outs]
        if isinstance(scores[0], dict):
            scores = [s.get(self.score_name, next(iter(s.values()))) for s in scores]
        if self.monitor.n_evaluated == 0:
            _raise_if_unscorable(
                scores,
                [out["fit_error"] for out in outs],
                self.template,
                self.X,
                self.y,
                self.candidates[candidate],
                self.splits[0],
                self.options,
            )
        # The refit trains on every sample; the folds' fits on a share each.
        refit_estimate = np.mean(
            [
                out["fit_time"] * self.n_samples / max(len(train), 1)
                for out, (train, _) in zip(outs, self.splits, strict=True)
            ]
        )
        self.monitor.candidate_finished(
            float(np.mean(scores)), refit_estimate, self.rung
        )
        self.monitor.report(self.monitor.n_evaluated)


def _cut_by_deadline(fit_error):
    """Tell whether a fit failed because it ran past the search's deadline."""
    return fit_error is not None and "TrainingDeadlinePassed" in fit_error


def _raise_if_unscorable(scores, fit_errors, template, X, y, params, fold, options):
    """Stop the search when its first candidate was fitted but scored on no fold.

    Then the metric cannot score this task (``roc_auc`` on three classes,
    say), and no candidate would get a score: say why at once, in one
    error, rather than run the whole search on NaN. The scorer's own error
    comes from scoring the first fold again, here, with errors raised.
    """
    if any(error is not None for error in fit_errors) or np.isfinite(scores).any():
        return
    train, test = fold
    try:
        fit_and_score(
            clone(template), X, y, train=train, test=test, parameters=params,
            **{**options, "error_score": "raise", "return_train_score": False},
        )  # fmt: skip
    except Exception as error:  # the scorer's, whatever it is
        cause = f"{type(error).__name__}: {error}".strip().splitlines()[-1]
    else:
        return  # it scored this time: the search goes on, as for a NaN score
    scorer = options["scorer"]
    raise ValueError(
        f"The first candidate was fitted on every fold but scored on none: the "
        f"scoring ({scorer}) cannot score this task, so no candidate would get "
        f"a score. Its error: {cause}. Choose a metric that fits the task (for "
        "more than two classes, e.g. 'roc_auc_ovr' or 'f1_macro')."
    )


def _dispatched_ahead(pre_dispatch, n_workers):
    """Read ``pre_dispatch`` (an int, ``"k*n_jobs"`` or ``"all"``) as a number of tasks.

    Examples
    --------
    >>> from sk_mlp_tune._engine import _dispatched_ahead
    >>> _dispatched_ahead("2*n_jobs", 4), _dispatched_ahead(3, 4)
    (8, 4)
    """
    if isinstance(pre_dispatch, numbers.Integral):
        return max(int(pre_dispatch), n_workers)
    text = str(pre_dispatch).replace(" ", "")
    if text == "all":
        return math.inf
    match = re.fullmatch(r"(?:(\d+)\*)?n_jobs", text)
    if match is None:
        raise ValueError(
            f"pre_dispatch={pre_dispatch!r} is not understood: give an integer, "
            "a string such as '2*n_jobs', or 'all'."
        )
    return int(match.group(1) or 1) * n_workers


def _complete(folds, n_splits):
    """Return the candidates whose every fold finished, folds in order."""
    return {
        c: [folds[c][s] for s in range(n_splits)]
        for c in sorted(folds)
        if len(folds[c]) == n_splits
    }


def _n_samples(X):
    shape = getattr(X, "shape", None)
    return shape[0] if shape is not None else len(X)


def final_step(estimator):
    """Return the last step of a pipeline (of pipelines), or the estimator."""
    while hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    return estimator


def epochs_name(estimator):
    """Return ``max_iter`` as a parameter name of ``estimator``: ``mlp__max_iter``."""
    prefix = ""
    while hasattr(estimator, "steps"):
        step, estimator = estimator.steps[-1]
        prefix += f"{step}__"
    return prefix + "max_iter"


def epochs_parameter(estimator):
    """Return the name of the parameter that sets the epochs of ``estimator``.

    ``max_iter`` for an MLP, ``<step>__max_iter`` for a pipeline ending in
    one: successive halving over epochs grows it from rung to rung.
    """
    final = final_step(estimator)
    if "max_iter" not in final.get_params() or "warm_start" not in final.get_params():
        raise ValueError(
            f"search='asha' trains each candidate for more epochs at each rung, "
            f"through the max_iter and warm_start parameters of the final "
            f"estimator, which {type(final).__name__} does not have. Use an MLP "
            "(or a pipeline ending in one), or another search."
        )
    return epochs_name(estimator)


def _epochs_trained(model):
    """Epochs a fitted (warm-started) MLP has run in all its fits."""
    final = final_step(model)
    curve = getattr(final, "loss_curve_", None)
    if curve is not None:
        return len(curve)
    return int(np.max(getattr(final, "n_iter_", 0)))


def _stopped_by_tolerance(model):
    return getattr(final_step(model), "_stopped_by_tol", False)


def rung_epochs(max_epochs, n_candidates, factor=FACTOR):
    """Return the epochs of each rung: ``max_epochs / factor**k``, rounded.

    There are as many rungs as successive halving over ``n_candidates``
    needs to leave one (``1 + floor(log_factor(n_candidates))``), fewer if
    the first would train for less than one epoch; the last is
    ``max_epochs`` itself.

    Examples
    --------
    >>> from sk_mlp_tune._engine import rung_epochs
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


class CheckpointError(ValueError):
    """A checkpoint file cannot be resumed: it is not one, or not this search's."""


class Checkpoint:
    """An append-only journal of finished fold results, in plain data.

    The file starts with a fixed line (:data:`CHECKPOINT_MAGIC`), then
    records: each its length, a CRC32 and a JSON document, appended,
    flushed and fsynced. The first record is a header holding the format
    and the fingerprint of the data and settings; each following one a
    fold's scores, times and epochs. Reading checks the first line, then
    the header, before anything else; it parses JSON and nothing else, so
    no file, whatever its bytes, runs code here. A process killed mid-write
    leaves at most a torn last record (or a torn header), which reading
    ignores and resuming cuts off.

    No model is journalled: a resumed search that promotes a candidate
    whose previous rung was replayed retrains that rung's fold model first,
    the same model a seeded search trained before the crash, then
    continues it.

    Parameters
    ----------
    path : str or path-like
        The journal file; created if missing.
    fingerprint : str
        What the journal must have been written for.
    """

    _FRAME = struct.Struct("<QI")  # length, crc32
    FORMAT = 3  # 3: JSON records, no models (2 and before: pickles)

    def __init__(self, path, fingerprint):
        self.path = os.fspath(path)
        self.fingerprint = fingerprint
        self.results = {}  # (candidate, fold, rung) -> record dict
        self._good_size = 0
        self._file = None
        if os.path.exists(self.path):
            self._read()

    def _read(self):
        with open(self.path, "rb") as file:
            magic = file.read(len(CHECKPOINT_MAGIC))
            if magic != CHECKPOINT_MAGIC[: len(magic)]:
                raise CheckpointError(
                    f"{self.path!r} is not a checkpoint of sk_mlp_tune (it does not "
                    "start with one's first line); it was left as it is. Give "
                    "another checkpoint path, or delete the file. (Checkpoints "
                    "written before format 3 held pickles and are not read.)"
                )
            if len(magic) < len(CHECKPOINT_MAGIC):
                return  # a crash before the first line was synced: start over
            records, self._good_size = _read_records(file)
        if not records:
            self._good_size = 0  # a crash before the header was synced
            return
        header = records[0]
        if not isinstance(header, dict) or header.get("format") != self.FORMAT:
            raise CheckpointError(
                f"The checkpoint {self.path!r} was written by another version of "
                "sk_mlp_tune (format "
                f"{header.get('format') if isinstance(header, dict) else '?'}, "
                f"this one reads {self.FORMAT}); it was left as it is. Give another "
                "checkpoint path, or delete the file to start over."
            )
        if header.get("fingerprint") != self.fingerprint:
            raise CheckpointError(
                f"The checkpoint {self.path!r} was written by a search with other "
                "data or settings, so it cannot be resumed; it was left as it is. "
                "Give another checkpoint path, delete this file to start over, or "
                "fit with the data and settings it was written for."
            )
        for record in records[1:]:
            try:
                key = (record["candidate"], record["fold"], record["rung"])
            except (KeyError, TypeError):
                break  # not a record of ours: the journal ends here
            self.results[key] = record

    def open(self):
        """Get ready to append: the file is opened at the first write."""
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sk_mlp_tune-ckpt")
        self._failure = None

    def lookup(self, task):
        """Return the recorded result of ``task``, or None."""
        record = self.results.get((task.candidate, task.fold, task.rung))
        if record is None or record.get("epochs") != task.epochs:
            return None
        if record.get("params") != _plain(task.params):
            return None
        try:
            return FoldResult(
                task=task,
                test_score=float(record["test_score"]),
                test_scores=_scores(record["test_scores"]),
                train_scores=_scores(record["train_scores"]),
                fit_time=float(record["fit_time"]),
                score_time=float(record["score_time"]),
                n_epochs=int(record["n_epochs"]),
                error=None if record["error"] is None else str(record["error"]),
                stopped_by_tol=bool(record["stopped_by_tol"]),
                predictions=_array_from_record(record.get("predictions")),
            )
        except (KeyError, TypeError, ValueError, AttributeError, binascii.Error):
            return None  # a damaged record: the task is run again

    def write(self, result):
        """Append ``result`` durably, in the background.

        It is encoded here; the write and the fsync follow on the writer
        thread, in order. A failed write is raised at the next write or at
        ``close``.
        """
        if self._failure is not None:
            raise self._failure
        task = result.task
        record = {
            "candidate": task.candidate,
            "fold": task.fold,
            "rung": task.rung,
            "epochs": task.epochs,
            "params": _plain(task.params),
            "test_score": result.test_score,
            "test_scores": result.test_scores,
            "train_scores": result.train_scores,
            "fit_time": result.fit_time,
            "score_time": result.score_time,
            "n_epochs": result.n_epochs,
            "error": result.error,
            "stopped_by_tol": result.stopped_by_tol,
        }
        if result.predictions is not None:
            record["predictions"] = _array_record(result.predictions)
        self._writer.submit(self._append, _frame(record))

    def _append(self, frame):
        if self._failure is not None:
            return  # after a failed write, nothing more: the journal stays whole
        try:
            self._append_now(frame)
        except Exception as error:
            self._failure = error

    def _append_now(self, frame):
        if self._file is None:
            try:
                self._file = open(self.path, "r+b" if self._good_size else "wb")
            except OSError as error:
                raise OSError(
                    f"the checkpoint {self.path!r} cannot be written: {error}"
                ) from error
            if self._good_size:
                self._file.truncate(self._good_size)  # a torn last record
                self._file.seek(self._good_size)
            else:
                header = {"format": self.FORMAT, "fingerprint": self.fingerprint}
                self._file.write(CHECKPOINT_MAGIC + _frame(header))
        self._file.write(frame)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self):
        """Finish the pending writes, then close the journal."""
        writer = getattr(self, "_writer", None)
        if writer is None:
            return
        try:
            writer.shutdown(wait=True)
            if self._failure is not None:
                raise self._failure
        finally:
            self._writer = None
            if self._file is not None:
                self._file.close()
                self._file = None


def _array_record(values):
    """Return a float32 array as JSON data: its shape and base64 bytes."""
    values = np.ascontiguousarray(values, dtype="<f4")
    return {"shape": list(values.shape), "float32": base64.b64encode(values).decode()}


def _array_from_record(record):
    """Read back :func:`_array_record`'s data (None stays None); data only, no code."""
    if record is None:
        return None
    data = base64.b64decode(record["float32"], validate=True)
    return np.frombuffer(data, dtype="<f4").reshape(record["shape"]).copy()


# The first line of every checkpoint file.
CHECKPOINT_MAGIC = b"sk_mlp_tune checkpoint\n"


def _frame(record):
    """Return ``record`` as journal bytes: length, CRC32, JSON."""
    data = json.dumps(record, allow_nan=True, separators=(",", ":")).encode()
    return Checkpoint._FRAME.pack(len(data), zlib.crc32(data)) + data


def _read_records(file):
    """Return the intact JSON records from ``file``'s position, and where they end."""
    size = Checkpoint._FRAME.size
    records, good = [], file.tell()
    while True:
        head = file.read(size)
        if len(head) < size:
            break
        length, crc = Checkpoint._FRAME.unpack(head)
        data = file.read(min(length, _MAX_RECORD))
        if len(data) < length or zlib.crc32(data) != crc:
            break
        try:
            records.append(json.loads(data))
        except ValueError:  # a record we cannot read ends the journal
            break
        good = file.tell()
    return records, good


# No record of ours comes near this: a length beyond it is not ours.
_MAX_RECORD = 1 << 24


def _plain(value):
    """Return ``value`` as JSON data that compares equal exactly when it does."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, tuple):
        return {"tuple": [_plain(v) for v in value]}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return {"repr": repr(value)}  # an estimator as a value, say


def _scores(scores):
    return {str(name): float(value) for name, value in scores.items()}


def read_journal(path):
    """Return the records of the checkpoint at ``path``: its header, then results.

    Plain JSON data; empty if the file is not a checkpoint, or holds no
    whole header yet.
    """
    with open(path, "rb") as file:
        if file.read(len(CHECKPOINT_MAGIC)) != CHECKPOINT_MAGIC:
            return []
        return _read_records(file)[0]


def fingerprint(*parts):
    """Return a hash of the data and the settings that decide a search's results."""
    return joblib.hash(parts)


class _InProcessExecutor:
    """Run each task at once, in this process: one job, no pickling."""

    n_workers = 1

    def submit(self, function, *args):
        future = Future()
        try:
            future.set_result(function(*args))
        except Exception as error:
            # Ctrl-C, SystemExit and their kind stop the search, not one task.
            future.set_exception(error)
        return future

    def shutdown(self, kill_workers=False):
        """Nothing to stop."""


class _ProcessExecutor:
    """loky's reusable worker processes, through joblib, large arrays memmapped."""

    def __init__(self, n_workers):
        self.n_workers = n_workers
        # joblib's own workers, thread limits and memmapping, shared with the
        # joblib.Parallel calls around the search.
        self._joblib = contextlib.ExitStack()
        self._executor = self._joblib.enter_context(joblib_loky_executor(n_workers))

    def submit(self, function, *args):
        return self._executor.submit(function, *args)

    def shutdown(self, kill_workers=False):
        """Stop the workers, or leave them for the next search as joblib does.

        Either way the block's temporary memmaps are released, once no
        worker can be reading them.
        """
        if kill_workers:
            # A second Ctrl-C or a SIGTERM must not leave them half-stopped.
            with _stop_signals_deferred(), _loky_thread_errors_silenced():
                # The workers are killed first, directly: what they were
                # fitting is discarded, and loky's shutdown, left to stop
                # workers in the middle of a task, once hung a run for minutes
                # under load (CI).
                for process in loky_worker_processes(self._executor):
                    with contextlib.suppress(OSError):
                        os.kill(process.pid, getattr(signal, "SIGKILL", signal.SIGTERM))
                self._executor.shutdown(wait=True, kill_workers=True)
        self._joblib.close()


@contextlib.contextmanager
def _loky_thread_errors_silenced():
    """Keep loky's own threads quiet while its workers are killed on purpose.

    Its manager thread can trip over the work items that the kill just
    discarded (a ``KeyError`` printed as a thread traceback, under load);
    that says nothing the user needs, who asked for the stop.
    """
    default_hook = threading.excepthook

    def hook(args):
        if not type(args.thread).__module__.startswith("joblib.externals.loky"):
            default_hook(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = default_hook


@contextlib.contextmanager
def _stop_signals_deferred():
    """Hold SIGINT and SIGTERM back while the block runs; they arrive just after."""
    can_block = hasattr(signal, "pthread_sigmask") and (
        threading.current_thread() is threading.main_thread()
    )
    if not can_block:
        yield
        return
    stops = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)


class _DaskExecutor:
    """The workers of a ``dask.distributed`` client."""

    def __init__(self, client):
        self.client = client
        self.n_workers = max(sum(client.nthreads().values()), 1)
        self._executor = client.get_executor(pure=False)

    def submit(self, function, *args):
        return self._executor.submit(function, *args)

    def shutdown(self, kill_workers=False):
        """Leave the cluster running: it is the user's."""


def make_executor(n_jobs):
    """Return the executor for ``n_jobs``, honouring ``joblib.parallel_config``."""
    backend, _ = joblib.parallel.get_active_backend()
    client = getattr(backend, "client", None)
    if client is not None and type(backend).__name__ == "DaskDistributedBackend":
        return _DaskExecutor(client)
    n_workers = joblib.effective_n_jobs(n_jobs)
    if n_workers == 1:
        return _InProcessExecutor()
    return _ProcessExecutor(n_workers)


@dataclass
class EngineSettings:
    """What the engine needs besides the data."""

    template: object
    subspaces: list
    resource: str
    max_epochs: int
    n_candidates: int
    starting: list
    selection: str
    random_state: int
    scorer: object
    refit_metric: str
    error_score: object
    return_train_score: bool
    n_jobs: object
    seeded: bool
    n_points: int | None
    checkpoint: object
    fingerprint_parts: tuple
    keep_predictions: bool = False


class AsynchronousHalving:
    """The fitted state of ``search="asha"``, in scikit-learn's result layout.

    What :class:`~sklearn.model_selection.HalvingRandomSearchCV` calls its
    ``cv_results_``, ``n_resources_`` and ``n_candidates_`` mean the same
    here: one row per candidate per rung it finished, with the rung
    (``iter``) and its epochs (``n_resources``).

    The best candidate is the best of the highest rung any candidate
    reached: ``rank_test_score`` orders the rows by rung, highest first,
    then by mean score, so a score at few epochs never outranks one earned
    at more.
    """

    def __init__(self, settings):
        self.settings = settings

    def run(self, X, y, folds, fit_params, score_params, monitor, callbacks=None):
        """Search, then set the results; return self.

        ``monitor`` (a :class:`~sk_mlp_tune._monitor.SearchMonitor`) is the
        budget, the progress line and the stop reason, as for every strategy.
        ``callbacks`` (a :class:`~sk_mlp_tune._callbacks.FitTasks`) are the
        fit's tasks for scikit-learn's callbacks: the search is one, each
        fold fit one under it.
        """
        s = self.settings
        self.rungs_ = rung_epochs(s.max_epochs, s.n_candidates)
        proposer = PROPOSER(
            s.subspaces,
            n_startup=max(MIN_STARTUP_CANDIDATES, s.n_candidates // 4),
            random_state=s.random_state,
        )

        def propose(index, history):
            if index < len(s.starting):
                return dict(s.starting[index][0])
            return proposer.ask(index, history)

        self.starting_candidates = list(s.starting)
        scheduler = Scheduler(
            self.rungs_,
            s.n_candidates,
            propose,
            always_promoted={
                index
                for index, (_, origin) in enumerate(s.starting)
                if origin == ESTIMATOR_ORIGIN
            },
            wait=PROMOTION_WAIT,
        )
        checkpoint = None
        if s.checkpoint is not None:
            checkpoint = Checkpoint(
                s.checkpoint, fingerprint(*s.fingerprint_parts, folds)
            )
        context = {
            "scorer": s.scorer,
            "refit_metric": s.refit_metric,
            "resource": s.resource,
            "fit_params": fit_params,
            "score_params": score_params,
            "return_train_score": s.return_train_score,
            "error_score": s.error_score,
            "predict": s.keep_predictions,
        }
        monitor.report(0, ", 0 fits")
        search_task = callbacks.search_task(callbacks.root, None) if callbacks else None
        try:
            with TaskLoop(s.n_jobs, monitor) as loop:
                # Seeded, the decisions must not depend on the workers' timing.
                lookahead = None
                if s.seeded:
                    lookahead = s.n_points or default_lookahead(
                        loop.n_workers, len(folds)
                    )
                tasks = _AshaTasks(
                    _Decisions(scheduler, len(folds), lookahead),
                    checkpoint,
                    {**context, "parent_pid": loop.parent_pid},
                    (s.template, *loop.share(X, y), (X, y)),
                    folds,
                    # The refit trains on every sample, the folds on a share.
                    refit_scale=s.max_epochs
                    * _n_samples(X)
                    / np.mean([max(len(t), 1) for t, _ in folds]),
                    monitor=monitor,
                    callbacks=(callbacks, search_task, loop.in_process),
                )
                if checkpoint is not None:
                    checkpoint.open()
                end = loop.run(tasks)
        finally:
            monitor.close()
            if checkpoint is not None:
                checkpoint.close()
            if callbacks is not None:
                callbacks.end_search_task(search_task)
        lost = None
        if end is not None and end.worker_died is not None:
            running = sorted({(t.candidate, t.rung) for t in end.running})
            lost = _worker_lost(
                end.worker_died,
                [(c, scheduler.params[c]) for c, _ in running],
                resume_hint=(
                    f"Every finished fold is in the checkpoint {s.checkpoint!r}: "
                    "fit again to resume from there."
                    if checkpoint is not None
                    else "Give checkpoint= (with an integer random_state) to "
                    "resume a search from where it stopped."
                ),
            )
        if end is not None and not _any_row_finished(tasks.results, len(folds)):
            # Nothing finished: Ctrl-C, or the dead worker, goes on up.
            raise lost or end.interrupted
        self.worker_lost_ = lost
        self.stop_reason_ = monitor.stop_reason
        self.n_tasks_replayed_ = tasks.n_replayed
        rows = self._set_results(scheduler, tasks.results, len(folds))
        self.out_of_fold_ = self._out_of_fold(tasks.results, rows, folds, _n_samples(X))
        # The settings hold the template and the data's fingerprint parts:
        # the fitted search keeps its results, not its inputs.
        self.settings = None
        return self

    def _out_of_fold(self, results, rows, folds, n_samples):
        """Return ``{row: out-of-fold predictions}`` of the top rung's rows, if kept.

        ``rows`` are the ``(candidate, rung)`` of the rows of ``cv_results_``.
        """
        if not self.settings.keep_predictions:
            return {}
        top = max(rung for _, rung in rows)
        predictions = {}
        for row, (candidate, rung) in enumerate(rows):
            values = [
                results[candidate, f, rung].predictions for f in range(len(folds))
            ]
            if rung == top and all(v is not None for v in values):
                predictions[row] = out_of_fold(values, folds, n_samples)
        return predictions

    def _set_results(self, scheduler, results, n_splits):
        rows = sorted(
            {(t.candidate, t.rung) for t in (r.task for r in results.values())},
            key=lambda cr: (cr[1], cr[0]),
        )
        rows = [
            (c, r)
            for c, r in rows
            if all((c, f, r) in results for f in range(n_splits))
        ]
        if not rows:
            raise ValueError(
                "The search ended before any candidate finished a rung on every "
                "fold; give it more time (max_time) or fewer folds (cv)."
            )
        s = self.settings
        per_row = [[results[c, f, r] for f in range(n_splits)] for c, r in rows]
        params = [scheduler.params[c] for c, _ in rows]
        cv = {"iter": np.array([r for _, r in rows]),
              "n_resources": np.array([self.rungs_[r] for _, r in rows])}  # fmt: skip
        for name in sorted({k for p in params for k in p}):
            column = np.ma.masked_all(len(rows), dtype=object)
            for i, p in enumerate(params):
                if name in p:
                    column[i] = p[name]
            cv[f"param_{name}"] = column
        cv["params"] = params
        for key, attribute in (("fit_time", "fit_time"), ("score_time", "score_time")):
            values = np.array([[getattr(f, attribute) for f in row] for row in per_row])
            cv[f"mean_{key}"] = values.mean(axis=1)
            cv[f"std_{key}"] = values.std(axis=1)
        sets = ["test"] + (["train"] if s.return_train_score else [])
        metrics = list(per_row[0][0].test_scores)
        for which in sets:
            for metric in metrics:
                scores = np.array(
                    [[getattr(f, f"{which}_scores")[metric] for f in row]
                     for row in per_row]
                )  # fmt: skip
                for fold in range(n_splits):
                    cv[f"split{fold}_{which}_{metric}"] = scores[:, fold]
                cv[f"mean_{which}_{metric}"] = scores.mean(axis=1)
                cv[f"std_{which}_{metric}"] = scores.std(axis=1)
        for metric in metrics:
            cv[f"rank_test_{metric}"] = _rank_by_rung_then_score(
                cv["iter"], cv[f"mean_test_{metric}"]
            )
        origins = candidate_origins(params, self.starting_candidates)
        cv["origin"] = origins
        self.cv_results_ = cv
        self.multimetric_ = metrics != ["score"]
        top = np.flatnonzero(cv["iter"] == np.max(cv["iter"]))
        self.best_index_ = choose_index(
            cv[f"mean_test_{s.refit_metric}"],
            cv[f"std_test_{s.refit_metric}"],
            n_splits,
            top,
            preferred_rows(origins, top),
            s.selection,
        )
        self.best_params_ = dict(params[self.best_index_])
        self.best_score_ = float(cv[f"mean_test_{s.refit_metric}"][self.best_index_])
        self.best_epochs_ = int(cv["n_resources"][self.best_index_])
        self.n_splits_ = n_splits
        self.n_candidates_ = [
            int(np.sum(cv["iter"] == r)) for r in range(len(self.rungs_))
        ]
        self.n_resources_ = list(self.rungs_)
        self.n_iterations_ = int(np.max(cv["iter"])) + 1
        self.n_epochs_trained_ = int(
            sum(
                r.n_epochs - (self._epochs_before(r, results))
                for r in results.values()
                if r.error is None
            )
        )
        # Per fold fit: the epochs it ran out of before converging, or None;
        # and its error, or None.
        self.max_iter_reached_ = [
            r.task.epochs if r.reached_max_iter else None for r in results.values()
        ]
        self.fold_fit_errors_ = [r.error for r in results.values()]
        return rows

    def _epochs_before(self, result, results):
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
                self.folds[0],
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


def _any_row_finished(results, n_splits):
    rows = {(c, r) for c, _, r in results}
    return any(all((c, f, r) in results for f in range(n_splits)) for c, r in rows)


def _done(result):
    future = Future()
    future.set_result(result)
    return future


def _carried_over(previous, task):
    """Return the result of a fold model that has nothing left to train."""
    return FoldResult(
        **{**previous.__dict__, "task": task, "fit_time": 0.0, "score_time": 0.0}
    )


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


def _share(executor, X, y):
    """Send the data to a cluster once, rather than with every task."""
    if isinstance(executor, _DaskExecutor):
        return tuple(executor.client.scatter([X, y], broadcast=True))
    return X, y
