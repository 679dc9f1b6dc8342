"""The warm start: what a fit records, and whether the next one continues it."""

from dataclasses import dataclass, field

import joblib

from ._search import SEARCHES
from ._warn import warn_user


@dataclass
class WarmState:
    """What a warm-started fit needs of the previous one."""

    fingerprint: str
    strategy: type
    settings: dict
    rounds: int
    cv_results: dict
    evaluated: list
    prior_results: list
    best_index: int
    best_estimator_: object
    refit_time_: float
    n_max_iter_reached: int
    # The out-of-fold predictions an ensemble chose from, by row: the next
    # round's ensemble chooses among every round's candidates.
    predictions: dict = field(default_factory=dict)

    @classmethod
    def after(cls, tuner, X, y, previous):
        """Record the state of ``tuner`` just fitted on ``X, y``."""
        search = tuner.search_
        optimizers = getattr(search, "optimizers_", ())
        return cls(
            fingerprint=joblib.hash((X, y)),
            strategy=type(search),
            settings=_scoring_settings(tuner),
            rounds=previous.rounds + 1 if previous is not None else 1,
            cv_results=tuner.cv_results_,
            evaluated=list(tuner.cv_results_["params"]),
            prior_results=[(list(o.Xi), list(o.yi)) for o in optimizers],
            best_index=getattr(tuner, "best_index_", None),
            best_estimator_=getattr(tuner, "best_estimator_", None),
            refit_time_=getattr(tuner, "refit_time_", None),
            n_max_iter_reached=tuner.n_max_iter_reached_,
            predictions=getattr(search, "ensemble_library_", {}),
        )

    def same_data(self, X, y):
        """Tell whether ``X, y`` are the data of the previous fit."""
        return joblib.hash((X, y)) == self.fingerprint


def previous_round(tuner, X, y):
    """Return the state to continue from, or None to start over (and say so)."""
    state = getattr(tuner, "_warm_state", None)
    if state is None:
        return None
    settings = _scoring_settings(tuner)
    # A state recorded by an earlier version has no settings: start over.
    recorded = getattr(state, "settings", {})
    changed = [name for name in settings if settings[name] != recorded.get(name)]
    if state.strategy is not SEARCHES[tuner.search]:
        changed.insert(0, "the search strategy")
    if not state.same_data(X, y):
        changed.insert(0, "the data")
    if changed:
        # Scores of another metric, folds or model would be ranked together.
        warn_user(
            f"warm_start=True, but {' and '.join(changed)} differ from the "
            "previous fit; starting a new search.",
            UserWarning,
        )
        return None
    return state


def _scoring_settings(tuner):
    """Return what decides a candidate's score besides the data and the candidate.

    A warm-started round is merged with the last only when these are equal:
    scores of another metric, other folds or another model would be ranked
    together.
    """

    def stable(value):
        try:
            return joblib.hash(value)
        except Exception:  # a lambda scorer, say: its repr is the best we have
            return repr(value)

    return {
        "scoring": stable(tuner.scoring),
        "cv": stable(tuner.cv),
        "estimator": stable(tuner.estimator),
    }
