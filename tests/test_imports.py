"""The package's own imports run one way: a test that reads its import graph."""

import ast
from pathlib import Path

import sk_mlp_tune

PACKAGE = Path(sk_mlp_tune.__file__).parent


def _imports_of(path):
    """Return the package modules ``path`` imports, at module level or in functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "sk_mlp_tune."
        ):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(
                alias.name.split(".")[1]
                for alias in node.names
                if alias.name.startswith("sk_mlp_tune.")
            )
    return found


def import_graph():
    """Return {module: set of package modules it imports}, ``__init__`` left out."""
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    return {
        name: (_imports_of(PACKAGE / f"{name}.py") & modules) - {name}
        for name in modules
    }


def _cycle(graph):
    """Return one import circle as a list of modules, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt, [*path, nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_the_package_imports_run_one_way():
    assert _cycle(import_graph()) is None, " -> ".join(_cycle(import_graph()))


def test_the_estimators_import_no_integration():
    # MLflow's autologging reaches fit through a hook that _integrations,
    # above the estimators, registers.
    graph = import_graph()
    for estimator_module in ("_tuned", "_network", "_search", "_engine"):
        assert not graph[estimator_module] & {"mlflow", "onnx", "plotting", "report"}


def test_compat_imports_nothing_of_the_package():
    assert import_graph()["_compat"] == set()


def test_the_circle_finder_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def _defined_names(tree):
    """Return the names a module defines: functions, classes, assigned attributes."""
    defined = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            defined.add(node.attr)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    return defined


def _private_reads(tree):
    """Return ``(line, name)`` per private name read: ``x._y``, ``from m import _y``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            name = node.attr
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            module_parts = (node.module or "").split(".")
            found.extend(
                (node.lineno, part) for part in module_parts if part.startswith("_")
            )
            found.extend(
                (node.lineno, alias.name)
                for alias in node.names
                if alias.name.startswith("_")
            )
            continue
        else:
            continue
        if name.startswith("_") and not name.startswith("__"):
            found.append((node.lineno, name))
    return found


def test_other_libraries_private_names_are_read_in_compat_alone():
    from sk_mlp_tune import _compat

    trees = {p.stem: ast.parse(p.read_text()) for p in PACKAGE.glob("*.py")}
    ours = set().union(*(_defined_names(t) for t in trees.values()))
    # The parts of BaseSearchCV that the copy of its fit calls, and of the MLP
    # that dropout overrides: probed against the installed versions there.
    probed = {
        *_compat._SEARCH_METHODS,
        *_compat._EXPECTED_SIGNATURES,
        *_compat._FITTED_ATTRIBUTES,
    }
    foreign = {
        f"{module}.py:{line} {name}"
        for module, tree in trees.items()
        if module != "_compat"
        for line, name in _private_reads(tree)
        if name not in ours and name not in probed
    }
    assert not foreign, sorted(foreign)


def test_the_private_name_finder_finds_them():
    tree = ast.parse(
        "from sklearn.utils._x import y\nfrom a import _b\nscorer._score_func\n"
    )
    assert {name for _, name in _private_reads(tree)} == {"_x", "_b", "_score_func"}


def render_layers(graph):
    """Return the import graph as the design page draws it: a module a line.

    Each module with the modules of the package it imports, leaves first;
    a module's layer is one more than its highest import's.
    """
    layer = {}

    def layer_of(module):
        if module not in layer:
            imports = graph[module]
            layer[module] = 1 + max(map(layer_of, imports)) if imports else 0
        return layer[module]

    return [
        f"{layer_of(module):>2}  {module:<14} {' '.join(sorted(graph[module])) or '-'}"
        for module in sorted(graph, key=lambda m: (layer_of(m), m))
    ]


def _drawn_layers(page):
    """Return the lines of the block that follows ``.. import-graph`` on ``page``."""
    lines = page.read_text().splitlines()
    start = lines.index(".. import-graph") + 1
    block = []
    for line in lines[start:]:
        if block and not line.strip():
            break
        if line.startswith("   ") and not line.strip().startswith("layer"):
            block.append(line[3:])
    return block


def test_the_design_page_draws_the_imports_as_they_are():
    """Check that docs/design.rst's module layers are the code's, line for line."""
    page = PACKAGE.parent / "docs" / "design.rst"
    expected = render_layers(import_graph())
    assert _drawn_layers(page) == expected, (
        "docs/design.rst's import layers drifted from the code; the block "
        "after '.. import-graph' should read:\n   " + "\n   ".join(expected)
    )
