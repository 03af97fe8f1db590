"""A simulated account with ``ledger_path`` outlives its terminal object, like a real server."""

from __future__ import annotations

from pathlib import Path

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
