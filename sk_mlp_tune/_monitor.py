"""Budget, progress, interruptions and why a search stopped, for every strategy.

Every strategy runs its fold fits through the engine's task loop, which
asks a :class:`SearchMonitor` before starting new work; the searches tell
it what finished: the time budget (refit included), the progress line and
the stop reason live here. :func:`catching_interrupts` turns
Ctrl-C into :class:`Interrupted` for the length of a ``fit``.
"""

import contextlib
import contextvars
import signal
import sys
import threading
import time

import numpy as np


class SearchStopped(Exception):
    """Raised to end a search early: the budget is spent, or Ctrl-C was pressed."""


class Interrupted(BaseException):
    """Ctrl-C during a tuner's ``fit``.

    Raised where ``KeyboardInterrupt`` would be, but not one: scikit-learn's
    MLPs catch ``KeyboardInterrupt`` in their training loop and return a
    model cut short as if it were trained, and ``_fit_and_score`` catches
    ``Exception``. ``presses`` counts the Ctrl-C of this fit.
    """

    def __init__(self, presses):
        super().__init__(presses)
        self.presses = presses


@contextlib.contextmanager
def catching_interrupts():
    """Raise :class:`Interrupted` on Ctrl-C (SIGINT) while the block runs.

    Only in the main thread, where Python handles signals, and only when
    SIGINT is not ignored; the previous handler comes back afterwards.
    """
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, None)
    ):
        yield
        return
    presses = 0

    def on_sigint(signum, frame):
        nonlocal presses
        presses += 1
        stops_training = _CTRL_C_STOPS_TRAINING.get()
        if presses == 1 and stops_training is not None:
            stops_training.pressed = True
            raise KeyboardInterrupt
        raise Interrupted(presses)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _Pressed:
    pressed = False


_CTRL_C_STOPS_TRAINING = contextvars.ContextVar(
    "sk_mlp_tune_ctrl_c_stops_training", default=None
)


@contextlib.contextmanager
def ctrl_c_stops_training():
    """Make the fit's first Ctrl-C, in the block, end the training under way.

    Inside :func:`catching_interrupts`, the first press raises a plain
    ``KeyboardInterrupt`` here, which scikit-learn's MLPs (and the dropout
    MLPs) take as the end of their training: they return the network as
    trained so far. For the refit of the best candidate, whose search is
    done. Yields a record whose ``pressed`` says whether it happened; a
    second press raises :class:`Interrupted`, as anywhere.
    """
    record = _Pressed()
    token = _CTRL_C_STOPS_TRAINING.set(record)
    try:
        yield record
    finally:
        _CTRL_C_STOPS_TRAINING.reset(token)


