"""The layers of gankit point down: no import circle, and nothing below the CLI imports it.

The graph is read from the source (the AST of every module under src/gankit), not by importing,
so it sees every `gankit.*` import: absolute and relative, at module level and inside functions.
An edge is drawn to the imported module and to the packages above it (importing gankit.a.b runs
gankit/a/__init__.py first) that the importer is not itself in. No circle is allowed among the
imports that run when a module is loaded (module level, class bodies, try blocks; not function
bodies, not `if TYPE_CHECKING`), nor through the lazy ones inside functions; the CLI rule holds
for every import.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "gankit"


def module_names() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    names = {}
    for path in sorted((SRC / ROOT).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


MODULES = module_names()


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def with_parents(name: str, importer: str) -> list[str]:
    """`name` and the packages above it that importing it from `importer` may run: not the root
    (every module is under it), not the packages `importer` is in (they began loading first)."""
    parts = name.split(".")
    parents = [".".join(parts[:i]) for i in range(2, len(parts))]
    return [p for p in parents if not importer.startswith(p + ".")] + [name]


def resolve(node: ast.Import | ast.ImportFrom, importer: str) -> list[str]:
    """The gankit modules an import statement in module `importer` loads."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from the importer's package, `level` packages up
            package = importer if is_package(importer) else importer.rpartition(".")[0]
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join(anchor + ([base] if base else []))
        # `from a import b` loads a.b when b is a module, else it takes a name from a
        targets = [
            f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
        ]
    found = []
    for target in targets:
        if target != ROOT and not target.startswith(ROOT + "."):
            continue
        while target not in MODULES:  # `import gankit.a.name` of a non-module: its module
            target = target.rpartition(".")[0]
        found += [m for m in with_parents(target, importer) if m not in (importer, ROOT)]
    return found


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(name: str, source: str | None = None) -> tuple[set[str], set[str]]:
    """(modules `name` imports when it loads, modules it imports anywhere), from its file or
    from `source`."""
    tree = ast.parse(MODULES[name].read_text() if source is None else source)
    at_load: set[str] = set()
    anywhere: set[str] = set()

    def visit(node: ast.AST, loading: bool) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found = resolve(node, name)
            anywhere.update(found)
            if loading:
                at_load.update(found)
            return
        if isinstance(node, ast.If) and is_type_checking(node):
            for child in node.orelse:
                visit(child, loading)
            return
        inside = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, loading and not inside)

    visit(tree, True)
    return at_load, anywhere


GRAPH = {name: imports(name) for name in MODULES}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := walk(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (cycle := walk(start)):
            return cycle
    return None


def is_cli(name: str) -> bool:
    return name in ("gankit.cli", "gankit.__main__") or name.startswith("gankit.cli.")


def test_the_graph_sees_relative_lazy_and_from_imports():
    source = """
from __future__ import annotations
from typing import TYPE_CHECKING
from . import checkpoint
from gankit.train.step import Stats
import gankit.errors
if TYPE_CHECKING:
    from gankit import api
class Loop:
    from gankit import config
def later():
    from ..metrics import evaluate
"""
    at_load, anywhere = imports("gankit.train.trainer", source)
    loaded = {"gankit.train.checkpoint", "gankit.train.step"}
    assert at_load == loaded | {"gankit.errors", "gankit.config"}
    assert anywhere == at_load | {"gankit.metrics", "gankit.metrics.evaluate"}
    for name, (_, found) in GRAPH.items():
        assert found <= set(MODULES), f"{name} imports what is not a module: {found}"


def test_find_cycle_finds_a_circle_and_only_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle():
    cycle = find_cycle({name: at_load for name, (at_load, _) in GRAPH.items()})
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_no_circle_through_lazy_imports_either():
    # an import inside a function is for start-up time (the CLI's), never to dodge a circle
    cycle = find_cycle({name: anywhere for name, (_, anywhere) in GRAPH.items()})
    assert cycle is None, "import circle through a lazy import: " + " -> ".join(cycle or [])


def test_library_modules_do_not_import_the_cli():
    upward = {
        name: sorted(t for t in anywhere if is_cli(t))
        for name, (_, anywhere) in GRAPH.items()
        if not is_cli(name)
    }
    upward = {name: found for name, found in upward.items() if found}
    assert not upward, f"the CLI sits above the library, yet these import it: {upward}"
