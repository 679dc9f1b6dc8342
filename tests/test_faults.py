"""Faults during a search: failing candidates, Ctrl-C, dead workers.

Ctrl-C is simulated with ``_thread.interrupt_main``, which runs the
process's SIGINT handler as a real Ctrl-C would; every test bounds its own
time.
"""

import _thread
import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier

from sk_mlp_tune import TunedMLPClassifier, WorkerLostError
from tests._processes import alive, descendants, runs_python

STRATEGIES = ["grid", "random", "bayes", "halving", "asha"]

# How long any fault test may take before it counts as hung: checked after
# each fit, and enforced by pytest-timeout should a fit never return.
TIME_LIMIT = 60
pytestmark = pytest.mark.timeout(2 * TIME_LIMIT)


class InterruptingMLP(MLPClassifier):
    """An MLP that presses Ctrl-C at chosen fits of this process.

    ``interrupt_at`` holds the numbers (from 1) of the fits, counted over
    every clone in this process, that start with a Ctrl-C. The count is
    module state: clones share it, and it only works in one process.
    """

    fits = 0

    def __init__(self, hidden_layer_sizes=(5,), alpha=1e-4, max_iter=30,
                 warm_start=False, *, interrupt_at=(), random_state=0):  # fmt: skip
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            alpha=alpha,
            max_iter=max_iter,
            warm_start=warm_start,
            random_state=random_state,
        )
        self.interrupt_at = interrupt_at

    def fit(self, X, y, **params):
        """Count the fit; press Ctrl-C if it is one of ``interrupt_at``."""
        type(self).fits += 1
        if type(self).fits in self.interrupt_at:
            _thread.interrupt_main()
            time.sleep(0.5)  # the handler runs here, as Ctrl-C mid-training
        return super().fit(X, y, **params)


class InterruptedInTraining(MLPClassifier):
    """An MLP that presses Ctrl-C during the epochs of chosen fits, made long.

    ``interrupt_at`` as :class:`InterruptingMLP`'s, but the fit trains until
    the Ctrl-C, 0.5 s in, lands inside its epoch loop, where scikit-learn's
    MLPs stop and keep the network trained so far.
    """

    fits = 0

    def __init__(self, alpha=1e-4, max_iter=30, warm_start=False, *, interrupt_at=(),
                 random_state=0):  # fmt: skip
        super().__init__(
            hidden_layer_sizes=(5,), alpha=alpha, max_iter=max_iter,
            warm_start=warm_start, random_state=random_state,
        )  # fmt: skip
        self.interrupt_at = interrupt_at

    def fit(self, X, y, **params):
        """Count the fit; train until a Ctrl-C if it is one of ``interrupt_at``."""
        type(self).fits += 1
        if type(self).fits in self.interrupt_at:
            # Beyond the parameters of this test double, set as attributes.
            self.max_iter, self.tol, self.n_iter_no_change = 10**6, 0.0, 10**6
            threading.Timer(0.5, _thread.interrupt_main).start()
        return super().fit(X, y, **params)


class DyingMLP(MLPClassifier):
    """An MLP whose process dies (SIGKILL) when it fits with ``die=True``.

    With ``wait_for`` set, it dies once that file exists (an event another
    process sets). With ``flag`` set, it dies only while that file exists,
    and removes it first: a second search over the same settings then runs
    through.
    """

    def __init__(self, hidden_layer_sizes=(5,), max_iter=20, warm_start=False, *,
                 die=False, flag=None, wait_for=None, random_state=0):  # fmt: skip
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            max_iter=max_iter,
            warm_start=warm_start,
            random_state=random_state,
        )
        self.die = die
        self.flag = flag
        self.wait_for = wait_for

    def fit(self, X, y, **params):
        """Die if told to, else fit."""
        if self.die and self.flag is None:
            deadline = time.monotonic() + TIME_LIMIT / 2
            while self.wait_for and not os.path.exists(self.wait_for):
                assert time.monotonic() < deadline, "the event never came"
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGKILL)
        if self.flag is not None and self.warm_start:
            try:
                os.remove(self.flag)
            except FileNotFoundError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        return super().fit(X, y, **params)


