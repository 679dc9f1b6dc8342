"""The one place that imports private scikit-learn names.

scikit-learn does not promise that these stay where they are; keeping every
such import here means a scikit-learn upgrade that moves one breaks this
module, with a clear traceback, and nothing else.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metadata_routing import _routing_enabled

__all__ = ["HasMethods", "Interval", "StrOptions", "_fit_context", "_routing_enabled"]