class SearchMonitor:
    """Watch a search as its work finishes: the budget, progress, why it stopped.

    The one budget rule of every strategy: the engine's task loop asks
    :meth:`may_start` before each new piece of work (a candidate; under
    asha, a candidate or a promotion), and the searches tell it what
    finished and what the refit of the best so far should cost.

    Parameters
    ----------
    max_time : float or None
        Seconds the whole fit may take, the refit of the best candidate
        included; None for no budget.
    n_planned : int
        Candidates the search would evaluate without a budget.
    progress : bool
        Whether to show a progress line on standard error.
    start : float, default=None
        The ``time.perf_counter()`` the budget counts from, by default now:
        a tuner gives the start of its ``fit``, validation included.
    unit : str, default="evaluated"
        What the progress line counts.
    rungs : bool, default=False
        Whether the search scores candidates at rungs (successive halving):
        the progress line then says at which rung its best score is.
    n_refits : int, default=1
        The refits expected after the search (an ensemble's members), for
        the estimate of the whole fit's time.
    """

    def __init__(
        self,
        *,
        max_time,
        n_planned,
        progress,
        start=None,
        unit="evaluated",
        rungs=False,
        n_refits=1,
    ):
        self.max_time = max_time
        self.n_planned = n_planned
        self.progress = (
            ProgressLine(n_planned, unit=unit, rungs=rungs) if progress else None
        )
        self.start = time.perf_counter() if start is None else start
        self.n_started = 0
        self.n_evaluated = 0
        # The best mean score at the highest rung reached (rung 0 for a
        # search without rungs): the one the search chooses from, not a
        # lucky score after a few epochs.
        self.best_score = float("nan")
        self.best_rung = 0
        self.refit_estimate = 0.0
        self.n_refits = n_refits
        self.stop_reason = "completed"
        # The work planned and done, in units proportional to the training
        # time (epochs or rows times candidates under successive halving,
        # candidates otherwise), for the estimate of the whole fit's time.
        self.plan_work([1.0], [n_planned])

    @property
    def elapsed(self):
        """Seconds since the budget's start."""
        return time.perf_counter() - self.start

    @property
    def stopped(self):
        """Whether the search must start no new work."""
        return self.stop_reason != "completed"

    def stop(self, reason):
        """Start no new work from now on, for ``reason``."""
        if not self.stopped:
            self.stop_reason = reason

    def replan(self, n_planned):
        """Take the number of candidates planned, once the search knows it."""
        self.n_planned = n_planned
        if self.progress is not None:
            self.progress.n_planned = n_planned

    def plan_work(self, rung_work, rung_sizes):
        """Take the work the search plans, rung by rung, for the time estimate.

        ``rung_work[k]`` is the training one candidate costs at rung ``k``
        (its epochs or rows under successive halving: each rung trains for
        ``factor`` times longer than the one before), and ``rung_sizes[k]``
        the candidates that reach it. The estimate of the whole fit's time
        appears once the first rung's work is done: it is the time per unit
        of work so far, times the work planned, plus the refits.
        """
        self.rung_work = [float(w) for w in rung_work]
        self.work_planned = sum(
            w * n for w, n in zip(self.rung_work, rung_sizes, strict=False)
        )
        # A search without rungs estimates once a fifth of it is done.
        self.work_before_estimate = (
            self.rung_work[0] * rung_sizes[0]
            if len(rung_sizes) > 1
            else self.work_planned / 5
        )
        self.work_done = 0.0

    def finished_work(self, rung=0):
        """Take note that one candidate finished its training at ``rung``."""
        self.work_done += self.rung_work[min(rung, len(self.rung_work) - 1)]

    def estimated_total(self):
        """Return the estimated seconds of the whole fit, refits included, or None.

        None until the first rung's work is done (a fifth of the candidates,
        for a search without rungs): before, the time per unit of work says
        too little.
        """
        if not self.work_done or self.work_done < self.work_before_estimate:
            return None
        left = max(self.work_planned - self.work_done, 0.0)
        seconds_per_work = self.elapsed / self.work_done
        return (
            self.elapsed
            + left * seconds_per_work
            + (self.refit_estimate * self.n_refits)
        )

    def may_start(self):
        """Tell whether new work may start.

        The first always does: a search with no result has nothing to give.
        Later work starts while the time spent plus the estimated refit of
        the best candidate so far is within the budget, and nothing (Ctrl-C)
        stopped the search.
        """
        if not self.n_started:
            return True
        if self.max_time is not None and self.elapsed + self.refit_estimate >= (
            self.max_time
        ):
            self.stop("max_time")
        return not self.stopped

    def deadline(self):
        """Return the ``time.time()`` by which training must end, or None.

        What is left of the budget once the estimated refit of the best so
        far is set aside: a dropout MLP still training then stops at the end
        of its epoch, and its fit is discarded.
        """
        if self.max_time is None:
            return None
        return time.time() + self.max_time - self.elapsed - self.refit_estimate

    def started(self):
        """Take note that new work started."""
        self.n_started += 1

    def estimate_refit(self, seconds):
        """Take how long the refit of the best candidate so far should take."""
        self.refit_estimate = float(seconds)

    def candidate_finished(self, mean_score, refit_estimate=None, rung=0):
        """Take note of a candidate whose folds have all finished.

        ``refit_estimate`` is how long refitting it on all the data should
        take, if it is the best so far: its fold fit times, scaled up to the
        whole training set. None leaves the estimate as it is (asha makes
        its own, from the time per epoch). ``rung`` is successive halving's
        rung the score was earned at.
        """
        self.n_evaluated += 1
        self.finished_work(rung)
        if self.rung_scored(mean_score, rung) and refit_estimate is not None:
            self.estimate_refit(refit_estimate)

    def rung_scored(self, mean_score, rung):
        """Take a candidate's mean score at ``rung``; tell whether it leads now.

        A higher rung than any before starts the best score afresh: scores
        after fewer epochs (or samples) do not compare with it.
        """
        if not np.isfinite(mean_score) or rung < self.best_rung:
            return False
        if rung > self.best_rung or not mean_score <= self.best_score:
            self.best_rung = rung
            self.best_score = float(mean_score)
            return True
        return False

    def report(self, n_done, detail=""):
        """Update the progress line, if there is one."""
        if self.progress is not None:
            self.progress.update(
                n_done, self.best_score, self.elapsed, detail, self.best_rung,
                total=self.estimated_total(),
            )  # fmt: skip

    def close(self):
        """End the progress line."""
        if self.progress is not None:
            self.progress.close(self.stop_reason)


