"""
The figures of the search report
================================

The three figures that :func:`sk_mlp_tune.report.write_report` embeds in its
HTML page, drawn on their own: the search history, the score against each
hyperparameter, and the training of the refitted best network.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier
from sk_mlp_tune.plotting import (
    plot_hyperparameter_scores,
    plot_loss_curve,
    plot_search_history,
)

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X[:900])
y = y[:900]
tuner = TunedMLPClassifier(
    DropoutMLPClassifier(max_iter=60, early_stopping=True),
    param_space={
        "learning_rate_init": (1e-4, 1e-1, "log-uniform"),
        "n_neurons": (16, 256, "log-uniform"),
        "activation": ["relu", "tanh"],
    },
    search="bayes",
    n_iter=10,
    n_points=2,
    cv=3,
    n_jobs=2,
    random_state=0,
).fit(X, y)

# %%
# Each candidate's mean CV score, with its spread over the folds, and the
# best so far.
plot_search_history(tuner)

# %%
# The score against each hyperparameter: log axes for the log ranges, one
# box per value for the choices.
plot_hyperparameter_scores(tuner)

# %%
# The refitted best network: training loss and, with early stopping, the
# validation accuracy at each epoch.
plot_loss_curve(tuner)
plt.show()
