"""Budget, progress and why a search stopped, for every strategy.

The searches built on scikit-learn's and scikit-optimize's classes report
here batch by batch (:class:`SearchMonitor`); the package's own engine
reports each finished fit (:class:`ProgressLine`, :class:`Budget`).
"""

import sys
import time


class BudgetSpent(Exception):
    """Raised between batches once the time budget is spent."""


class SearchMonitor:
    """Watch a search batch by batch: time budget, progress, why it stopped.

    Parameters
    ----------
    max_time : float or None
        Seconds after which no new batch starts; None for no budget.
    batch_size : int
        Candidates per batch where the search lets us choose (grid and random
        search; halving evaluates one rung at a time, Bayesian search one
        ``n_points`` proposal at a time).
    n_planned : int
        Candidates the search would evaluate without a budget.
    progress : bool
        Whether to show a progress line on standard error.
    """

    def __init__(self, *, max_time, batch_size, n_planned, progress):
        self.max_time = max_time
        self.batch_size = batch_size
        self.n_planned = n_planned
        self.progress = ProgressLine(n_planned) if progress else None
        self.start = time.perf_counter()
        self.n_evaluated = 0
        self.n_batches = 0
        self.stop_reason = "completed"

    @property
    def elapsed(self):
        """Seconds since the monitor was created."""
        return time.perf_counter() - self.start

    def check_budget(self):
        """Raise BudgetSpent if the budget is spent; the first batch always runs."""
        if (
            self.n_batches
            and self.max_time is not None
            and self.elapsed >= self.max_time
        ):
            self.stop_reason = "max_time"
            raise BudgetSpent

    def record(self, results):
        """Take note of the results after a batch."""
        self.n_batches += 1
        self.n_evaluated = len(results["params"])
        if self.progress is not None:
            scores = results["mean_test_score"]
            self.progress.update(self.n_evaluated, _nanmax(scores), self.elapsed)

    def close(self):
        """End the progress line."""
        if self.progress is not None:
            self.progress.close(self.stop_reason)

    def batched(self, evaluate_candidates):
        """Wrap a search's ``evaluate_candidates`` to run in monitored batches."""

        def evaluate(candidate_params, cv=None, more_results=None, **context):
            # scikit-learn >= 1.9's callback context (in ``context``) numbers the
            # fits of one call; split calls would clash, and the tuner takes
            # no callbacks, so it is not passed on.
            candidates = list(candidate_params)
            # Halving's per-candidate extras must stay aligned: one batch.
            step = len(candidates) if more_results is not None else self.batch_size
            results = None
            for first in range(0, len(candidates), max(step, 1)):
                self.check_budget()
                results = evaluate_candidates(
                    candidates[first : first + step], cv, more_results
                )
                self.record(results)
            return results

        return evaluate


def _nanmax(values):
    finite = [v for v in values if v == v]
    return max(finite) if finite else float("nan")


class ProgressLine:
    """A one-line progress report: candidates done, best score, time.

    On a terminal the line is rewritten in place; elsewhere (a log file, CI,
    a notebook's captured output) each update is a line of its own, so the
    output stays readable wherever it goes.
    """

    def __init__(self, n_planned, stream=None, unit="evaluated"):
        self.n_planned = n_planned
        self.unit = unit
        # None means sys.stderr at the time of writing: holding the stream
        # would make the search object unpicklable, and scikit-learn >= 1.9
        # sends it to the workers with every task.
        self._stream = stream

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stderr

    @property
    def in_place(self):
        return getattr(self.stream, "isatty", lambda: False)()

    def update(self, n_done, best, elapsed, detail=""):
        width = len(str(self.n_planned))
        bar = _bar(min(n_done / self.n_planned, 1.0) if self.n_planned else 1.0)
        line = (
            f"Tuning {bar} {n_done:>{width}}/{self.n_planned} {self.unit}{detail}"
            f" | best score {best:.4f} | {elapsed:.1f} s"
        )
        self.stream.write(("\r" + line) if self.in_place else line + "\n")
        self.stream.flush()

    def close(self, stop_reason):
        if self.in_place:
            self.stream.write("\n")
        if stop_reason != "completed":
            self.stream.write(f"Stopped early: {stop_reason}.\n")
        self.stream.flush()


def _bar(fraction, width=20):
    filled = min(width, round(fraction * width))
    return "[" + "#" * filled + "." * (width - filled) + "]"
