"""Story: a risk monitor watches the account's trades. It hears mt5guard's own
orders and changes, and also what happened elsewhere: a trader closing a
position by hand in the terminal, a stop loss hit on the server, a pending
order placed and deleted by hand."""

from __future__ import annotations

import asyncio

from mt5guard.events.messages import (
    OrderCancelled,
    OrderFilled,
    OrderPlaced,
    PositionClosed,
    PositionModified,
    PositionOpened,
    TradeEvent,
)
from mt5guard.terminal import constants as c


def watching(story) -> tuple[list[TradeEvent], object]:
    heard: list[TradeEvent] = []
    subscription = story.session.watch_trades(heard.append)
    story.clock.advance(1.0)  # the first poll takes the baseline
    return heard, subscription


def kinds(events) -> list[str]:
    return [type(e).__name__ for e in events]


def test_our_own_trades_are_reported_as_ours(story) -> None:
    heard, _ = watching(story)
    opened = story.session.place_order("EURUSD", "buy", 0.2, client_order_id="own1")
    story.clock.advance(1.0)
    assert kinds(heard) == ["OrderFilled", "PositionOpened"]
    filled, position = heard
    assert (filled.ticket, filled.entry, filled.side, filled.external) == (opened.order, "in", "buy", False)
    assert (position.ticket, position.volume, position.external) == (opened.order, 0.2, False)

    sl = round(story.session.get_price("EURUSD").bid - 0.002, 5)
    story.session.modify_position(opened.order, sl=sl)
    story.session.close_position(opened.order, 0.1)
    story.clock.advance(1.0)
    modified = [e for e in heard if isinstance(e, PositionModified)]
    assert len(modified) == 1  # stops and volume changed within one poll
    assert (modified[0].sl_before, modified[0].sl, modified[0].volume) == (0.0, sl, 0.1)
    assert not modified[0].external
    out = [e for e in heard if isinstance(e, OrderFilled) and e.entry == "out"]
    assert len(out) == 1 and out[0].position == opened.order and not out[0].external


def test_a_manual_close_and_a_stop_hit_are_reported_as_external(story) -> None:
    heard, _ = watching(story)
    first = story.session.place_order("EURUSD", "buy", 0.1).order
    bid = story.session.get_price("EURUSD").bid
    second = story.session.place_order("EURUSD", "buy", 0.1, sl=round(bid - 0.003, 5)).order
    story.clock.advance(1.0)
    del heard[:]

    story.terminal.close_by_hand(first)
    story.terminal.hit_stop(second, "sl")
    story.clock.advance(1.0)
    closed = {e.ticket: e for e in heard if isinstance(e, PositionClosed)}
    assert set(closed) == {first, second}
    assert (closed[first].reason, closed[first].external) == ("client", True)
    assert (closed[second].reason, closed[second].price) == ("sl", round(bid - 0.003, 5))
    assert closed[second].profit < 0 and closed[second].external
    assert sorted(e.reason for e in heard if isinstance(e, OrderFilled)) == ["client", "sl"]


def test_pending_orders_placed_and_deleted_by_hand(story) -> None:
    heard, _ = watching(story)
    bid = story.session.get_price("EURUSD").bid
    ticket = story.terminal.place_by_hand("EURUSD", c.ORDER_TYPE_BUY_LIMIT, 0.3, round(bid - 0.01, 5))
    story.clock.advance(1.0)
    story.terminal.cancel_by_hand(ticket)
    story.clock.advance(1.0)
    assert kinds(heard) == ["OrderPlaced", "OrderCancelled"]
    placed, cancelled = heard
    assert isinstance(placed, OrderPlaced) and placed.volume == 0.3 and placed.external
    assert isinstance(cancelled, OrderCancelled) and cancelled.ticket == ticket


def test_nothing_is_polled_once_nobody_watches(story) -> None:
    heard, subscription = watching(story)
    subscription.close()
    story.session.place_order("EURUSD", "sell", 0.1)  # (it looks its new id up: not a poll)
    polls = story.terminal.calls["positions_get"]
    story.clock.advance(5.0)
    assert heard == [] and story.terminal.calls["positions_get"] == polls


def test_async_for_trade_events(story) -> None:
    async def main() -> list[TradeEvent]:
        stream = story.session.aio.trade_events()
        first = asyncio.ensure_future(stream.__anext__())
        while not story.session._core.trades.watched():
            await asyncio.sleep(0)  # the generator runs up to its first wait: watching
        await asyncio.to_thread(story.clock.advance, 1.0)  # baseline
        await asyncio.to_thread(story.session.place_order, "GBPUSD", "buy", 0.1)
        await asyncio.to_thread(story.clock.advance, 1.0)
        got = [await asyncio.wait_for(first, 5), await asyncio.wait_for(stream.__anext__(), 5)]
        await stream.aclose()
        return got

    got = asyncio.run(main())
    assert kinds(got) == ["OrderFilled", "PositionOpened"] and got[1].symbol == "GBPUSD"
    assert isinstance(got[1], PositionOpened)


def test_deposits_commissions_and_dividends_are_balance_operations_never_fills(story) -> None:
    """The broker books money that is not a trade: it is heard as what it is."""
    heard, _ = watching(story)
    balance = story.session.get_account_info().balance
    story.terminal.book_balance_operation(c.DEAL_TYPE_BALANCE, 5000.0, "deposit #81")
    story.terminal.book_balance_operation(c.DEAL_TYPE_COMMISSION_DAILY, -3.5)
    story.terminal.book_balance_operation(c.DEAL_DIVIDEND, 12.25, "AAPL dividend")
    story.terminal.book_balance_operation(c.DEAL_TYPE_CREDIT, 1000.0)
    story.clock.advance(1.0)
    assert kinds(heard) == ["BalanceOperation"] * 4
    assert [(e.kind, e.amount, e.external) for e in heard] == [
        ("balance", 5000.0, True), ("commission_daily", -3.5, True), ("dividend", 12.25, True),
        ("credit", 1000.0, True)]
    assert heard[0].comment == "deposit #81" and heard[0].to_dict()["kind"] == "balance"
    assert not [e for e in heard if isinstance(e, OrderFilled)]
    assert story.session.get_account_info().balance == balance + 5000.0 - 3.5 + 12.25
