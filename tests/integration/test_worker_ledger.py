"""terminal.ledger_path works the same with isolation: process (issue 17, defect 8).

The simulated terminal in a worker process keeps its book in the ledger file,
so a tree started again on the same file finds the position it opened.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mt5guard import start
from mt5guard.clock import SystemClock
from mt5guard.config import parse_config

pytestmark = pytest.mark.subprocess


def tree(ledger: Path):  # type: ignore[no-untyped-def]
    config = parse_config({
        "accounts": [{"name": "one", "request_timeout": "5s", "symbols": ["EURUSD"],
                      "terminal": {"login": 5001, "server": "MetaQuotes-Demo",
                                   "isolation": "process", "timeout": "5s",
                                   "ledger_path": str(ledger)}}],
        "supervision": {"shutdown_timeout": "2s"},
        "orders": {"state_dir": ":memory:"},
    })
    return start(config, clock=SystemClock())


def test_the_worker_keeps_the_book_in_the_ledger_file_across_trees(tmp_path: Path) -> None:
    ledger = tmp_path / "one.ledger.json"
    first = tree(ledger)
    try:
        opened = first.session("one").place_order("EURUSD", "buy", 0.1, client_order_id="W1")
    finally:
        first.stop()
        first.clock.close()  # type: ignore[attr-defined]
    assert ledger.exists() and "W1" in json.dumps(json.loads(ledger.read_text()))

    second = tree(ledger)
    try:
        (position,) = second.session("one").positions()
    finally:
        second.stop()
        second.clock.close()  # type: ignore[attr-defined]
    assert position.ticket == opened.order and position.volume == 0.1
