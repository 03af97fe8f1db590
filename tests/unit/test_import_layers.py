"""The package is a house of floors: imports only run down (or along), never round.

Read from the source with ast, as ``python3 ../shared/tools/import_graph.py``
does: every import counts, those under ``if TYPE_CHECKING:`` and those inside
functions too (a module typed against its importer is tied to it all the
same). A module's floor is that of the longest prefix in FLOORS naming it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "mt5guard"

# Lowest first. A module may import from its own floor and the floors below.
FLOORS: tuple[tuple[str, ...], ...] = (
    # plain data, secrets, errors, time, the bus and what travels on it
    ("mt5guard.plain", "mt5guard.secret", "mt5guard.errors", "mt5guard.clock",
     "mt5guard.events.bus", "mt5guard.events.messages"),
    ("mt5guard.config",),
    # protocol, records, constants; the simulator, the worker, the bridge, the adapters
    ("mt5guard.terminal",),
    # generic pykka supervision: knows nothing about MT5
    ("mt5guard.supervision",),
    # pure policies and their actors; quotes and market data
    ("mt5guard.breaker", "mt5guard.health", "mt5guard.market"),
    ("mt5guard.orders",),
    ("mt5guard.events", "mt5guard.events.trade"),
    # the facade, the SessionActor, the account tree
    ("mt5guard.session",),
    # subscribers to what the floors below publish
    ("mt5guard.observability",),
    # start(): builds every account's tree and wires observability to it
    ("mt5guard.session.guard",),
    ("mt5guard.api",),
    ("mt5guard.testing",),
    ("mt5guard.cli",),
    # the public names (mt5guard/__init__.py) and the compat re-export of every message
    ("mt5guard", "mt5guard.messages"),
)


def module_files() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = module_files()


def imported(name: str, path: Path) -> Iterator[str]:
    """The package's modules that ``name`` (in file ``path``) imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            for cut in range(len(parts), 0, -1):  # the longest module the name lies in
                candidate = ".".join(parts[:cut])
                if candidate in MODULES:
                    if candidate != name:
                        yield candidate
                    break


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        own_children = name + "." if path.name == "__init__.py" else None
        graph[name] = {
            target for target in imported(name, path)
            # a package's __init__ re-exporting its own children is not a circle
            if own_children is None or not target.startswith(own_children)
        }
    return graph


def floor_of(module: str) -> int:
    best, floor = -1, -1
    for level, prefixes in enumerate(FLOORS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, floor = len(prefix), level
    return floor


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
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
                        found.append(sorted(component))
    return found


GRAPH = import_graph()


def test_every_module_has_a_floor() -> None:
    assert [m for m in MODULES if floor_of(m) < 0] == []


def test_no_module_imports_a_module_that_imports_it_back() -> None:
    assert circles(GRAPH) == []


def test_no_import_runs_back_up_the_floors() -> None:
    upward = sorted(
        f"{module} (floor {floor_of(module)}) imports {target} (floor {floor_of(target)})"
        for module, targets in GRAPH.items()
        for target in targets
        if floor_of(target) > floor_of(module)
    )
    assert upward == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set(), "c": {"a", "b"}}, []),
    ],
)
def test_the_circle_finder_finds_circles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert circles(graph) == expected


def test_type_checking_and_function_imports_count(tmp_path: Path) -> None:
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
              "    from mt5guard.session.facade import Session\n"
              "def f():\n    from mt5guard.cli import main\n")
    path = tmp_path / "x.py"
    path.write_text(source)
    assert set(imported("mt5guard.plain", path)) == {"mt5guard.session.facade", "mt5guard.cli"}


def test_a_lower_floor_importing_a_higher_one_is_reported() -> None:
    assert floor_of("mt5guard.terminal.calls") < floor_of("mt5guard.health.messages")
    assert floor_of("mt5guard.session.actor") < floor_of("mt5guard.observability.metrics") \
        < floor_of("mt5guard.session.guard")


MAX_MODULE_LINES = 400  # the shared shape check's limit (aim for ~350)
MAX_FOLDER_SHARE = 0.20


def test_no_module_is_long_and_no_folder_holds_a_fifth_of_the_package() -> None:
    lines = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    assert {name: n for name, n in lines.items() if n > MAX_MODULE_LINES} == {}
    folders: dict[Path, int] = {}
    for name, path in MODULES.items():
        folders[path.parent] = folders.get(path.parent, 0) + lines[name]
    total = sum(lines.values())
    assert {str(f.relative_to(PACKAGE.parent)): round(n / total, 3)
            for f, n in folders.items() if n / total > MAX_FOLDER_SHARE} == {}


def test_the_architecture_diagram_shows_these_floors() -> None:
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    table = doc.split("## The house", 1)[1].split("```")[1]
    rows = re.findall(r"^\s+(\d+)   (.+?)   ", table, flags=re.M)
    assert sorted(int(n) for n, _ in rows) == list(range(len(FLOORS)))
    for number, cell in rows:
        paths = re.sub(r"\([^)]*\)", " ", cell).split()
        for path in paths:
            name = "mt5guard" if path == "__init__.py" else \
                "mt5guard." + path.removesuffix("/").removesuffix(".py").replace("/", ".")
            if name == "mt5guard.api" and name not in MODULES:
                continue  # a floor kept for the HTTP API before it lands
            assert name in MODULES, path
            assert floor_of(name) == int(number), (path, number)
