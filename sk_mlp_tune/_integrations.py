"""Where the estimators meet the optional integrations, above both.

The estimators import no integration: ``_tuned`` offers a hook around
``fit`` (:func:`~sk_mlp_tune._tuned.register_fit_hook`) and this module,
imported by the package itself, plugs MLflow's autologging into it. MLflow
is imported only by those who have imported it already: the hook looks at
``sys.modules`` at each fit, so ``import mlflow`` before or after
``import sk_mlp_tune`` both work, and nobody else pays for it.
"""

import contextlib
import sys

from ._tuned import register_fit_hook


def mlflow_autologging(tuner, X, y):
    """MLflow's autologging of ``tuner.fit``, when the user turned it on."""
    if "mlflow" not in sys.modules:
        return contextlib.nullcontext()
    from .mlflow import autologging

    return autologging(tuner, X, y)


register_fit_hook(mlflow_autologging)