@pytest.fixture(autouse=True)
def _fresh_fit_count():
    InterruptingMLP.fits = 0


def _child_processes():
    """Return the pids of this process's children, but loky's resource tracker."""
    proc = Path("/proc")
    if not proc.is_dir():
        pytest.skip("needs /proc (Linux) to list child processes")
    children = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"resource_tracker" not in command:
            children.add(int(entry.name))
    return children


@pytest.mark.parametrize("n_jobs", [None, 2])
@pytest.mark.parametrize("search", STRATEGIES)
def test_a_failing_candidate_scores_nan_whatever_n_jobs(iris, search, n_jobs):
    """Check that one failing candidate scores NaN and the search goes on.

    A network with a layer of 0 neurons passes the parameter checks and
    fails in fit. With one job each batch used to be one candidate, and a
    batch whose every fit failed ended the whole search.
    """
    X, y = iris
    tuner = TunedMLPClassifier(
        MLPClassifier(hidden_layer_sizes=(6,), max_iter=30, random_state=0),
        param_space={"hidden_layer_sizes": [(0,), (4,), (6,)]},
        search=search,
        # Bayesian search repeats candidates of a space this small: ten
        # include the failing one, with this seed.
        n_iter=10 if search == "bayes" else 3,
        cv=3,
        n_jobs=n_jobs,
        random_state=0,
    )
    with pytest.warns(FitFailedWarning, match="fits failed") as caught:
        tuner.fit(X, y)
    assert len([w for w in caught if w.category is FitFailedWarning]) == 1
    results = tuner.cv_results_
    failed = [p["hidden_layer_sizes"] == (0,) for p in results["params"]]
    assert any(failed)
    scores = np.asarray(results["mean_test_score"])
    assert np.isnan(scores[failed]).all()
    assert np.isfinite(scores[np.logical_not(failed)]).all()
    assert tuner.best_params_["hidden_layer_sizes"] != (0,)
    assert tuner.predict(X).shape == y.shape


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_failing_candidates_score_as_in_grid_search_cv(iris, n_jobs):
    """Check the fold scores against GridSearchCV's, failures included."""
    X, y = iris
    mlp = MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=0)
    space = {"hidden_layer_sizes": [(0,), (5,), (0, 3), (8,)]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, FitFailedWarning))
        tuner = TunedMLPClassifier(
            mlp, param_space=space, search="grid", cv=3, n_jobs=n_jobs
        ).fit(X, y)
        reference = GridSearchCV(mlp, space, cv=3, n_jobs=2).fit(X, y)
    for key in ["params", "split0_test_score", "split2_test_score", "rank_test_score"]:
        np.testing.assert_array_equal(
            tuner.cv_results_[key], reference.cv_results_[key]
        )
    assert tuner.best_params_ == reference.best_params_


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's overflows
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_diverging_sgd_candidate_scores_nan(iris):
    """Check that an SGD learning rate that diverges scores NaN, not the end."""
    X, y = iris
    tuner = TunedMLPClassifier(
        MLPClassifier(
            solver="sgd",
            activation="identity",
            hidden_layer_sizes=(20,),
            max_iter=50,
            random_state=0,
        ),
        param_space={"learning_rate_init": [1e-2, 1e8]},
        search="grid",
        cv=3,
    )
    with pytest.warns(FitFailedWarning, match="non-finite parameter weights"):
        tuner.fit(X * 1e6, y)
    scores = tuner.cv_results_["mean_test_score"]
    assert np.isfinite(scores[0])
    assert np.isnan(scores[1])
    assert tuner.best_params_ == {"learning_rate_init": 1e-2}


