"""Which fits stopped at ``max_iter`` before converging: counted once, with advice.

The fold fits and refits silence scikit-learn's ``ConvergenceWarning``
(``_tuned._silence_refit_warnings``); the tuner says it once, here, in the
terms of the estimator it searched.
"""

import numbers

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._steps import epochs_parameter, final_step
from ._warn import warn_user


def count_unconverged(tuner, search, previous):
    """Say, once, how many fits did not converge; return how many, all rounds.

    Under successive halving only the last rung counts: the earlier ones
    stop at a small ``max_iter`` on purpose.
    """
    results = search.cv_results_
    # A warm start's earlier rounds were counted when they ran.
    first_row = len(previous.cv_results["params"]) if previous is not None else 0
    top_rung = None
    if search.rungs_grow_epochs():
        # Rarely the estimator's own max_iter: with 200 epochs and a
        # factor of 3 halving's rungs train for 22, 66 and 198.
        top_rung = int(np.max(results["n_resources"]))
    n_stopped = sum(
        reached is not None and (top_rung is None or reached >= top_rung)
        for reached in search.max_iter_reached_
    )
    n_candidates = len(results["params"]) - first_row
    if top_rung is not None:
        n_candidates = int(np.sum(np.asarray(results["n_resources"]) >= top_rung))
    n_fits = search.n_splits_ * n_candidates
    if tuner.refit:
        n_fits += 1
        n_stopped += stopped_at_max_iter(search.best_estimator_)
    n_total = n_stopped + (previous.n_max_iter_reached if previous is not None else 0)
    if n_stopped:
        max_iter = top_rung or final_step(search.estimator).max_iter
        warn_user(
            f"{n_stopped} of {n_fits} MLP fits stopped at max_iter={max_iter} "
            f"before converging; {_advice(tuner, search, max_iter)} "
            "The count is in n_max_iter_reached_.",
            ConvergenceWarning,
        )
    return n_total


def _advice(tuner, search, max_iter):
    """Say how to train longer, in the terms of the estimator searched."""
    network = final_step(search.estimator)
    lbfgs = getattr(network, "solver", None) == "lbfgs"
    # Never below what the estimator has: a low rung's max_iter is the
    # search's choice, not the user's (halving cut short trained for 22).
    own = getattr(network, "max_iter", max_iter)
    larger = 2 * max(max_iter, own if isinstance(own, numbers.Integral) else 0)
    how = f"{epochs_parameter(search.estimator)}={larger} on the estimator"
    if network is search.estimator:
        solver = "solver='lbfgs', " if lbfgs else ""
        how = (
            f"{type(tuner).__name__}({type(network).__name__}"
            f"({solver}max_iter={larger}))"
        )
    if lbfgs:  # a full-batch line search: no early stopping, no step size
        return f"consider a larger max_iter: {how}."
    return (
        f"consider a larger max_iter ({how}), early_stopping=True, or a "
        "larger learning_rate_init."
    )


def stopped_at_max_iter(estimator):
    """Tell whether a fitted MLP (or a pipeline ending in one) hit ``max_iter``."""
    final = final_step(estimator)
    n_iter, max_iter = getattr(final, "n_iter_", None), getattr(final, "max_iter", None)
    if n_iter is None or not isinstance(max_iter, numbers.Number):
        return False
    # Some estimators keep one count per class or target.
    return bool(np.max(n_iter) >= max_iter)
