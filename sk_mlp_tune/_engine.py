"""The package's own search loop: fold fits as they finish, and ASHA on top.

Every strategy's fold fits run here. Grid, random, Bayesian search and
successive halving decide their candidates in scikit-learn's and
scikit-optimize's classes; :class:`CandidateRunner` runs each candidate's
folds on the executor with no barrier between candidates, keeps each fold
as it finishes, and stops starting candidates when the budget is spent or
Ctrl-C is pressed (see ``_compat.fit_search``).

``search="asha"`` runs here whole. The pieces, each small:

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
  each record flushed and fsynced; a resumed search replays it instead of
  recomputing.
- the budget (``max_time``) and the progress line, from ``_monitor``.

Scores and timings are computed by scikit-learn's own ``_fit_and_score``,
so a row of ``cv_results_`` means what it means for ``GridSearchCV``.
"""

import contextlib
import math
import numbers
import os
import pickle
import re
import signal
import struct
import sys
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

from ._choice import (
    ESTIMATOR_ORIGIN,
    candidate_origins,
    choose_index,
    preferred_rows,
)
from ._compat import fit_and_score, joblib_loky_executor
from ._files import replaced_atomically
from ._monitor import Interrupted, ProgressLine
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
    trained in all, fewer than the rung's when it stopped by its tolerance.
    """

    task: FoldTask
    test_score: float
    test_scores: dict
    train_scores: dict
    fit_time: float
    score_time: float
    n_epochs: int
    error: str | None
    model: object = field(repr=False, default=None)

    @property
    def reached_max_iter(self):
        """Whether the fit ran every epoch it was given (did not converge)."""
        return self.error is None and self.n_epochs >= self.task.epochs


def run_fold_task(task, model, template, X, y, fold, context):
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
        ``return_train_score`` and ``error_score``.

    Returns
    -------
    result : FoldResult
    """
    resource = context["resource"]
    if model is None:
        estimator = clone(template).set_params(**task.params)
        parameters = {resource: task.epochs}
    else:
        estimator = model
        warm_start = resource.removesuffix("max_iter") + "warm_start"
        parameters = {resource: task.epochs - _epochs_trained(model), warm_start: True}
    train, test = fold
    with _fold_fit_conditions(context.get("in_worker", False)):
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
        model=None if failed else out["estimator"],
    )


def _named_scores(scores):
    """Return ``{metric: score}``: one metric's score is named "score"."""
    if isinstance(scores, dict):
        return {name: float(value) for name, value in scores.items()}
    return {"score": float(scores)}


@contextlib.contextmanager
def _fold_fit_conditions(in_worker):
    """Set up what every fold fit runs under, wherever it runs.

    One summary after the search replaces a ConvergenceWarning per fit; a
    batch larger than a small training fold is clipped to the fold, which
    is what the candidate asked for in effect. A worker process ignores
    Ctrl-C, which a terminal sends to every process of the job: the main
    process decides what an interruption means, and stops the workers.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        warnings.filterwarnings("ignore", message="Got `batch_size`")
        if not in_worker or threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def fit_and_score_fold(template, X, y, train, test, parameters, options, in_worker):
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
    in_worker : bool
        Whether this runs in a worker process.

    Returns
    -------
    out : dict
        ``_fit_and_score``'s result, without the fitted model.
    max_iter_reached : int or None
        The ``max_iter`` the fit ran out of before converging, if it did:
        one summary warning after the search counts these.
    """
    with _fold_fit_conditions(in_worker):
        out = fit_and_score(
            clone(template), X, y, train=train, test=test, parameters=parameters,
            **options,
        )  # fmt: skip
    model = out.pop("estimator", None)
    if out["fit_error"] is not None or model is None:
        return out, None
    final = final_step(model)
    n_iter, max_iter = getattr(final, "n_iter_", None), getattr(final, "max_iter", None)
    if n_iter is None or not isinstance(max_iter, int | np.integer):
        return out, None
    # Some estimators keep one count per class or target.
    return out, (int(max_iter) if np.max(n_iter) >= max_iter else None)


