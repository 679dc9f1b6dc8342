"""From a tuner's settings to the search it runs: checked, seeded, built.

Everything here happens before any fit: the settings are checked together
(asking the strategy's class what it can do), the template and the search
are seeded, the space is resolved and the starting candidates chosen.
The tuner (``_tuned``) then hands the search its plan and fits it.
"""

import inspect
import numbers
import os
import stat
import sys

import numpy as np
from sklearn.base import is_classifier
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit, check_cv
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target

from ._compat import search_scorers
from ._network import check_architecture_space
from ._search import SEARCHES, build_search, default_param_space
from ._space import (
    check_portfolio,
    check_values_accepted,
    resolve_space,
    starting_candidates,
)
from ._steps import epochs_name, final_step, final_step_prefix

_SEED_BOUND = np.iinfo(np.int32).max

# cv="auto" validates on one held-out split of this share of the rows from
# this many training rows on, and on 5 folds below (benchmarks/bench_scale.py).
HOLDOUT_MIN_ROWS = 10_000
HOLDOUT_SHARE = 0.2


def check_settings(tuner):
    """Refuse, before any fit, settings that cannot be searched together."""
    if isinstance(tuner.ensemble_size, bool):
        raise ValueError(
            f"ensemble_size={tuner.ensemble_size!r} is a bool, not a number of "
            "rounds: give an integer (10 lets up to 10 networks share the vote), "
            "1 for the best network alone, or 'auto'."
        )
    strategy = SEARCHES[tuner.search]
    template = tuner._template_estimator()
    # Refuses a refit that names no metric, before any fit.
    _, refit_metric = search_scorers(
        template, tuner.scoring, tuner.refit, tuner.error_score
    )
    if tuner._ensemble_rounds() > 1 and (not tuner.refit or refit_metric is None):
        raise ValueError(
            f"ensemble_size={tuner.ensemble_size} refits the candidates it "
            "chooses, scored by the metric the search ranks by: it needs "
            f"refit=True (or the name of a metric); got refit={tuner.refit!r}. "
            "Set refit, or ensemble_size=1."
        )
    if tuner._multimetric() and tuner.warm_start:
        raise ValueError(
            "warm_start=True does not continue a multi-metric search; give "
            "one metric in scoring, or warm_start=False."
        )
    strategy.check_settings(
        template,
        resource=tuner.resource,
        multimetric=tuner._multimetric(),
        refit=tuner.refit,
        refit_metric=refit_metric,
    )
    if tuner.warm_start and not strategy.continues:
        raise ValueError(
            f"warm_start=True cannot continue search={tuner.search!r}: "
            "successive halving plans its rungs for a fixed set of candidates. "
            "Use search='random' or 'bayes' to extend a search, checkpoint= "
            "with search='asha' to resume one, or warm_start=False."
        )
    if tuner.checkpoint is not None and not strategy.resumable:
        resumable = [name for name, cls in SEARCHES.items() if cls.resumable]
        raise ValueError(
            f"checkpoint={tuner.checkpoint!r} needs search={resumable[0]!r}, the "
            "search that records its work as it goes; got "
            f"search={tuner.search!r}. Use search={resumable[0]!r}, or "
            "checkpoint=None."
        )
    if tuner.checkpoint is not None and not isinstance(
        tuner.random_state, numbers.Integral
    ):
        raise ValueError(
            f"checkpoint={tuner.checkpoint!r} needs an integer random_state: "
            "resuming replays the search's decisions, which only a seeded "
            f"search repeats; got random_state={tuner.random_state!r}. Set "
            "random_state=0 (or any integer), or checkpoint=None."
        )
    if tuner.checkpoint is not None:
        _check_checkpoint_path(tuner.checkpoint)
    if isinstance(tuner.portfolio, list):
        if not strategy.takes_portfolio:
            *others, last = [repr(n) for n, c in SEARCHES.items() if c.takes_portfolio]
            raise ValueError(
                f"search={tuner.search!r} evaluates its grid and no portfolio; got "
                f"a portfolio of {len(tuner.portfolio)} entries. Add them to the "
                f"grid, or use search={', '.join(others)} or {last}."
            )
        check_portfolio(tuner.portfolio, template)


