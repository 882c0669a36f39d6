"""The package's import graph has no cycles.

Every module of ``tuiemu`` is parsed (not imported); each ``import`` and ``from ... import``, at
module level or inside a function, becomes an edge to the ``tuiemu`` module it names (a submodule
when ``from pkg import name`` names one, else the module itself). Imports under
``if TYPE_CHECKING:`` never run, so they are left out. An import hidden inside a function still
counts: it only postpones the cycle to the first call."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set

from .conftest import REPO

PACKAGE = "tuiemu"


def modules(root: Path) -> Dict[str, Path]:
    """Dotted module name -> source file, for every module of the package under ``root``."""
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(node: ast.AST) -> Iterator[ast.stmt]:
    """Every Import/ImportFrom below ``node``, at any depth, except in ``if TYPE_CHECKING:`` bodies."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _import_nodes(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _import_nodes(child)


def _resolve(name: str, path: Path, node: ast.ImportFrom) -> Optional[str]:
    """The absolute module a ``from`` import reads from (None outside any package we know)."""
    if node.level == 0:
        return node.module
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if node.level - 1 > len(package) - 1:
        return None
    base = package[:len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(root: Path) -> Dict[str, Set[str]]:
    """Module -> the package modules it imports."""
    mods = modules(root)
    graph: Dict[str, Set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        for node in _import_nodes(tree):
            targets: List[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve(name, path, node)
                if base is None:
                    continue
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in mods else base)
            graph[name] |= {t for t in targets if t in mods and t != name}
    return graph


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """One cycle (as a closed path) per strongly connected component with more than one module."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    components: List[Set[str]] = []

    def visit(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(graph, comp) for comp in components]


def _cycle_in(graph: Dict[str, Set[str]], comp: Set[str]) -> List[str]:
    """A shortest cycle through the component's first module (breadth-first search)."""
    start = min(comp)
    came_from: Dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & comp):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start] + path[::-1][1:] + [start]
                if w not in came_from:
                    came_from[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle in component {sorted(comp)}")


def describe(found: List[List[str]]) -> str:
    return "\n".join(" -> ".join(c) for c in sorted(found))


def test_cycle_finder_names_the_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_relative_imports_resolve_and_type_checking_imports_are_left_out(tmp_path: Path) -> None:
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .sub import leaf\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "leaf.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .. import top\n"
        "def f():\n    from ..top import thing\n")
    (pkg / "top.py").write_text("from . import sub\nimport tuiemu.sub.leaf\nthing = 1\n")
    assert import_graph(tmp_path) == {
        "tuiemu": {"tuiemu.sub.leaf"},
        "tuiemu.sub": set(),
        "tuiemu.sub.leaf": {"tuiemu.top"},
        "tuiemu.top": {"tuiemu.sub", "tuiemu.sub.leaf"},
    }
    assert describe(cycles(import_graph(tmp_path))) == "tuiemu.sub.leaf -> tuiemu.top -> tuiemu.sub.leaf"


def test_package_has_no_import_cycles() -> None:
    graph = import_graph(REPO)
    assert len(graph) > 20 and all(m == PACKAGE or m.startswith(PACKAGE + ".") for m in graph)
    found = cycles(graph)
    assert not found, "import cycles in tuiemu:\n" + describe(found)