class WorkerLostError(RuntimeError):
    """A worker process died during a search: killed, or out of memory.

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
    finished_results_ : dict or None
        The candidates that had finished every fold, in the layout of
        ``cv_results_``; None if none had (or, for ``search="asha"``, see
        its checkpoint).
    """

    def __init__(self, message, running):
        super().__init__(message)
        self.running = running
        self.finished_results_ = None
        self.finished_folds = None  # {candidate: fold results}, for fit_search


def _worker_lost(error, running, *, resume_hint):
    shown = "; ".join(f"candidate {index} {params}" for index, params in running)
    return WorkerLostError(
        f"A worker process died while fitting {shown} ({type(error).__name__}). "
        "The usual cause is memory: a candidate too large for the machine, or "
        "too many jobs at once; try a smaller space or fewer n_jobs. "
        f"{resume_hint}",
        running,
    )


class CandidateRunner:
    """Evaluate candidates fold by fold, keeping each fold as it finishes.

    No barrier between candidates: a worker that finishes a fold takes the
    next one at once, whatever the others are doing. Before each new
    candidate the monitor is asked whether it may start (the time budget,
    refit included); once it may not, the folds of the candidates already
    started finish and nothing else starts. On Ctrl-C (:class:`Interrupted`)
    the workers are stopped at once and the fits cut short are discarded.

    Use it as a context manager: the executor lives as long as the search.

    Parameters
    ----------
    n_jobs : int or None
        As ``n_jobs`` of the search, honouring ``joblib.parallel_config``.
    monitor : SearchMonitor
        The budget, progress and stop reason.
    pre_dispatch : int or str, default="2*n_jobs"
        Fold fits handed to the workers ahead, as in ``GridSearchCV``.
    """

    def __init__(self, n_jobs, monitor, pre_dispatch="2*n_jobs"):
        self.n_jobs = n_jobs
        self.pre_dispatch = pre_dispatch
        self.monitor = monitor
        self.n_started = 0
        self.max_iter_reached = []
        self._executor = None
        self._shared = None

    def __enter__(self):
        self._executor = make_executor(self.n_jobs)
        return self

    def __exit__(self, kind, error, traceback):
        # After an error the workers go; otherwise they stay, reusable by
        # the next search, as joblib's do.
        if self._executor is not None:
            self._executor.shutdown(kill_workers=kind is not None)
        self._executor = self._shared = None
        return False

    def _stop_workers(self, in_flight):
        """Stop at once the workers fitting what Ctrl-C cut short."""
        if isinstance(self._executor, _DaskExecutor):
            # The cluster is the user's: stop only our tasks. (loky's futures
            # must not be cancelled: its shutdown then fails to set their
            # error, in its own thread, and leaves its queues waiting.)
            for future in in_flight:
                future.cancel()
        self._executor.shutdown(kill_workers=True)
        self._executor = None

    def __call__(self, template, X, y, candidates, splits, options, score_name):
        """Return the fold results of the candidates that finished.

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

        Returns
        -------
        finished : dict
            ``{candidate index: [_fit_and_score dict per split]}``.
        """
        executor = self._executor
        if executor is None:  # stopped by Ctrl-C
            return {}
        in_worker = isinstance(executor, _ProcessExecutor)
        if self._shared is None or self._shared[0] is not X:
            self._shared = (X, _share(executor, X, y))
        data = self._shared[1]
        n_splits = len(splits)
        pending = deque((c, s) for c in range(len(candidates)) for s in range(n_splits))
        started, folds, reached, in_flight = set(), {}, {}, {}

        def keep(candidate, split, out, max_iter_reached):
            folds.setdefault(candidate, {})[split] = out
            reached.setdefault(candidate, []).append(max_iter_reached)
            if len(folds[candidate]) == n_splits:
                # Counted once the candidate is kept, not if cut short.
                self.max_iter_reached.extend(reached[candidate])
                outs = [folds[candidate][f] for f in range(n_splits)]
                self._tell_monitor(outs, splits, X, score_name)

        # Tasks ahead of the workers, so that none waits for work.
        capacity = _dispatched_ahead(self.pre_dispatch, executor.n_workers)
        try:
            while pending or in_flight:
                while pending and len(in_flight) < capacity:
                    candidate, split = pending[0]
                    if candidate not in started:
                        if not self.monitor.may_start_candidate(self.n_started):
                            break
                        started.add(candidate)
                        self.n_started += 1
                    pending.popleft()
                    train, test = splits[split]
                    future = executor.submit(
                        fit_and_score_fold, template, *data, train, test,
                        candidates[candidate], options, in_worker,
                    )  # fmt: skip
                    in_flight[future] = (candidate, split)
                if not in_flight:
                    break
                done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                for future in done:
                    candidate, split = in_flight[future]
                    try:
                        out, max_iter_reached = future.result()
                    except BrokenProcessPool as error:
                        running = sorted({c for c, _ in in_flight.values()})
                        lost = _worker_lost(
                            error,
                            [(c, candidates[c]) for c in running],
                            resume_hint="The candidates that had finished are in "
                            "this error's finished_results_.",
                        )
                        lost.finished_folds = _complete(folds, n_splits)
                        raise lost from None
                    del in_flight[future]
                    keep(candidate, split, out, max_iter_reached)
        except Interrupted:
            self.monitor.stop("interrupted")
            # A fold that finished before Ctrl-C may complete its candidate.
            for future, (candidate, split) in list(in_flight.items()):
                if (
                    future.done()
                    and not future.cancelled()
                    and future.exception() is None
                ):
                    del in_flight[future]
                    keep(candidate, split, *future.result())
            self._stop_workers(in_flight)
        return _complete(folds, n_splits)

    def _tell_monitor(self, outs, splits, X, score_name):
        scores = [out["test_scores"] for out in outs]
        if isinstance(scores[0], dict):
            scores = [s.get(score_name, next(iter(s.values()))) for s in scores]
        n_samples = _n_samples(X)
        # The refit trains on every sample; the folds' fits on a share each.
        refit_estimate = np.mean(
            [
                out["fit_time"] * n_samples / max(len(train), 1)
                for out, (train, _) in zip(outs, splits, strict=True)
            ]
        )
        self.monitor.candidate_finished(float(np.mean(scores)), refit_estimate)


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