def resolve_cv(tuner, X, y):
    """Return the splitter of ``tuner.cv``, checked once for the whole fit.

    ``"auto"`` is 5 folds (stratified for a classifier, as ``cv=None``)
    below ``HOLDOUT_MIN_ROWS`` training rows, and from there one held-out
    split of ``HOLDOUT_SHARE`` of the rows, seeded by ``random_state``:
    with that many rows one split ranks the candidates about as well, in
    a fifth of the fits.
    """
    classifier = is_classifier(tuner)
    if not (isinstance(tuner.cv, str) and tuner.cv == "auto"):
        return check_cv(tuner.cv, y, classifier=classifier)
    if num_rows(X) < HOLDOUT_MIN_ROWS:
        return check_cv(None, y, classifier=classifier)
    stratified = classifier and type_of_target(y) in ("binary", "multiclass")
    splitter = StratifiedShuffleSplit if stratified else ShuffleSplit
    seed = tuner.random_state
    if seed is not None and not isinstance(seed, numbers.Integral):
        seed = int(check_random_state(seed).randint(_SEED_BOUND))
    return splitter(n_splits=1, test_size=HOLDOUT_SHARE, random_state=seed)


def build(tuner, *, cv, n_splits, previous=None):
    """Return the unfitted search of ``tuner`` and its starting candidates.

    ``cv`` is the splitter (:func:`resolve_cv`), of ``n_splits`` splits;
    ``previous`` is the state of an earlier fit to continue (warm start).
    The space is validated on the way.
    """
    strategy = SEARCHES[tuner.search]
    template, search_seed, subspaces = _seeded_template_and_space(tuner)
    # A continued search evaluated its starting candidates in its first round.
    starting = []
    if previous is None:
        starting = strategy.starting_share(
            _starting_candidates(tuner, template, subspaces),
            tuner.n_iter,
            len(subspaces),
        )
    if tuner.random_state is not None and previous is not None:
        # Each continued round of random search draws new candidates.
        round_rng = np.random.RandomState([search_seed, previous.rounds])
        search_seed = int(round_rng.randint(_SEED_BOUND))
    search = build_search(
        tuner.search,
        template,
        subspaces,
        n_iter=tuner.n_iter,
        n_grid_points=tuner.n_grid_points,
        n_points=tuner.n_points,
        n_splits=n_splits,
        # The epochs of a pipeline are its final step's: "mlp__max_iter".
        resource=halving_resource(tuner.resource, template),
        random_state=search_seed,
        starting=starting,
        scoring=tuner.scoring,
        cv=cv,
        refit=tuner.refit,
        n_jobs=tuner.n_jobs,
        pre_dispatch=tuner.pre_dispatch,
        verbose=max(tuner.verbose - 1, 0),
        error_score=tuner.error_score,
        return_train_score=tuner.return_train_score,
        evaluated=previous.evaluated if previous is not None else (),
        seeded=tuner.random_state is not None,
        checkpoint=tuner.checkpoint,
    )
    return search, starting


def _starting_candidates(tuner, template, subspaces):
    """Return the candidates every search begins with, and their origins.

    The estimator's own settings (but in a grid of the user's), then,
    with the default space and ``portfolio=True``, the portfolio.
    """
    takes_portfolio = SEARCHES[tuner.search].takes_portfolio
    if not takes_portfolio and tuner.param_space is not None:
        return []
    entries = tuner.portfolio
    if entries is True and tuner.param_space is not None:
        entries = False  # the shipped portfolio is for the default space
    if not takes_portfolio:
        entries = False
    return starting_candidates(template, subspaces, entries)


def _seeded_template_and_space(tuner):
    """Return the template, the search's seed and the resolved space.

    A seeded tuner must give seeded fits, whatever n_jobs is: the template
    (and each step of a pipeline) gets a seed too where its own
    ``random_state`` is None.
    """
    template = tuner._template_estimator()
    search_seed = None
    if tuner.random_state is not None:
        rng = check_random_state(tuner.random_state)
        search_seed = int(rng.randint(_SEED_BOUND))
        # Every step of a pipeline, too.
        current = template.get_params(deep=True)
        template.set_params(
            **{
                name: int(rng.randint(_SEED_BOUND))
                for name in sorted(current)
                if name.split("__")[-1] == "random_state" and current[name] is None
            }
        )
    if tuner.param_space is None:
        space = default_param_space(tuner.search, template)
        space_name = "the default param_space (give a param_space of your own)"
        step = final_step_prefix(template)[:-2]
        if step and tuner.verbose > 0:
            print(
                f"Searching the default space of the pipeline's last step {step!r}",
                file=sys.stderr,
            )
    else:
        space, space_name = tuner.param_space, "param_space"
    subspaces = resolve_space(space, template, name=space_name)
    check_values_accepted(template, subspaces, name=space_name)
    check_architecture_space(template, subspaces)
    return template, search_seed, subspaces


