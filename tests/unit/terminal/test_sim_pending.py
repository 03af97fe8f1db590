"""The simulated server triggers and expires pending orders from its quote walk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_simulated_terminal import PASSWORD, START, FakeClock

from mt5guard.terminal import SimulatedTerminal
from mt5guard.terminal import constants as c


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def term(clock: FakeClock) -> SimulatedTerminal:
    terminal = SimulatedTerminal(clock, password=PASSWORD)
    assert terminal.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo")
    assert terminal.symbol_select("EURUSD", True)
    return terminal


def pending(term: SimulatedTerminal, kind: int, offset: float, **extra: Any) -> int:
    tick = term.symbol_info_tick("EURUSD")
    assert tick is not None
    base = tick.ask if kind in (c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_BUY_STOP,
                                c.ORDER_TYPE_BUY_STOP_LIMIT) else tick.bid
    result = term.order_send({
        "action": c.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.1, "type": kind,
        "price": round(base + offset, 5), "type_filling": c.ORDER_FILLING_RETURN,
        "comment": "mg-p1;", **extra})
    assert result is not None and result.retcode == c.TRADE_RETCODE_PLACED, result
    return result.order


def walk_until(term: SimulatedTerminal, clock: FakeClock, done: Any, limit: float = 6 * 3600) -> float:
    """Advance a minute at a time until ``done()``; the seconds it took."""
    waited = 0.0
    while not done():
        assert waited < limit, "the walk never got there"
        clock.advance(60.0)
        waited += 60.0
    return waited


@pytest.mark.parametrize(("kind", "offset"), [(c.ORDER_TYPE_BUY_LIMIT, -0.0003),
                                              (c.ORDER_TYPE_SELL_LIMIT, 0.0003),
                                              (c.ORDER_TYPE_BUY_STOP, 0.0003),
                                              (c.ORDER_TYPE_SELL_STOP, -0.0003)])
def test_a_pending_order_fills_when_the_walk_reaches_its_price(
        term: SimulatedTerminal, clock: FakeClock, kind: int, offset: float) -> None:
    ticket = pending(term, kind, offset)
    walk_until(term, clock, lambda: not term.orders_get())
    (position,) = term.positions_get() or ()
    assert position.ticket == ticket and position.comment == "mg-p1;"
    buy = kind in (c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_BUY_STOP)
    assert position.type == (c.POSITION_TYPE_BUY if buy else c.POSITION_TYPE_SELL)
    (deal,) = term.history_deals_get(ticket=ticket) or ()
    assert (deal.entry, deal.volume, deal.comment) == (c.DEAL_ENTRY_IN, 0.1, "mg-p1;")
    (order,) = term.history_orders_get(ticket=ticket) or ()
    assert order.state == c.ORDER_STATE_FILLED and order.volume_current == 0.0


def test_a_stop_limit_becomes_a_limit_at_its_stoplimit_price(
        term: SimulatedTerminal, clock: FakeClock) -> None:
    tick = term.symbol_info_tick("EURUSD")
    assert tick is not None
    ticket = pending(term, c.ORDER_TYPE_BUY_STOP_LIMIT, 0.0003,
                     stoplimit=round(tick.ask + 0.0001, 5))
    def converted() -> bool:
        (order,) = term.orders_get() or ()  # triggered, it stays in the book as a limit
        return order.type == c.ORDER_TYPE_BUY_LIMIT

    walk_until(term, clock, converted)
    (order,) = term.orders_get() or ()
    assert (order.ticket, order.price_open, order.price_stoplimit) == (
        ticket, round(tick.ask + 0.0001, 5), 0.0)
    assert term.positions_get() == ()


@pytest.mark.parametrize(("type_time", "expiration", "after"), [
    (c.ORDER_TIME_SPECIFIED, START + timedelta(minutes=30), timedelta(minutes=31)),
    (c.ORDER_TIME_DAY, None, timedelta(hours=15, minutes=1)),  # START is 09:00 UTC
    (c.ORDER_TIME_SPECIFIED_DAY, START + timedelta(days=1, hours=2), timedelta(days=1, hours=15, minutes=1)),
])
def test_orders_expire_by_their_time_mode(term: SimulatedTerminal, clock: FakeClock, type_time: int,
                                          expiration: datetime | None, after: timedelta) -> None:
    stamp = 0 if expiration is None else int(expiration.timestamp())
    ticket = pending(term, c.ORDER_TYPE_BUY_LIMIT, -0.05, type_time=type_time, expiration=stamp)
    clock.advance((after - timedelta(minutes=2)).total_seconds())
    assert [o.ticket for o in term.orders_get() or ()] == [ticket]
    clock.advance(120.0)
    assert term.orders_get() == ()
    (order,) = term.history_orders_get(ticket=ticket) or ()
    assert order.state == c.ORDER_STATE_EXPIRED
    assert term.positions_get() == ()
    assert START.tzinfo is UTC
