"""Warnings that point at the user's line, whatever path inside led to them."""

import inspect
import os
import warnings

import sklearn.base

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
# scikit-learn's _fit_context wraps fit: its frame is not the user's either.
_SKLEARN_BASE = os.path.abspath(sklearn.base.__file__)


def warn_user(message, category):
    """Warn, attributing the warning to the first caller outside the package.

    As pandas' ``find_stack_level``: a warning raised three calls deep in
    one strategy and five in another points at the same line, the user's
    ``fit``, with no stack level counted by hand.
    """
    frame, level = inspect.currentframe().f_back, 2  # 2: warn_user's caller
    while frame is not None and _inside(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _inside(filename):
    path = os.path.abspath(filename)
    return path.startswith(_PACKAGE) or path == _SKLEARN_BASE
