"""The config package has no import cycle inside it, not even a lazy one inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / "src" / "notifbot" / "config"


def imports_of(path: Path) -> set[str]:
    """The notifbot.config submodules `path` imports anywhere in it (module level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("notifbot.config"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("notifbot.config")}
    return found


def test_submodules_import_each_other_without_a_cycle() -> None:
    graph = {f"notifbot.config.{p.stem}": imports_of(p) for p in CONFIG.glob("*.py") if p.stem != "__init__"}
    assert {"notifbot.config.settings", "notifbot.config.checks", "notifbot.config.env"} <= set(graph)
    # a submodule imports its siblings by their own names, never the package (whose __init__ imports them all)
    assert {m: deps for m, deps in graph.items() if "notifbot.config" in deps} == {}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for dep in sorted(graph.get(module, ())):
            visit(dep, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())
    # the models import nothing else of the package (settings only the route and template models beside it)
    assert graph["notifbot.config.settings"] == {"notifbot.config.routes", "notifbot.config.templates"}
    assert graph["notifbot.config.routes"] == set()
    assert graph["notifbot.config.templates"] == set()
