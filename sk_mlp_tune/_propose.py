"""Proposers: where the next candidate of the package's own search comes from.

A proposer is asked for candidate number ``index`` with the ``history`` of
every candidate that has results so far, and answers with a dict of
parameters. It keeps no state between asks: the same index and history give
the same candidate, which is what makes a seeded search reproducible and a
resumed one retrace its steps.

:class:`TPEProposer` models the results with Optuna's tree-structured Parzen
estimator. Each candidate of the history becomes a trial: pruned at the last
rung it reached, with one intermediate value per rung, or complete with its
score at the top rung. That is how Optuna's own pruners leave their trials,
and TPE ranks such trials by how far they got, then by score, which is the
order successive halving puts them in.

:class:`GPProposer` models them with scikit-optimize's Gaussian process,
fitted on the scores of the highest rung that enough candidates reached,
as BOHB picks its budget (Falkner et al. 2018).
"""

import warnings
from dataclasses import dataclass, field

import numpy as np

from ._space import Choice, Range, lies_in

# The first candidates are drawn at random; TPE needs a few results before its
# model of good and bad regions says anything.
MIN_STARTUP_CANDIDATES = 5


@dataclass
class Observation:
    """What the search knows of one candidate: its scores at each rung so far.

    Parameters
    ----------
    params : dict
        The candidate's parameters.
    scores : dict
        Mean cross-validated score at each rung reached, keyed by the
        rung's epochs; NaN where the candidate failed.
    finished : bool
        Whether the candidate reached the top rung.
    """

    params: dict
    scores: dict = field(default_factory=dict)
    finished: bool = False


class _Proposer:
    """What a proposer is: stateless, asked for candidate ``index``.

    Parameters
    ----------
    subspaces : list of dict
        The resolved space (``{name: Range or Choice}`` per sub-space).
    n_startup : int
        Number of candidates with results needed before the model takes
        over; until then, candidates are drawn at random from the space.
    random_state : int
        Seed; candidate ``index`` is drawn with a seed derived from it.
    """

    def __init__(self, subspaces, *, n_startup, random_state):
        self.subspaces = subspaces
        self.n_startup = n_startup
        self.random_state = random_state

    def ask(self, index, history):
        """Return the parameters of candidate ``index`` given ``history``.

        Parameters
        ----------
        index : int
            The candidate's number in the search.
        history : list of Observation
            The candidates with results so far.

        Returns
        -------
        params : dict
            Plain Python values, one per searched parameter.
        """
        raise NotImplementedError

    def _seed(self, index):
        # One seed per candidate: the same index and history, the same answer.
        return int(
            np.random.SeedSequence([self.random_state, index]).generate_state(1)[0]
        )


class TPEProposer(_Proposer):
    """Propose candidates with Optuna's TPE, random for the first ones.

    Parameters
    ----------
    subspaces : list of dict
        The resolved space (``{name: Range or Choice}`` per sub-space).
    n_startup : int
        Number of candidates with results needed before TPE takes over;
        until then, candidates are drawn at random from the space.
    random_state : int
        Seed; candidate ``index`` is drawn with a seed derived from it.
    """

    def ask(self, index, history):
        """Return the parameters of candidate ``index`` given ``history``."""
        optuna = _import_optuna()

        seed = self._seed(index)
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            with warnings.catch_warnings():
                # multivariate and group are experimental in name only.
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                sampler = optuna.samplers.TPESampler(
                    n_startup_trials=self.n_startup,
                    multivariate=True,
                    group=len(self.subspaces) > 1,
                    seed=seed,
                )
                study = optuna.create_study(direction="maximize", sampler=sampler)
                for observation in history:
                    trial = self._as_trial(observation)
                    if trial is not None:
                        study.add_trial(trial)
                trial = study.ask()
                return self._suggest(trial)
        finally:
            optuna.logging.set_verbosity(verbosity)

    def _suggest(self, trial):
        which = 0
        if len(self.subspaces) > 1:
            which = trial.suggest_categorical(
                "__subspace__", list(range(len(self.subspaces)))
            )
        params = {}
        for name, dimension in self.subspaces[which].items():
            key = _trial_key(which, name)
            if isinstance(dimension, Choice):
                position = trial.suggest_categorical(
                    key, list(range(len(dimension.values)))
                )
                params[name] = dimension.values[position]
            elif dimension.integer:
                params[name] = trial.suggest_int(
                    key, dimension.low, dimension.high, log=dimension.log
                )
            else:
                params[name] = trial.suggest_float(
                    key, dimension.low, dimension.high, log=dimension.log
                )
        return params

    def _as_trial(self, observation):
        """Return ``observation`` as a finished Optuna trial, or None.

        None for a candidate outside the space (the estimator's own
        settings, evaluated first) or one whose every score failed.
        """
        optuna = _import_optuna()

        encoded = self._encode(observation.params)
        scores = {e: s for e, s in observation.scores.items() if np.isfinite(s)}
        if encoded is None or not scores:
            return None
        params, distributions = encoded
        top = max(scores)
        if observation.finished:
            return optuna.trial.create_trial(
                params=params,
                distributions=distributions,
                value=scores[top],
                intermediate_values=scores,
            )
        return optuna.trial.create_trial(
            params=params,
            distributions=distributions,
            intermediate_values=scores,
            state=optuna.trial.TrialState.PRUNED,
        )

    def _encode(self, candidate):
        for which, subspace in enumerate(self.subspaces):
            if set(subspace) != set(candidate):
                continue
            params, distributions = {}, {}
            if len(self.subspaces) > 1:
                params["__subspace__"] = which
                distributions["__subspace__"] = _categorical(len(self.subspaces))
            for name, dimension in subspace.items():
                key = _trial_key(which, name)
                value = candidate[name]
                if isinstance(dimension, Choice):
                    if value not in dimension.values:
                        break
                    params[key] = dimension.values.index(value)
                    distributions[key] = _categorical(len(dimension.values))
                else:
                    if not _in_range(value, dimension):
                        break
                    params[key] = value
                    distributions[key] = _distribution(dimension)
            else:
                return params, distributions
        return None


