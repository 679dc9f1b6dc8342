"""Every public docstring follows numpydoc, checked with numpydoc's validator."""

import importlib
import inspect

import pytest

import sk_mlp_tune
from sk_mlp_tune import io, plotting, report

validate = pytest.importorskip(
    "numpydoc.validate", reason="numpydoc is not installed (the 'test' extra)"
).validate

# Checks scikit-learn also leaves out: an extended summary, See Also and
# Examples sections on every method, and numpydoc's wish that a named return
# have its type alone on the first line.
IGNORED = {"ES01", "SA01", "EX01", "RT02"}


def _public_names():
    modules = {
        "sk_mlp_tune": sk_mlp_tune,
        "sk_mlp_tune.io": io,
        "sk_mlp_tune.plotting": plotting,
        "sk_mlp_tune.report": report,
    }
    # The integrations' modules need their extras, which the test extra has.
    for extra_module in ("mlflow", "onnx"):
        try:
            modules[f"sk_mlp_tune.{extra_module}"] = importlib.import_module(
                f"sk_mlp_tune.{extra_module}"
            )
        except ImportError:
            pass
    names = []
    for prefix, module in modules.items():
        exported = getattr(module, "__all__", None) or [
            n
            for n, o in vars(module).items()
            if not n.startswith("_")
            and getattr(o, "__module__", "") == module.__name__
            and (inspect.isfunction(o) or inspect.isclass(o))
        ]
        for name in exported:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            names.append(f"{prefix}.{name}")
            if inspect.isclass(obj):
                # Methods written here, including a private base's.
                names += [
                    f"{prefix}.{name}.{member}"
                    for member in dir(obj)
                    if not member.startswith("_")
                    and callable(getattr(obj, member, None))
                    and getattr(getattr(obj, member), "__module__", "").startswith(
                        "sk_mlp_tune"
                    )
                ]
    return sorted(set(names))


@pytest.mark.parametrize("name", _public_names())
def test_docstring_follows_numpydoc(name):
    """Check one public docstring against numpydoc's rules."""
    errors = [
        f"{code}: {message}"
        for code, message in validate(name)["errors"]
        if code not in IGNORED
    ]
    assert not errors, "\n".join(errors)
