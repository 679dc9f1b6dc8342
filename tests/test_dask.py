"""Running the search on a dask.distributed cluster through joblib's dask backend."""

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.neural_network import MLPClassifier

from sk_mlp_tune import TunedMLPClassifier

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (the 'dask' extra)"
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    # The cluster's own start-up and shut-down chatter is not under test.
    "ignore::DeprecationWarning:distributed",
    "ignore::UserWarning:distributed",
)


@pytest.fixture(scope="module")
def client():
    """Start a 2-process LocalCluster on loopback; close it whatever happens."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.mark.parametrize("search", ["grid", "bayes", "asha"])
def test_dask_backend_gives_the_default_backend_results(digits, client, search):
    """Check that a search on the cluster equals the same search run locally."""
    X, y = digits

    def tuner():
        return TunedMLPClassifier(
            MLPClassifier(hidden_layer_sizes=(16,), max_iter=20),
            param_space={
                "alpha": (1e-4, 1e-1, "log-uniform"),
                "learning_rate_init": (1e-3, 1e-1, "log-uniform"),
            },
            search=search,
            n_iter=4,
            n_grid_points=2,
            cv=2,
            random_state=0,
        )

    local = tuner().fit(X, y)
    with distributed.get_task_stream(client) as tasks, parallel_config(backend="dask"):
        remote = tuner().fit(X, y)
    # The fits really ran on the cluster's two workers.
    assert len({task["worker"] for task in tasks.data}) == 2
    assert remote.best_params_ == local.best_params_
    assert remote.cv_results_["params"] == local.cv_results_["params"]
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))


def test_dask_backend_with_scattered_data(digits, client):
    """Check that scattering the data to the workers gives the same results."""
    X, y = digits
    tuner = TunedMLPClassifier(
        MLPClassifier(hidden_layer_sizes=(16,), max_iter=20),
        param_space={"alpha": [1e-4, 1e-2]},
        search="grid",
        cv=2,
        random_state=0,
    )
    local = tuner.fit(X, y).cv_results_["mean_test_score"]
    with (
        distributed.get_task_stream(client) as tasks,
        parallel_config(backend="dask", scatter=[X, y]),
    ):
        remote = tuner.fit(X, y).cv_results_["mean_test_score"]
    np.testing.assert_allclose(remote, local)
    # The fits ran on the cluster, on both workers, 2 candidates x 2 folds.
    fits = [t for t in tasks.data if "fit_and_score_fold" in t["key"]]
    assert len(fits) == 4
    assert len({task["worker"] for task in fits}) == 2
