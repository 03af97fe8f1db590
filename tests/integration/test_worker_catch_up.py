"""The catch-up after a real worker death (docs/orders.md row 21, ``isolation: process``).

The account's terminal runs in a worker process; its simulated trade server keeps
its book in ``terminal.ledger_path``, so it outlives the worker. The worker is
SIGKILLed while an order's outcome is unknown, and the order reaches the trade
server meanwhile (``SimulatedTerminal.send_next_order_late``: the request waits in
the ledger file and executes when the next worker opens it; the worker protocol has
no test hook). The supervisor starts a new worker and the session catches up
before the account sends anything new.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from worker_kit import alive, no_thread_left_behind, wait_until

from mt5guard import Guard, start
from mt5guard.clock import SystemClock
from mt5guard.config import parse_config
from mt5guard.errors import MT5Error, MT5OrderOutcomeUnknown
from mt5guard.events.bus import EventBus
from mt5guard.orders.messages import OrderOutcome, OrderReconciled
from mt5guard.supervision.events import ChildFailed
from mt5guard.terminal import SimulatedTerminal
from mt5guard.terminal.records import TradeDeal
from mt5guard.terminal.worker import WorkerTerminal

pytestmark = pytest.mark.subprocess

LOGIN, SERVER = 5001, "MetaQuotes-Demo"


def tree(ledger: Path, log: list[tuple[str, str]]) -> Guard:
    config = parse_config({
        "accounts": [{"name": "one", "request_timeout": "3s", "symbols": ["EURUSD"],
                      "terminal": {"login": LOGIN, "server": SERVER, "isolation": "process",
                                   "timeout": "3s", "ledger_path": str(ledger)}}],
        "supervision": {"backoff": {"initial": "50ms", "maximum": "100ms"},
                        "shutdown_timeout": "2s"},
        "orders": {"state_dir": ":memory:"},
    })
    bus = EventBus()
    bus.subscribe(lambda event: log.append(
        ("reconciled " + event.outcome, event.client_order_id)) if isinstance(
            event, OrderReconciled) else log.append(
        ("failed", event.child)) if isinstance(event, ChildFailed) else None)
    return start(config, clock=SystemClock(), bus=bus)


def spy_on_sends(terminal: WorkerTerminal, log: list[tuple[str, str]]) -> None:
    """Log every order_send this process hands to the worker, in the events' order."""
    call = terminal._call

    def spied(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "order_send":
            log.append(("send", str(args[0]["comment"])))
        return call(name, *args, **kwargs)

    terminal._call = spied  # type: ignore[method-assign]


def serving(guard: Guard, but_not: int | None) -> int:
    terminal = guard.terminals["one"]
    assert isinstance(terminal, WorkerTerminal)

    def up() -> bool:
        if terminal.pid in (None, but_not):
            return False
        try:
            return guard.session("one").get_price("EURUSD").bid > 0
        except MT5Error:
            return False

    wait_until(up, timeout=10.0, what="the account serving from a worker")
    assert terminal.pid is not None
    return terminal.pid


def deals(ledger: Path) -> list[TradeDeal]:
    return [TradeDeal(*d) for d in json.loads(ledger.read_text())["deals"]]


def test_a_worker_killed_while_an_order_is_unknown_the_order_filling_meanwhile_is_caught_up_first(
        tmp_path: Path) -> None:
    ledger = tmp_path / "one.ledger.json"
    # the trade server will receive the next order late: the worker started on this file
    # answers its order_send None (-10005) and executes nothing while it lives
    script_clock = SystemClock()
    SimulatedTerminal(script_clock, login=LOGIN, server=SERVER,
                      ledger_path=str(ledger)).send_next_order_late()
    script_clock.close()
    log: list[tuple[str, str]] = []
    threads = set(threading.enumerate())
    guard = tree(ledger, log)
    try:
        first = serving(guard, None)
        terminal = guard.terminals["one"]
        assert isinstance(terminal, WorkerTerminal)
        spy_on_sends(terminal, log)
        session = guard.session("one")
        with pytest.raises(MT5OrderOutcomeUnknown):
            session.place_order("EURUSD", "buy", 0.1, client_order_id="late-1")
        assert deals(ledger) == []  # unknown indeed: nothing executed yet

        os.kill(first, signal.SIGKILL)  # the worker dies; the request reaches the server
        wait_until(lambda: not alive(first), what="the worker dead")

        # a new id, tried from the moment the worker is dead: the first try finds the link
        # gone, the next ones wait for the new worker and the catch-up (retryable errors,
        # nothing sent); it is sent once the catch-up is done
        outcomes: list[OrderOutcome] = []

        def placed() -> bool:
            try:
                outcomes.append(session.place_order("EURUSD", "buy", 0.1,
                                                    client_order_id="next-1"))
            except MT5Error as err:
                assert err.retryable, err  # never "unknown": it was not sent before the catch-up
                return False
            return True

        wait_until(placed, timeout=10.0, what="the new id placed")
        serving(guard, first)

        # the unknown id, asked again: answered from the records as filled, not sent
        again = session.place_order("EURUSD", "buy", 0.1, client_order_id="late-1")
    finally:
        guard.stop()
        guard.clock.close()  # type: ignore[attr-defined]
    no_thread_left_behind(threads)

    late = [d for d in deals(ledger) if d.comment.startswith("mg-late-1;")]
    assert len(late) == 1  # exactly one deal for the id, made by the server meanwhile
    assert (again.deal, again.reconciled) == (late[0].ticket, True)
    sends = [entry for entry in log if entry[0] == "send"]
    assert [comment.split(";")[0] for _, comment in sends] == ["mg-late-1", "mg-next-1"]
    caught_up = log.index(("reconciled executed", "late-1"))
    assert log.index(sends[0]) < log.index(("failed", "session")) < caught_up < log.index(sends[1])
    assert outcomes[0].deal in {d.ticket for d in deals(ledger)} - {late[0].ticket}
