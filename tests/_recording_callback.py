"""A scikit-learn callback that records every hook call, from any process.

The fold fits run in worker processes with a pickled copy of the callback;
each copy sends its events back over a local socket, as scikit-learn's
``ScoringMonitor`` does, with ``multiprocessing.connection`` alone. The
registries must live in an importable module: pickled by reference, each
process has its own, which is how a copy knows it is in a worker.
"""

import os
import threading
from multiprocessing.connection import Client, Listener

_CONSUMERS = {}  # address -> consumer, in the listening process only
_CONNECTIONS = {}  # address -> Client, in a worker


def _open_listener(consumer):
    authkey = os.urandom(32)
    listener = Listener(authkey=authkey, backlog=128)
    _CONSUMERS[listener.address] = consumer

    def handle(connection):
        try:
            while True:
                consumer(connection.recv())
                connection.send(None)  # the sender waits: events stay in order
        except (EOFError, OSError):
            return

    def accept():
        while True:
            try:
                connection = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener, (listener.address, authkey)


def _send(handle, message):
    address, authkey = handle
    consumer = _CONSUMERS.get(address)
    if consumer is not None:
        consumer(message)
        return
    connection = _CONNECTIONS.get(address)
    if connection is None:
        connection = _CONNECTIONS[address] = Client(address, authkey=authkey)
    connection.send(message)
    connection.recv()


def _path(context):
    path = []
    while context is not None:
        path.append(context)
        context = context.parent
    return path[::-1]


class RecordingCallback:
    """Record ``(hook, task path)`` of every call; auto-propagated to any depth.

    Call :meth:`close` when done: it stops listening.
    """

    max_propagation_depth = None

    def __init__(self):
        self.events = []
        self._lock = threading.Lock()
        self._listener, self._handle = _open_listener(self._consume)

    def _consume(self, event):
        with self._lock:
            self.events.append(event)

    def __getstate__(self):
        state = {**self.__dict__, "events": []}
        del state["_lock"], state["_listener"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state, _lock=threading.Lock(), _listener=None)

    def close(self):
        if self._listener is not None:
            _CONSUMERS.pop(self._handle[0], None)
            self._listener.close()

    def _record(self, hook, context):
        _send(
            self._handle,
            (hook, tuple(c.task_name for c in _path(context)), os.getpid()),
        )

    def setup(self, estimator, context):
        self._record("setup", context)

    def teardown(self, estimator, context):
        self._record("teardown", context)

    def on_fit_task_begin(self, estimator, context):
        self._record("begin", context)

    def on_fit_task_end(self, estimator, context):
        self._record("end", context)
        return False
