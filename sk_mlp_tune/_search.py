"""Build the search object that runs a strategy over a resolved space."""

from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from ._space import to_distributions, to_grid

SEARCHES = ("grid", "random", "bayes")


def build_search(
    search,
    estimator,
    subspaces,
    *,
    n_iter,
    n_grid_points,
    random_state,
    **search_params,
):
    """Return an unfitted search object for ``search`` over ``subspaces``.

    Parameters
    ----------
    search : {"grid", "random", "bayes"}
        The strategy.
    estimator : estimator instance
        The template each candidate is cloned from.
    subspaces : list of dict
        The space, as resolved by ``_space.resolve_space``.
    n_iter : int
        Number of candidates for random and Bayesian search.
    n_grid_points : int
        Values per range for grid search.
    random_state : int or None
        Seed of the candidate sampling; grid search has none.
    **search_params
        Passed on unchanged: ``scoring``, ``cv``, ``refit``, ``n_jobs``,
        ``pre_dispatch``, ``verbose``, ``error_score``, ``return_train_score``.

    Returns
    -------
    search : GridSearchCV, RandomizedSearchCV or BayesSearchCV
    """
    if search == "grid":
        return GridSearchCV(
            estimator, to_grid(subspaces, n_grid_points), **search_params
        )
    if search == "random":
        return RandomizedSearchCV(
            estimator,
            to_distributions(subspaces),
            n_iter=n_iter,
            random_state=random_state,
            **search_params,
        )
    from ._skopt import BayesSearchCV, to_search_spaces

    return BayesSearchCV(
        estimator,
        to_search_spaces(subspaces, n_iter),
        n_iter=n_iter,
        random_state=random_state,
        **search_params,
    )
