"""scikit-learn's MLPs plus dropout and architecture shorthands.

scikit-learn will not add dropout to its MLPs (its FAQ: the module takes bug
fixes only), which also keeps the internals these subclasses build on
stable. The training-time overrides are ``_backprop``, which draws a
dropout mask per mini-batch; ``_fit_stochastic``, the epoch loop, which
the masks and the resumed sample order need; ``_validation_split``, which
holds out the early-stopping set as the parent does but keeps the sample
weights with it; and ``_fit``, which routes ``dropout=0`` to the parent.
With ``dropout=0`` every step is the parent's, so results are identical to
the parent class. The parent's internals they rely on are probed in
``_compat.MLP_INTERNALS``.
"""

import contextlib
import contextvars
import numbers
import time
import warnings
from typing import ClassVar

import numpy as np
import sklearn
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils import gen_batches, shuffle
from sklearn.utils.extmath import safe_sparse_dot

from ._callbacks import NO_EPOCHS, epoch_tasks
from ._compat import (
    DROPOUT_TESTED_SKLEARN,
    MLP_INTERNALS,
    CallbackSupportMixin,
    Interval,
    StrOptions,
)


class TrainingDeadlinePassed(Exception):
    """A fit ran past the deadline its search set (``max_time``): cut short."""


# The time.time() after which a dropout MLP stops training at the end of an
# epoch, set by the search around a fold fit (training_deadline).
_DEADLINE = contextvars.ContextVar("sk_mlp_tune_training_deadline", default=None)


@contextlib.contextmanager
def training_deadline(deadline):
    """Cut the dropout MLPs' training at the first epoch that ends after ``deadline``.

    ``deadline`` is a ``time.time()`` (worker processes share the clock),
    or None for none. A fit cut so raises :class:`TrainingDeadlinePassed`;
    the search discards it, as a fit cut short by Ctrl-C. scikit-learn's
    own MLPs run their epochs to the end.
    """
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


# A funnel halves the width at each layer, but never below this many units
# (or the first layer's width, if smaller): narrower layers lose information
# faster than they save time.
FUNNEL_FLOOR = 8

# scikit-learn's own default architecture, used when nothing says otherwise.
_PARENT_DEFAULT_SIZES = (100,)

_STOCHASTIC_SOLVERS = ("sgd", "adam")

# What the optimizer, the batches and the masks of a fit were made with; a
# warm-started fit continues it exactly only if none of these changed.
_CONTINUED_SETTINGS = (
    "solver",
    "learning_rate",
    "learning_rate_init",
    "power_t",
    "momentum",
    "nesterovs_momentum",
    "beta_1",
    "beta_2",
    "epsilon",
    "batch_size",
    "shuffle",
    "dropout",
    "activation",
)

_DROPOUT_CONSTRAINTS = {
    "hidden_layer_sizes": [
        "array-like",
        Interval(numbers.Integral, 1, None, closed="left"),
        None,
    ],
    "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    "n_hidden_layers": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "n_neurons": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "layer_shape": [StrOptions({"constant", "funnel"})],
}


def _make_optimizer(mlp, params):
    """Return the optimizer the parent would make for ``mlp``'s solver."""
    if mlp.solver == "sgd":
        return MLP_INTERNALS.SGDOptimizer(
            params,
            mlp.learning_rate_init,
            mlp.learning_rate,
            mlp.momentum,
            mlp.nesterovs_momentum,
            mlp.power_t,
        )
    return MLP_INTERNALS.AdamOptimizer(
        params, mlp.learning_rate_init, mlp.beta_1, mlp.beta_2, mlp.epsilon
    )


