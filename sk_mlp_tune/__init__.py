"""Self-tuning scikit-learn MLP estimators."""

from . import _integrations  # noqa: F401  (plugs MLflow autologging into fit)
from ._engine import WorkerLostError
from ._network import DropoutMLPClassifier, DropoutMLPRegressor
from ._search import default_param_space
from ._tuned import TunedMLPClassifier, TunedMLPRegressor
from .io import load, save

__version__ = "0.1.0.dev0"

__all__ = [
    "DropoutMLPClassifier",
    "DropoutMLPRegressor",
    "TunedMLPClassifier",
    "TunedMLPRegressor",
    "WorkerLostError",
    "__version__",
    "default_param_space",
    "load",
    "save",
]
