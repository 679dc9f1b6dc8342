"""Sphinx configuration of the sk_mlp_tune documentation.

The build works offline: intersphinx is off unless SK_MLP_TUNE_INTERSPHINX=1
is set, and references to other projects are then left as plain text.
"""

import os

import sk_mlp_tune

project = "sk_mlp_tune"
author = "the sk_mlp_tune developers"
copyright = "2026, the sk_mlp_tune developers"
release = sk_mlp_tune.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # The benchmarks page includes benchmarks/README.md: one source of truth.
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = []

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "examples",
    "generated/*.examples",
    "sg_execution_times.rst",
]

html_theme = "pydata_sphinx_theme"
html_title = f"sk_mlp_tune {release}"

autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    # The gallery must not reach the network either.
    "reference_url": {},
    # Each API page lists the examples that use it.
    "doc_module": ("sk_mlp_tune",),
    "backreferences_dir": "generated",
}

if os.environ.get("SK_MLP_TUNE_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "joblib": ("https://joblib.readthedocs.io/en/stable", None),
        "skopt": ("https://scikit-optimize.github.io/stable", None),
    }
else:
    intersphinx_mapping = {}
    # Without inventories, references to other projects cannot resolve; they
    # stay as text instead of failing the nitpicky build.
    nitpick_ignore_regex = [
        (r"py:.*", r"(sklearn|numpy|np|scipy|joblib|skopt|pandas|pd)(\..*)?"),
        (r"py:.*", r"(MetadataRouter|BayesSearchCV|GridSearchCV|RandomizedSearchCV)"),
    ]

# Document each class's own methods and its MLP parent's (fit, partial_fit,
# predict, ...), but not scikit-learn's generic ones (get_params, the mixins'
# score, the generated set_*_request), which scikit-learn documents.


def _skip_generic_sklearn_members(app, what, name, obj, skip, options):
    if name.startswith("set_") and name.endswith("_request"):
        return True
    module = getattr(obj, "__module__", None) or ""
    if module.startswith(("sklearn.base", "sklearn.utils")):
        return True
    return skip


def setup(app):
    """Connect the member filter."""
    app.connect("autodoc-skip-member", _skip_generic_sklearn_members)
