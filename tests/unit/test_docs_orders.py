"""docs/orders.md promises one test per row: every test it names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "orders.md"
NAMED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    names |= {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets
              if isinstance(t, ast.Name) and t.id.startswith("test_")}  # state machines
    return names


def test_every_row_of_the_orders_table_names_tests_that_exist() -> None:
    text = TABLE.read_text()
    rows = [line for line in text.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) >= 25
    for row in rows:
        assert NAMED.search(row), f"a row without a test: {row[:80]}"
    missing = [f"{path}::{name}" for path, name in NAMED.findall(text)
               if not (ROOT / path).exists() or name not in defined_tests(ROOT / path)]
    assert missing == []
