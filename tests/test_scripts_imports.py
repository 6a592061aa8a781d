"""The deploy tooling imports in one direction (issue 22: scripts/deploy.py <-> scripts/chalice_stage.py).

Every import between the modules of ``scripts/`` counts, at module level or inside a function
(a lazy import is still a cycle: each module then needs the other to be whole).
"""
from __future__ import annotations

import ast

import pytest

from tests.support.aws import ROOT

pytestmark = pytest.mark.no_stack


def imports_between_scripts() -> dict[str, set[str]]:
    modules = {path.stem for path in (ROOT / "scripts").glob("*.py") if path.stem != "__init__"}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name in modules:
        for node in ast.walk(ast.parse((ROOT / "scripts" / f"{name}.py").read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level == 1:
                    base = f"scripts.{base}" if base else "scripts"
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                parts = target.split(".")
                if parts[0] == "scripts" and len(parts) > 1 and parts[1] in modules and parts[1] != name:
                    graph[name].add(parts[1])
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in ``graph`` (as the path that closes it), or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_lazy_import_cycle():
    assert cycle({"deploy": {"chalice_stage"}, "chalice_stage": {"deploy"}}) in (
        ["chalice_stage", "deploy", "chalice_stage"], ["deploy", "chalice_stage", "deploy"])
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_of_scripts_imports_itself_through_another():
    graph = imports_between_scripts()
    assert {"deploy", "chalice_stage", "event_sources"} <= set(graph)
    assert cycle(graph) is None, " -> ".join(cycle(graph) or [])
