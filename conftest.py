"""Doctests of sk_mlp_tune/ and docs/: leave out what needs a missing extra."""

import importlib.util

# Importing sk_mlp_tune.onnx (and running the Deploying page) needs the
# 'onnx' extra, sk_mlp_tune.mlflow the 'mlflow' extra; the test extra
# installs both. Without them, these are not collected rather than failing
# to import.
collect_ignore = []
if not all(importlib.util.find_spec(m) for m in ("skl2onnx", "onnxruntime")):
    collect_ignore += ["sk_mlp_tune/onnx.py", "docs/user_guide/deploying.rst"]
if not importlib.util.find_spec("mlflow"):
    collect_ignore += ["sk_mlp_tune/mlflow.py"]
