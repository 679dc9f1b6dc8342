"""A user's CSV table as the command line reads it: checked, typed, encoded.

Reading refuses, in one line each, what would fail later or mislead: a
folder, an empty file, a column named twice, numbers with stray text. Then
the task is inferred from the target, and the features get the
preprocessing the command line fits with the network.
"""

import csv
import warnings
from pathlib import Path

# An integer target with at most this many distinct values is taken for
# class labels when --task is not given.
MAX_CLASSES_INFERRED = 20


class CommandError(Exception):
    """A problem with the user's input, reported in one line."""


def read_csv(path):
    """Read a CSV file into a DataFrame, with one-line errors for bad files."""
    import pandas as pd

    path = Path(path)
    if path.is_dir():
        raise CommandError(f"{path} is a folder, not a file; give the CSV file")
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    _refuse_duplicate_columns(path)
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise CommandError(f"{path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise CommandError(f"{path} is not a readable CSV file: {error}") from None
    if frame.empty:
        raise CommandError(f"{path} has a header but no rows")
    _refuse_garbage_in_numeric_columns(frame, path)
    return frame


def _refuse_duplicate_columns(path):
    """Refuse a header that names a column twice; pandas would rename it a.1."""
    try:
        with open(path, newline="") as file:
            header = next(csv.reader(file), [])
    except (UnicodeDecodeError, csv.Error):
        return  # read_csv says what is wrong with the file
    seen, repeated = set(), []
    for name in header:
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise CommandError(
            f"{path} names the column(s) {repeated} more than once in its header; "
            "give each column its own name"
        )


def _refuse_garbage_in_numeric_columns(frame, path):
    """Refuse a mostly numeric text column: stray text in numbers is a typo."""
    import pandas as pd

    text = frame.select_dtypes(exclude=["number", "bool", "datetime"]).columns
    for name in text:
        column = frame[name]
        present = column.notna()
        numbers = pd.to_numeric(column, errors="coerce")
        bad = present & numbers.isna()
        if not bad.any():
            continue
        rows = [int(i) + 2 for i in column.index[bad][:3]]  # + header, 1-based
        examples = [shortened(str(v)) for v in column[bad][:3]]
        share = numbers.notna().sum() / present.sum()
        if share >= 0.8:
            raise CommandError(
                f"column {name!r} of {path} is numeric but for {int(bad.sum())} "
                f"value(s) such as {examples} (lines {rows}); fix or remove them"
            )
        if share >= 0.5:
            # Perhaps a quantity with junk in it: one category per number.
            warnings.warn(
                f"column {name!r} of {path} holds numbers in {share:.0%} of its "
                f"cells and text in the rest, such as {examples} (lines {rows}): "
                "it is read as categories, one per distinct value. If it is a "
                "quantity, fix or remove the text",
                UserWarning,
                stacklevel=2,
            )


def shortened(text, limit=40):
    """Return ``text`` cut to ``limit`` characters, as a message quotes a value.

    A cell of a CSV can hold megabytes, and a message echoes it whole.
    """
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text):,} characters)"


def infer_task(y):
    """Return "classification" or "regression" for a target column, and why."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if is_bool_dtype(y) or not is_numeric_dtype(y):
        return "classification", f"{y.dtype} values"
    n_distinct = y.nunique()
    if (y.dropna() % 1 == 0).all() and n_distinct <= MAX_CLASSES_INFERRED:
        return "classification", f"{n_distinct} distinct integer values"
    return "regression", f"{n_distinct} distinct numeric values"


def preprocessor(frame):
    """Return the features' preprocessing: numbers imputed and scaled, text one-hot."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = list(frame.select_dtypes("number").columns)
    categorical = [c for c in frame.columns if c not in numeric]
    return ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                numeric,
            ),
            # Missing text is a category of its own. An imputer would hide it,
            # and skl2onnx converts a text imputer only with a string marker
            # for missing values, which pandas gives as NaN; the encoder's NaN
            # category converts, as the string "nan".
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
