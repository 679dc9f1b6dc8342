"""Helpers shared by the benchmark scripts: environment line and result files."""

import json
import os
import platform
import time
from pathlib import Path

import optuna
import sklearn
import skopt
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone

RESULTS_DIR = Path(__file__).parent / "results"


def environment():
    """Return the facts a timing depends on, for the tables and the JSON rows."""
    return {
        "date": time.strftime("%Y-%m-%d"),
        "sklearn": sklearn.__version__,
        "skopt": skopt.__version__,
        "optuna": optuna.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }


def environment_line():
    """Return the environment as one line for under a markdown table."""
    env = environment()
    return (
        f"{env['date']}, scikit-learn {env['sklearn']}, scikit-optimize "
        f"{env['skopt']}, optuna {env['optuna']}, {env['machine']}"
    )


def save_rows(name, rows):
    """Append rows, each with the environment, to results/<name>.jsonl."""
    RESULTS_DIR.mkdir(exist_ok=True)
    with (RESULTS_DIR / f"{name}.jsonl").open("a") as results:
        for row in rows:
            results.write(json.dumps({**row, **environment()}) + "\n")


def scaled_split(X, y, seed):
    """Split 75/25, stratified, and standardise with the training part's scale."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def timed(function, *args):
    """Call ``function(*args)`` and return (seconds, its result)."""
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


# asha's alternatives to its proposer and promotion rule, as bench_quality.py
# and bench_real.py name them: (proposer, share of a rung to wait for).
ASHA_VARIANTS = {
    "asha-gp": ("gp", 0.0),
    "asha-wait": ("tpe", 0.5),
    "asha-gp-wait": ("gp", 0.5),
}


class EngineVariant(MetaEstimatorMixin, BaseEstimator):
    """A tuner fitted with another asha proposer or promotion rule.

    The engine's choices are module settings (``sk_mlp_tune._asha``),
    not parameters a user sets; this sets them for the fit and puts them
    back. The proposer runs in this process, so the workers need not know.
    """

    def __init__(self, tuner, proposer="tpe", wait=0.0):
        self.tuner = tuner
        self.proposer = proposer
        self.wait = wait

    def fit(self, X, y):
        from sk_mlp_tune import _asha

        saved = _asha.PROPOSER, _asha.PROMOTION_WAIT
        _asha.PROPOSER = _asha.PROPOSERS[self.proposer]
        _asha.PROMOTION_WAIT = self.wait
        try:
            self.tuner_ = clone(self.tuner).fit(X, y)
        finally:
            _asha.PROPOSER, _asha.PROMOTION_WAIT = saved
        self.best_score_ = self.tuner_.best_score_
        return self

    def predict(self, X):
        return self.tuner_.predict(X)

    def score(self, X, y):
        return self.tuner_.score(X, y)