@pytest.mark.parametrize("search", STRATEGIES)
def test_every_candidate_failing_raises_one_error(iris, search):
    """Check that fit raises when no candidate has a score, naming the cause."""
    tuner = TunedMLPClassifier(
        # asha's first candidate is the estimator's own settings: failing too.
        MLPClassifier(hidden_layer_sizes=(0,), max_iter=20, random_state=0),
        param_space={"hidden_layer_sizes": [(0,), (0, 2)]},
        search=search,
        n_iter=2,
        cv=2,
    )
    with pytest.raises(ValueError, match="fits failed") as raised:
        tuner.fit(*iris)
    assert "hidden_layer_sizes must be > 0" in str(raised.value)
    with pytest.raises(NotFittedError):
        tuner.predict(iris[0])


def _fit_interrupted(tuner, X, y):
    """Fit ``tuner``, which a Ctrl-C interrupts, in bounded time: its warnings."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.fit(X, y)
    assert time.perf_counter() - start < TIME_LIMIT
    assert tuner.stop_reason_ == "interrupted"
    return caught


def _interrupting_tuner(search="grid", **params):
    return TunedMLPClassifier(
        InterruptingMLP(interrupt_at=params.pop("interrupt_at")),
        param_space={"alpha": [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]},
        search=search,
        n_iter=6,
        cv=3,
        random_state=0,
        **params,
    )


@pytest.mark.parametrize("search", STRATEGIES)
def test_ctrl_c_keeps_the_finished_candidates(iris, search):
    """Check the first Ctrl-C: stop, keep what finished, refit the best, warn once.

    The seventh fit is the first fold of the third candidate with cv=3: two
    candidates had finished, and the one cut short is discarded.
    """
    X, y = iris
    tuner = _interrupting_tuner(search, interrupt_at=(7,))
    caught = _fit_interrupted(tuner, X, y)
    results = tuner.cv_results_
    assert len(results["params"]) == 2
    assert np.isfinite(results["split2_test_score"]).all()
    interrupted = [w for w in caught if "Interrupted (Ctrl-C)" in str(w.message)]
    assert len(interrupted) == 1
    assert "after 2 of " in str(interrupted[0].message)
    assert not [w for w in caught if "Training interrupted" in str(w.message)]
    # The best of the two was refitted: 6 fold fits, the cut one, the refit.
    assert InterruptingMLP.fits == 8
    assert tuner.best_params_ in results["params"]
    assert tuner.predict(X).shape == y.shape


def test_ctrl_c_before_anything_finished_propagates(iris):
    """Check that Ctrl-C in the first candidate raises, leaving no fitted state."""
    X, y = iris
    tuner = _interrupting_tuner(interrupt_at=(2,))
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        tuner.fit(X, y)
    assert not hasattr(tuner, "cv_results_")
    with pytest.raises(NotFittedError):
        tuner.predict(X)
    # The handler of the fit is gone: Ctrl-C is as it was.
    assert signal.getsignal(signal.SIGINT) is handler


def test_second_ctrl_c_aborts_the_refit(iris):
    """Check that Ctrl-C during the refit aborts, keeping the previous state."""
    X, y = iris
    previous = _interrupting_tuner(interrupt_at=()).fit(X, y)
    expected = previous.predict_proba(X)
    InterruptingMLP.fits = 0
    # The 7th fit is cut, the 8th is the refit.
    previous.set_params(estimator=InterruptingMLP(interrupt_at=(7, 8)))
    with pytest.raises(KeyboardInterrupt):
        previous.fit(X, y)
    np.testing.assert_array_equal(previous.predict_proba(X), expected)
    assert previous.stop_reason_ == "completed"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_first_ctrl_c_during_the_refit_keeps_the_search_and_the_network(iris):
    """Check that a Ctrl-C in the refit's epochs ends them, not the fit.

    Before, the fit raised KeyboardInterrupt and every finished candidate
    was lost (the command line wrote nothing).
    """
    X, y = iris
    InterruptedInTraining.fits = 0
    tuner = TunedMLPClassifier(
        InterruptedInTraining(interrupt_at=(7,)),  # 6 fold fits, then the refit
        param_space={"alpha": [1e-4, 1e-2]}, search="grid", cv=3,
        random_state=0,
    )  # fmt: skip
    caught = _fit_interrupted(tuner, X, y)
    assert len(tuner.cv_results_["params"]) == 2
    trained = tuner.best_estimator_.n_iter_
    assert 0 < trained < 10**6
    said = [str(w.message) for w in caught if "Interrupted (Ctrl-C)" in str(w.message)]
    assert len(said) == 1
    assert "during the refit of the best candidate" in said[0]
    assert f"kept the {trained} epochs it had trained" in said[0]
    assert not [w for w in caught if "Training interrupted" in str(w.message)]
    assert tuner.predict(X).shape == y.shape


def _long_search(search, **params):
    """Return a tuner of 40 candidates that each train for a long while."""
    return TunedMLPClassifier(
        MLPClassifier(hidden_layer_sizes=(64, 64), max_iter=2000, tol=0),
        param_space={"alpha": list(np.logspace(-6, 1, 40))},
        search=search,
        n_iter=40,
        cv=3,
        random_state=0,
        **params,
    )


class _WhenEvaluated(io.StringIO):
    """A stderr that calls ``action`` once the progress line says ``n`` evaluated.

    The tuner's progress line is written in the main process once a
    candidate's every fold is in: an event, whatever the machine's speed.
    """

    def __init__(self, n, action):
        super().__init__()
        self.pattern = re.compile(rf" {n}/\d+ evaluated")
        self.action = action
        self.when = None

    def write(self, text):
        if self.when is None and self.pattern.search(text):
            self.when = time.perf_counter()
            self.action()
        return super().write(text)


def _fit_with_ctrl_c_after_a_candidate(tuner, X, y, delay=0.3):
    """Fit, pressing Ctrl-C ``delay`` s after the first candidate finished.

    Returns the seconds from that candidate to the end of ``fit``, and the
    warnings. The Ctrl-C lands in the training of the candidates after it.
    """
    timer = threading.Timer(delay, _thread.interrupt_main)
    progress = _WhenEvaluated(1, timer.start)
    tuner.set_params(verbose=1)
    try:
        with (
            contextlib.redirect_stderr(progress),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            tuner.fit(X, y)
    finally:
        timer.cancel()
    return time.perf_counter() - progress.when, [str(w.message) for w in caught]


def test_ctrl_c_in_the_mlp_training_loop_stops(iris):
    """Check a real Ctrl-C, on a timer, in scikit-learn's own training loop.

    ``MLPClassifier`` catches ``KeyboardInterrupt`` in its epoch loop and
    returns a model cut short; the tuner must not score it as trained.
    """
    tuner = _long_search("grid")
    elapsed, said = _fit_with_ctrl_c_after_a_candidate(tuner, *iris)
    assert elapsed < TIME_LIMIT
    assert tuner.stop_reason_ == "interrupted"
    assert 0 < len(tuner.cv_results_["params"]) < 40
    assert not [message for message in said if "Training interrupted" in message]


def test_ctrl_c_with_workers_keeps_results_and_stops_them(iris):
    """Check Ctrl-C with two worker processes: results kept, no worker left."""
    before = _child_processes()
    tuner = _long_search("random", n_jobs=2)
    elapsed, said = _fit_with_ctrl_c_after_a_candidate(tuner, *iris)
    # Stopped within seconds of Ctrl-C, not after the 40 candidates.
    assert elapsed < 15
    assert tuner.stop_reason_ == "interrupted"
    assert len([m for m in said if m.startswith("Interrupted (Ctrl-C)")]) == 1
    assert 0 < len(tuner.cv_results_["params"]) < 40
    assert not _child_processes() - before


def test_a_dead_worker_keeps_what_finished_and_names_the_candidate(iris, tmp_path):
    """Check that a dead worker stops the search as Ctrl-C does, naming the candidate.

    The dying candidate dies once the first one is in: the main process
    says so on its progress line, which sets the event.
    """
    X, y = iris
    event = tmp_path / "first-candidate-in"
    tuner = TunedMLPClassifier(
        DyingMLP(wait_for=str(event)),
        param_space={"die": [False, True]},
        search="grid",
        cv=2,
        n_jobs=2,
    )
    start = time.perf_counter()
    with (
        contextlib.redirect_stderr(_WhenEvaluated(1, event.touch)),
        pytest.warns(UserWarning, match=r"candidate 1 \{'die': True\}") as said,
    ):
        tuner.set_params(verbose=1).fit(X, y)
    assert time.perf_counter() - start < TIME_LIMIT
    (lost,) = [w for w in said if "worker process died" in str(w.message)]
    assert "memory" in str(lost.message)
    assert "stop_reason_ is 'worker_lost'" in str(lost.message)
    assert tuner.stop_reason_ == "worker_lost"
    assert tuner.cv_results_["params"] == [{"die": False}]
    assert np.isfinite(tuner.cv_results_["mean_test_score"]).all()
    assert tuner.best_params_ == {"die": False}
    # The best finished candidate, refitted.
    assert tuner.best_estimator_.die is False
    assert len(tuner.coefs_) == 2
    assert tuner.predict(X).shape == y.shape


def test_a_worker_dead_before_anything_finished_raises(iris):
    """Check one clear error when there is nothing to keep."""
    X, y = iris
    tuner = TunedMLPClassifier(
        DyingMLP(die=True), param_space={"die": [True]}, search="grid", cv=2, n_jobs=2
    )
    with pytest.raises(WorkerLostError, match=r"candidate 0 \{'die': True\}"):
        tuner.fit(X, y)
    assert not hasattr(tuner, "cv_results_")


def test_a_dead_worker_on_the_command_line_writes_the_best_so_far(
    tmp_path, monkeypatch, capsys
):
    """Check that ``sk-mlp-tune fit`` writes the best finished candidate, as on Ctrl-C.

    The command builds its own tuner; its ``fit`` is wrapped to search the
    dying space instead, the rest of the command as it is.
    """
    from sklearn.datasets import load_iris

    skops_io = pytest.importorskip("skops.io", reason="needs skops to read the model")

    from sk_mlp_tune import cli

    data = tmp_path / "iris.csv"
    load_iris(as_frame=True).frame.to_csv(data, index=False)
    event = tmp_path / "first-candidate-in"
    fit = TunedMLPClassifier.fit

    def fit_dying_space(self, X, y, **params):
        self.set_params(
            estimator=DyingMLP(wait_for=str(event)),
            param_space={"die": [False, True]},
            search="grid",
            n_jobs=2,
        )
        with contextlib.redirect_stderr(_WhenEvaluated(1, event.touch)):
            return fit(self, X, y, **params)

    monkeypatch.setattr(TunedMLPClassifier, "fit", fit_dying_space)
    model = tmp_path / "model.skops"
    argv = ["fit", str(data), "--target", "target", "--cv", "2"]
    status = cli.main([*argv, "--output", str(model)])
    err = capsys.readouterr().err.strip()
    assert status == 1
    assert err.startswith("sk-mlp-tune: A worker process died while fitting ")
    assert "candidate 1 {'die': True}" in err
    assert "Kept the 1 of 2 candidates; best CV accuracy " in err
    assert "--checkpoint" in err
    assert len(err.splitlines()) == 1
    saved = skops_io.load(model, trusted=skops_io.get_untrusted_types(file=model))
    assert saved[-1].best_params_ == {"die": False}


def test_a_dead_worker_in_asha_resumes_from_the_checkpoint(iris, tmp_path):
    """Check that asha with a checkpoint resumes after a worker died."""
    X, y = iris
    flag = tmp_path / "die-once"
    flag.touch()
    tuner = TunedMLPClassifier(
        DyingMLP(max_iter=27, flag=str(flag)),
        param_space={"hidden_layer_sizes": [(3,), (5,), (8,), (12,)]},
        search="asha",
        n_iter=9,
        cv=2,
        n_jobs=2,
        random_state=0,
        checkpoint=tmp_path / "search.ckpt",
    )
    with pytest.warns(UserWarning, match="fit again to resume"):
        tuner.fit(X, y)
    assert not flag.exists()
    assert tuner.stop_reason_ == "worker_lost"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tuner.fit(X, y)
    assert tuner.search_.n_tasks_replayed_ > 0
    assert tuner.stop_reason_ == "completed"


_ORPHANING_SEARCH = """
import sys
import numpy as np
from sklearn.datasets import load_iris
from sklearn.neural_network import MLPClassifier
from sk_mlp_tune import TunedMLPClassifier