def _trial_key(which, name):
    # Sub-spaces may share a name with different ranges; Optuna needs one
    # distribution per name.
    return name if which == 0 else f"{name}@{which}"


def _categorical(n_choices):
    optuna = _import_optuna()

    return optuna.distributions.CategoricalDistribution(list(range(n_choices)))


def _distribution(dimension: Range):
    optuna = _import_optuna()

    if dimension.integer:
        return optuna.distributions.IntDistribution(
            dimension.low, dimension.high, log=dimension.log
        )
    return optuna.distributions.FloatDistribution(
        dimension.low, dimension.high, log=dimension.log
    )


def _in_range(value, dimension):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return False
    if dimension.integer and int(value) != value:
        return False
    return dimension.low <= value <= dimension.high


class GPProposer(_Proposer):
    """Propose candidates with scikit-optimize's Gaussian process.

    A Gaussian process suits the few candidates (at most a few dozen) of
    a search on 2 to 16 cores. Successive halving scores candidates at
    several rungs, which one model cannot mix: the process is fitted on
    the highest rung that at least ``n_startup`` candidates of the
    sub-space reached, the lowest while none has (BOHB's rule). Until it
    has ``n_startup`` scores, scikit-optimize draws at random.

    Parameters
    ----------
    subspaces : list of dict
        The resolved space (``{name: Range or Choice}`` per sub-space);
        candidate ``index`` comes from sub-space ``index % len(subspaces)``.
    n_startup : int
        Scores needed before the Gaussian process takes over.
    random_state : int
        Seed; candidate ``index`` is drawn with a seed derived from it.
    """

    def ask(self, index, history):
        """Return the parameters of candidate ``index`` given ``history``."""
        from skopt import Optimizer

        subspace = self.subspaces[index % len(self.subspaces)]
        names = sorted(subspace)
        seed = self._seed(index)
        # Expected improvement at 10,000 sampled points: a quarter of the time
        # of scikit-optimize's default (a hedge of three acquisitions, each
        # polished by L-BFGS), which the workers would otherwise wait for.
        optimizer = Optimizer(
            [_skopt_dimension(subspace[name]) for name in names],
            base_estimator="GP",
            n_initial_points=self.n_startup,
            acq_func="EI",
            acq_optimizer="sampling",
            random_state=seed,
        )
        observed = [
            (o.scores, [_position(subspace[name], o.params[name]) for name in names])
            for o in history
            if lies_in(o.params, subspace)
        ]
        rung = _modelled_rung([scores for scores, _ in observed], self.n_startup)
        points = [
            (x, -scores[rung])
            for scores, x in observed
            if rung in scores and np.isfinite(scores[rung])
        ]
        with warnings.catch_warnings():
            # Duplicate points and a flat objective are warned about, not wrong.
            warnings.simplefilter("ignore", UserWarning)
            if points:
                optimizer.tell([x for x, _ in points], [y for _, y in points])
            proposal = optimizer.ask()
        params = {}
        for name, value in zip(names, proposal, strict=True):
            dimension = subspace[name]
            if isinstance(dimension, Choice):
                value = dimension.values[int(value)]
            params[name] = value.item() if isinstance(value, np.generic) else value
        return params


def _modelled_rung(scores, n_startup):
    """Return the highest rung (epochs) with ``n_startup`` finite scores.

    The lowest rung with any score while none has that many; None if no
    candidate has a finite score.
    """
    counts = {}
    for by_rung in scores:
        for rung, score in by_rung.items():
            if np.isfinite(score):
                counts[rung] = counts.get(rung, 0) + 1
    if not counts:
        return None
    enough = [rung for rung, count in counts.items() if count >= n_startup]
    return max(enough) if enough else min(counts)


def _position(dimension, value):
    # Choices are modelled by position: their values may be tuples or None,
    # which scikit-optimize's categories do not take.
    return dimension.values.index(value) if isinstance(dimension, Choice) else value


def _skopt_dimension(dimension):
    from skopt.space import Categorical, Integer, Real

    if isinstance(dimension, Choice):
        return Categorical(list(range(len(dimension.values))))
    kind = Integer if dimension.integer else Real
    return kind(
        dimension.low,
        dimension.high,
        prior="log-uniform" if dimension.log else "uniform",
    )


def _import_optuna():
    """Import Optuna without its import-time warnings reaching the user.

    Optuna imports ``tqdm.auto``, which in a notebook without ipywidgets
    warns "IProgress not found" in the middle of the search's output; it
    is about Optuna's progress bars, which the search never shows.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import optuna
    return optuna
