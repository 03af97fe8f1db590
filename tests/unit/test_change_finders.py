"""How a modification or cancellation whose reply was lost is read back (orders/changes.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from mt5guard.orders.changes import FINDERS, same_price
from mt5guard.orders.journal import OrderIntent
from mt5guard.orders.reconcile import Found, TerminalLookups
from mt5guard.terminal import constants as c

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def lookups(*, open_orders: Any = (), positions: Any = (), history: Any = ()) -> TerminalLookups:
    return TerminalLookups(open_orders=lambda: open_orders, positions=lambda: positions,
                           history_orders=lambda a, b: history, history_deals=lambda a, b: ())


def cancel(ticket: int = 7) -> OrderIntent:
    return OrderIntent("K1", "cancel_order", "EURUSD", "buy", 0.1,
                       {"ticket": ticket, "time_setup": int((T0 - timedelta(days=2)).timestamp())})


def order(ticket: int, state: int, filled: float = 0.0) -> SimpleNamespace:
    return SimpleNamespace(ticket=ticket, state=state, volume_initial=0.1,
                           volume_current=0.1 - filled)


def find_cancel(found: TerminalLookups) -> Any:
    return FINDERS["cancel_order"](cancel(), found, T0, T0 + timedelta(minutes=5))


def test_a_cancel_is_done_only_when_the_order_left_the_book_cancelled() -> None:
    assert find_cancel(lookups(open_orders=[order(7, c.ORDER_STATE_PLACED)])).found is Found.NOTHING
    done = find_cancel(lookups(history=[order(7, c.ORDER_STATE_CANCELED)]))
    assert (done.found, done.order) == (Found.EXECUTED, 7)
    assert (done.deal, done.price, done.volume, done.detail) == \
        (0, 0.0, 0.1, "the order left the book cancelled")
    filled = find_cancel(lookups(history=[order(7, c.ORDER_STATE_FILLED, 0.04)]))
    assert (filled.found, filled.order) == (Found.NOT_EXECUTED, 7)
    assert filled.detail == (f"order 7 left the book in state {c.ORDER_STATE_FILLED} with 0.04 "
                             "lots filled: it was not cancelled")
    assert find_cancel(lookups(history=[order(8, c.ORDER_STATE_CANCELED)])).found is Found.NOTHING
    assert find_cancel(lookups()).found is Found.NOTHING  # nowhere: unknown, not "cancelled"


def test_a_cancel_looks_back_to_the_orders_setup_not_only_to_the_cancel() -> None:
    windows: list[tuple[datetime, datetime]] = []
    seen = TerminalLookups(open_orders=lambda: (), positions=lambda: (),
                           history_orders=lambda a, b: windows.append((a, b)) or (),
                           history_deals=lambda a, b: ())
    FINDERS["cancel_order"](cancel(), seen, T0, T0 + timedelta(minutes=5))
    (since, _until), = windows
    assert since == T0 - timedelta(days=2, seconds=1)  # a second before its setup


def modify(sl: float, tp: float) -> OrderIntent:
    return OrderIntent("M1", "modify_position", "EURUSD", "buy", 0.1,
                       {"ticket": 5, "sl": sl, "tp": tp, "point": 0.00001})


@pytest.mark.parametrize(("held", "found"), [
    ((1.07001, 1.09), Found.EXECUTED),  # the server rounded 1.070012 to its 5 digits
    ((1.07002, 1.09), Found.NOTHING),  # one point off: another stop
    ((1.070012, 1.08), Found.NOTHING),  # the take profit differs
])
def test_a_modify_is_done_when_the_position_has_the_stops_at_the_symbols_precision(
        held: tuple[float, float], found: Found) -> None:
    position = SimpleNamespace(ticket=5, sl=held[0], tp=held[1], volume=0.1)
    result = FINDERS["modify_position"](modify(1.070012, 1.09), lookups(positions=[position]),
                                        T0, T0)
    assert result.found is found
    if found is Found.EXECUTED:
        assert (result.order, result.deal, result.volume, result.price, result.detail) == \
            (5, 0, 0.1, 0.0, "the position has the stops asked for")
    other = SimpleNamespace(ticket=6, sl=1.070012, tp=1.09, volume=0.1)
    assert FINDERS["modify_position"](modify(1.070012, 1.09), lookups(positions=[other]),
                                      T0, T0).found is Found.NOTHING


@pytest.mark.parametrize(("a", "b", "same"), [
    (1.0, 1.25, True),  # exactly half a point (0.5): equal
    (1.0, 1.2500001, False),
    (1.0, 1.5, False),  # a whole point
    (1.0, 1.75, False),
    (1.0, 0.8, True),
])
def test_prices_are_equal_within_half_a_point(a: float, b: float, same: bool) -> None:
    assert same_price(a, b, 0.5) is same
    assert same_price(b, a, 0.5) is same


def test_an_entry_written_before_the_point_was_kept_is_compared_exactly() -> None:
    """A journal from before ``point`` was recorded: its stops must match as written."""
    older = OrderIntent("M1", "modify_position", "EURUSD", "buy", 0.1,
                        {"ticket": 5, "sl": 1.07, "tp": 1.09})
    moved = SimpleNamespace(ticket=5, sl=1.0705, tp=1.09, volume=0.1)  # not what was asked
    assert FINDERS["modify_position"](older, lookups(positions=[moved]), T0, T0).found \
        is Found.NOTHING
    asked = SimpleNamespace(ticket=5, sl=1.07, tp=1.09, volume=0.1)
    assert FINDERS["modify_position"](older, lookups(positions=[asked]), T0, T0).found \
        is Found.EXECUTED
