"""The sk-mlp-tune command line: fit, predict, report, demo, and its errors."""

import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris

from sk_mlp_tune import load
from sk_mlp_tune.cli import infer_task, main
from tests._processes import alive, descendants

pytest.importorskip("skops", reason="skops is not installed (the 'io' extra)")
pytest.importorskip(
    "matplotlib", reason="matplotlib is not installed (the 'plot' extra)"
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = ["--n-iter", "2", "--cv", "2", "--n-jobs", "1"]


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    frame = load_iris(as_frame=True).frame
    frame["target"] = frame["target"].map(
        {0: "setosa", 1: "versicolor", 2: "virginica"}
    )
    frame["colour"] = np.where(frame.index % 2, "red", "blue")
    frame.loc[3, "sepal width (cm)"] = np.nan
    path = tmp_path_factory.mktemp("data") / "iris.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def fitted(iris_csv, tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    model, report = folder / "iris.skops", folder / "iris.html"
    status = main(
        [
            "fit",
            str(iris_csv),
            "--target",
            "target",
            *FAST,
            "--output",
            str(model),
            "--report",
            str(report),
        ]
    )
    assert status == 0
    return model, report


def test_fit_prints_summary_and_writes_files(iris_csv, tmp_path, capsys):
    """Check that fit infers the task, summarises, and writes model and report."""
    model = tmp_path / "m.skops"
    assert (
        main(
            ["fit", str(iris_csv), "--target", "target", *FAST, "--output", str(model)]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Task: classification (inferred" in out
    assert "Best hyperparameters:" in out
    assert "CV accuracy:" in out
    assert "Held-out accuracy:" in out
    assert "Time:" in out
    assert model.is_file()


@pytest.mark.parametrize("search", ["grid", "random", "bayes", "halving", "asha"])
def test_the_summary_and_the_report_under_every_strategy(
    search, iris_csv, tmp_path, capsys
):
    """The network built, in the space's terms: no None, no 'auto' (issue 23)."""
    report = tmp_path / "r.html"
    argv = ["fit", str(iris_csv), "--target", "target", "--search", search]
    argv += ["--n-iter", "3", "--cv", "2", "--max-iter", "20", "--report", str(report)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    best = out.split("Best hyperparameters:")[1].split("CV accuracy:")[0]
    assert best.strip(), "no hyperparameter printed"
    assert "None" not in best
    assert "'auto'" not in best
    assert re.search(r"CV accuracy: +0\.\d{4} \(best of \d+ evaluations\)", out)
    page = report.read_text()
    assert "mean CV accuracy" in page
    assert page.count("<img") >= 2


def test_fit_with_an_ensemble_says_so_and_saves_it(iris_csv, tmp_path, capsys):
    """Check --ensemble-size: a summary line, a report section, a model that loads."""
    model, report = tmp_path / "m.skops", tmp_path / "r.html"
    argv = ["fit", str(iris_csv), "--target", "target", "--search", "random"]
    argv += ["--n-iter", "4", "--cv", "2", "--n-jobs", "1", "--ensemble-size", "3"]
    assert main([*argv, "--output", str(model), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert re.search(
        r"Ensemble: +\d networks?, weights [\d. ]+; out-of-fold accuracy", out
    )
    assert "<h2>Ensemble</h2>" in report.read_text()
    tuner = load(model)[-1]
    assert tuner.ensemble_size == 3
    assert sum(tuner.ensemble_weights_) == pytest.approx(1.0)


def test_a_bad_ensemble_size_is_one_line(iris_csv, capsys):
    argv = ["fit", str(iris_csv), "--target", "target", *FAST]
    status, err = _error([*argv, "--ensemble-size", "0"], capsys)
    assert status == 1
    assert "ensemble_size" in err
    assert len(err.splitlines()) == 1


def test_predict_writes_predictions_and_probabilities(fitted, iris_csv, tmp_path):
    """Check predictions for every row, with one probability column per class."""
    model, _ = fitted
    output = tmp_path / "predictions.csv"
    assert (
        main(["predict", str(model), str(iris_csv), "--proba", "--output", str(output)])
        == 0
    )
    predictions = pd.read_csv(output)
    assert len(predictions) == 150
    assert set(predictions["prediction"]) <= {"setosa", "versicolor", "virginica"}
    proba = predictions[["proba_setosa", "proba_versicolor", "proba_virginica"]]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_report_of_a_saved_model(fitted, tmp_path):
    """Check that report writes the saved model's HTML report."""
    model, first_report = fitted
    output = tmp_path / "again.html"
    assert main(["report", str(model), "--output", str(output)]) == 0
    page = output.read_text()
    assert "Confusion matrix" in page
    assert "data:image/png;base64," in page
    # The numbers are the saved model's, as in the report fit wrote.
    from sk_mlp_tune import load

    tuner = load(model)[-1]
    assert f"{tuner.best_score_:.4f}" in page
    assert f"{tuner.best_score_:.4f}" in first_report.read_text()


def test_regression_task_is_inferred(tmp_path, capsys):
    """Check that a continuous target is tuned as a regression, scaled once."""
    from sk_mlp_tune import TunedMLPRegressor, load

    path, model = tmp_path / "diabetes.csv", tmp_path / "diabetes.skops"
    load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    argv = ["fit", str(path), "--target", "target", *FAST, "--output", str(model)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Task: regression (inferred" in out
    assert "CV R²:" in out
    # The network standardises the target (normalize_y): nothing around it
    # scales it a second time.
    tuner = load(model)[-1]
    assert isinstance(tuner, TunedMLPRegressor)
    assert tuner.best_estimator_.normalize_y


def test_a_regression_model_of_the_old_shape_still_predicts(tmp_path, capsys):
    """Check a saved model whose tuner sits in a TransformedTargetRegressor."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sk_mlp_tune import TunedMLPRegressor, save

    frame = load_diabetes(as_frame=True).frame
    y = frame.pop("target")
    old = make_pipeline(
        StandardScaler(),
        TransformedTargetRegressor(
            TunedMLPRegressor(param_space={"alpha": [1e-3]}, cv=2, n_iter=1),
            transformer=StandardScaler(),
        ),
    ).fit(frame, y)
    model, data = tmp_path / "old.skops", tmp_path / "data.csv"
    bundle = {"model": old, "target": "target", "task": "regression"}
    save({**bundle, "columns": list(frame.columns)}, model)
    frame.to_csv(data, index=False)
    output, report = tmp_path / "predictions.csv", tmp_path / "report.html"
    assert main(["predict", str(model), str(data), "--output", str(output)]) == 0
    assert np.allclose(pd.read_csv(output)["prediction"], old.predict(frame))
    assert main(["report", str(model), "--output", str(report)]) == 0
    assert "CV" in report.read_text()
    # And in Python: the estimator, whatever wrote the file (issue 24).
    loaded = load(model)
    assert np.allclose(loaded.predict(frame), old.predict(frame))
    assert loaded.command_line_fit_["task"] == "regression"


def test_load_gives_the_estimator_the_command_line_saved(fitted, iris_csv):
    model, _ = fitted
    loaded = load(model)
    assert hasattr(loaded, "predict")
    assert hasattr(loaded, "steps")
    facts = loaded.command_line_fit_
    assert facts["target"] == "target"
    assert facts["task"] == "classification"
    assert facts["columns"] == [
        c for c in pd.read_csv(iris_csv).columns if c != "target"
    ]
    assert len(facts["y_true"]) == len(facts["y_pred"]) == facts["data_shape"][0] // 4


def _error(argv, capsys):
    status = main(argv)
    err = capsys.readouterr().err.strip()
    return status, err


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, ["--target", "t"], "no such file"),
        ("", ["--target", "t"], "is empty"),
        ("a,b,t\n1,2,x\n3,4,y\n", ["--target", "nope"], "no column 'nope'"),
        ("a,b,t\n1,2,x\n3,4,x\n5,6,x\n", ["--target", "t"], "single class, 'x'"),
        (
            "a,b,t\n1,2,x\n3,abc,y\n5,6,x\n7,8,y\n9,1,x\n",
            ["--target", "t"],
            r"column 'b' .* numeric but for 1 value\(s\) such as \['abc'\] "
            r"\(lines \[3\]\)",
        ),
    ],
)
def test_fit_errors_are_one_line(tmp_path, capsys, content, args, message):
    """Check that bad input ends with one line on stderr and a non-zero status."""
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_text(content)
    status, err = _error(["fit", str(path), *args, *FAST], capsys)
    assert status == 1
    assert len(err.splitlines()) == 1
    assert err.startswith("sk-mlp-tune: error:")
    assert re.search(message, err)
    assert "Traceback" not in err


def test_predict_lists_missing_and_unexpected_columns(fitted, tmp_path, capsys):
    """Check that predict names the columns that do not match training."""
    model, _ = fitted
    frame = load_iris(as_frame=True).frame.drop(columns=["petal width (cm)"])
    frame["colour"] = "red"
    frame["extra"] = 1
    path = tmp_path / "other.csv"
    frame.to_csv(path, index=False)
    status, err = _error(["predict", str(model), str(path)], capsys)
    assert status == 1
    assert "missing columns ['petal width (cm)']" in err
    assert "unexpected columns ['extra']" in err


def test_warnings_are_one_line(iris_csv, capsys, monkeypatch):
    """Check that a warning during a command is one line, as errors are."""
    from sk_mlp_tune import cli

    print_summary = cli._print_summary

    def warn_then_print(*args):
        warnings.warn(
            "3 of 40 MLP fits stopped at max_iter=198", UserWarning, stacklevel=2
        )
        print_summary(*args)

    monkeypatch.setattr(cli, "_print_summary", warn_then_print)
    assert main(["fit", str(iris_csv), "--target", "target", *FAST]) == 0
    err = capsys.readouterr().err
    assert "sk-mlp-tune: warning: 3 of 40 MLP fits stopped at max_iter=198\n" in err
    # Not Python's format, which names a file and line of the library.
    assert ".py:" not in err


def test_debug_shows_the_traceback(tmp_path):
    """Check that --debug lets the exception through."""
    from sk_mlp_tune.cli import CommandError

    with pytest.raises(CommandError, match="no such file"):
        main(["--debug", "fit", str(tmp_path / "none.csv"), "--target", "t"])


@pytest.mark.parametrize("command", [[], ["demo"], ["fit"], ["predict"], ["report"]])
def test_help_on_every_command(command):
    """Check that python -m sk_mlp_tune and each subcommand have --help."""
    done = subprocess.run(
        [sys.executable, "-m", "sk_mlp_tune", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("usage: sk-mlp-tune")


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["a", "b", "a"], "classification"),
        ([True, False, True], "classification"),
        ([0, 1, 2, 1], "classification"),
        (list(np.linspace(0, 1, 50)), "regression"),
        (list(range(100)), "regression"),
    ],
)
def test_infer_task(values, task):
    """Check the task inferred from a target column."""
    assert infer_task(pd.Series(values))[0] == task


def test_demo_runs_with_progress(capsys):
    """Check that the demo tunes on load_digits and prints the result."""
    assert main(["demo", "--n-iter", "2", "--cv", "2", "--search", "random"]) == 0
    captured = capsys.readouterr()
    assert "Tuning an MLP on load_digits" in captured.out
    assert "Held-out accuracy:" in captured.out
    assert "2/2 evaluated" in captured.err


def test_demo_tunes_with_asha_beside_the_untuned_mlp(capsys):
    """Check that the demo's default search runs and shows the untuned score."""
    assert main(["demo", "--n-iter", "3", "--cv", "2", "--n-jobs", "1"]) == 0
    captured = capsys.readouterr()
    assert "asha search" in captured.out
    untuned = re.search(r"Untuned MLPClassifier\(\) .*: (0\.\d{4})", captured.out)
    assert untuned is not None
    assert 0.9 < float(untuned.group(1)) <= 1
    assert "3/3 candidates" in captured.err
    # The Getting started page shows the same lines, in the same order.
    page = (Path(__file__).parents[1] / "docs" / "getting_started.rst").read_text()
    shown = page.split("What the demo prints")[1].split("The words, once:")[0]
    shown = [line.strip() for line in shown.splitlines() if line.startswith("   ")]
    printed = [line.strip() for line in captured.out.splitlines()]
    optional = {"The best is the estimator's own settings, where every search starts"}
    assert [
        _label(line) for line in shown if not line.startswith(("Tuning [", "..."))
    ] == [_label(line) for line in printed if line and _label(line) not in optional]


def _label(line):
    """Return what names a line of the demo's output: before its value."""
    if line.startswith("(network built)"):
        return "(network built)"
    head, colon, _ = line.partition(":")
    if colon and not line[0].islower():
        return head
    return line.split()[0]  # a hyperparameter's name


def test_fit_with_a_checkpoint_resumes_from_it(iris_csv, tmp_path, capsys):
    """Check that --checkpoint records the search and a rerun replays it."""
    checkpoint = tmp_path / "search.ckpt"
    args = ["fit", str(iris_csv), "--target", "target", *FAST]
    args += ["--search", "asha", "--checkpoint", str(checkpoint)]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert checkpoint.stat().st_size > 0
    assert main(args) == 0
    assert capsys.readouterr().out.split("Time:")[0] == first.split("Time:")[0]


def test_fit_refuses_a_checkpoint_of_other_settings(iris_csv, tmp_path, capsys):
    """Check that a checkpoint of another search is refused in one line."""
    checkpoint = tmp_path / "search.ckpt"
    args = ["fit", str(iris_csv), "--target", "target", *FAST]
    args += ["--search", "asha", "--checkpoint", str(checkpoint)]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args, "--random-state", "1"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("sk-mlp-tune: error: The checkpoint")
    assert len(error.splitlines()) == 1


@pytest.mark.parametrize("option", ["--output", "--report", "--checkpoint"])
def test_fit_checks_output_folders_before_tuning(iris_csv, tmp_path, capsys, option):
    """Check that a missing output folder is refused before any search."""
    missing = tmp_path / "no-such-folder" / "out.file"
    args = ["fit", str(iris_csv), "--target", "target", *FAST, option, str(missing)]
    if option == "--checkpoint":
        args += ["--search", "asha"]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert f"{option} {missing}: the folder" in captured.err
    assert "does not exist" in captured.err
    assert "Tuning" not in captured.err  # nothing was searched


# -- faults: bad input, Ctrl-C, SIGTERM ------------------------------------------


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("a,b,t\n1,2,\n3,4,\n", ["--target", "t"], "column 't' .* is empty"),
        (
            "a,a,t\n1,2,x\n3,4,y\n",
            ["--target", "t"],
            r"names the column\(s\) \['a'\] more than once",
        ),
        ("a,b,t\n1,2,0\n3,4,0\n5,6,0\n", ["--target", "t"], r"single class, 0;"),
        (
            "a,b,t\n"
            + "".join(f"{i},{i % 7},{'x' if i else 'rare'}\n" for i in range(20)),
            ["--target", "t"],
            r"hold-out split \(--test-size 0.2\) failed: .* rarest class, 'rare', "
            r"has 1 row.*--task regression",
        ),
    ],
)
def test_fit_bad_data_is_one_line(tmp_path, capsys, content, args, message):
    """Check one line, naming what is wrong, for data the issues reported."""
    path = tmp_path / "data.csv"
    path.write_text(content)
    status, err = _error(["fit", str(path), *args, *FAST], capsys)
    assert status == 1
    assert len(err.splitlines()) == 1
    assert re.search(message, err), err
    assert "np.int64" not in err


def test_fit_on_a_folder_says_so(tmp_path, capsys):
    """Check that a folder given as the data file is named as a folder."""
    status, err = _error(["fit", str(tmp_path), "--target", "t", *FAST], capsys)
    assert status == 1
    assert "is a folder, not a file" in err


def test_predict_with_a_folder_as_the_model_says_so(iris_csv, tmp_path, capsys):
    """A folder given as the model was reported as "no such file"."""
    status, err = _error(["predict", str(tmp_path), str(iris_csv)], capsys)
    assert status == 1
    assert "is a folder, not a model file" in err


def test_a_read_only_output_is_refused_before_tuning(
    iris_csv, tmp_path, capsys, monkeypatch
):
    """A read-only output file was replaced silently."""
    output = tmp_path / "m.skops"
    output.write_bytes(b"keep")
    output.chmod(0o444)
    if os.access(output, os.W_OK):  # root may write it: say it may not
        real_access = os.access
        monkeypatch.setattr(
            os, "access", lambda p, mode: p != output and real_access(p, mode)
        )
    args = ["fit", str(iris_csv), "--target", "target", *FAST]
    status, err = _error([*args, "--output", str(output)], capsys)
    assert status == 1
    assert "is read-only" in err
    assert output.read_bytes() == b"keep"


def test_a_huge_cell_is_quoted_short(tmp_path, capsys):
    """A 30 MB CSV cell was echoed whole in a warning (31 MB of stderr)."""
    huge = "x" * 1_000_000
    rows = "".join(f"{i},{i % 3}\n" for i in range(40))
    path = tmp_path / "data.csv"
    path.write_text(
        f"a,t\n{rows}{huge},1\n" + "".join(f"text{i},{i % 3}\n" for i in range(25))
    )
    main(["fit", str(path), "--target", "t", *FAST])
    err = capsys.readouterr().err
    assert "1,000,000 characters" in err
    assert len(err) < 20_000


def test_fit_says_how_many_rows_lack_a_target(iris_csv, tmp_path, capsys):
    """Check that rows without a target are dropped, and counted aloud."""
    frame = pd.read_csv(iris_csv)
    frame.loc[[0, 5, 9], "target"] = np.nan
    path = tmp_path / "holes.csv"
    frame.to_csv(path, index=False)
    assert main(["fit", str(path), "--target", "target", *FAST]) == 0
    out = capsys.readouterr().out
    assert "Dropped 3 of 150 rows whose target 'target' is missing." in out
    assert "Training on 117 rows, holding out 30" in out


def test_predict_names_a_numeric_column_holding_text(fitted, tmp_path, capsys):
    """Check that text in a column that was numeric in training is named."""
    model, _ = fitted
    frame = load_iris(as_frame=True).frame.drop(columns="target")
    frame["colour"] = "red"
    frame["petal length (cm)"] = "long"
    path = tmp_path / "text.csv"
    frame.to_csv(path, index=False)
    status, err = _error(["predict", str(model), str(path)], capsys)
    assert status == 1
    assert len(err.splitlines()) == 1
    assert "column 'petal length (cm)'" in err
    assert "was numeric in training" in err


def test_a_dead_worker_is_one_line(monkeypatch, capsys):
    """Check that a dead worker's error ends in one line, not a traceback."""
    from sk_mlp_tune import WorkerLostError, cli

    def die(args):
        raise WorkerLostError("A worker process died while fitting candidate 3", [])

    monkeypatch.setattr(cli, "command_demo", die)
    status, err = _error(["demo"], capsys)
    assert status == 1
    assert err == "sk-mlp-tune: error: A worker process died while fitting candidate 3"


_SIGNAL_TIME_LIMIT = 90


def _start_fit(iris_csv, tmp_path, *extra):
    """Start a long CLI search in a subprocess, with its stderr readable by line."""
    import queue
    import threading

    command = [
        sys.executable, "-m", "sk_mlp_tune", "fit", str(iris_csv),
        "--target", "target", "--search", "random", "--n-iter", "400",
        "--cv", "3", "--n-jobs", "2", *extra,
    ]  # fmt: skip
    # Standard output goes to a file: a process left behind could hold a pipe.
    with open(tmp_path / "stdout.txt", "w") as stdout:
        process = subprocess.Popen(
            command, stdout=stdout, stderr=subprocess.PIPE, text=True
        )
    process.stdout_path = tmp_path / "stdout.txt"
    lines = queue.Queue()

    def read():
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return process, lines


def _wait_for_progress(lines, seen):
    """Wait until the progress line shows a finished candidate."""
    import queue

    deadline = time.monotonic() + _SIGNAL_TIME_LIMIT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=deadline - time.monotonic())
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if re.search(r"Tuning \[.*\] +[1-9]\d*/400", line):
            return
    pytest.fail("no candidate finished in time: " + "".join(seen))


def _rest(process, lines, seen):
    """Wait for the command to exit; return its standard output and error."""
    import queue

    try:
        process.wait(timeout=_SIGNAL_TIME_LIMIT)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the command did not stop")
    # A process left behind would hold the pipes open: stop reading after 5 s.
    while True:
        try:
            line = lines.get(timeout=5)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
    return process.stdout_path.read_text(), "".join(seen)


def test_ctrl_c_writes_the_best_so_far_and_exits_130(iris_csv, tmp_path):
    """Check the first Ctrl-C: one line, the model and report written, 130."""
    import signal

    from sk_mlp_tune import load

    model, report = tmp_path / "m.skops", tmp_path / "r.html"
    process, lines = _start_fit(
        iris_csv, tmp_path, "--output", str(model), "--report", str(report)
    )
    seen = []
    _wait_for_progress(lines, seen)
    process.send_signal(signal.SIGINT)
    out, err = _rest(process, lines, seen)
    assert process.returncode == 130, err
    said = [line for line in err.splitlines() if "interrupted after" in line]
    assert len(said) == 1
    assert re.match(
        r"sk-mlp-tune: interrupted after \d+ of 400 candidates; best CV accuracy "
        r"0\.\d{4}$",
        said[0],
    )
    assert "Traceback" not in err
    assert "Interrupted (Ctrl-C)" not in err  # the tuner's warning, said once
    assert load(model).predict(pd.read_csv(iris_csv).drop(columns="target")).size
    assert report.stat().st_size > 0
    assert "Model written to" in out


def test_second_ctrl_c_exits_130_writing_nothing(iris_csv, tmp_path):
    """Check that a second Ctrl-C aborts at once and writes nothing."""
    import signal

    model = tmp_path / "m.skops"
    process, lines = _start_fit(iris_csv, tmp_path, "--output", str(model))
    seen = []
    _wait_for_progress(lines, seen)
    process.send_signal(signal.SIGINT)
    time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = _rest(process, lines, seen)
    assert process.returncode == 130, err
    assert "aborted (Ctrl-C); nothing written" in err
    assert "Traceback" not in err
    assert not model.exists()


def test_sigterm_stops_the_workers_and_exits_143(iris_csv, tmp_path):
    """Check SIGTERM: exit 143, one line, and no worker process left behind."""
    import signal

    process, lines = _start_fit(iris_csv, tmp_path)
    seen = []
    _wait_for_progress(lines, seen)
    workers = descendants(process.pid)
    assert workers, "the search runs no worker process"
    process.send_signal(signal.SIGTERM)
    _, err = _rest(process, lines, seen)
    assert process.returncode == 143, err
    assert err.strip().splitlines()[-1] == (
        "sk-mlp-tune: terminated (SIGTERM); nothing written"
    )
    assert "Traceback" not in err
    deadline = time.monotonic() + 10
    while alive(workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(workers)


@pytest.mark.parametrize("command", ["fit", "predict", "report"])
def test_an_output_over_an_input_is_refused_naming_both(
    fitted, iris_csv, tmp_path, capsys, command
):
    """Check that no command replaces its own input, and says which."""
    model, _ = fitted
    data = tmp_path / "data.csv"
    data.write_bytes(iris_csv.read_bytes())
    argv = {
        "fit": ["fit", str(data), "--target", "target", *FAST, "--output", str(data)],
        "predict": ["predict", str(model), str(data), "--output", str(data)],
        "report": ["report", str(model), "--output", str(model)],
    }[command]
    before = {p: p.read_bytes() for p in (data, model)}
    status, err = _error(argv, capsys)
    assert status == 1
    assert re.search(r"--output .* is the (data|model) \(.*\): writing it would", err)
    assert {p: p.read_bytes() for p in (data, model)} == before


@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        ({"model": "m", "target": "t", "task": "classification"}, "'columns'"),
        ({"model": 3, "columns": ["a"], "target": "t", "task": "x"}, "it has no"),
    ],
)
def test_a_bundle_of_another_shape_is_one_line(tmp_path, capsys, bundle, message):
    """Check a skops file that is not a bundle of ours: one line, no traceback."""
    from sk_mlp_tune import save

    model, data = tmp_path / "odd.skops", tmp_path / "data.csv"
    save(bundle, model)
    data.write_text("a\n1\n")
    status, err = _error(["predict", str(model), str(data)], capsys)
    assert status == 1
    assert "is not a model saved by" in err
    assert message in err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1


def test_test_size_takes_a_number_of_rows(iris_csv, capsys):
    assert (
        main(["fit", str(iris_csv), "--target", "target", *FAST, "--test-size", "30"])
        == 0
    )
    assert "holding out 30;" in capsys.readouterr().out


def test_a_numeric_column_with_much_text_is_read_as_categories_with_a_warning(
    tmp_path, capsys
):
    """Check a third of junk in a numeric column: said, naming it and some values."""
    frame = load_iris(as_frame=True).frame
    frame["target"] = frame["target"].astype(str)
    frame["weight"] = frame["sepal length (cm)"].astype(object)
    frame.loc[frame.index % 3 == 0, "weight"] = "n/a?"
    path = tmp_path / "junk.csv"
    frame.to_csv(path, index=False)
    assert main(["fit", str(path), "--target", "target", *FAST]) == 0
    err = capsys.readouterr().err
    assert re.search(r"warning: column 'weight' .* holds numbers in 67%", err)
    assert "['n/a?', 'n/a?', 'n/a?']" in err


def test_a_dead_worker_during_fit_says_what_the_command_line_can_do(
    iris_csv, capsys, monkeypatch
):
    """Check the line: plain values, and a checkpoint, not an API attribute."""
    from concurrent.futures.process import BrokenProcessPool

    from sk_mlp_tune import TunedMLPClassifier
    from sk_mlp_tune._engine import _worker_lost

    def die(self, X, y, **params):
        raise _worker_lost(
            BrokenProcessPool(),
            [(3, {"alpha": np.float64(0.001)})],
            resume_hint="The finished ones are in this error's finished_results_.",
        )

    monkeypatch.setattr(TunedMLPClassifier, "fit", die)
    status, err = _error(["fit", str(iris_csv), "--target", "target", *FAST], capsys)
    assert status == 1
    assert "candidate 3 {'alpha': 0.001}" in err
    assert "np.float64" not in err
    assert "finished_results_" not in err
    assert "--checkpoint" in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("data", "target"), [("iris", "target"), ("diabetes", "target")]
)
def test_max_iter_and_early_stopping_reach_the_networks(
    iris_csv, tmp_path, data, target
):
    """Check that --max-iter and --early-stopping set every network's epochs."""
    from sk_mlp_tune import DropoutMLPRegressor

    path = iris_csv
    if data == "diabetes":
        path = tmp_path / "diabetes.csv"
        load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    model = tmp_path / "m.skops"
    argv = ["fit", str(path), "--target", target, *FAST, "--search", "random"]
    argv += ["--max-iter", "7", "--early-stopping", "--output", str(model)]
    assert main(argv) == 0
    tuner = load(model)[-1]
    for network in (tuner.estimator, tuner.best_estimator_):
        assert network.max_iter == 7
        assert network.early_stopping
    assert tuner.best_estimator_.n_iter_ <= 7
    if data == "diabetes":
        # Still the default network of the regressor, which scales its target.
        assert isinstance(tuner.estimator, DropoutMLPRegressor)
        assert tuner.estimator.normalize_y


def test_fit_without_max_iter_keeps_the_default_network(fitted):
    """Check that neither option given leaves the tuner's own default network."""
    model, _ = fitted
    tuner = load(model)[-1]
    assert tuner.estimator is None
    assert tuner.best_estimator_.max_iter == 200
    assert not tuner.best_estimator_.early_stopping


def test_demo_takes_max_iter_and_early_stopping(monkeypatch):
    """Check that the demo's networks get --max-iter and --early-stopping."""
    from sk_mlp_tune import cli

    models = []
    demo = cli.demo
    monkeypatch.setattr(cli, "demo", lambda **kwargs: models.append(demo(**kwargs)))
    # As after Ctrl-C: the demo returns before fitting the untuned MLP.
    monkeypatch.setattr(cli, "_say_why_stopped", lambda *args: True)
    argv = ["demo", "--n-iter", "2", "--cv", "2", "--search", "random"]
    argv += ["--n-jobs", "1", "--max-iter", "5", "--early-stopping"]
    assert main(argv) == 0
    tuner = models[0][-1]
    for network in (tuner.estimator, tuner.best_estimator_):
        assert network.max_iter == 5
        assert network.early_stopping


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "many"])
def test_a_bad_max_iter_is_refused_by_the_parser(value, capsys):
    """Check that --max-iter takes a whole number of epochs, at least 1."""
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "data.csv", "--target", "t", "--max-iter", value])
    assert exit_info.value.code == 2
    assert f"argument --max-iter: {value!r} is not a number of epochs" in (
        capsys.readouterr().err
    )


