"""
Tuning a regressor on load_diabetes
===================================

:class:`~sk_mlp_tune.TunedMLPRegressor` searches the same space as the
classifier (learning rate, depth, width, dropout, ...) with R² as its
metric. Scaling matters twice for an MLP regressor: the features and the
target, here with :class:`~sklearn.compose.TransformedTargetRegressor`.
"""

import matplotlib.pyplot as plt
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import TunedMLPRegressor

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

tuner = TunedMLPRegressor(search="random", n_iter=10, cv=3, n_jobs=2, random_state=0)
model = make_pipeline(
    StandardScaler(), TransformedTargetRegressor(tuner, transformer=StandardScaler())
).fit(X_train, y_train)
fitted = model[-1].regressor_
print("best hyperparameters:", fitted.best_params_)
print(
    f"CV R²: {fitted.best_score_:.3f}, held-out R²: {model.score(X_test, y_test):.3f}"
)

# %%
# A linear baseline: ten features and 442 patients are little for a neural
# network, and a ridge regression is hard to beat here.
ridge = make_pipeline(StandardScaler(), RidgeCV()).fit(X_train, y_train)
print(f"ridge held-out R²: {ridge.score(X_test, y_test):.3f}")

# %%
fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.scatter(y_test, model.predict(X_test), s=12, label="tuned MLP")
ax.scatter(y_test, ridge.predict(X_test), s=12, marker="x", label="ridge")
lims = [y.min(), y.max()]
ax.plot(lims, lims, color="gray", linewidth=1)
ax.set_xlabel("true disease progression")
ax.set_ylabel("predicted")
ax.legend()
fig.tight_layout()
plt.show()