class Checkpoint:
    """An append-only journal of finished fold results, durable record by record.

    The first record is a header holding the fingerprint of the data and
    settings; each following one a :class:`FoldResult`. A record is its
    length, its bytes (a pickle) and a CRC32, appended, flushed and fsynced,
    so a process killed mid-write leaves at most a torn last record, which
    reading ignores and resuming cuts off. Load only checkpoints you wrote:
    they are pickles.

    Parameters
    ----------
    path : str or path-like
        The journal file; created if missing.
    fingerprint : str
        What the journal must have been written for.
    """

    _HEADER = struct.Struct("<QI")  # length, crc32
    FORMAT = 2  # 2: fold results hold every metric's scores

    def __init__(self, path, fingerprint):
        self.path = os.fspath(path)
        self.fingerprint = fingerprint
        self.results = {}
        self._good_size = 0
        if os.path.exists(self.path):
            self._read()

    def _read(self):
        records, self._good_size = _read_records(self.path)
        header = records[0] if records else None
        if (
            not isinstance(header, dict)
            or header.get("format") != self.FORMAT
            or header.get("fingerprint") != self.fingerprint
        ):
            raise ValueError(
                f"The checkpoint {self.path!r} was written by a search with other "
                "data or settings, so it cannot be resumed; it was left as it is. "
                "Give another checkpoint path, delete this file to start over, or "
                "fit with the data and settings it was written for."
            )
        for result in records[1:]:
            task = result.task
            self.results[task.candidate, task.fold, task.rung] = result

    def open(self):
        """Open the journal for appending, cutting off a torn last record."""
        self._file = open(self.path, "ab")  # closed in close()
        if self._good_size:
            self._file.truncate(self._good_size)
        else:
            self._file.truncate(0)
            self._write_bytes(self._frame(self._header()))
        # Writes and fsyncs run beside the search, one at a time, in order.
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sk_mlp_tune-ckpt")
        self._writes = []

    def lookup(self, task):
        """Return the recorded result of ``task``, or None."""
        result = self.results.get((task.candidate, task.fold, task.rung))
        if result is not None and result.task == task:
            return result
        return None

    def write(self, result):
        """Append ``result`` durably, in the background.

        It is pickled here, before the search trains its model further; the
        write and the fsync follow on the writer thread. A failed write is
        raised at the next write or at ``close``.
        """
        self._raise_failed_writes()
        self._writes.append(self._writer.submit(self._write_bytes, self._frame(result)))

    def _raise_failed_writes(self):
        finished = [w for w in self._writes if w.done()]
        self._writes = [w for w in self._writes if not w.done()]
        for write in finished:
            write.result()

    def _header(self):
        return {"format": self.FORMAT, "fingerprint": self.fingerprint}

    def _frame(self, record):
        """Return ``record`` as journal bytes: length, CRC32, pickle."""
        data = _dumps(record)
        return self._HEADER.pack(len(data), zlib.crc32(data)) + data

    def _write_bytes(self, frame):
        self._file.write(frame)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self):
        """Finish the pending writes, then close the journal."""
        if getattr(self, "_file", None) is None:
            return
        try:
            self._writer.shutdown(wait=True)
            self._raise_failed_writes()
        finally:
            self._file.close()
            self._file = None

    def compact(self, results):
        """Rewrite the journal with ``results`` and no models, atomically.

        A finished search needs no model to resume from: a refit with the
        same settings replays every result.
        """
        self.close()
        with (
            replaced_atomically(self.path) as temporary,
            open(temporary, "wb") as file,
        ):
            # One fsync for the whole file, by replaced_atomically.
            file.write(self._frame(self._header()))
            for result in results:
                file.write(
                    self._frame(FoldResult(**{**result.__dict__, "model": None}))
                )