X, y = load_iris(return_X_y=True)
TunedMLPClassifier(
    MLPClassifier(hidden_layer_sizes=(64, 64), max_iter=2000, tol=0),
    param_space={"alpha": list(np.logspace(-6, 1, 40))},
    search=sys.argv[1], n_iter=40, cv=3, n_jobs=2, random_state=0,
).fit(X, y)
"""


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=str)
@pytest.mark.parametrize("search", ["random", "asha"])
def test_workers_die_with_their_parent(tmp_path, search, how):
    """Check that a search's workers go when its process is killed, however."""
    script = tmp_path / "search.py"
    script.write_text(_ORPHANING_SEARCH)
    process = subprocess.Popen([sys.executable, str(script), search])
    try:
        deadline = time.monotonic() + TIME_LIMIT
        workers = set()
        # The workers are up once two processes below the search run Python.
        while len(workers) < 2:
            assert time.monotonic() < deadline, "no workers started"
            assert process.poll() is None, "the search ended early"
            time.sleep(0.2)
            workers = {p for p in descendants(process.pid) if runs_python(p)}
        time.sleep(1.0)  # into their first fits
        workers = descendants(process.pid)
        process.send_signal(how)
        process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while alive(workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = alive(workers)
        described = [
            (Path("/proc") / str(pid) / "cmdline").read_bytes()[:90] for pid in left
        ]
        for pid in left:  # leave nothing behind, whatever the outcome
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        assert not left, f"{len(left)} outlived their parent by 10 s: {described}"
    finally:
        process.kill()
        process.wait(timeout=30)


@pytest.mark.parametrize("search", ["random", "asha"])
def test_a_metric_that_cannot_score_stops_after_the_first_candidate(iris, search):
    """Check roc_auc on three classes: one error with the scorer's, not NaN."""
    X, y = iris
    tuner = TunedMLPClassifier(
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=27, random_state=0),
        param_space={"alpha": [1e-4, 1e-3, 1e-2, 1e-1]},
        search=search,
        scoring="roc_auc",
        n_iter=4,
        cv=3,
        random_state=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="scored on none") as raised:
            tuner.fit(X, y)
    assert "multi_class must be in ('ovo', 'ovr')" in str(raised.value)
    assert not hasattr(tuner, "best_score_")
    assert not [w for w in caught if "Traceback" in str(w.message)]


