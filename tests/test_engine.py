"""The engine's pure parts with fake scores: no MLP, milliseconds each.

The ASHA rule (``Scheduler``), the deterministic decisions (``_Decisions``),
the checkpoint journal and the task loop, as Optuna tests its pruners with
fake trials.
"""

import json
import random
import struct
import zlib

import numpy as np
import pytest

from sk_mlp_tune._asha import Scheduler, _Decisions
from sk_mlp_tune._checkpoint import CHECKPOINT_MAGIC, Checkpoint, read_journal
from sk_mlp_tune._engine import FoldResult, FoldTask, Task, TaskLoop
from sk_mlp_tune._monitor import Interrupted, SearchMonitor


def _numbered(index, history):
    return {"i": index}


# -- the ASHA rule --------------------------------------------------------------


def test_a_rung_promotes_its_top_third_best_first():
    scheduler = Scheduler([1, 3, 9], 9, _numbered)
    for _ in range(6):
        scheduler.next_candidate_rung()
    for candidate, score in enumerate([0.2, 0.9, 0.5, 0.1, 0.8, 0.3]):
        scheduler.record(candidate, 0, score)
    # Six finished the first rung: the top two, best first, go on.
    assert scheduler.next_candidate_rung() == (1, 1)
    assert scheduler.next_candidate_rung() == (4, 1)
    # Nothing else is in the top third: a new candidate starts.
    assert scheduler.next_candidate_rung() == (6, 0)


def test_the_highest_rung_promotes_first():
    scheduler = Scheduler([1, 3, 9], 9, _numbered)
    for _ in range(9):
        scheduler.next_candidate_rung()
    for candidate in range(9):
        scheduler.record(candidate, 0, candidate / 10)
    promoted = [scheduler.next_candidate_rung() for _ in range(3)]
    assert promoted == [(8, 1), (7, 1), (6, 1)]
    for candidate in (8, 7, 6):
        scheduler.record(candidate, 1, candidate / 10)
    # Rung 1 has a top third (candidate 8) before rung 0 is looked at again.
    assert scheduler.next_candidate_rung() == (8, 2)


def test_failed_candidates_are_never_promoted():
    scheduler = Scheduler([1, 3], 3, _numbered)
    for _ in range(3):
        scheduler.next_candidate_rung()
    for candidate in range(3):
        scheduler.record(candidate, 0, float("nan"))
    assert scheduler.next_candidate_rung() is None


def test_no_candidate_starts_beyond_the_budget_of_candidates():
    scheduler = Scheduler([1, 3], 2, _numbered)
    assert scheduler.next_candidate_rung() == (0, 0)
    assert scheduler.next_candidate_rung() == (1, 0)
    assert scheduler.next_candidate_rung() is None


def test_ties_promote_the_earlier_candidate():
    scheduler = Scheduler([1, 3], 3, _numbered)
    for _ in range(3):
        scheduler.next_candidate_rung()
    for candidate in range(3):
        scheduler.record(candidate, 0, 0.5)
    assert scheduler.next_candidate_rung() == (0, 1)


def test_the_estimators_own_settings_are_promoted_whatever_their_score():
    scheduler = Scheduler([1, 3, 9], 9, _numbered, always_promoted={0})
    for _ in range(3):
        scheduler.next_candidate_rung()
    for candidate, score in enumerate([0.1, 0.9, 0.8]):
        scheduler.record(candidate, 0, score)
    assert scheduler.next_candidate_rung() == (0, 1)
    assert scheduler.next_candidate_rung() == (1, 1)


# -- deterministic decisions ----------------------------------------------------


def _simulate(n_splits, lookahead, order_seed, n_workers=3):
    """Run the decisions with fake fold scores finishing in a random order.

    Returns the decisions made, in order. The score of a fold is a function
    of the candidate and the rung alone, as a seeded fit's would be.
    """
    scheduler = Scheduler([1, 3, 9], 12, _numbered)
    decisions = _Decisions(scheduler, n_splits, lookahead)
    rng = random.Random(order_seed)
    running = []
    while True:
        while len(running) < n_workers:
            task = decisions.next_task(lambda: True)
            if task is None:
                break
            running.append(task)
        if not running:
            return decisions.made
        task = running.pop(rng.randrange(len(running)))
        score = ((task.candidate * 7919) % 13 + task.rung) / 20
        decisions.finished(_result(task, score))


def _result(task, score):
    return FoldResult(
        task=task,
        test_score=score,
        test_scores={"score": score},
        train_scores={"score": np.nan},
        fit_time=0.0,
        score_time=0.0,
        n_epochs=task.epochs,
        error=None,
    )


def test_seeded_decisions_do_not_depend_on_the_order_results_arrive():
    made = {tuple(_simulate(3, lookahead=4, order_seed=seed)) for seed in range(8)}
    assert len(made) == 1
    (decisions,) = made
    # The whole search ran: 12 candidates, and promotions.
    assert len({candidate for candidate, _ in decisions}) == 12
    assert any(rung > 0 for _, rung in decisions)


