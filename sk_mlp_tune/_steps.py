"""The network inside an estimator: a pipeline's last step, and its epochs.

A leaf: every module that looks through a pipeline to its MLP asks here.
"""


def final_step(estimator):
    """Return the last step of a pipeline (of pipelines), or the estimator."""
    while hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    return estimator


def final_step_prefix(estimator):
    """Return the prefix of the last step's parameters in a pipeline's: ``"mlp__"``.

    A pipeline of pipelines gives ``"outer__mlp__"``; anything without
    ``steps`` (an MLP, None) gives ``""``.
    """
    prefix = ""
    while hasattr(estimator, "steps"):
        name, estimator = estimator.steps[-1]
        prefix += f"{name}__"
    return prefix


def epochs_name(estimator):
    """Return ``max_iter`` as a parameter name of ``estimator``: ``mlp__max_iter``."""
    return final_step_prefix(estimator) + "max_iter"


def epochs_parameter(estimator):
    """Return the name of the parameter that sets the epochs of ``estimator``.

    ``max_iter`` for an MLP, ``<step>__max_iter`` for a pipeline ending in
    one: successive halving over epochs grows it from rung to rung.
    """
    final = final_step(estimator)
    if "max_iter" not in final.get_params() or "warm_start" not in final.get_params():
        raise ValueError(
            f"search='asha' trains each candidate for more epochs at each rung, "
            f"through the max_iter and warm_start parameters of the final "
            f"estimator, which {type(final).__name__} does not have. Use an MLP "
            "(or a pipeline ending in one), or another search."
        )
    return epochs_name(estimator)