_TWO_FITS = """
import os, pathlib, sys
import numpy as np
from sklearn.neural_network import MLPClassifier
from sk_mlp_tune import TunedMLPClassifier

rng = np.random.default_rng(0)
X = rng.normal(size=(4_000, 40))  # 1.3 MB: joblib memmaps it for the workers
y = (X[:, 0] > 0).astype(int)
for search in ("grid", "asha"):  # the second fit reuses the workers
    TunedMLPClassifier(
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=3),
        param_space={"alpha": [1e-4, 1e-2, 1.0]}, search=search, n_iter=3,
        cv=2, n_jobs=2, random_state=0,
    ).fit(X, y)
    left = [p for p in pathlib.Path(os.environ["JOBLIB_TEMP_FOLDER"]).rglob("*")
            if p.is_file()]
    print(search, "left", len(left), flush=True)
"""


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fits_leave_no_memmapped_file_behind(tmp_path):
    """Each fit releases the copies of the data it gave its workers, at once.

    A reused executor dumped them into an earlier fit's folder, already
    released: they stayed until the interpreter's exit, which warned of
    "leaked file objects".
    """
    script = tmp_path / "two_fits.py"
    script.write_text(_TWO_FITS)
    folder = tmp_path / "joblib"
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, "-W", "ignore::UserWarning:sklearn", str(script)],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "JOBLIB_TEMP_FOLDER": str(folder)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["grid left 0", "asha left 0"]
    assert "leaked" not in done.stderr, done.stderr[-2000:]


