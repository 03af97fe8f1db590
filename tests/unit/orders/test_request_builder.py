"""The one request builder: what it sends is what the real MetaTrader5 module accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from mt5guard.errors import MT5ValidationError
from mt5guard.orders.messages import OrderRequest, Side
from mt5guard.orders.request import (
    comment_room,
    count_arg,
    finished,
    fit_comment,
    remove_request,
    sltp_request,
    symbol_arg,
    trade_request,
    utc_date,
)
from mt5guard.session._args import build_order
from mt5guard.terminal import constants as c
from mt5guard.terminal.filling import choose_filling
from mt5guard.terminal.records import symbol_info_with
from mt5guard.terminal.sim._requests import parse_request

TWENTY = "breakout-long-H1-v02"  # a 20-character user comment


def test_the_client_id_stays_whole_and_the_text_fills_what_is_left() -> None:
    comment = fit_comment("a1b2c3d4e5f6", TWENTY)
    assert comment == "mg-a1b2c3d4e5f6;breakout-long"
    assert len(comment) == c.ORDER_COMMENT_MAX_LENGTH == 29
    longest_id = "X" * 20
    assert fit_comment(longest_id, TWENTY) == f"mg-{longest_id};break"
    assert comment_room(longest_id) == 5
    assert fit_comment("id", "") == "mg-id;"


def test_characters_outside_the_bmp_count_twice_as_the_module_counts_them() -> None:
    comment = fit_comment("a1b2c3d4e5f6", "\U0001F680" * 10)
    assert len(comment.encode("utf-16-le")) // 2 <= 29
    assert comment == "mg-a1b2c3d4e5f6;" + "\U0001F680" * 6
    # as many whole characters as fit, whatever the count cut
    assert fit_comment("a1b2c3d4e5f6", "\U0001F680" * 11) == "mg-a1b2c3d4e5f6;" + "\U0001F680" * 6
    assert fit_comment("a1b2c3d4e5f6", "x" + "\U0001F680" * 8) == \
        "mg-a1b2c3d4e5f6;x" + "\U0001F680" * 6


def test_refuse_raises_before_any_call_naming_the_field() -> None:
    with pytest.raises(MT5ValidationError) as caught:
        fit_comment("a1b2c3d4e5f6", TWENTY, overflow="refuse")
    assert caught.value.field == "comment" and "room for 13" in str(caught.value)
    assert caught.value.operation == "place_order"  # the call a comment belongs to by default
    with pytest.raises(MT5ValidationError, match="comment"):
        build_order("EURUSD", "buy", 0.1, comment=TWENTY, client_order_id="a1b2c3d4e5f6",
                    comment_overflow="refuse")
    exact = "y" * comment_room("a1b2c3d4e5f6")  # fills the comment to its last character
    assert fit_comment("a1b2c3d4e5f6", exact, overflow="refuse") == f"mg-a1b2c3d4e5f6;{exact}"
    fits = build_order("EURUSD", "buy", 0.1, comment="short", comment_overflow="refuse")
    assert fits.comment == "short"
    with pytest.raises(MT5ValidationError, match="comment_overflow"):
        build_order("EURUSD", "buy", 0.1, comment_overflow="cut")


def test_a_market_request_is_typed_as_the_module_demands() -> None:
    order = OrderRequest("c1", "EURUSD", Side.BUY, 1.0, sl=0.0, tp=0.0, comment=TWENTY)
    request = trade_request(order, 1, c.ORDER_FILLING_FOK)
    assert all(type(request[k]) is float for k in ("volume", "price", "sl", "tp"))
    assert request["type_filling"] == c.ORDER_FILLING_FOK
    assert parse_request(request).comment == request["comment"]  # the module's own rules
    for built in (sltp_request("c2", "EURUSD", 7, 1, 0, 3), remove_request(9)):
        parse_request(built)
    assert type(sltp_request("c2", "EURUSD", 7, 1, 0, 3)["sl"]) is float


@pytest.mark.parametrize(("field", "value"), [
    ("magic", -1), ("position", 2**64), ("deviation", 1.5), ("volume", float("nan")),
    ("price", "1.1"), ("symbol", "S" * 30), ("comment", "x" * 30), ("expiration", datetime.now(UTC)),
    ("type_time", True), ("unknown", 1)])
def test_finished_refuses_what_the_module_would_refuse_or_crash_on(field: str, value: Any) -> None:
    with pytest.raises(MT5ValidationError) as caught:
        finished({"action": c.TRADE_ACTION_DEAL, field: value})
    assert caught.value.field == field


@pytest.mark.parametrize(("filling_mode", "exemode", "expected"), [
    (c.SYMBOL_FILLING_FOK, c.SYMBOL_TRADE_EXECUTION_MARKET, c.ORDER_FILLING_FOK),
    (c.SYMBOL_FILLING_IOC, c.SYMBOL_TRADE_EXECUTION_MARKET, c.ORDER_FILLING_IOC),
    (c.SYMBOL_FILLING_FOK | c.SYMBOL_FILLING_IOC, c.SYMBOL_TRADE_EXECUTION_MARKET,
     c.ORDER_FILLING_IOC),
    (0, c.SYMBOL_TRADE_EXECUTION_EXCHANGE, c.ORDER_FILLING_RETURN),
    (0, c.SYMBOL_TRADE_EXECUTION_INSTANT, c.ORDER_FILLING_RETURN),
])
def test_the_filling_follows_the_symbol(filling_mode: int, exemode: int, expected: int) -> None:
    info = symbol_info_with(filling_mode=filling_mode, trade_exemode=exemode)
    assert choose_filling(info) == expected
    assert choose_filling(info, "fok") == c.ORDER_FILLING_FOK  # an override is sent as asked


def test_a_symbol_with_no_usable_filling_is_refused_with_the_fix() -> None:
    info = symbol_info_with(filling_mode=0, trade_exemode=c.SYMBOL_TRADE_EXECUTION_MARKET)
    with pytest.raises(MT5ValidationError) as caught:
        choose_filling(info, symbol="ODD")
    assert caught.value.field == "filling" and "filling: fok|ioc|return" in str(caught.value)
    with pytest.raises(MT5ValidationError, match="filling"):
        build_order("EURUSD", "buy", 0.1, filling="kill")


def test_read_arguments_are_checked_too() -> None:
    assert symbol_arg("X" * 29, "get_price") == "X" * 29
    with pytest.raises(MT5ValidationError, match="29"):
        symbol_arg("X" * 30, "get_price")
    with pytest.raises(MT5ValidationError, match="count"):
        count_arg(2**31, "count", "copy_rates_from_pos", 1)
    naive = datetime(2026, 1, 2, 3, 4)
    assert utc_date(naive, "date_from", "history_deals_get") == naive.replace(tzinfo=UTC)
    paris = datetime(2026, 1, 2, 4, 4, tzinfo=timezone(timedelta(hours=1)))
    assert utc_date(paris, "date_from", "x").tzinfo is UTC
    assert utc_date(paris, "date_from", "x") == naive.replace(tzinfo=UTC)
    with pytest.raises(MT5ValidationError, match="date_to"):
        utc_date(2**40, "date_to", "history_deals_get")
