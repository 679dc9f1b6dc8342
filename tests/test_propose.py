"""The pure parts of asha: its proposers and its promotion rule."""

import numpy as np
import pytest

from sk_mlp_tune._asha import Scheduler
from sk_mlp_tune._propose import GPProposer, Observation, TPEProposer
from sk_mlp_tune._space import Choice, Range, lies_in

LINE = {"x": Range(0.0, 1.0, log=False, integer=False)}


def _peaked_history(peak=0.7, n=8, rung=10):
    return [
        Observation({"x": float(x)}, {rung: -((x - peak) ** 2)})
        for x in np.linspace(0.05, 0.95, n)
    ]


@pytest.mark.parametrize("proposer", [TPEProposer, GPProposer])
def test_a_proposer_is_a_function_of_index_and_history(proposer):
    space = [{**LINE, "shape": Choice(((16,), (32, 16)))}]
    history = [
        Observation({"x": 0.1 * i, "shape": (16,)}, {10: float(i)}) for i in range(6)
    ]
    first = proposer(space, n_startup=5, random_state=0).ask(6, history)
    again = proposer(space, n_startup=5, random_state=0).ask(6, history)
    other = proposer(space, n_startup=5, random_state=0).ask(7, history)
    assert first == again
    assert first != other
    assert lies_in(first, space[0])
    assert first["shape"] in ((16,), (32, 16))


def test_gp_proposes_near_the_best_once_it_has_enough_scores():
    history = _peaked_history()
    distances = [
        abs(
            GPProposer([LINE], n_startup=5, random_state=seed).ask(8, history)["x"]
            - 0.7
        )
        for seed in range(5)
    ]
    assert np.median(distances) < 0.05


def test_gp_draws_at_random_before_it_has_enough_scores():
    few = _peaked_history()[:3]
    distances = [
        abs(GPProposer([LINE], n_startup=5, random_state=seed).ask(3, few)["x"] - 0.7)
        for seed in range(20)
    ]
    assert np.median(distances) > 0.1


def test_gp_models_the_highest_rung_that_enough_candidates_reached():
    # At 10 epochs the best is near 0.2, at 30 (reached by five) near 0.7:
    # the longer training is the one to believe.
    history = [
        Observation(
            {"x": float(x)},
            {10: -((x - 0.2) ** 2), **({30: -((x - 0.7) ** 2)} if i % 2 else {})},
        )
        for i, x in enumerate(np.linspace(0.05, 0.95, 10))
    ]
    proposer = GPProposer([LINE], n_startup=5, random_state=0)
    xs = [proposer.ask(index, history)["x"] for index in range(10, 14)]
    assert np.median(np.abs(np.subtract(xs, 0.7))) < 0.1


def test_gp_leaves_out_candidates_outside_the_space():
    history = [*_peaked_history(), Observation({"x": 5.0}, {10: 100.0})]
    proposed = GPProposer([LINE], n_startup=5, random_state=0).ask(9, history)
    assert abs(proposed["x"] - 0.7) < 0.1


def _scheduler(wait):
    scheduler = Scheduler([1, 3, 9], 12, lambda index, history: {"i": index}, wait=wait)
    for _ in range(12):
        scheduler.next_candidate_rung()
    return scheduler


@pytest.mark.parametrize(("wait", "promotes_after"), [(0.0, 3), (0.5, 6)])
def test_a_rung_promotes_once_its_wait_is_over(wait, promotes_after):
    scheduler = _scheduler(wait)
    for candidate in range(12):
        scheduler.record(candidate, 0, score=float(candidate))
        if candidate + 1 < promotes_after:
            assert scheduler._promotable(0) is None
    scheduler = _scheduler(wait)
    for candidate in range(promotes_after):
        scheduler.record(candidate, 0, score=float(candidate))
    # The best of those finished goes on.
    assert scheduler.next_candidate_rung() == (promotes_after - 1, 1)


def test_waiting_never_holds_back_the_estimators_own_settings():
    scheduler = Scheduler([1, 3, 9], 12, lambda i, h: {}, wait=0.5, always_promoted={0})
    scheduler.next_candidate_rung()
    scheduler.record(0, 0, score=0.0)
    assert scheduler.next_candidate_rung() == (0, 1)
