"""Speed-up of n_jobs=2 over n_jobs=1, and a dask LocalCluster against joblib.

The same random search (default space, fixed seed) run with one job, with two
jobs on joblib's default backend, and on a two-worker ``LocalCluster``
through joblib's dask backend (when dask.distributed is installed), each
several times, alternately. Reports median wall times and their ratios.

    python benchmarks/bench_scaling.py [--repeats 3]
"""

import argparse
import statistics
import warnings

from _common import environment_line, save_rows, timed
from joblib import parallel_config
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sk_mlp_tune import DropoutMLPClassifier, TunedMLPClassifier


def tuner(n_jobs):
    return TunedMLPClassifier(
        DropoutMLPClassifier(max_iter=30),
        search="random",
        n_iter=12,
        cv=3,
        n_jobs=n_jobs,
        random_state=0,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        Client = None

    times = {"n_jobs=1": [], "n_jobs=2": [], "dask, 2 workers": []}
    client = cluster = None
    if Client is not None:
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        )
        client = Client(cluster)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for _ in range(args.repeats):
                times["n_jobs=1"].append(timed(tuner(1).fit, X, y)[0])
                times["n_jobs=2"].append(timed(tuner(2).fit, X, y)[0])
                if client is not None:
                    with parallel_config(backend="dask", scatter=[X, y]):
                        times["dask, 2 workers"].append(timed(tuner(2).fit, X, y)[0])
    finally:
        if client is not None:
            client.close()
            cluster.close()

    medians = {name: statistics.median(t) for name, t in times.items() if t}
    save_rows("scaling", [{"setting": k, "median_s": v} for k, v in medians.items()])
    print("| setting | wall time (median s) | speed-up over n_jobs=1 |")
    print("|---|---|---|")
    for name, median in medians.items():
        print(f"| {name} | {median:.1f} | {medians['n_jobs=1'] / median:.2f} |")
    print(f"\n12 candidates x 3 folds, {args.repeats} repeats; {environment_line()}")


if __name__ == "__main__":
    main()
