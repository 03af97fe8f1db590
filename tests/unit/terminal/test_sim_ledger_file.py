"""A simulated account with ``ledger_path`` outlives its terminal object, like a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from mt5guard.terminal import SimulatedTerminal
from mt5guard.terminal import constants as c
from mt5guard.testing import VirtualClock


def connected(clock: VirtualClock, ledger: Path) -> SimulatedTerminal:
    term = SimulatedTerminal(clock, ledger_path=str(ledger))
    assert term.initialize(login=5001, password="", server="MetaQuotes-Demo")
    assert term.symbol_select("EURUSD", True)
    return term


def buy(term: SimulatedTerminal, comment: str) -> int:
    result = term.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1,
                              "type": c.ORDER_TYPE_BUY, "type_filling": c.ORDER_FILLING_IOC,
                              "comment": comment})
    assert result is not None and result.retcode == c.TRADE_RETCODE_DONE
    return result.deal


def test_a_new_terminal_on_the_same_file_sees_the_book_and_never_reuses_a_ticket(
        tmp_path: Path) -> None:
    clock = VirtualClock()
    ledger = tmp_path / "book.json"
    first = connected(clock, ledger)
    deal = buy(first, "mg-a;")
    balance = first.account_info().balance  # type: ignore[union-attr]

    second = connected(clock, ledger)  # the old process is gone; the server is not
    assert [d.ticket for d in second.history_deals_get(0, 2**31) or ()] == [deal]
    assert [p.comment for p in second.positions_get() or ()] == ["mg-a;"]
    assert [o.state for o in second.history_orders_get(0, 2**31) or ()] == [c.ORDER_STATE_FILLED]
    assert second.account_info().balance == balance  # type: ignore[union-attr]
    assert second.sent_orders() == first.sent_orders()
    assert buy(second, "mg-b;") > deal


def test_without_a_ledger_path_nothing_is_written(tmp_path: Path) -> None:
    term = SimulatedTerminal(VirtualClock())
    assert term.initialize(login=5001, password="", server="MetaQuotes-Demo")
    term.symbol_select("EURUSD", True)
    buy(term, "mg-c;")
    assert list(tmp_path.iterdir()) == []


def send_buy(term: SimulatedTerminal, comment: str) -> object:
    return term.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1,
                            "type": c.ORDER_TYPE_BUY, "type_filling": c.ORDER_FILLING_IOC,
                            "comment": comment})


def test_a_request_sent_late_executes_once_when_the_next_terminal_opens_the_file(
        tmp_path: Path) -> None:
    clock = VirtualClock()
    ledger = tmp_path / "book.json"
    SimulatedTerminal(clock, ledger_path=str(ledger)).send_next_order_late()
    first = connected(clock, ledger)  # inherits the script from the file, as a worker would
    assert send_buy(first, "mg-late;") is None
    assert first.last_error() == (-10005, "IPC timeout")
    assert first.history_deals_get(0, 2**31) == () and first.sent_orders() == []
    assert buy(first, "mg-next;") > 0  # one late send was scripted, not two

    second = connected(clock, ledger)  # the sender died; its request reaches the server now
    assert [d.comment for d in second.history_deals_get(0, 2**31) or ()] == ["mg-next;", "mg-late;"]
    third = connected(clock, ledger)  # and only once
    assert [r["comment"] for r in third.sent_orders()] == ["mg-next;", "mg-late;"]


def test_execute_late_takes_a_request_sent_late_off_its_way(tmp_path: Path) -> None:
    clock = VirtualClock()
    ledger = tmp_path / "book.json"
    term = connected(clock, ledger)
    term.send_next_order_late()
    request = {"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1,
               "type": c.ORDER_TYPE_BUY, "type_filling": c.ORDER_FILLING_IOC, "comment": "mg-x;"}
    assert term.order_send(request) is None
    term.execute_late(request)
    assert [r["comment"] for r in connected(clock, ledger).sent_orders()] == ["mg-x;"]


def test_sending_late_needs_a_ledger_file() -> None:
    with pytest.raises(ValueError, match="ledger_path"):
        SimulatedTerminal(VirtualClock()).send_next_order_late()
