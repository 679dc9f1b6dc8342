"""
Dropout on a wide network
=========================

A network much wider than ``load_digits`` needs (two layers of 512 units),
trained with and without dropout. Dropout zeroes each hidden unit with the
given probability at every training step, so that units cannot rely on each
other; it acts as a regulariser, at some cost in epochs.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import DropoutMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

fig, (loss_ax, score_ax) = plt.subplots(1, 2, figsize=(9, 3.5))
for dropout in (0.0, 0.2, 0.5):
    clf = DropoutMLPClassifier(
        n_hidden_layers=2,
        n_neurons=512,
        dropout=dropout,
        max_iter=60,
        early_stopping=True,
        n_iter_no_change=10,
        random_state=0,
    ).fit(X_train, y_train)
    label = f"dropout {dropout} (test {clf.score(X_test, y_test):.3f})"
    loss_ax.plot(clf.loss_curve_, label=label)
    score_ax.plot(clf.validation_scores_, label=label)
    print(label, f"after {clf.n_iter_} epochs")

loss_ax.set_xlabel("epoch")
loss_ax.set_ylabel("training loss (with the masks)")
score_ax.set_xlabel("epoch")
score_ax.set_ylabel("validation accuracy")
score_ax.legend(loc="lower right", fontsize="small")
fig.tight_layout()
plt.show()