def architecture(n_hidden_layers, n_neurons, layer_shape="constant"):
    """Return the hidden layer sizes that the architecture shorthands describe.

    Parameters
    ----------
    n_hidden_layers : int
        Number of hidden layers.
    n_neurons : int
        Width of the first hidden layer.
    layer_shape : {"constant", "funnel"}, default="constant"
        ``"constant"`` keeps every layer ``n_neurons`` wide; ``"funnel"``
        halves the width at each layer, never below ``FUNNEL_FLOOR`` (8)
        units or ``n_neurons`` if that is smaller.

    Returns
    -------
    hidden_layer_sizes : tuple of int
        One width per hidden layer.

    Examples
    --------
    >>> from sk_mlp_tune._network import architecture
    >>> architecture(3, 128, "funnel")
    (128, 64, 32)
    >>> architecture(3, 16, "funnel")
    (16, 8, 8)
    >>> architecture(2, 50)
    (50, 50)
    """
    if layer_shape == "constant":
        return (n_neurons,) * n_hidden_layers
    floor = min(n_neurons, FUNNEL_FLOOR)
    return tuple(max(n_neurons >> depth, floor) for depth in range(n_hidden_layers))


class _DropoutMLPMixin(CallbackSupportMixin):
    """Dropout and architecture shorthands for a scikit-learn MLP subclass.

    It takes scikit-learn's callbacks (``set_callbacks``, scikit-learn >=
    1.9): its fit is a task, each epoch of a stochastic solver a subtask.
    """

    # The epochs' callback tasks, during a fit: see _callbacks.epoch_tasks.
    _epochs = NO_EPOCHS

    def _resolve_hidden_layer_sizes(self):
        shorthand = self.n_hidden_layers is not None or self.n_neurons is not None
        if shorthand and self.hidden_layer_sizes is not None:
            raise ValueError(
                f"{type(self).__name__} got both hidden_layer_sizes="
                f"{self.hidden_layer_sizes!r} and n_hidden_layers="
                f"{self.n_hidden_layers!r}, n_neurons={self.n_neurons!r}; describe "
                "the architecture one way: set hidden_layer_sizes=None to use the "
                "shorthands, or n_hidden_layers=None and n_neurons=None."
            )
        if shorthand:
            return architecture(
                self.n_hidden_layers or 1,
                self.n_neurons or _PARENT_DEFAULT_SIZES[0],
                self.layer_shape,
            )
        if self.layer_shape != "constant":
            raise ValueError(
                f"layer_shape={self.layer_shape!r} shapes the layers that "
                "n_hidden_layers and n_neurons describe, but neither is set; set "
                "them, or leave layer_shape='constant' with hidden_layer_sizes."
            )
        sizes = self.hidden_layer_sizes
        if sizes is None:
            return _PARENT_DEFAULT_SIZES
        if isinstance(sizes, numbers.Integral):
            return (int(sizes),)
        return tuple(int(size) for size in sizes)

    def _check_dropout(self):
        if self.dropout == 0:
            return
        if MLP_INTERNALS is None:
            raise RuntimeError(
                f"dropout={self.dropout!r} needs the training internals of "
                f"scikit-learn's MLP as in scikit-learn {DROPOUT_TESTED_SKLEARN}; "
                f"the installed scikit-learn {sklearn.__version__} differs. Install "
                f"a version from {DROPOUT_TESTED_SKLEARN}, or use dropout=0."
            )
        if self.solver == "lbfgs":
            raise ValueError(
                f"dropout={self.dropout!r} needs a stochastic solver, but "
                "solver='lbfgs' is a full-batch line search that a random mask at "
                "every evaluation would mislead. Use solver='adam' or 'sgd', or "
                "dropout=0."
            )

    def _fit(self, X, y, sample_weight=None, incremental=False):
        sizes = self._resolve_hidden_layer_sizes()
        self._check_dropout()
        # Decided before the parent's _fit, which reseeds _random_state.
        self._continuation = (
            self._random_state
            if not incremental
            and self._can_continue(sizes)
            # Other data (another length) start a new sample order: the
            # parent's warm start, from the previous weights.
            and len(self._sample_order)
            == (X.shape[0] if hasattr(X, "shape") else len(X))
            else None
        )
        # The parent reads hidden_layer_sizes inside _fit; lend it the resolved
        # tuple for the call and give the user's value back whatever happens.
        declared = self.hidden_layer_sizes
        self.hidden_layer_sizes = sizes
        try:
            with epoch_tasks(self, X, y) as self._epochs:
                fitted = super()._fit(
                    X, y, sample_weight=sample_weight, incremental=incremental
                )
        finally:
            self.hidden_layer_sizes = declared
            del self._continuation
            self.__dict__.pop("_epochs", None)
        self.hidden_layer_sizes_ = sizes
        if self.solver in _STOCHASTIC_SOLVERS:
            self._training_settings = self._settings_that_shape_training(sizes)
        return fitted

    def _settings_that_shape_training(self, sizes):
        params = self.get_params(deep=False)
        return (sizes, *(params[name] for name in _CONTINUED_SETTINGS))

    def _can_continue(self, sizes):
        """Tell whether this warm-started fit continues the previous one exactly.

        That needs a stochastic solver without early stopping (whose
        validation split and restored best weights belong to one fit), a
        previous fit of ours, and the settings its optimizer, batches and
        masks were made with.
        """
        return (
            self.warm_start
            and MLP_INTERNALS is not None
            and hasattr(self, "_sample_order")
            and not self.early_stopping
            and self.solver in _STOCHASTIC_SOLVERS
            and getattr(self, "_training_settings", None)
            == self._settings_that_shape_training(sizes)
        )

    def _fit_stochastic(
        self,
        X,
        y,
        sample_weight,
        activations,
        deltas,
        coef_grads,
        intercept_grads,
        layer_units,
        incremental,
    ):
        """Run the epochs of a stochastic solver: the parent's loop, resumable.

        The same steps as scikit-learn's, in the same order, so a fresh fit
        is the parent's. What the loop carries from one epoch to the next
        (the optimizer, the random stream, the order of the samples) is kept
        on the estimator, so that a warm-started fit with unchanged settings
        goes on where the last one stopped: 22 epochs and then 44 more give
        the network that 66 epochs at once give. It is long because it is
        the parent's loop step for step: scikit-learn 1.9's
        ``BaseMultilayerPerceptron._fit_stochastic`` is 188 lines.
        """
        if MLP_INTERNALS is None:
            # A scikit-learn whose loop we have not checked: its own, fresh.
            return super()._fit_stochastic(
                X,
                y,
                sample_weight,
                activations,
                deltas,
                coef_grads,
                intercept_grads,
                layer_units,
                incremental,
            )
        continuing = self._continuation is not None
        if continuing:
            self._random_state = self._continuation
        params = self.coefs_ + self.intercepts_
        if not continuing and (not incremental or not hasattr(self, "_optimizer")):
            self._optimizer = _make_optimizer(self, params)

        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        if early_stopping:
            (X_train, X_val, y_train, y_val, sample_weight_train, sample_weight_val) = (
                self._validation_split(X, y, sample_weight)
            )
        else:
            X_train, y_train, sample_weight_train = X, y, sample_weight
            X_val = y_val = sample_weight_val = None

        if continuing and self._stopped_by_tol:
            # The uninterrupted fit would have stopped here for good.
            self.n_iter_ = 0
            return
        self._stopped_by_tol = False
        n_samples = X_train.shape[0]
        sample_idx = (
            self._sample_order if continuing else np.arange(n_samples, dtype=int)
        )
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than "
                    "sample size. It is going to be clipped",
                    stacklevel=4,
                )
            batch_size = np.clip(self.batch_size, 1, n_samples)

        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                epoch = self._epochs.begin()
                if self.shuffle:
                    sample_idx = shuffle(sample_idx, random_state=self._random_state)
                self._sample_order = sample_idx
                accumulated_loss = 0.0
                for batch_slice in gen_batches(n_samples, batch_size):
                    batch_idx = sample_idx[batch_slice] if self.shuffle else batch_slice
                    X_batch = X_train[batch_idx]
                    activations[0] = X_batch
                    batch_loss, coef_grads, intercept_grads = self._backprop(
                        X_batch,
                        y_train[batch_idx],
                        None
                        if sample_weight is None
                        else sample_weight_train[batch_idx],
                        activations,
                        deltas,
                        coef_grads,
                        intercept_grads,
                    )
                    accumulated_loss += batch_loss * (
                        batch_slice.stop - batch_slice.start
                    )
                    self._optimizer.update_params(params, coef_grads + intercept_grads)

                self.n_iter_ += 1
                deadline = _DEADLINE.get()
                if deadline is not None and time.time() > deadline:
                    self._epochs.end(epoch)
                    raise TrainingDeadlinePassed(
                        f"the search's time budget ran out after {self.n_iter_} "
                        "epochs of this fit"
                    )
                self.loss_ = accumulated_loss / X_train.shape[0]
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
                self._update_no_improvement_count(
                    early_stopping, X_val, y_val, sample_weight_val
                )
                self._optimizer.iteration_ends(self.t_)
                if self._epochs.end(epoch):
                    break  # a callback asked training to stop

                if self._no_improvement_count > self.n_iter_no_change:
                    what = "Validation score" if early_stopping else "Training loss"
                    message = (
                        f"{what} did not improve more than tol={self.tol:f} for "
                        f"{self.n_iter_no_change} consecutive epochs."
                    )
                    if self._optimizer.trigger_stopping(message, self.verbose):
                        self._stopped_by_tol = True
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter})"
                        " reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=4,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=4)

        if early_stopping:
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts

    def _validation_split(self, X, y, sample_weight):
        """Hold out ``validation_fraction`` of the samples, as the parent does."""
        stratify = y if is_classifier(self) and self.n_outputs_ == 1 else None
        arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
        parts = train_test_split(
            *arrays,
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        if sample_weight is None:
            parts += [None, None]
        X_train, X_val, y_train, y_val, sample_weight_train, sample_weight_val = parts
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        if is_classifier(self):
            y_val = self._label_binarizer.inverse_transform(y_val)
        return X_train, X_val, y_train, y_val, sample_weight_train, sample_weight_val

    def _backprop(
        self, X, y, sample_weight, activations, deltas, coef_grads, intercept_grads
    ):
        """Compute the loss and its gradients on one batch, with dropout.

        Each hidden unit is zeroed with probability ``dropout`` and the kept
        ones are scaled by ``1 / (1 - dropout)`` (inverted dropout), so that
        prediction, which does not pass through here, needs no rescaling.
        """
        if self.dropout == 0:
            return super()._backprop(
                X, y, sample_weight, activations, deltas, coef_grads, intercept_grads
            )
        keep = 1.0 - self.dropout
        hidden_activation = MLP_INTERNALS.activations[self.activation]
        output = self.n_layers_ - 2

        # Forward, masking every hidden layer with a fresh mask.
        masks = [None] * (output + 1)
        for layer in range(output + 1):
            z = safe_sparse_dot(activations[layer], self.coefs_[layer])
            z += self.intercepts_[layer]
            activations[layer + 1] = z
            if layer < output:
                hidden_activation(z)
                kept = self._random_state.uniform(size=z.shape) < keep
                masks[layer + 1] = kept.astype(z.dtype) / z.dtype.type(keep)
                z *= masks[layer + 1]
        MLP_INTERNALS.activations[self.out_activation_](activations[-1])

        loss_name = self.loss
        if loss_name == "log_loss" and self.out_activation_ == "logistic":
            loss_name = "binary_log_loss"
        loss = MLP_INTERNALS.loss_functions[loss_name](
            y, activations[-1], sample_weight
        )
        sw_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
        squared_weights = sum(np.dot(c.ravel(), c.ravel()) for c in self.coefs_)
        loss += (0.5 * self.alpha) * squared_weights / sw_sum

        # Backward. The output delta is the canonical-link one, as the parent's.
        deltas[output] = activations[-1] - y
        if sample_weight is not None:
            deltas[output] *= sample_weight.reshape(-1, 1)
        self._compute_loss_grad(
            output, sw_sum, activations, deltas, coef_grads, intercept_grads
        )
        derivative = MLP_INTERNALS.derivatives[self.activation]
        for layer in range(output, 0, -1):
            deltas[layer - 1] = safe_sparse_dot(deltas[layer], self.coefs_[layer].T)
            # Dropped units pass no gradient; kept ones carry the 1/keep scale.
            deltas[layer - 1] *= masks[layer]
            # The derivative is a function of the unmasked activation, which
            # is the masked one times keep wherever the unit was kept.
            derivative(activations[layer] * keep, deltas[layer - 1])
            self._compute_loss_grad(
                layer - 1, sw_sum, activations, deltas, coef_grads, intercept_grads
            )
        return loss, coef_grads, intercept_grads


_WARM_START_DOC = """
    warm_start : bool, default=False
        When True, ``fit`` continues the previous fit. With a stochastic
        solver, no early stopping and the same training settings, it goes on
        exactly where that fit stopped: the optimizer's state (Adam's
        moments, SGD's velocity and schedule), the random stream and the
        order of the samples are kept, so 22 epochs and then ``max_iter=44``
        more equal 66 epochs at once, and a fit that had stopped by its
        tolerance stays stopped. Otherwise, as in the parent, the weights
        are the starting point of a new optimizer.
"""

_EXTRA_PARAMETERS_DOC = """
    dropout : float in [0, 1), default=0.0
        Probability that each hidden unit is zeroed during training, with a
        fresh mask per mini-batch drawn from ``random_state``. Kept units are
        scaled by ``1 / (1 - dropout)``, so prediction is unchanged. Needs a
        stochastic solver (``"adam"`` or ``"sgd"``).

    n_hidden_layers : int >= 1, default=None
        Number of hidden layers. With ``n_neurons`` (either may be left
        None: 1 layer, 100 neurons), describes the architecture instead of
        ``hidden_layer_sizes``, which must then be None.

    n_neurons : int >= 1, default=None
        Width of the first hidden layer; see ``layer_shape``.

    layer_shape : {"constant", "funnel"}, default="constant"
        ``"constant"``: every hidden layer has ``n_neurons`` units.
        ``"funnel"``: each layer has half the units of the previous one,
        never fewer than 8 (or ``n_neurons`` if smaller); 3 layers of 128
        give 128-64-32.

"""


class DropoutMLPClassifier(_DropoutMLPMixin, MLPClassifier):
    """Multi-layer perceptron classifier with dropout and architecture shorthands.

    :class:`~sklearn.neural_network.MLPClassifier` with every one of its
    parameters, plus ``dropout`` and a way to describe the architecture as
    scalars (``n_hidden_layers``, ``n_neurons``, ``layer_shape``) that any
    search strategy can tune. With ``dropout=0`` it fits exactly the same
    network as its parent.

    Read more in the :ref:`User Guide <architecture>`.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=None
        The number of neurons in each hidden layer. None means (100,) unless
        ``n_hidden_layers`` or ``n_neurons`` is set.

    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation function of the hidden layers.
    {extra}
    solver, alpha, batch_size, learning_rate, learning_rate_init, power_t, \
max_iter, shuffle, random_state, tol, verbose : as in MLPClassifier
        See :class:`~sklearn.neural_network.MLPClassifier`.
    {warm_start}
    momentum, nesterovs_momentum, early_stopping, validation_fraction, \
beta_1, beta_2, epsilon, n_iter_no_change, max_fun : as in MLPClassifier
        See :class:`~sklearn.neural_network.MLPClassifier`.

    Attributes
    ----------
    hidden_layer_sizes_ : tuple of int
        The hidden layer sizes the network was built with.

    classes_, loss_, best_loss_, loss_curve_, validation_scores_, \
best_validation_score_, t_, coefs_, intercepts_, n_features_in_, \
feature_names_in_, n_iter_, n_layers_, n_outputs_, out_activation_
        As in :class:`~sklearn.neural_network.MLPClassifier`.

    See Also
    --------
    DropoutMLPRegressor : The same for regression.
    TunedMLPClassifier : Tunes these hyperparameters by cross-validation.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sk_mlp_tune import DropoutMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DropoutMLPClassifier(
    ...     n_hidden_layers=3, n_neurons=32, layer_shape="funnel", dropout=0.1,
    ...     max_iter=300, random_state=0,
    ... ).fit(X, y)
    >>> clf.hidden_layer_sizes_
    (32, 16, 8)
    >>> print(f"{clf.score(X, y):.2f}")
    0.9...
    """

    __doc__ = (
        __doc__.replace("{extra}", _EXTRA_PARAMETERS_DOC.rstrip()).replace(
            "{warm_start}", _WARM_START_DOC.strip()
        )
        if __doc__
        else None
    )

    _parameter_constraints: ClassVar[dict] = {
        **MLPClassifier._parameter_constraints,
        **_DROPOUT_CONSTRAINTS,
    }

    def __init__(
        self,
        hidden_layer_sizes=None,
        activation="relu",
        *,
        dropout=0.0,
        n_hidden_layers=None,
        n_neurons=None,
        layer_shape="constant",
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
        )
        self.dropout = dropout
        self.n_hidden_layers = n_hidden_layers
        self.n_neurons = n_neurons
        self.layer_shape = layer_shape


class DropoutMLPRegressor(_DropoutMLPMixin, MLPRegressor):
    """Multi-layer perceptron regressor with dropout and architecture shorthands.

    :class:`~sklearn.neural_network.MLPRegressor` with every one of its
    parameters, plus ``dropout`` and a way to describe the architecture as
    scalars (``n_hidden_layers``, ``n_neurons``, ``layer_shape``) that any
    search strategy can tune. With ``dropout=0`` it fits exactly the same
    network as its parent.

    Read more in the :ref:`User Guide <architecture>`.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=None
        The number of neurons in each hidden layer. None means (100,) unless
        ``n_hidden_layers`` or ``n_neurons`` is set.

    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation function of the hidden layers.
    {extra}
    loss : {"squared_error", "poisson"}, default="squared_error"
        The loss minimised.

    solver, alpha, batch_size, learning_rate, learning_rate_init, power_t, \
max_iter, shuffle, random_state, tol, verbose : as in MLPRegressor
        See :class:`~sklearn.neural_network.MLPRegressor`.
    {warm_start}
    momentum, nesterovs_momentum, early_stopping, validation_fraction, \
beta_1, beta_2, epsilon, n_iter_no_change, max_fun : as in MLPRegressor
        See :class:`~sklearn.neural_network.MLPRegressor`.

    normalize_y : bool, default=False
        Whether to learn the target standardised (its mean removed, scaled
        to unit variance, per output, with the statistics of the first
        fit's ``y``), as :class:`~sklearn.gaussian_process.GaussianProcessRegressor`
        does; predictions are in the target's own units, ``loss_`` and
        ``loss_curve_`` in standardised ones. An MLP learns poorly from a
        target of large mean or scale (diabetes progression, around 150),
        and :class:`TunedMLPRegressor` turns this on for its default
        network. The same as ``TransformedTargetRegressor(...,
        transformer=StandardScaler())``, without renaming the parameters.

    Attributes
    ----------
    hidden_layer_sizes_ : tuple of int
        The hidden layer sizes the network was built with.

    y_mean_, y_scale_ : ndarray of shape (n_outputs,)
        With ``normalize_y=True``, the mean and standard deviation the
        target was standardised with.

    loss_, best_loss_, loss_curve_, validation_scores_, \
best_validation_score_, t_, coefs_, intercepts_, n_features_in_, \
feature_names_in_, n_iter_, n_layers_, n_outputs_, out_activation_
        As in :class:`~sklearn.neural_network.MLPRegressor`.

    See Also
    --------
    DropoutMLPClassifier : The same for classification.
    TunedMLPRegressor : Tunes these hyperparameters by cross-validation.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sk_mlp_tune import DropoutMLPRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1, random_state=0)
    >>> reg = DropoutMLPRegressor(
    ...     n_hidden_layers=2, n_neurons=64, dropout=0.1, learning_rate_init=0.01,
    ...     max_iter=500, random_state=0,
    ... ).fit(X, y)
    >>> reg.hidden_layer_sizes_
    (64, 64)
    >>> print(f"{reg.score(X, y):.2f}")
    0.9...
    """

    __doc__ = (
        __doc__.replace("{extra}", _EXTRA_PARAMETERS_DOC.rstrip()).replace(
            "{warm_start}", _WARM_START_DOC.strip()
        )
        if __doc__
        else None
    )

    _parameter_constraints: ClassVar[dict] = {
        **MLPRegressor._parameter_constraints,
        **_DROPOUT_CONSTRAINTS,
        "normalize_y": ["boolean"],
    }

    def __init__(
        self,
        hidden_layer_sizes=None,
        activation="relu",
        *,
        dropout=0.0,
        n_hidden_layers=None,
        n_neurons=None,
        layer_shape="constant",
        loss="squared_error",
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        normalize_y=False,
    ):
        super().__init__(
            loss=loss,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
        )
        self.dropout = dropout
        self.n_hidden_layers = n_hidden_layers
        self.n_neurons = n_neurons
        self.layer_shape = layer_shape
        self.normalize_y = normalize_y

    def _fit(self, X, y, sample_weight=None, incremental=False):
        if not self.normalize_y:
            for name in ("y_mean_", "y_scale_"):
                vars(self).pop(name, None)
            return super()._fit(
                X, y, sample_weight=sample_weight, incremental=incremental
            )
        y = np.asarray(y, dtype=float)
        continuing = incremental or (self.warm_start and hasattr(self, "coefs_"))
        if not (continuing and hasattr(self, "y_mean_")):
            # The first fit's statistics stay: a continued fit learns the
            # same standardised target.
            flat = y.reshape(len(y), -1)
            self.y_mean_ = flat.mean(axis=0)
            scale = flat.std(axis=0)
            self.y_scale_ = np.where(scale > 0, scale, 1.0)
        scaled = (y.reshape(len(y), -1) - self.y_mean_) / self.y_scale_
        return super()._fit(
            X,
            scaled.reshape(y.shape),
            sample_weight=sample_weight,
            incremental=incremental,
        )

    def predict(self, X):
        """Predict using the multi-layer perceptron model, in the target's units.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples, n_outputs)
            The predicted values.
        """
        predicted = super().predict(X)
        if not self.normalize_y:
            return predicted
        shape = predicted.shape
        restored = predicted.reshape(len(predicted), -1) * self.y_scale_ + self.y_mean_
        return restored.reshape(shape)


def check_architecture_space(estimator, subspaces):
    """Refuse a space whose architecture shorthands the estimator would reject.

    Searching ``n_hidden_layers`` or ``n_neurons`` on an estimator that also
    sets ``hidden_layer_sizes`` would make every candidate fail; say so before
    any fit.

    Parameters
    ----------
    estimator : estimator instance
        The template of the search.
    subspaces : list of dict
        The resolved space.
    """
    if not isinstance(estimator, _DropoutMLPMixin):
        return
    fixed_sizes = estimator.get_params().get("hidden_layer_sizes")
    for subspace in subspaces:
        shorthands = sorted({"n_hidden_layers", "n_neurons"} & set(subspace))
        if shorthands and "hidden_layer_sizes" in subspace:
            raise ValueError(
                f"The search space sets both hidden_layer_sizes and "
                f"{' and '.join(shorthands)}, but a network can be described only "
                "one way. Search hidden_layer_sizes alone, or the shorthands "
                "(n_hidden_layers, n_neurons, layer_shape) alone; a list of two "
                "dicts searches both kinds of architecture."
            )
        if shorthands and fixed_sizes is not None:
            raise ValueError(
                f"The search space sets {' and '.join(shorthands)}, but the "
                f"estimator has hidden_layer_sizes={fixed_sizes!r}, and a network "
                "can be described only one way. Give the estimator "
                "hidden_layer_sizes=None, or search hidden_layer_sizes instead."
            )
