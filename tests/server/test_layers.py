"""Layers import downwards only, and no two modules of server/ import each other in a circle.

The order (ARCHITECTURE rule 12): the base (settings, errors, i18n, db, …) → the models of every
domain (one Tortoise app, so a model may name another's) → auth → audit → templating → org →
notices (the sink every domain writes to) → projects → signoffs/planning →
progress/meetings/risks/requirements → discussion (comments and attachments on the
objects of all of them) → the entry points (app, CLI, demo). Imports under `TYPE_CHECKING` are
left out: they are type hints, not load order.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

SERVER = Path(__file__).resolve().parents[2] / "server"
BASE = {"settings", "errors", "i18n", "db", "sqlite", "validation", "runtime", "events"}
BASE |= {"redis_embedded", "sheets", "domain_events", "clock", "mentions", "pdf"}
BASE |= {"metrics", "logs", "charts"}
ORDER = [
    BASE,
    {"models"},
    {"auth"},
    {"audit"},
    {"templating"},
    {"org"},
    {"notices"},
    {"projects"},
    {"signoffs", "planning"},
    {"progress", "meetings", "risks", "requirements", "closing", "changes"},
    {"discussion"},
    {"domains", "demo", "cli", "app", "web", "operations"},
]


def module_names() -> dict[str, Path]:
    modules = {}
    for path in SERVER.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = ("server", *path.relative_to(SERVER).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def layer_of(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return len(ORDER) - 1
    key = "models" if parts[-1] == "models" and len(parts) == 3 else parts[1]
    for rank, names in enumerate(ORDER):
        if key in names:
            return rank
    raise AssertionError(f"{module} is in no layer: add it to ORDER")


def _outside_type_checking(tree: ast.Module) -> list[ast.stmt]:
    kept: list[ast.stmt] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    kept.extend(tree.body)
    return kept


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    _outside_type_checking(tree)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module and name != "server":
                found.add(name)
    return found


def import_graph() -> nx.DiGraph:
    modules = module_names()
    graph = nx.DiGraph()
    for module, path in modules.items():
        graph.add_node(module)
        for imported in imports_of(module, path, set(modules)):
            graph.add_edge(module, imported)
    return graph


def test_every_module_has_a_layer() -> None:
    for module in module_names():
        layer_of(module)


def test_no_module_imports_a_higher_layer() -> None:
    upward = sorted(
        f"{module} imports {imported}"
        for module, imported in import_graph().edges
        if layer_of(imported) > layer_of(module)
    )
    assert upward == []


def test_no_import_circles_between_modules() -> None:
    assert list(nx.simple_cycles(import_graph())) == []


def package_of(module: str) -> str:
    """A domain's models stand apart from its services: they are the tier below every service."""
    parts = module.split(".")
    return module if parts[-1] == "models" else ".".join(parts[:2])


def test_no_import_circles_between_domain_packages() -> None:
    packages = nx.DiGraph()
    for module, imported in import_graph().edges:
        if package_of(module) != package_of(imported):
            packages.add_edge(package_of(module), package_of(imported))
    assert list(nx.simple_cycles(packages)) == []


def test_the_walk_sees_a_circle_when_there_is_one() -> None:
    graph = nx.DiGraph([("server.a", "server.b"), ("server.b", "server.a")])
    assert list(nx.simple_cycles(graph)) != []
    assert layer_of("server.notices.service") > layer_of("server.org.service")
