"""The parameters and attributes both tuned estimators share, in numpydoc.

One text for ``TunedMLPClassifier`` and ``TunedMLPRegressor``, with fields
each fills in (:func:`fill_docstring`), so that the two cannot drift.
"""

SHARED_PARAMETERS = """
    param_space : dict or list of dict, default=None
        The hyperparameters to search. Each key is a parameter of
        ``estimator``; each value is

        - a list: a choice among its elements, e.g. ``["relu", "tanh"]`` or
          ``[(64,), (128, 64, 32)]``;
        - ``(low, high)``: a range, of integers when both bounds are
          integers and of floats otherwise;
        - ``(low, high, "log-uniform")``: a range searched on a log scale;
        - a scikit-optimize ``Real``, ``Integer`` or ``Categorical``.

        A list of dicts searches a union of sub-spaces. ``None`` means
        :func:`~sk_mlp_tune.default_param_space`: the learning rate (1e-4 to
        1e-1, log), 1 to 3 hidden layers (``n_hidden_layers``) of 16 to 256
        neurons (``n_neurons``, log) in a constant or funnel
        (``layer_shape``) architecture, ``dropout`` (0 to 0.5), ``alpha``
        (1e-6 to 1e-1, log), ``batch_size`` (32 to 256, log) and the
        activation (relu or tanh). For grid search the default is a grid of
        32 candidates: two values each of the learning rate, depth, width,
        dropout and activation, after the estimator's own settings. For a
        plain scikit-learn MLP the architecture is searched as
        ``hidden_layer_sizes`` tuples instead, and for a pipeline it is the
        default space of its last step, its names prefixed with the step's
        (``mlp__alpha``). The dict given is never modified.

    search : {"grid", "random", "bayes", "halving", "asha"}, default="halving"
        How candidates are chosen; every strategy but a grid of your own
        starts from the estimator's own settings, which halving and asha
        carry to full training whatever their early scores, so a search
        never ends below them in CV. Halving is the default for its time:
        at 20 candidates it matched the best of scikit-learn's,
        scikit-optimize's and Optuna's searches on two problems of four and
        fell short on two (wine, by a test sample in three splits, and a
        harder synthetic problem, by 1.3 points), in a seventh to a half of
        the best one's time; asha beat it on five problems of six but stayed
        below the full searches on three (see the benchmarks page):
        ``"grid"`` tries every combination with
        :class:`~sklearn.model_selection.GridSearchCV`, ranges cut into
        ``n_grid_points`` values (log-spaced for log ranges);
        ``"random"`` draws ``n_iter`` candidates with
        :class:`~sklearn.model_selection.RandomizedSearchCV`; ``"bayes"``
        proposes ``n_iter`` candidates, ``n_points`` per step, with
        scikit-optimize's ``BayesSearchCV``, each step informed by the
        scores so far; ``"halving"`` trains ``n_iter`` random candidates with
        a small ``resource`` and keeps the best third for the next, larger
        rung (:class:`~sklearn.model_selection.HalvingRandomSearchCV`),
        each rung training from scratch; ``"asha"`` is the package's own
        asynchronous successive halving over the epochs: ``n_iter``
        candidates, the estimator's own settings and the portfolio first,
        then proposals from Optuna's TPE model of the scores so far (random
        until it has ``max(5, n_iter // 4)`` results); each rung trains
        three times the epochs of the previous one, up to the estimator's
        ``max_iter``, and a
        candidate in the top third of its rung *continues* training from
        where it stopped, as soon as a worker is free (see
        :ref:`strategies`).

    n_iter : int, default=20
        Number of candidates for random, Bayesian, halving and asha search
        (shared out over the sub-spaces). Ignored by grid search. It caps
        the search whatever ``max_time`` allows: a search stops at the
        first of the two.

    n_grid_points : int, default=3
        Number of values each range is cut into for grid search. Ignored by
        the other strategies. A grid of more than 500 candidates warns.

    n_points : int, default=None
        Candidates Bayesian search proposes per step. None means 4, or
        ``ceil(n_jobs / n_splits)`` when that is more (enough for every
        worker to have a fit): 4 per step took 0.58x the time of 1 at the
        same scores. For ``search="asha"`` with an integer ``random_state``, the
        decisions (new candidates or promotions) taken ahead of the results
        of earlier ones; None means ``max(4, ceil(4 * n_jobs / n_splits))``.
        Either way seeded results depend on ``n_points``, not on
        ``n_jobs``, so the default gives the same results from 1 to
        ``4 * n_splits`` jobs for Bayesian search and 1 to ``n_splits`` for
        asha; fix ``n_points`` to get the same results on any machine.

    resource : {"auto", "max_iter", "n_samples"}, default="auto"
        What successive halving grows from rung to rung: the epochs, up to
        the estimator's ``max_iter``, or the training samples. ``"auto"``
        grows the epochs (the samples, for an estimator without
        ``max_iter``), and from 10,000 rows on the rows too: each rung
        below the last trains on a third of the next one's rows, never
        fewer than 3,000, a subsample stratified by class.
        ``cv_results_["n_train_samples"]`` then gives each candidate's
        training rows. ``"max_iter"`` trains every rung on all the rows.

    max_time : float, default=None
        Time budget of the whole ``fit`` in seconds, the refit included: no
        candidate starts once the time spent plus the estimated refit of the
        best candidate so far reaches it, and the candidates already started
        finish their folds, so the fit ends at most about one candidate's
        folds after it. The first candidate always runs. None means no
        budget.

    warm_start : bool, default=False
        Whether a new ``fit`` on the same data continues the previous search
        (earlier candidates kept, new ones evaluated) instead of starting
        over; the previous search must have been fitted with
        ``warm_start=True`` too, which records a hash of its data (a fit with
        ``warm_start=False`` hashes nothing). The same data in another form
        (a DataFrame, a list) counts as the same. Not with
        ``search="halving"`` or ``"asha"``.

    scoring : str, callable, list, tuple, dict or None, default=None
        The metric maximised, as in
        :class:`~sklearn.model_selection.GridSearchCV`; ``None`` means the
        estimator's ``score`` ({default_metric}). Several metrics (a list or
        tuple of names, or a dict of name to scorer) are all recorded in
        ``cv_results_`` (``mean_test_<name>``, ...), and ``refit`` names the
        one that picks the best candidate; Bayesian search and asha optimise
        that one. Not with ``search="halving"``.

    cv : int, cross-validation generator, iterable or "auto", default="auto"
        The cross-validation splitting, as in
        :class:`~sklearn.model_selection.GridSearchCV`; ``None`` means
        {default_cv}. ``"auto"`` is the same below 10,000 training rows and,
        from there, one held-out split of 20% of the rows, seeded by
        ``random_state``: on that much data one split ranks the candidates
        about as well, in a fifth of the fits (``n_splits_`` says which).

    refit : bool, str or callable, default=True
        Whether to refit the best candidate on the whole data, as in
        :class:`~sklearn.model_selection.GridSearchCV`. With several
        metrics, the name of the one that picks it; a callable takes
        ``cv_results_`` and returns the index of the best candidate. With
        ``refit=False`` the search results are available but ``predict``
        and the learned weights are not.

    n_jobs : int, default=None
        Number of jobs to run in parallel over candidates and folds (joblib).
        ``None`` means 1 unless in a :func:`joblib.parallel_config` context;
        ``-1`` means all processors.

    pre_dispatch : int or str, default="2*n_jobs"
        Number of fold fits handed to the workers ahead of time, as in
        :class:`~sklearn.model_selection.GridSearchCV`: an integer,
        ``"k*n_jobs"`` or ``"all"``; at least one per worker.

    verbose : int, default=0
        ``1`` shows a progress line on standard error (candidates done, best
        score so far, time elapsed) after each candidate, and under halving
        and asha after each candidate's rung, with the best score at the
        highest rung reached; ``2`` and more also pass ``verbose - 1`` to
        scikit-learn's fold fits.

    random_state : int, RandomState instance or None, default=None
        Seeds the choice of candidates and, when the estimator's own
        ``random_state`` is None, the weight initialisation, batch shuffling
        and dropout masks of every MLP fit. An int gives the same results for
        any ``n_jobs``.

    error_score : "raise" or float, default=np.nan
        The score given to a fit that fails; ``"raise"`` raises instead.

    return_train_score : bool, default=False
        Whether ``cv_results_`` also holds training scores.

    checkpoint : str or path-like, default=None
        A file where ``search="asha"`` records every finished fold fit as it
        arrives (appended, flushed and fsynced). A ``fit`` with the same
        file, data and settings resumes: what is recorded is not computed
        again, so a search killed halfway ends with the results of an
        uninterrupted one (seeded, ``n_jobs=1``). Other data or settings are
        refused and the file left as it is. Needs an integer
        ``random_state``, since resuming replays the search's decisions.
        The file holds plain JSON records (scores, times, epochs), no
        pickles and no models: reading one runs no code. It must be a
        regular file, or a new one in an existing folder. None records
        nothing.

    portfolio : bool or list of dict, default=True
        The candidates evaluated after the estimator's own settings, before
        the strategy proposes its own; ``n_iter`` counts them all. ``True``:
        with the default space (``param_space=None``), the learned
        portfolio, an ordered list of networks that did well across 25 real
        tables (``benchmarks/build_portfolio.py``; see :ref:`portfolio`).
        ``False``: none. A list of dicts of the estimator's parameters:
        these, in this order, with any space (as Optuna's
        ``enqueue_trial``). Grid search takes none.

    selection : {"best", "one_se"}, default="best"
        How the best candidate is chosen among those fully trained (the
        last rung, for successive halving). ``"best"``: the best mean CV
        score, as :class:`~sklearn.model_selection.GridSearchCV` chooses.
        ``"one_se"``: the one-standard-error rule: the estimator's own
        settings if their mean score is within one standard error
        (``std_test_score / sqrt(n_splits)``) of the best, else the
        portfolio's first entry within it, else the best; a lead within the
        noise of the folds then does not replace what is known to work. On
        25 real tables it scored below ``"best"`` (see :ref:`portfolio`),
        so it is not the default. With grid, random, Bayesian or halving
        search, a callable ``refit`` chooses by itself.

    ensemble_size : int in [1, 500] or "auto", default="auto"
        Rounds of greedy ensemble selection (Caruana et al., 2004). ``1``
        predicts with the best network alone. Greater, each round adds,
        with replacement, the candidate whose out-of-fold predictions most
        improve the average of those chosen so far, by the metric the
        search ranks by (the highest rung's candidates, under successive
        halving); the chosen ones are refitted on all the data within the
        fit's ``max_time``, and predictions are their weighted mean, each
        weighted by how often it was chosen. ``"auto"``: 10 rounds, or the
        best alone where there is no ensemble to choose (``refit=False``,
        or several metrics and a callable ``refit``) or too few rows to
        choose one well (fewer than 500): on 26 problems 10 rounds beat the
        best network alone on 14 and lost on 5, at 1.04x the fit time, but
        on tables of fewer than 600 rows they lost more often than they
        gained. An int ensembles whatever the size.
        ``best_estimator_``, ``best_params_``, ``coefs_`` and
        ``intercepts_`` stay the single best network's. See
        :ref:`ensemble`.

    Attributes
    ----------
    search_ : GridSearchCV, RandomizedSearchCV, BayesSearchCV, \
HalvingRandomSearchCV or the engine's AsynchronousHalvingSearchCV
        The fitted search object (a subclass whose fold fits run on the
        package's engine; the engine's own for ``search="asha"``, with the
        rungs' epochs in ``rungs_`` and the epochs trained in
        ``n_epochs_trained_``); with ``warm_start``, that of the last round.

    best_estimator_ : estimator
        The best candidate refitted on the whole data. Only with
        ``refit=True``; ``best_estimator_.hidden_layer_sizes_`` is the
        architecture it was built with.

    best_params_ : dict
        Hyperparameters of the best candidate, as plain Python values, e.g.
        ``{"n_hidden_layers": 3, "n_neurons": 128, "layer_shape": "funnel",
        "dropout": 0.2, ...}``.

    best_score_ : float
        Mean cross-validated score of the best candidate.

    best_index_ : int
        Index of the chosen candidate in ``cv_results_``; with
        ``selection="one_se"`` it may rank below the first.

    cv_results_ : dict of numpy (masked) ndarrays
        One entry per candidate, as in
        :class:`~sklearn.model_selection.GridSearchCV`; ``pd.DataFrame`` of
        it is a table. Its ``"origin"`` column says where each candidate
        came from: ``"estimator"`` (the estimator's own settings, in the
        space's terms: ``batch_size="auto"`` as 200, the layers as
        ``n_hidden_layers`` and ``n_neurons``), ``"portfolio 1"``, ...
        or ``"search"`` (the strategy's own proposals).

    scorer_ : callable or dict
        The scorer used to pick the best candidate; with several metrics, a
        dict of them by name.

    multimetric_ : bool
        Whether several metrics were scored.

    n_splits_ : int
        Number of cross-validation splits.

    refit_time_ : float
        Seconds spent refitting the best candidate. Only with ``refit=True``.

    ensemble_estimators_ : list of estimator
        The networks predictions average, refitted on the whole data:
        ``[best_estimator_]`` when no ensemble was chosen
        (``ensemble_size=1``). Only with ``refit=True``.

    ensemble_weights_ : ndarray of shape (n_members,)
        Their weights: positive, summing to 1.

    ensemble_indices_ : list of int
        Their rows in ``cv_results_``.

    ensemble_score_ : float
        The ensemble's score out of fold (on the candidates' out-of-fold
        predictions), by the metric the search ranks by; NaN when no
        ensemble was chosen.

    ensemble_single_score_ : float
        The best-ranked candidate's out-of-fold score on the same samples,
        to compare with ``ensemble_score_``; NaN when no ensemble was chosen.

    stop_reason_ : {"completed", "max_time", "interrupted", "worker_lost"}
        Why the search stopped: it ran every candidate, the time budget ran
        out, Ctrl-C was pressed, or a worker process died (out of memory,
        say). After the last two the candidates that had finished are kept
        and the best refitted, with a warning; see :ref:`faults`.

    search_time_ : float
        Seconds the last ``fit`` took, refit included.

    n_max_iter_reached_ : int
        Number of MLP fits (cross-validation and refit) that stopped at
        ``max_iter`` before converging; one ``ConvergenceWarning`` sums them
        up instead of one warning per fit.
{task_attributes}
    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.

    coefs_ : list of ndarray
        Weight matrices of the refitted best MLP (the single best, also
        with an ensemble); ``coefs_[i]`` connects layer ``i`` to layer
        ``i + 1``.

    intercepts_ : list of ndarray
        Bias vectors of the refitted best MLP.

    n_layers_ : int
        Number of layers of the refitted best MLP.

    n_outputs_ : int
        Number of outputs of the refitted best MLP.

    out_activation_ : str
        Output activation of the refitted best MLP.

    loss_ : float
        Final training loss of the refitted best MLP.

    loss_curve_ : list of float
        Training loss at each epoch of the refitted best MLP, for the
        stochastic solvers.

    best_loss_ : float or None
        Lowest training loss of the refitted best MLP, stochastic solvers
        without early stopping.

    validation_scores_ : list of float or None
        Validation score at each epoch of the refitted best MLP, with early
        stopping.

    n_iter_ : int
        Number of epochs the refitted best MLP ran."""


def fill_docstring(docstring, **task):
    """Return ``docstring`` with ``{shared}`` replaced by the shared parameters.

    ``task`` fills the shared text's own fields (``{task}``, say). Survives
    ``python -OO``, which strips docstrings: there is nothing to fill.
    """
    if not docstring:  # python -OO strips docstrings; nothing to fill
        return docstring
    shared = SHARED_PARAMETERS
    for name, text in task.items():
        shared = shared.replace("{" + name + "}", text)
    return docstring.replace("{shared}", shared.strip())