def _check_checkpoint_path(path):
    """Refuse a checkpoint path that is not, or cannot become, a regular file.

    A journal is written and read back: a FIFO would block its first read
    forever, ``/dev/null`` would swallow it, a folder cannot hold it.
    """
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise ValueError(
                f"checkpoint={path!r} is in a folder that does not exist "
                f"({folder!r}); create the folder, or give another path."
            ) from None
        return
    if stat.S_ISREG(mode):
        return
    kind = (
        "a folder" if stat.S_ISDIR(mode)
        else "a named pipe (FIFO)" if stat.S_ISFIFO(mode)
        else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a regular file"
    )  # fmt: skip
    raise ValueError(
        f"checkpoint={path!r} is {kind}: a checkpoint is a journal written to "
        "and read back from a regular file. Give the path of a file (created "
        "if missing), or checkpoint=None."
    )


def halving_resource(resource, template):
    """Return the parameter successive halving grows: the epochs, or "n_samples".

    ``"auto"`` grows the epochs of an estimator that has them (the
    ``max_iter`` of a pipeline's last step: ``"mlp__max_iter"``), and the
    samples of one that has none.
    """
    if resource == "n_samples" or (
        resource == "auto" and "max_iter" not in final_step(template).get_params()
    ):
        return "n_samples"
    return epochs_name(template)


def lower_rung_rows(tuner, n_samples):
    """Tell whether successive halving's lower rungs train on fewer rows too.

    With ``resource="auto"``, from ``HOLDOUT_MIN_ROWS`` rows on: where a
    network's training time is the fit's, and a third of the rows still
    tells a poor configuration from a good one.
    """
    return tuner.resource == "auto" and n_samples >= HOLDOUT_MIN_ROWS


def num_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def check_fit_params(estimator, fit_params, n_samples, routed=False):
    """Refuse, before any fit, fit parameters that would fail every fold.

    A parameter the estimator's ``fit`` does not take, or weights that are
    not one non-negative finite number per sample with a positive sum,
    would otherwise fail inside every fold, and the search would end with
    "All the N fits failed" long after the real cause. Without metadata
    routing every parameter but ``groups`` goes to the estimator's ``fit``;
    with it (``routed``), where they go is the user's request, and only the
    weights are checked.
    """
    parameters = inspect.signature(estimator.fit).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    unknown = sorted(
        name for name in fit_params if name != "groups" and name not in parameters
    )
    if unknown and not takes_any and not routed:
        what = (
            "sample_weight was given, but"
            if unknown == ["sample_weight"]
            else (f"fit parameter(s) {unknown} were given, but")
        )
        raise TypeError(
            f"{what} {type(estimator).__name__}.fit does not accept "
            f"{'it' if len(unknown) == 1 else 'them'}; it takes "
            f"{sorted(set(parameters) - {'self', 'X', 'y'})}. Use an estimator "
            "whose fit takes them (scikit-learn's MLPs take sample_weight), or "
            "leave them out."
        )
    weights = fit_params.get("sample_weight")
    if weights is None:
        return
    weights = np.asarray(weights)
    problem = None
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        problem = f"has shape {weights.shape}, not ({n_samples},), one per sample"
    elif not np.issubdtype(weights.dtype, np.number):
        problem = f"holds {weights.dtype} values, not numbers"
    elif not np.all(np.isfinite(weights)):
        problem = f"holds {int(np.sum(~np.isfinite(weights)))} NaN or infinite values"
    elif np.any(weights < 0):
        problem = f"holds {int(np.sum(weights < 0))} negative values"
    elif not np.sum(weights) > 0:
        problem = "sums to zero: no sample would count"
    if problem is not None:
        raise ValueError(
            f"sample_weight {problem}; give one finite, non-negative weight per "
            "sample, not all zero."
        )