@pytest.mark.timeout(30)  # a FIFO opened for reading blocked the fit forever
@pytest.mark.parametrize("kind", ["fifo", "folder", "device", "missing folder"])
def test_a_checkpoint_that_is_no_regular_file_is_refused_at_once(iris, tmp_path, kind):
    """Check that only a regular file (or a new one) is taken, before any fit."""
    if kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("needs os.mkfifo (POSIX) to make a named pipe")
        path = tmp_path / "journal"
        os.mkfifo(path)
    elif kind == "device":
        if not os.path.exists(os.devnull) or os.name != "posix":
            pytest.skip("needs /dev/null, a POSIX character device")
        path = os.devnull
    else:
        path = tmp_path if kind == "folder" else tmp_path / "absent" / "journal"
    said = {
        "fifo": "is a named pipe",
        "folder": "is a folder",
        "device": "is a device",
        "missing folder": "in a folder that does not exist",
    }[kind]
    tuner = TunedMLPClassifier(search="asha", checkpoint=path, random_state=0)
    with pytest.raises(ValueError, match=f"checkpoint=.* {said}"):
        tuner.fit(*iris)
    assert not hasattr(tuner, "cv_results_")


@pytest.mark.filterwarnings("ignore:The least populated class:UserWarning")
@pytest.mark.parametrize("search", ["grid", "asha"])
def test_a_class_rarer_than_the_folds_stops_the_search_at_once(iris, search):
    """Check that a metric that fails on some folds stops after the first candidate.

    Iris with a class of 2 rows and 3 folds: the fold whose training holds
    both has no such row to test, and neg_log_loss cannot score it. Every
    candidate scored NaN, and the fit failed only at its end.
    """
    X, y = iris
    y = y.copy()
    y[:2] = 3
    tuner = TunedMLPClassifier(
        MLPClassifier(max_iter=20), param_space={"alpha": [1e-4, 1e-3, 1e-2]},
        search=search, n_iter=3, scoring="neg_log_loss", cv=3, random_state=0,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"class 3 \(2 rows\) has fewer") as raised:
        tuner.fit(X, y)
    assert "scored on 2 of 3 folds" in str(raised.value)
    assert "cv=2" in str(raised.value)
    assert not hasattr(tuner, "cv_results_")


@pytest.mark.parametrize(
    ("size", "said"),
    [(True, "is a bool, not a number of rounds"), (10**6, "range \\[1, 500\\]")],
)
def test_an_ensemble_size_of_no_sense_is_refused_before_any_fit(iris, size, said):
    """ensemble_size=True was taken as 1, and 10**6 rounds would take hours."""
    tuner = TunedMLPClassifier(ensemble_size=size)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=said):
        tuner.fit(*iris)
    assert time.perf_counter() - start < 5
    assert not hasattr(tuner, "cv_results_")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("search", ["random", "asha"])
def test_an_n_iter_of_one_says_it_tunes_nothing(iris, search):
    """Check the word: asha with n_iter=1 evaluated the estimator's settings alone."""
    X, y = iris
    tuner = TunedMLPClassifier(
        MLPClassifier(max_iter=20), param_space={"alpha": [1e-4, 1e-2]},
        search=search, n_iter=1, cv=2, random_state=0,
    )  # fmt: skip
    with pytest.warns(UserWarning, match="n_iter=1 evaluates the estimator's own"):
        tuner.fit(X, y)
    assert len({str(p) for p in tuner.cv_results_["params"]}) == 1