def test_the_convergence_advice_names_the_options(iris_csv, capsys):
    """Check that the advice on unconverged fits names the command's options."""
    from sklearn.exceptions import ConvergenceWarning

    argv = ["fit", str(iris_csv), "--target", "target", *FAST]
    with warnings.catch_warnings():
        warnings.simplefilter("always", ConvergenceWarning)  # this module ignores it
        assert main([*argv, "--search", "random", "--max-iter", "1"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"warning: \d+ of \d+ MLP fits stopped at max_iter=1", err)
    assert "On the command line: --max-iter, --early-stopping." in err


def test_missing_text_is_a_category_of_its_own():
    """Check that the preprocessing encodes missing text as one more category."""
    from sk_mlp_tune._table import preprocessor

    frame = pd.DataFrame(
        {
            "size": [1.0, 2.0, np.nan, 4.0, 5.0],
            "colour": ["red", np.nan, "blue", np.nan, "red"],
            "shape": ["round", "square", "round", "round", "square"],
        }
    )
    fitted = preprocessor(frame).fit(frame)

    def encoded(rows):
        matrix = fitted.transform(rows)
        return matrix.toarray() if hasattr(matrix, "toarray") else matrix

    colour = encoded(frame)[:, 1:4]  # after the numeric column: blue, red, missing
    np.testing.assert_array_equal(colour[:, 2], [0, 1, 0, 1, 0])
    assert (colour.sum(axis=1) == 1).all()
    # Missing where training had none: no category, as any value not seen.
    no_shape = frame["shape"].where(frame["shape"] == "")  # all missing, as text
    assert (encoded(frame.assign(shape=no_shape))[:, 4:] == 0).all()


@pytest.mark.parametrize("values", ["", "7"], ids=["empty", "numbers"])
def test_predict_a_text_column_read_as_numbers(fitted, iris_csv, tmp_path, values):
    """Check a text column that pandas reads as numbers here: predicted all the same."""
    model, _ = fitted
    frame = pd.read_csv(iris_csv)
    frame["colour"] = values
    path, output = tmp_path / "new.csv", tmp_path / "predictions.csv"
    frame.to_csv(path, index=False)
    assert pd.read_csv(path)["colour"].dtype.kind in "if"
    assert main(["predict", str(model), str(path), "--output", str(output)]) == 0
    assert len(pd.read_csv(output)) == len(frame)
