"""
A pipeline on mixed-type pandas data
====================================

Numeric columns with gaps and a text column: impute and scale the numbers,
one-hot encode the text, and tune the MLP at the end of the pipeline. The
preprocessing is refitted inside every cross-validation split, so nothing
leaks from the validation folds.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.datasets import make_classification
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sk_mlp_tune import TunedMLPClassifier
from sk_mlp_tune.plotting import plot_search_history

X, y = make_classification(n_samples=600, n_features=6, n_informative=4, random_state=0)
rng = np.random.RandomState(0)
frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
frame.loc[rng.rand(600) < 0.05, "x0"] = np.nan  # 5% missing
frame["region"] = np.where(
    y == 1, rng.choice(["north", "south"], 600), rng.choice(["south", "east"], 600)
)
print(frame.head())

numeric = [f"x{i}" for i in range(6)]
model = make_pipeline(
    make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        (OneHotEncoder(handle_unknown="ignore"), ["region"]),
    ),
    TunedMLPClassifier(search="random", n_iter=8, cv=3, n_jobs=2, random_state=0),
)
X_train, X_test, y_train, y_test = train_test_split(
    frame, y, stratify=y, random_state=0
)
model.fit(X_train, y_train)
print(f"held-out accuracy: {model.score(X_test, y_test):.3f}")
print("best hyperparameters:", model[-1].best_params_)

# %%
# The plots take the pipeline as well as the tuner.
plot_search_history(model)
plt.show()
