"""The package's architecture, checked: imports only go down the layers, no module uses another's
private names, and there are no import cycles. Every import counts, including those inside functions."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "tieragent"

# layer -> the layers it may import (itself included). `model` and `repo` sit side by side.
ALLOWED = {
    "core": {"core"},
    "model": {"core", "model"},
    "repo": {"core", "repo"},
    "judge": {"core", "repo", "judge"},
    "risk": {"core", "repo", "risk"},
    "routing": {"core", "routing"},
    "flows": {"core", "model", "repo", "judge", "risk", "routing", "flows"},
    "cli": {"core", "model", "repo", "judge", "risk", "routing", "flows", "cli"},
}
TOP_LEVEL = {"__init__", "__main__"}
# The package root re-exports `__version__` from core.version; only the top layer may import the root
# (any other layer takes the version from core, as its rule says).
ROOT_IMPORTERS: set[str] = set()  # no layer imports the package root: the version lives in core.version


def _modules() -> dict[str, Path]:
    out = {}
    for f in PKG.rglob("*.py"):
        rel = f.relative_to(PKG.parent).with_suffix("")
        out[".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)] = f
    return out


MODULES = _modules()


@functools.cache
def _tree(path: Path) -> ast.Module:
    """A module's syntax tree, parsed once per process (every check here walks every module)."""
    return ast.parse(path.read_text())


def _imports(module: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import in the file."""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                target = ".".join(base[: len(base) - (node.level - 1)] + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((a.name, [], node.lineno) for a in node.names)
    return [(t, names, line) for t, names, line in found if t == "tieragent" or t.startswith("tieragent.")]


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_belongs_to_a_layer():
    strays = [m for m in MODULES if m != "tieragent" and _layer(m) not in ALLOWED and m.split(".")[-1] not in TOP_LEVEL]
    assert not strays, f"modules outside the layer folders: {strays}"


def test_every_layer_says_what_it_may_import():
    for layer in ALLOWED:
        doc = ast.get_docstring(ast.parse((PKG / layer / "__init__.py").read_text())) or ""
        assert "May import" in doc, f"tieragent/{layer}/__init__.py should say what the layer may import"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) in ALLOWED))
def test_imports_only_go_down(module):
    layer = _layer(module)
    wrong = []
    for target, names, line in _imports(module, MODULES[module]):
        targets = [f"{target}.{n}" if f"{target}.{n}" in MODULES else target for n in names] or [target]
        for t in targets:
            if t == "tieragent" and layer in ROOT_IMPORTERS:
                continue
            if t == "tieragent" or _layer(t) not in ALLOWED[layer]:
                wrong.append(f"line {line}: {t}")
    assert not wrong, f"{module} ({layer}) imports above or beside its layer: {wrong}"


def _flow(module: str) -> str | None:
    """The flow package a module belongs to (`fix` for tieragent.flows.fix.run); None for flows' shared modules."""
    parts = module.split(".")
    if len(parts) < 3 or parts[1] != "flows":
        return None
    return (
        parts[2]
        if f"tieragent.flows.{parts[2]}" in MODULES and MODULES[f"tieragent.flows.{parts[2]}"].name == "__init__.py"
        else None
    )


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _flow(m)))
def test_flows_import_the_skeleton_not_each_other(module):
    """A flow (fix, review, bench, ...) imports its own package and the shared flows modules (the run skeleton,
    replies, the ledger summary), never another flow: what two flows share belongs in the skeleton."""
    own = _flow(module)
    beside = []
    for target, names, line in _imports(module, MODULES[module]):
        for t in [f"{target}.{n}" if f"{target}.{n}" in MODULES else target for n in names] or [target]:
            if _flow(t) not in (None, own):
                beside.append(f"line {line}: {t}")
    assert not beside, f"{module} imports another flow: {beside}"


def test_no_module_imports_a_private_name():
    private = []
    for module, path in MODULES.items():
        for target, names, line in _imports(module, path):
            private += [f"{module}:{line} {target}.{n}" for n in names if n.startswith("_") and not n.startswith("__")]
    assert not private


STDLIB_PUBLIC = {"_exit"}  # os._exit: public despite its name


def test_no_module_reaches_into_another_objects_private_attributes():
    """`x._name` is allowed where the module itself defines `_name` (its own class's method or field)."""
    hits = []
    for module, path in MODULES.items():
        tree = _tree(path)
        own = {n.name for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
        own |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)}
        own |= {n.target.id for n in ast.walk(tree) if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
        for node in ast.walk(tree):
            private = isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
            if private and node.attr not in own and node.attr not in STDLIB_PUBLIC:
                hits.append(f"{module}:{node.lineno} .{node.attr}")
    assert not hits, hits


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for target, names, _ in _imports(module, path):
            for n in names or [""]:
                dest = f"{target}.{n}" if n and f"{target}.{n}" in MODULES else target
                if dest in MODULES and dest != module:
                    graph[module].add(dest)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles


def test_the_check_catches_an_upward_import(tmp_path):
    """The direction check above is real: an upward import in a lower layer is reported."""
    fake = tmp_path / "tieragent" / "core" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from ..flows.fix import run_fix\nfrom ..model import _secret\n")
    found = _imports("tieragent.core.bad", fake)
    assert ("tieragent.flows.fix", ["run_fix"], 1) in found
    assert _layer("tieragent.flows.fix") not in ALLOWED["core"]
    assert any(n.startswith("_") for _, names, _ in found for n in names)


def test_the_package_root_counts_as_above_every_layer_but_cli(tmp_path, monkeypatch):
    """`from .. import __version__` in model/ is an import of the root, not of core: reported."""
    fake = tmp_path / "tieragent" / "model" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from .. import __version__\n")
    monkeypatch.setitem(MODULES, "tieragent.model.bad", fake)
    with pytest.raises(AssertionError, match="line 1: tieragent"):
        test_imports_only_go_down("tieragent.model.bad")
