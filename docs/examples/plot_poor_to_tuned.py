"""
From a poor MLP to a tuned one
==============================

An MLP with a badly chosen learning rate and a tiny hidden layer learns
little, whatever the training does. :class:`~sk_mlp_tune.TunedMLPClassifier`
searches the hyperparameters by cross-validation and keeps the best.
"""

import time

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import TunedMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

# %%
# A poor configuration: two hidden neurons, a learning rate far too high.
poor = make_pipeline(
    StandardScaler(),
    MLPClassifier(
        hidden_layer_sizes=(2,), learning_rate_init=0.5, max_iter=50, random_state=0
    ),
)
poor.fit(X_train, y_train)
poor_accuracy = poor.score(X_test, y_test)
print(f"poor MLP:  held-out accuracy {poor_accuracy:.3f}")

# %%
# The tuned one: random search over the default space, two jobs.
start = time.perf_counter()
tuned = make_pipeline(
    StandardScaler(),
    TunedMLPClassifier(search="random", n_iter=8, cv=3, n_jobs=2, random_state=0),
)
tuned.fit(X_train, y_train)
tuned_accuracy = tuned.score(X_test, y_test)
print(
    f"tuned MLP: held-out accuracy {tuned_accuracy:.3f} "
    f"in {time.perf_counter() - start:.1f} s"
)
print("best hyperparameters:", tuned[-1].best_params_)

# %%
# Each candidate's cross-validated accuracy, in the order they were tried.
scores = tuned[-1].cv_results_["mean_test_score"]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.bar(range(1, len(scores) + 1), scores, color="tab:blue", label="candidates")
ax.axhline(poor_accuracy, color="tab:red", linestyle="--", label="poor MLP")
ax.set_xlabel("candidate")
ax.set_ylabel("CV accuracy")
ax.set_ylim(0, 1)
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()
