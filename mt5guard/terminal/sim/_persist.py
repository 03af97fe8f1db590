"""A simulated account's book in a JSON file, so it outlives the process.

A real trade server keeps its deals when the client process dies; tests that
kill mt5guard (kill -9) need a simulated server that does too. The file is
rewritten (temp file + atomic rename) after every executed request, before
``order_send`` returns, under the terminal's state lock. Only one process may
use a file at a time; that is the test's job.

The file also carries the requests on their way to the server (``arriving``)
and how many of the next ``order_send`` calls are still scripted to arrive late
(``late_next``): see ``SimulatedTerminal.send_next_order_late``. Both are absent
from files that never used it.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from mt5guard.terminal.records import TradeDeal, TradeOrder
from mt5guard.terminal.sim._book import OpenPosition, PendingOrder
from mt5guard.terminal.sim._ledger import Ledger
from mt5guard.terminal.sim._trade_server import TradeServer

__all__ = ["Book", "load_book", "save_book"]

_VERSION = 1


@dataclasses.dataclass
class Book:
    """What a ledger file holds besides the ledger itself: the executed requests, the
    requests on their way to the server and the late sends still scripted."""

    sent: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    arriving: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    late_next: int = 0


def save_book(path: str, ledger: Ledger, server: TradeServer, book: Book) -> None:
    """Write balance, positions, orders, history and ticket counters to ``path``."""
    state: dict[str, Any] = {
        "version": _VERSION,
        "balance": ledger.balance,
        "positions": [dataclasses.asdict(p) for p in ledger.positions.values()],
        "orders": [dataclasses.asdict(o) for o in ledger.orders.values()],
        "deals": [list(d) for d in ledger.deals],
        "history_orders": [list(o) for o in ledger.history_orders],
        "counters": server.counters,
        "sent": book.sent,
    }
    if book.arriving or book.late_next:
        state["arriving"] = book.arriving
        state["late_next"] = book.late_next
    target = os.path.abspath(path)  # os.path, not pathlib: a worker imports this module
    os.makedirs(os.path.dirname(target), exist_ok=True)
    temp = target + ".tmp"
    with open(temp, "w", encoding="utf-8") as out:
        json.dump(state, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, target)


def load_book(path: str, ledger: Ledger, server: TradeServer) -> Book:
    """Restore what :func:`save_book` wrote, if ``path`` exists."""
    if not os.path.exists(path):
        return Book()
    with open(path, encoding="utf-8") as source:
        state = json.load(source)
    if state.get("version") != _VERSION:
        raise ValueError(f"{path}: not a simulated ledger of version {_VERSION}")
    ledger.balance = float(state["balance"])
    ledger.positions = {p["ticket"]: OpenPosition(**p) for p in state["positions"]}
    ledger.orders = {o["ticket"]: PendingOrder(**o) for o in state["orders"]}
    ledger.deals = [TradeDeal(*d) for d in state["deals"]]
    ledger.history_orders = [TradeOrder(*o) for o in state["history_orders"]]
    ledger.forget_values()
    server.counters = state["counters"]
    return Book(list(state["sent"]), list(state.get("arriving", [])),
                int(state.get("late_next", 0)))
