"""The package's shape, checked from its source with ast: modules import each other only at
module level and never in a circle, and no function calls itself (deep expressions must not
meet Python's recursion limit) except the few listed below, each with its bound."""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "matcalc"

# function -> why its recursion is bounded (none of them walks an expression)
BOUNDED_RECURSION: dict[str, str] = {}


def _modules() -> dict[str, ast.Module]:
    return {
        path.relative_to(PACKAGE.parent).as_posix(): ast.parse(path.read_text(), str(path))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _module_name(path: str) -> str:
    name = path[: -len(".py")].replace("/", ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def _resolved(path: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The package modules an import statement names (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.startswith("matcalc")]
    base = _module_name(path).split(".")
    if not path.endswith("__init__.py"):
        base = base[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("matcalc"):
        return []
    # "from . import ops" names a module; "from .ops import Add" names a package's attribute
    return [f"{target}.{alias.name}" if node.module is None else target for alias in node.names]


def test_no_function_level_imports_of_the_package():
    found = []
    for path, tree in _modules().items():
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and _resolved(path, node):
                    found.append(f"{path}:{node.lineno} in {function.name}")
    assert found == []


def test_no_import_cycles():
    modules = _modules()
    known = {_module_name(path) for path in modules}
    edges: dict[str, set[str]] = {}
    for path, tree in modules.items():
        targets = set()
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _resolved(path, node):
                    while target not in known and "." in target:
                        target = target.rsplit(".", 1)[0]
                    targets.add(target)
        edges[_module_name(path)] = targets - {_module_name(path)}
    cycles = _cycles(edges)
    assert cycles == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _calls_itself(function: ast.FunctionDef, owner: str | None) -> bool:
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        callee = node.func
        if isinstance(callee, ast.Name) and callee.id == function.name and owner is None:
            return True
        if (
            isinstance(callee, ast.Attribute)
            and callee.attr == function.name
            and isinstance(callee.value, ast.Name)
            and callee.value.id in ("self", "cls", owner)
        ):
            return True
    return False


def test_no_recursion_beyond_the_bounded_list():
    recursive = set()
    for path, tree in _modules().items():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and _calls_itself(node, None):
                recursive.add(f"{path}:{node.name}")
            if isinstance(node, ast.ClassDef):
                for method in node.body:
                    if isinstance(method, ast.FunctionDef) and _calls_itself(method, node.name):
                        recursive.add(f"{path}:{node.name}.{method.name}")
        for outer in ast.walk(tree):  # functions nested in functions, by their own name
            if isinstance(outer, ast.FunctionDef):
                for inner in outer.body:
                    if isinstance(inner, ast.FunctionDef) and _calls_itself(inner, None):
                        recursive.add(f"{path}:{outer.name}.{inner.name}")
    assert recursive - set(BOUNDED_RECURSION) == set()
    assert set(BOUNDED_RECURSION) <= recursive, "a listed function no longer recurses: drop it from the list"