class ProgressLine:
    """A one-line progress report: candidates done, best score, time.

    On a terminal the line is rewritten in place. Elsewhere (a log file, CI,
    a notebook's captured output) an update is a line of its own when the
    bar has moved by a cell since the last line written, when it brings
    the first score or the first estimate of the whole fit's time, or when
    ``QUIET_SECONDS`` have passed without a line;
    the last update is written at the end. So a log gets about 22 lines
    however many fits there are, and still hears from a slow search.
    """

    QUIET_SECONDS = 30.0

    def __init__(self, n_planned, stream=None, unit="evaluated", rungs=False):
        self.n_planned = n_planned
        self.unit = unit
        self.rungs = rungs
        # None means sys.stderr at the time of writing: holding the stream
        # would make the search object unpicklable, and scikit-learn >= 1.9
        # sends it to the workers with every task.
        self._stream = stream
        # Outside a terminal: what the last line written showed, and the
        # last update, if it was not written.
        self._written = None  # ((filled cells, scored, estimated), elapsed)
        self._held = None
        self._width = 0  # of the line last written in place

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stderr

    @property
    def in_place(self):
        return getattr(self.stream, "isatty", lambda: False)()

    def update(self, n_done, best, elapsed, detail="", rung=0, total=None):
        width = len(str(self.n_planned))
        fraction = min(n_done / self.n_planned, 1.0) if self.n_planned else 1.0
        line = (
            f"Tuning {_bar(fraction)} {n_done:>{width}}/{self.n_planned} "
            f"{self.unit}{detail}"
        )
        if np.isfinite(best):  # nothing to say before a first score
            at = f" at rung {rung + 1}" if self.rungs else ""
            line += f" | best score{at} {best:.4f}"
        line += f" | {elapsed:.1f} s"
        if total is not None and total >= elapsed + 1:  # not for a few seconds
            line += f" of about {_duration(total)}"
        news = (_cells(fraction), np.isfinite(best), total is not None)
        if self.in_place:
            # Padded over the end of a longer line before it.
            self.stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
        elif self._worth_a_line(news, elapsed):
            self._written = (news, elapsed)
            self._held = None
            self.stream.write(line + "\n")
        else:
            self._held = line
        self.stream.flush()

    def _worth_a_line(self, news, elapsed):
        if self._written is None:
            return True
        news_written, written_at = self._written
        return news != news_written or elapsed - written_at >= self.QUIET_SECONDS

    def close(self, stop_reason):
        if self.in_place:
            self.stream.write("\n")
        elif self._held is not None:  # where the search ended
            self.stream.write(self._held + "\n")
            self._held = None
        if stop_reason != "completed":
            self.stream.write(f"Stopped early: {stop_reason}.\n")
        self.stream.flush()


_BAR_CELLS = 20


def _duration(seconds):
    """Return ``seconds`` as an estimate reads: "40 s", "14 min", "1.5 h"."""
    if seconds < 100:
        return f"{seconds:.0f} s"
    if seconds < 100 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _cells(fraction):
    """Return how many of the bar's cells ``fraction`` fills."""
    return min(_BAR_CELLS, round(fraction * _BAR_CELLS))


def _bar(fraction):
    filled = _cells(fraction)
    return "[" + "#" * filled + "." * (_BAR_CELLS - filled) + "]"
