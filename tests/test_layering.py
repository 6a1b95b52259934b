"""The import layering stays as docs/ARCHITECTURE.md draws it: web edges → services → models,
never back, and no cycles between the packages of admin_app.

Read from the source (ast), every import counted, also those inside functions.
"""

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "admin_app"
EDGES = {"admin", "auth", "api", "cli", "web"}  # the web edges and the command line


def _imports() -> dict[str, set[tuple[str, str]]]:
    """For each part of admin_app (a subpackage or a top-level module), the parts it imports,
    with the importing module. The package root (the app factory, the composition root that
    wires everything) is left out."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts == ("__init__",):
            continue
        module = ".".join(("admin_app", *parts))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                target = name.split(".")
                if (
                    target[0] == "admin_app"
                    and len(target) > 1
                    and target[1] != parts[0]
                    and ((PACKAGE / target[1]).is_dir() or (PACKAGE / f"{target[1]}.py").exists())
                ):
                    found[parts[0]].add((target[1], module))
    return found


def test_models_import_neither_services_nor_edges():
    wrong = {(m, t) for t, m in _imports()["models"] if t in EDGES | {"services"}}
    assert wrong == set()


def test_services_never_import_the_web_edges_or_the_cli():
    wrong = {(m, t) for t, m in _imports()["services"] if t in EDGES}
    assert wrong == set()


def test_no_cycles_between_packages():
    graph = {part: {target for target, _m in edges} for part, edges in _imports().items()}
    cycles = []

    def walk(node: str, path: list[str]) -> None:
        for target in sorted(graph.get(node, ())):
            if target in path:
                cycles.append(path[path.index(target) :] + [target])
            elif target not in done:
                walk(target, [*path, target])
        done.add(node)

    done: set[str] = set()
    for start in sorted(graph):
        walk(start, [start])
    assert cycles == []
