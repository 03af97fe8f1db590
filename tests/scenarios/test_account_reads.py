"""Story: a risk check before trading reads counts, margin, profit and the order book,
all guarded like get_price."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mt5guard.errors import MT5ValidationError
from mt5guard.terminal import constants as c


def test_counts_follow_the_book(story) -> None:
    s = story.session
    assert (s.positions_total(), s.orders_total()) == (0, 0)
    s.place_order("EURUSD", "buy", 0.1)
    limit = s.place_pending_order("EURUSD", "buy_limit", 0.1,
                                  round(s.get_price("EURUSD").ask - 0.01, 5))
    assert (s.positions_total(), s.orders_total()) == (1, 1)
    s.cancel_order(limit.order)
    now = story.clock.now()
    assert s.orders_total() == 0
    assert s.history_deals_total(now - timedelta(hours=1), now) == 1
    assert s.history_orders_total(now - timedelta(hours=1), now) == 2  # filled + cancelled


def test_margin_and_profit_agree_with_the_server(story) -> None:
    s = story.session
    tick = s.get_price("EURUSD")
    margin = s.order_calc_margin("EURUSD", "buy", 1.0, tick.ask)
    assert margin == pytest.approx(1.0 * 100_000 / 100 * (tick.bid + tick.ask) / 2, rel=1e-3)
    assert s.order_calc_profit("EURUSD", "buy", 1.0, 1.08000, 1.08100) == pytest.approx(100.0)
    assert s.order_calc_profit("EURUSD", "sell", 1.0, 1.08000, 1.08100) == pytest.approx(-100.0)
    with pytest.raises(MT5ValidationError) as caught:
        s.order_calc_margin("EURUSD", "long", 1.0, tick.ask)
    assert caught.value.field == "side"


def test_the_depth_of_market_after_subscribing(story) -> None:
    s = story.session
    s.market_book_add("EURUSD")
    book = s.market_book_get("EURUSD")
    assert [level.type for level in book] == [c.BOOK_TYPE_SELL] * 5 + [c.BOOK_TYPE_BUY] * 5
    prices = [level.price for level in book]
    assert prices == sorted(prices, reverse=True)
    assert book[0].to_dict()["volume_dbl"] == 50.0
    s.market_book_release("EURUSD")


def test_terminal_and_version(story) -> None:
    info = story.session.terminal_info()
    assert info.connected and info.trade_allowed
    assert story.session.version()[0] == 500


async def _async_reads(session):
    return await session.aio.positions_total(), await session.aio.terminal_info()


def test_the_same_reads_are_awaitable(story) -> None:
    import asyncio

    total, info = asyncio.run(_async_reads(story.session))
    assert total == 0 and info.connected


def test_order_check_describes_the_order_that_would_be_sent_and_sends_nothing(story) -> None:
    s = story.session
    check = s.order_check("EURUSD", "buy", 1.0, comment="sizing probe")
    assert (check.retcode, check.comment) == (0, "Done")
    assert check.margin == pytest.approx(s.order_calc_margin("EURUSD", "buy", 1.0,
                                                             check.request.price), rel=1e-3)
    assert check.request.type_filling == c.ORDER_FILLING_IOC  # what place_order would send
    assert check.request.comment.startswith("mg-") and check.request.comment.endswith(";sizing probe")
    too_big = s.order_check("EURUSD", "buy", 99.0)
    assert too_big.retcode == c.TRADE_RETCODE_NO_MONEY
    assert story.terminal.sent_orders() == [] and s.positions_total() == 0