def test_asynchronous_decisions_use_what_is_known_and_may_differ():
    made = {tuple(_simulate(3, lookahead=None, order_seed=seed)) for seed in range(8)}
    assert len(made) > 1


def test_a_decision_waits_for_results_only_beyond_the_lookahead():
    scheduler = Scheduler([1, 3], 9, _numbered)
    decisions = _Decisions(scheduler, n_splits=1, lookahead=2)
    first = [decisions.next_task(lambda: True) for _ in range(2)]
    assert [t.candidate for t in first] == [0, 1]
    # Decision 2 needs the result of decision 0.
    assert decisions.next_task(lambda: True) is None
    decisions.finished(_result(first[0], 0.5))
    assert decisions.next_task(lambda: True).candidate == 2


def test_no_decision_is_asked_for_while_folds_are_queued():
    scheduler = Scheduler([1, 3], 2, _numbered)
    decisions = _Decisions(scheduler, n_splits=3, lookahead=None)
    asked = []

    def may_decide():
        asked.append(True)
        return True

    tasks = [decisions.next_task(may_decide) for _ in range(3)]
    assert [t.fold for t in tasks] == [0, 1, 2]
    assert len(asked) == 1
    assert decisions.next_task(lambda: False) is None


# -- the checkpoint -------------------------------------------------------------


def _fold_results(n):
    tasks = (
        FoldTask(c, {"alpha": 10.0**-c}, f, 0, 3) for c in range(n) for f in (0, 1)
    )
    return [_result(task, 0.5 + task.candidate / 100) for task in tasks]


def test_the_checkpoint_gives_back_what_it_was_given(tmp_path):
    path = tmp_path / "search.ckpt"
    journal = Checkpoint(path, "fingerprint")
    journal.open()
    written = _fold_results(3)
    for result in written:
        journal.write(result)
    journal.close()
    again = Checkpoint(path, "fingerprint")
    for result in written:
        found = again.lookup(result.task)
        assert found is not None
        assert found.test_scores == result.test_scores
    assert again.lookup(FoldTask(9, {}, 0, 0, 3)) is None
    # A task with other parameters under the same numbers is not the same.
    other = FoldTask(0, {"alpha": 0.5}, 0, 0, 3)
    assert again.lookup(other) is None


def test_the_checkpoint_refuses_another_fingerprint_and_leaves_the_file(tmp_path):
    path = tmp_path / "search.ckpt"
    journal = Checkpoint(path, "one")
    journal.open()
    journal.write(_fold_results(1)[0])
    journal.close()
    before = path.read_bytes()
    with pytest.raises(ValueError, match="other data or settings"):
        Checkpoint(path, "another")
    assert path.read_bytes() == before


def test_the_checkpoint_drops_a_torn_last_record(tmp_path):
    path = tmp_path / "search.ckpt"
    journal = Checkpoint(path, "fingerprint")
    journal.open()
    for result in _fold_results(2):
        journal.write(result)
    journal.close()
    whole = path.read_bytes()
    with open(path, "ab") as file:
        file.write(b"\x40\x00\x00\x00\x00\x00\x00\x00torn")
    again = Checkpoint(path, "fingerprint")
    assert len(again.results) == 4
    again.open()
    again.close()
    assert path.read_bytes().startswith(whole)  # nothing written: left alone
    again.open()
    new = _fold_results(3)[-1]
    again.write(new)  # the first write cuts the torn record off
    again.close()
    assert len(read_journal(path)) == 1 + 5
    assert Checkpoint(path, "fingerprint").lookup(new.task) is not None


def test_no_file_runs_code_as_a_checkpoint(tmp_path):
    """Check the first line is read before anything, and JSON is all that is parsed."""
    import pickle

    path = tmp_path / "search.ckpt"
    path.write_bytes(pickle.dumps({"format": 3, "fingerprint": "fingerprint"}))
    with pytest.raises(ValueError, match="is not a checkpoint of sk_mlp_tune"):
        Checkpoint(path, "fingerprint")
    # A first line and a header, then a record with the right checksum that is
    # not JSON: refused, naming the record, and the file left as it is.
    path.write_bytes(_journal(tmp_path) + _framed(b"\x80\x04N."))
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"record \(number 2, .* not a fold result"):
        Checkpoint(path, "fingerprint")
    assert path.read_bytes() == before


def _journal(tmp_path):
    """Return the bytes of a good journal: the first line, a header, one record."""
    journal = Checkpoint(tmp_path / "good.ckpt", "fingerprint")
    journal.open()
    journal.write(_fold_results(1)[0])
    journal.close()
    return (tmp_path / "good.ckpt").read_bytes()


def _framed(data):
    return struct.pack("<QI", len(data), zlib.crc32(data)) + data


def _record(**changes):
    record = {
        "candidate": 1, "fold": 0, "rung": 0, "epochs": 3, "params": {},
        "test_score": 0.5, "test_scores": {"score": 0.5}, "train_scores": {},
        "fit_time": 0.0, "score_time": 0.0, "n_epochs": 3, "error": None,
        "stopped_by_tol": False,
    }  # fmt: skip
    return json.dumps({**record, **changes}).encode()


