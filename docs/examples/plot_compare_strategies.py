"""
Comparing the search strategies
===============================

Grid, random, Bayesian and successive-halving search over the same
architecture-and-dropout space, on half of ``load_digits``, with the same
budget of 8 candidates (the grid takes its own few values instead). The
benchmarks page compares them, and other tools, over more datasets and seeds.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier

X, y = load_digits(return_X_y=True)
X, y = StandardScaler().fit_transform(X[:800]), y[:800]
space = {
    "n_hidden_layers": (1, 2),
    "n_neurons": (16, 128, "log-uniform"),
    "dropout": (0.0, 0.4),
    "learning_rate_init": (1e-3, 1e-1, "log-uniform"),
}

histories, seconds = {}, {}
for search in ("grid", "random", "bayes", "halving"):
    tuner = TunedMLPClassifier(
        DropoutMLPClassifier(max_iter=40),
        param_space=space,
        search=search,
        n_iter=8,
        n_grid_points=2,
        cv=3,
        n_jobs=2,
        random_state=0,
    )
    start = time.perf_counter()
    tuner.fit(X, y)
    seconds[search] = time.perf_counter() - start
    histories[search] = np.fmax.accumulate(tuner.cv_results_["mean_test_score"])
    print(
        f"{search:>8}: best CV accuracy {tuner.best_score_:.3f} "
        f"in {seconds[search]:.1f} s, {len(histories[search])} evaluations"
    )

# %%
# The best cross-validated accuracy found so far, evaluation by evaluation.
# (Halving's later evaluations reuse candidates with more epochs, so its
# curve mixes rungs.)
fig, ax = plt.subplots(figsize=(6, 3.5))
for search, history in histories.items():
    ax.step(
        range(1, len(history) + 1),
        history,
        where="post",
        label=f"{search} ({seconds[search]:.0f} s)",
    )
ax.set_xlabel("evaluation")
ax.set_ylabel("best CV accuracy so far")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()
