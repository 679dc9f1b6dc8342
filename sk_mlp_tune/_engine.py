"""The package's one task loop, its executors, and the fold task.

Every strategy's fold fits run on one :class:`TaskLoop`: it hands tasks to
the executor's workers, keeps each result as it comes, asks the monitor
(``_monitor.SearchMonitor``, the one budget rule) before new work, and
stops on Ctrl-C or a dead worker. What the tasks are is its source's
business:

- :class:`CandidateRunner`, for grid, random, Bayesian search and
  successive halving, whose candidates scikit-learn's and scikit-optimize's
  classes decide (``_searchbase``): each candidate's folds, with no
  barrier between candidates, each run by :func:`fit_and_score_fold`.
- ``_asha._AshaTasks``, for ``search="asha"``: a :class:`FoldTask`
  (candidate, fold, rung, epochs) run by :func:`run_fold_task`, which
  trains one fold model up to the rung's epochs, starting from the model
  the previous rung left, and returns a :class:`FoldResult` with
  everything the search needs. Nothing travels by any other way.

The executor is in-process for one job, loky's reusable processes (through
joblib) for several, or a dask client's executor inside
``joblib.parallel_config(backend="dask")``. Scores and timings are computed
by scikit-learn's own ``_fit_and_score``, so a row of ``cv_results_``
means what it means for ``GridSearchCV``.
"""

import contextlib
import itertools
import math
import numbers
import os
import re
import signal
import threading
import time
import warnings
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import joblib
import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning

from ._callbacks import received
from ._compat import fit_and_score, joblib_loky_executor, loky_worker_processes
from ._ensemble import fold_predictions
from ._monitor import Interrupted
from ._network import training_deadline
from ._steps import final_step


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
    (grid, random, Bayesian, halving): ``_searchbase._EngineSearchMixin``
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
                self.splits,
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


def _raise_if_unscorable(scores, fit_errors, template, X, y, params, folds, options):
    """Stop the search when its first candidate was fitted but a fold could not score.

    On no fold, the metric cannot score this task (``roc_auc`` on three
    classes, say); on some folds only, a class with fewer rows than folds
    leaves some folds without it, which a metric over the labels it sees
    (``neg_log_loss``) cannot score. Either way no candidate would get a
    mean score: say why at once, in one error, rather than run the whole
    search on NaN. The scorer's own error comes from scoring such a fold
    again, here, with errors raised.
    """
    if any(error is not None for error in fit_errors):
        return
    unscored = [i for i, score in enumerate(scores) if not np.isfinite(score)]
    rare = _rare_classes(y, len(folds)) if is_classifier(template) else {}
    if not unscored or (len(unscored) < len(scores) and not rare):
        return  # a NaN on some folds, of no known cause: as any NaN score
    train, test = folds[unscored[0]]
    try:
        fit_and_score(
            clone(template), X, y, train=train, test=test, parameters=params,
            **{**options, "error_score": "raise", "return_train_score": False},
        )  # fmt: skip
    except Exception as error:  # the scorer's, whatever it is
        cause = _shortened(f"{type(error).__name__}: {error}".strip().splitlines()[-1])
    else:
        return  # it scored this time: the search goes on, as for a NaN score
    scorer = options["scorer"]
    if len(unscored) < len(scores):
        classes = ", ".join(
            f"{label!r} ({count} rows)" for label, count in rare.items()
        )
        raise ValueError(
            f"The first candidate was scored on {len(scores) - len(unscored)} of "
            f"{len(scores)} folds; on the others the scoring ({scorer}) failed: "
            f"{cause}. The class{'es' if len(rare) > 1 else ''} {classes} "
            f"{'have' if len(rare) > 1 else 'has'} fewer rows than the "
            f"{len(folds)} folds, so some folds train or test without "
            f"{'them' if len(rare) > 1 else 'it'}, and no candidate would get a "
            "mean score. Merge or drop the rare class, use fewer folds (cv=2), "
            "or a metric that scores any fold, such as 'accuracy'."
        )
    raise ValueError(
        f"The first candidate was fitted on every fold but scored on none: the "
        f"scoring ({scorer}) cannot score this task, so no candidate would get "
        f"a score. Its error: {cause}. Choose a metric that fits the task (for "
        "more than two classes, e.g. 'roc_auc_ovr' or 'f1_macro')."
    )


def _rare_classes(y, n_splits):
    """Return ``{label: rows}`` of the classes with fewer rows than folds."""
    labels, counts = np.unique(np.asarray(y), return_counts=True)
    return {
        label.item() if isinstance(label, np.generic) else label: int(count)
        for label, count in zip(labels, counts, strict=True)
        if count < n_splits
    }


def _shortened(text, limit=300):
    """Return ``text`` cut to ``limit`` characters: an error may echo whole arrays."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def _epochs_trained(model):
    """Epochs a fitted (warm-started) MLP has run in all its fits."""
    final = final_step(model)
    curve = getattr(final, "loss_curve_", None)
    if curve is not None:
        return len(curve)
    return int(np.max(getattr(final, "n_iter_", 0)))


def _stopped_by_tolerance(model):
    return getattr(final_step(model), "_stopped_by_tol", False)


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


def _done(result):
    future = Future()
    future.set_result(result)
    return future


def _share(executor, X, y):
    """Send the data to a cluster once, rather than with every task."""
    if isinstance(executor, _DaskExecutor):
        return tuple(executor.client.scatter([X, y], broadcast=True))
    return X, y