@pytest.mark.parametrize(
    ("record", "said"),
    [
        (_record(test_score=1e308), "a score of 1e\\+308"),
        (_record(test_score=float("inf")), "a score of inf"),
        (_record(test_scores={"score": float("-inf")}), "a score of -inf"),
        (_record(n_epochs=float("inf")), "n_epochs is inf"),
        (_record(candidate=True), "candidate is True"),
        (b"[" * 100_000 + b"]" * 100_000, "RecursionError"),
    ],
)
def test_a_tampered_record_is_refused_naming_the_file(tmp_path, record, said):
    """Records with right checksums but impossible content were trusted.

    Scores of 1e308 made asha choose a worse model; an infinite epoch count
    raised OverflowError, deep nesting RecursionError, on every resume.
    """
    path = tmp_path / "search.ckpt"
    path.write_bytes(_journal(tmp_path) + _framed(record))
    before = path.read_bytes()
    with pytest.raises(ValueError, match=f"search.ckpt.*{said}"):
        Checkpoint(path, "fingerprint")
    assert path.read_bytes() == before


def test_a_damaged_header_is_refused_not_written_over(tmp_path):
    """One flipped bit of the header rewrote the journal, dropping every result."""
    path = tmp_path / "search.ckpt"
    data = bytearray(_journal(tmp_path))
    data[len(CHECKPOINT_MAGIC) + 14] ^= 0x01  # a byte of the header's JSON
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged header"):
        Checkpoint(path, "fingerprint")
    assert path.read_bytes() == bytes(data)


# -- the task loop --------------------------------------------------------------


class _CountingSource:
    """Fake tasks that note how many were handed out ahead of their results."""

    def __init__(self, n_tasks, interrupt_after=None):
        self.keys = iter(range(n_tasks))
        self.in_flight = self.most_in_flight = 0
        self.results = []
        self.interrupt_after = interrupt_after

    def next_task(self, monitor):
        key = next(self.keys, None)
        if key is None or not monitor.may_start():
            return None
        monitor.started()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        return Task(key, pow, (key, 2))

    def finished(self, key, result):
        self.in_flight -= 1
        self.results.append((key, result))
        if len(self.results) == self.interrupt_after:
            raise Interrupted(1)


def _monitor(**settings):
    return SearchMonitor(max_time=None, n_planned=10, progress=False, **settings)


@pytest.mark.parametrize(
    ("pre_dispatch", "in_flight"), [(None, 1), (3, 3), ("2*n_jobs", 2), ("all", 10)]
)
def test_the_loop_keeps_pre_dispatch_tasks_in_flight(pre_dispatch, in_flight):
    source = _CountingSource(10)
    with TaskLoop(1, _monitor(), pre_dispatch) as loop:
        assert loop.run(source) is None
    assert source.most_in_flight == in_flight
    assert sorted(source.results) == [(k, k * k) for k in range(10)]


def test_the_loop_stops_on_ctrl_c_keeping_what_finished():
    source = _CountingSource(10, interrupt_after=2)
    monitor = _monitor()
    with TaskLoop(1, monitor, pre_dispatch=4) as loop:
        end = loop.run(source)
        assert isinstance(end.interrupted, Interrupted)
        # The tasks in flight that had finished are kept too.
        assert len(source.results) == 4
        # The loop is stopped: another run starts nothing.
        assert loop.run(_CountingSource(3)) is not None
    assert monitor.stop_reason == "interrupted"


def test_the_loop_starts_nothing_new_once_the_budget_is_spent():
    source = _CountingSource(10)
    monitor = _monitor()
    monitor.max_time = 0.0
    with TaskLoop(1, monitor) as loop:
        loop.run(source)
    # The first always runs; after it, the budget is spent.
    assert [key for key, _ in source.results] == [0]
    assert monitor.stop_reason == "max_time"


def test_the_loop_hands_results_over_in_submission_order():
    source = _CountingSource(6)
    with TaskLoop(1, _monitor(), pre_dispatch="all") as loop:
        loop.run(source)
    assert [key for key, _ in source.results] == list(range(6))


def test_a_failed_checkpoint_write_is_raised_and_nothing_follows_it(
    tmp_path, monkeypatch
):
    """Check a full disk: the error comes out, and no record is written after it."""
    import errno
    import os

    path = tmp_path / "search.ckpt"
    journal = Checkpoint(path, "fingerprint")
    journal.open()
    results = _fold_results(3)
    journal.write(results[0])
    journal._writer.submit(lambda: None).result()  # the first write is done

    def full(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    journal.write(results[1])
    with pytest.raises(OSError, match="No space left"):
        journal.close()
    monkeypatch.undo()
    # The first record is whole; the journal ends where the disk filled.
    assert Checkpoint(path, "fingerprint").lookup(results[0].task) is not None
