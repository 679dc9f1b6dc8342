"""scikit-learn's callbacks (``set_callbacks``) through every strategy.

scikit-learn 1.9 lets an estimator report its fit to callbacks, such as
``ProgressBar`` and ``ScoringMonitor``, as a tree of tasks, each begun and
ended. ``GridSearchCV``'s tree is its fit; the search; one
``candidate-split-evaluation`` per candidate and fold, into which the
estimator's own fit (and its iterations) merges; and
``refit-with-best-params``.

A tuner's fit is the same tree on the tuner's root. The search object it
runs adds no level of its own, so a callback that propagates one level
down sees the networks' epochs under a tuner as under ``GridSearchCV``.
Each further member of the ensemble adds a ``refit-ensemble-member``
task. A search object fitted on its own (``MonitoredGridSearchCV``, say)
has the same tree on its own root.

The fold fits take their task with them to the worker processes, as
scikit-learn's searches send it; the callbacks send their events back
themselves.
"""

import contextlib
import pickle
from dataclasses import dataclass, field

from sklearn.base import clone

from ._compat import callback_context, has_callbacks


@dataclass
class FitTasks:
    """The callbacks' tasks of one fit: its root, and the estimators hooks get.

    Parameters
    ----------
    root : CallbackContext or None
        The fit's root task; None where scikit-learn has no callbacks.
    owner : estimator or None
        The estimator whose fit it is: the tuner, or a search fitted alone.
    caller : estimator or None
        What the hooks of the fold tasks are called with: a clone of the
        owner, so that the state of its fit does not travel with each fold.
    active : bool
        Whether a callback listens. Without one, the fold fits carry no task.
    """

    root: object
    owner: object
    caller: object
    active: bool
    _n_children: dict = field(default_factory=dict)

    @classmethod
    def begin(cls, estimator, X, y, max_subtasks):
        """Start the tree of ``estimator``'s fit, and its root task."""
        root = callback_context(estimator, max_subtasks)
        active = root is not None and has_callbacks(estimator)
        if active:
            root.call_on_fit_task_begin(estimator=estimator, X=X, y=y)
        return cls(root, estimator, clone(estimator) if active else None, active)

    def end(self, X, y):
        """End the root task."""
        if self.active:
            self.root.call_on_fit_task_end(estimator=self.owner, X=X, y=y)

    def fold_tasks(self, parent, n_fits):
        """Return the tasks of ``n_fits`` fold fits under ``parent``, in order.

        Made all at once, before any fit is sent to a worker: the tree is
        pickled with each fit, and must not grow while it is. None where no
        callback listens, or beyond the fits scikit-learn's plan for
        ``parent`` has room for (successive halving carries the estimator's
        own settings to a last rung beside its one candidate).
        """
        if not self.active or parent is None:
            return [None] * n_fits
        used = self._n_children.get(id(parent), 0)
        room = n_fits
        if parent.max_subtasks is not None:
            room = max(min(n_fits, parent.max_subtasks - used), 0)
        self._n_children[id(parent)] = used + room
        tasks = [
            parent.subcontext(
                task_name="candidate-split-evaluation",
                task_id=None if parent.sequential_subtasks else used + i,
            )
            for i in range(room)
        ]
        return tasks + [None] * (n_fits - room)

    def fold_task_to_send(self, parent, in_process):
        """Return the task of one more fold fit under ``parent``, ready to send.

        For asha, which decides its fits while earlier ones are being sent:
        the tree must not grow while a worker's copy is pickled in another
        thread, so the task goes as bytes, pickled here (see
        :func:`received`). In-process, it goes as it is.
        """
        [task] = self.fold_tasks(parent, 1)
        if task is None or in_process:
            return task
        return _Pickled(pickle.dumps(task))

    def search_task(self, parent, max_subtasks):
        """Begin a ``search`` task under ``parent``, for searches that make none.

        scikit-optimize's and the engine's asha decide their candidates
        themselves; scikit-learn's make this task in their ``_run_search``.
        """
        if not self.active or parent is None:
            return None
        task = parent.subcontext(
            task_name="search", max_subtasks=max_subtasks, sequential_subtasks=False
        )
        return task.call_on_fit_task_begin(estimator=self.owner)

    def end_search_task(self, task):
        if task is not None:
            task.call_on_fit_task_end(estimator=self.owner)

    @contextlib.contextmanager
    def refitting(self, task_name, estimator, X, y):
        """Run ``estimator``'s fit on all the data as the task ``task_name``."""
        if not self.active:
            yield
            return
        task = self.root.subcontext(task_name=task_name)
        try:
            with task.propagate_callback_context(estimator):
                task.call_on_fit_task_begin(estimator=self.owner, X=X, y=y)
                yield
        finally:
            task.call_on_fit_task_end(estimator=self.owner, X=X, y=y)


@dataclass(frozen=True)
class _Pickled:
    """A callback task pickled where it was made."""

    data: bytes


def received(task):
    """Return a fold fit's callback task, as ``FitTasks.fold_task_to_send`` sent it."""
    if isinstance(task, _Pickled):
        return pickle.loads(task.data)  # made by this search: no file's data
    return task


class Epochs:
    """A network's epochs as tasks of its fit, for its callbacks.

    Made by :func:`epoch_tasks`; without callbacks (``root`` None) it does
    nothing. The hooks get the data given to ``fit``, not the training
    pass's encoded copy, so that a ``ScoringMonitor`` scores what the user
    would.
    """

    def __init__(self, network=None, root=None, X=None, y=None):
        self.network, self.root, self.X, self.y = network, root, X, y

    def begin(self):
        """Begin an epoch's task; return it (None without callbacks)."""
        if self.root is None:
            return None
        task = self.root.subcontext(task_name="epoch")
        return task.call_on_fit_task_begin(estimator=self.network, X=self.X, y=self.y)

    def end(self, task):
        """End an epoch's task; tell whether a callback asked training to stop."""
        if task is None:
            return False
        network = self.network
        return bool(
            task.call_on_fit_task_end(
                estimator=network,
                X=self.X,
                y=self.y,
                # Copies: the optimizer goes on updating the arrays in place.
                reconstruction_attributes=lambda: {
                    "coefs_": [c.copy() for c in network.coefs_],
                    "intercepts_": [i.copy() for i in network.intercepts_],
                    "n_iter_": network.n_iter_,
                    "loss_": network.loss_,
                },
            )
        )


NO_EPOCHS = Epochs()


@contextlib.contextmanager
def epoch_tasks(network, X, y):
    """Report ``network``'s fit to its callbacks; yield its :class:`Epochs`."""
    if not has_callbacks(network):
        yield NO_EPOCHS
        return
    root = callback_context(network, max_subtasks=None)
    root.call_on_fit_task_begin(estimator=network, X=X, y=y)
    try:
        yield Epochs(network, root, X, y)
    finally:
        root.call_on_fit_task_end(estimator=network, X=X, y=y)
