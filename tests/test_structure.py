"""The architecture of docs/architecture.md, checked from the source itself.

Imports are read from the AST of every module, function bodies included: a lazy import
inside a function is still a dependency, and a cycle hidden that way is still a cycle.
The tools (import-linter, ruff, mypy) run as they would for a contributor.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "providers")
# Where output and exit codes belong; everything else returns results and raises.
PRESENTATION = ("app.cli", "app.tui", "app.render")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_sources() -> dict[str, ast.Module]:
    trees = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            trees[module_name(path)] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return trees


TREES = project_sources()


def resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` names, relative imports included."""
    if not node.level:
        return node.module or ""
    is_package = (ROOT / Path(*module.split("."))).is_dir()
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str, tree: ast.Module) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import in the module."""
    found: list[tuple[str, str | None, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = resolve(module, node)
            found += [(source, alias.name, node.lineno) for alias in node.names]
    return found


def project_target(name: str, attribute: str | None) -> str | None:
    """The project module an import lands on: a submodule when one is named, else its package."""
    if attribute and f"{name}.{attribute}" in TREES:
        return f"{name}.{attribute}"
    while name and name not in TREES:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {module: set() for module in TREES}
    for module, tree in TREES.items():
        for name, attribute, _ in imports_of(module, tree):
            target = project_target(name, attribute)
            # A package's __init__ importing its own submodules is how packages work, not a cycle.
            if target and target != module and not target.startswith(module + "."):
                graph[module].add(target)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative so a deep chain cannot hit the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def in_package(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    tree = ast.parse("def later():\n    from app.cli import main\n")
    assert imports_of("app.review.task", tree) == [("app.cli", "main", 2)]


def test_no_import_cycle_among_the_projects_modules():
    cycles = strongly_connected(import_graph())
    assert cycles == [], f"import cycles (function-local imports count): {cycles}"


def test_the_tui_never_imports_the_cli():
    offenders = [
        f"{module}:{line} imports {name}"
        for module, tree in TREES.items()
        if in_package(module, ("app.tui",))
        for name, attribute, line in imports_of(module, tree)
        if in_package(project_target(name, attribute) or name, ("app.cli",))
    ]
    assert offenders == []


def test_no_private_name_crosses_a_module_boundary():
    """`from x import _name` or `import x._private`: ours or a library's, both are someone else's internals."""
    offenders = []
    for module, tree in TREES.items():
        for name, attribute, line in imports_of(module, tree):
            private_module = any(part.startswith("_") and part != "__future__" for part in name.split("."))
            private_name = attribute is not None and attribute.startswith("_") and attribute != "__version__"
            same_package = name == module.rpartition(".")[0] and not private_name
            if (private_module or private_name) and not same_package:
                offenders.append(f"{module}:{line} imports {name}{'.' + attribute if attribute else ''}")
    assert offenders == []


def test_the_domain_neither_prints_nor_exits():
    """Only app.cli, app.tui and app.render speak to the user; the rest returns results and notes."""
    offenders = []
    for module, tree in TREES.items():
        if in_package(module, PRESENTATION) or module in PACKAGES or module == "app.__main__":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                offenders.append(f"{module}:{node.lineno} print()")
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "sys"
                and node.attr in ("stdout", "stderr", "exit")
            ):
                offenders.append(f"{module}:{node.lineno} sys.{node.attr}")
    assert offenders == []


def tool(name: str) -> str:
    """A dev tool installed beside this interpreter (the dev extra puts it there)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return found


def run_tool(*argv: str) -> subprocess.CompletedProcess[str]:
    # The checkout first on the path: after a non-editable install (CI's `pip install .`)
    # lint-imports would otherwise analyse the installed copy, not the code under test.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)


def test_the_import_contracts_hold():
    result = run_tool(tool("lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_ruff_finds_nothing():
    result = run_tool(tool("ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_code_is_formatted():
    result = run_tool(tool("ruff"), "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_mypy_finds_nothing():
    """Strict for providers/ and the domain, every body checked elsewhere (pyproject.toml)."""
    result = run_tool(tool("mypy"))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