def _dumps(record):
    return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)


def _read_records(path):
    """Return the intact records of a journal and the size they take."""
    size = Checkpoint._HEADER.size
    records, good = [], 0
    with open(path, "rb") as file:
        while True:
            head = file.read(size)
            if len(head) < size:
                break
            length, crc = Checkpoint._HEADER.unpack(head)
            data = file.read(length)
            if len(data) < length or zlib.crc32(data) != crc:
                break
            try:
                records.append(pickle.loads(data))
            except Exception:  # a record we cannot read ends the journal
                break
            good = file.tell()
    return records, good


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
                for process in list(getattr(self._executor, "_processes", {}).values()):
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
    max_time: float | None
    verbose: int
    seeded: bool
    n_points: int | None
    checkpoint: object
    fingerprint_parts: tuple


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

    def run(self, X, y, folds, fit_params, score_params):
        """Search, then set the results; return self."""
        s = self.settings
        start = time.perf_counter()
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
            checkpoint.open()
        context = {
            "scorer": s.scorer,
            "refit_metric": s.refit_metric,
            "resource": s.resource,
            "fit_params": fit_params,
            "score_params": score_params,
            "return_train_score": s.return_train_score,
            "error_score": s.error_score,
        }
        executor = make_executor(s.n_jobs)
        context["in_worker"] = isinstance(executor, _ProcessExecutor)
        # Asynchronous promotion decides the number of fits as it goes; the
        # bar counts candidates started, the line the fits finished too.
        progress = (
            ProgressLine(s.n_candidates, unit="candidates") if s.verbose > 0 else None
        )
        self.stop_reason_ = "completed"
        self.n_tasks_replayed_ = 0
        # Seeded, the decisions must not depend on the workers' timing.
        lookahead = None
        if s.seeded:
            lookahead = s.n_points or default_lookahead(executor.n_workers, len(folds))
        decisions = _Decisions(scheduler, len(folds), lookahead)
        results = {}  # (candidate, fold, rung) -> FoldResult
        models = {}  # (candidate, fold) -> latest fitted model
        in_flight = {}  # future -> task
        data = _share(executor, X, y)
        interrupted = None
        # The refit trains the winner from scratch on all the data, for up to
        # max_epochs: estimated from the first rung's time per epoch.
        refit_estimate, epoch_times = 0.0, []
        refit_scale = _n_samples(X) / np.mean([max(len(t), 1) for t, _ in folds])
        try:
            if progress is not None:
                progress.update(0, float("nan"), 0.0, ", 0 fits")
            while True:
                # The first candidate always runs: a search with no result
                # would have nothing to give. After the budget no candidate
                # or promotion starts, but those started finish their folds.
                if (
                    s.max_time is not None
                    and scheduler.params
                    and time.perf_counter() - start + refit_estimate >= s.max_time
                ):
                    self.stop_reason_ = "max_time"
                # Fill every free worker; replayed results count as done at once.
                while len(in_flight) < executor.n_workers:
                    task = decisions.next_task(self.stop_reason_ == "completed")
                    if task is None:
                        break
                    replayed = checkpoint.lookup(task) if checkpoint else None
                    model = models.get((task.candidate, task.fold))
                    if replayed is not None:
                        self.n_tasks_replayed_ += 1
                        future = _done(replayed)
                    elif model is not None and _stopped_by_tolerance(model):
                        # Stopped for good: its scores stand at every rung.
                        future = _done(_carried_over(results, task))
                    else:
                        future = executor.submit(
                            run_fold_task,
                            task,
                            model,
                            s.template,
                            *data,
                            folds[task.fold],
                            context,
                        )
                    in_flight[future] = task
                if not in_flight:
                    break
                done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: _order(in_flight[f])):
                    task = in_flight[future]
                    try:
                        result = future.result()
                    except BrokenProcessPool as error:
                        running = sorted(
                            {(t.candidate, t.rung) for t in in_flight.values()}
                        )
                        hint = (
                            "Every finished fold is in the checkpoint "
                            f"{s.checkpoint!r}: fit again to resume from there."
                            if checkpoint is not None
                            else "Give checkpoint= (with an integer random_state) "
                            "to resume a search from where it stopped."
                        )
                        raise _worker_lost(
                            error,
                            [(c, scheduler.params[c]) for c, _ in running],
                            resume_hint=hint,
                        ) from None
                    del in_flight[future]
                    if checkpoint is not None and checkpoint.lookup(task) is None:
                        checkpoint.write(result)
                    results[task.candidate, task.fold, task.rung] = result
                    if result.model is not None:
                        # Only the latest model of a fold is continued from.
                        models[task.candidate, task.fold] = result.model
                        result.model = None
                    decisions.finished(result)
                    if task.rung == 0 and result.error is None:
                        epoch_times.append(result.fit_time / max(result.n_epochs, 1))
                        refit_estimate = (
                            np.mean(epoch_times) * s.max_epochs * refit_scale
                        )
                    if progress is not None:
                        progress.update(
                            len(scheduler.params),
                            _best_score(scheduler),
                            time.perf_counter() - start,
                            f", {len(results)} fits",
                        )
        except Interrupted as error:
            # Fits cut short are discarded; what finished is kept.
            self.stop_reason_ = "interrupted"
            interrupted = error
        finally:
            failed = sys.exc_info()[0] is not None
            executor.shutdown(kill_workers=failed or interrupted is not None)
            if progress is not None:
                progress.close(self.stop_reason_)
            if checkpoint is not None:
                checkpoint.close()
        if checkpoint is not None and self.stop_reason_ == "completed":
            checkpoint.compact(results.values())
        if interrupted is not None and not _any_row_finished(results, len(folds)):
            raise interrupted
        self._set_results(scheduler, results, len(folds))
        self.search_time_ = time.perf_counter() - start
        # The settings hold the template and the data's fingerprint parts:
        # the fitted search keeps its results, not its inputs.
        self.settings = None
        return self

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
        self.n_fits_at_max_iter_ = int(
            sum(
                r.reached_max_iter
                for r in results.values()
                if r.task.rung == len(self.rungs_) - 1
            )
        )
        self.fold_errors_ = [r.error for r in results.values() if r.error]

    def _epochs_before(self, result, results):
        if result.task.rung == 0:
            return 0
        previous = results.get(
            (result.task.candidate, result.task.fold, result.task.rung - 1)
        )
        return previous.n_epochs if previous is not None else 0


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
        """Return the next fold task to run, or None to wait for results."""
        if not self.queue:
            if not may_decide:
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


def _carried_over(results, task):
    """Return the result of a fold model that has nothing left to train."""
    previous = results[task.candidate, task.fold, task.rung - 1]
    return FoldResult(
        **{**previous.__dict__, "task": task, "fit_time": 0.0, "score_time": 0.0}
    )


def _order(task):
    return (task.candidate, task.rung, task.fold)


def _best_score(scheduler):
    """Best mean score at the highest rung reached so far, for progress."""
    for rung in reversed(range(len(scheduler.rungs))):
        scores = [s[rung] for s in scheduler.scores if rung in s]
        finite = [v for v in scores if np.isfinite(v)]
        if finite:
            return max(finite)
    return float("nan")


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
