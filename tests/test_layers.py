"""The package's layers and the one direction imports may go (top to bottom):

cli → render → fix → history → pipeline → read → reference → base modules.

Every import is checked, including the ones inside functions and under TYPE_CHECKING: a lazy
import that goes upwards is still a circle, only hidden.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "accuse"

# Lower number, lower layer. A module may import its own layer and the ones below it.
LAYERS = {
    "base": 0,
    "reference": 1,
    "read": 2,
    "pipeline": 3,
    "history": 4,
    "fix": 5,
    "render": 6,
    "cli": 7,
    "api": 8,  # accuse/__init__.py: the public façade over everything
}
BASE_MODULES = {
    "model",
    "errors",
    "text",
    "cells",
    "digest",
    "progress",
    "parallel",
    "output",
    "nir",
    "files",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if parts in (["accuse"], ["accuse", "__main__"]):
        return "api"
    head = parts[1]
    if head in LAYERS:
        return head
    if head in BASE_MODULES:
        return "base"
    if head == "templates":
        return "render"
    raise AssertionError(f"{module}: in no layer; add it to LAYERS or BASE_MODULES")


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names) for every accuse import in the file."""
    tree = ast.parse(path.read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names if a.name.startswith("accuse")]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and (node.module == "accuse" or node.module.startswith("accuse."))
        ):
            found.append((node.lineno, node.module, [a.name for a in node.names]))
    return found


def _graph() -> dict[str, list[tuple[int, str, list[str]]]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_has_a_layer() -> None:
    for module in _graph():
        _layer(module)


def test_imports_go_one_way() -> None:
    wrong = []
    for module, imports in _graph().items():
        mine = LAYERS[_layer(module)]
        for line, target, names in imports:
            if target == "accuse" and names == ["__version__"]:
                continue  # the version string, not the API
            theirs = LAYERS[_layer(target)]
            if theirs > mine:
                wrong.append(f"{module}:{line} imports {target} ({_layer(target)})")
    assert not wrong, "imports that go upwards:\n" + "\n".join(wrong)


def test_no_import_circle() -> None:
    graph = _graph()
    edges: dict[str, set[str]] = {m: set() for m in graph}
    for module, imports in graph.items():
        for _, target, names in imports:
            # "from accuse.x import y" may name a submodule y
            candidates = [f"{target}.{n}" for n in names if f"{target}.{n}" in graph]
            for dest in candidates or [target]:
                if dest in graph and dest != module and module != "accuse":
                    edges[module].add(dest)
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                raise AssertionError("import circle: " + " → ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_the_direction_test_catches_an_upward_import(tmp_path: Path) -> None:
    """The check itself can fail: an import from read into render is named."""
    bad = tmp_path / "bad.py"
    bad.write_text("from accuse.render.html import write_report\n", "utf-8")
    ((_line, target, _),) = _imports(bad)
    assert LAYERS[_layer(target)] > LAYERS[_layer("accuse.read.receipt")]
