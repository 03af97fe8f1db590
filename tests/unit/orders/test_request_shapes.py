"""The ``order_send`` dicts, the idempotency check and the reply shape (orders/request.py).

What reaches the MetaTrader5 module decides what the server does: each request
kind is pinned field by field; a value the module would refuse or crash on is
a typed error naming the field; a known id reused for another request is an
:class:`MT5IdempotencyConflict` naming the id; a reply that is not shaped like
an OrderSendResult is None (never a half-read outcome).
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from mt5guard.errors import MT5IdempotencyConflict, MT5ValidationError
from mt5guard.orders.journal import EntryState, JournalEntry, OrderIntent
from mt5guard.orders.messages import OrderOutcome, OrderRequest, PendingOrderRequest, Side
from mt5guard.orders.request import (
    check_client_order_id,
    comment_room,
    finished,
    intent_for,
    modify_order_request,
    new_client_order_id,
    outcome_from_result,
    outcome_to_result,
    pending_request,
    remove_request,
    reply_fields,
    same_request,
    sltp_request,
    trade_request,
)
from mt5guard.terminal import constants as c

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_a_market_order_request_field_by_field() -> None:
    order = OrderRequest("A1", "EURUSD", Side.SELL, 0.5, sl=1.2, tp=1.0, deviation=7, magic=9,
                         comment="hedge", position=44)
    assert trade_request(order, 1.1, c.ORDER_FILLING_FOK) == {
        "action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.5,
        "type": c.ORDER_TYPE_SELL, "price": 1.1, "sl": 1.2, "tp": 1.0, "deviation": 7,
        "magic": 9, "comment": "mg-A1;hedge", "type_time": c.ORDER_TIME_GTC,
        "type_filling": c.ORDER_FILLING_FOK, "position": 44}
    buy = trade_request(OrderRequest("A2", "EURUSD", Side.BUY, 1), 1)
    assert (buy["type"], buy["type_filling"], type(buy["volume"]), type(buy["price"])) == \
        (c.ORDER_TYPE_BUY, c.ORDER_FILLING_IOC, float, float)


def test_a_pending_placement_request_field_by_field() -> None:
    order = PendingOrderRequest("P1", "EURUSD", "sell_stop_limit", 0.2, 1.05, 1.04, 1.1, 1.0,
                                "specified", 1_800_000_000, 3, "grid")
    assert pending_request(order, c.ORDER_FILLING_RETURN) == {
        "action": c.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.2,
        "type": c.ORDER_TYPE_SELL_STOP_LIMIT, "price": 1.05, "stoplimit": 1.04, "sl": 1.1,
        "tp": 1.0, "magic": 3, "comment": "mg-P1;grid", "type_time": c.ORDER_TIME_SPECIFIED,
        "expiration": 1_800_000_000, "type_filling": c.ORDER_FILLING_RETURN}
    with pytest.raises(MT5ValidationError) as caught:
        pending_request(PendingOrderRequest("P1", "EURUSD", "buy_limit", 0.2, float("nan")), 0)
    assert (caught.value.operation, caught.value.field) == ("place_pending_order", "price")


def test_modify_sltp_and_remove_requests_field_by_field() -> None:
    assert modify_order_request("M1", 80, 1.1, 0, 1.0, 1.2, c.ORDER_TIME_DAY, 0) == {
        "action": c.TRADE_ACTION_MODIFY, "order": 80, "price": 1.1, "stoplimit": 0.0,
        "sl": 1.0, "tp": 1.2, "type_time": c.ORDER_TIME_DAY, "expiration": 0,
        "comment": "mg-M1;"}
    assert sltp_request("S1", "EURUSD", 55, 1.0, 0, 4) == {
        "action": c.TRADE_ACTION_SLTP, "symbol": "EURUSD", "position": 55, "sl": 1.0,
        "tp": 0.0, "magic": 4, "comment": "mg-S1;"}
    assert remove_request(81) == {"action": c.TRADE_ACTION_REMOVE, "order": 81}
    for call, op, field in (
            (lambda: modify_order_request("M1", -1, 1, 0, 0, 0, 0, 0), "modify_order", "order"),
            (lambda: sltp_request("S1", "EURUSD", -1, 0, 0, 0), "modify_position", "position"),
            (lambda: remove_request(-1), "cancel_order", "order")):
        with pytest.raises(MT5ValidationError) as caught:
            call()
        assert (caught.value.operation, caught.value.field) == (op, field)


@pytest.mark.parametrize(("field", "value", "words"), [
    ("volume", True, "volume must be a finite number, got True"),
    ("price", "1.1", "price must be a finite number, got '1.1'"),
    ("sl", float("inf"), "sl must be a finite number, got inf"),
    ("symbol", 5, "symbol must be text of at most 29 characters (the module's limit), got 5"),
    ("comment", "x" * 30, "comment must be text of at most 29 characters"),
    ("magic", 1.0, "magic must be an int, got 1.0"),
    ("type", True, "type must be an int, got True"),
    ("magic", -1, "magic must be within 0..9223372036854775807, got -1"),
    ("magic", 2**63, "magic must be within 0..9223372036854775807, got 9223372036854775808"),
    ("expiration", 2**63, "expiration must be within 0..9223372036854775807"),
    ("type", 2**31, "type must be within 0..2147483647, got 2147483648"),
    ("type_time", -1, "type_time must be within 0..2147483647, got -1"),
    ("colour", 1, "'colour' is not a field of an MT5 trade request"),
])
def test_finished_refuses_a_value_the_module_cannot_take(field: str, value: Any,
                                                         words: str) -> None:
    with pytest.raises(MT5ValidationError) as caught:
        finished({field: value}, "close_position")
    err = caught.value
    assert (err.operation, err.field) == ("close_position", field)
    assert err.detail.startswith(words)


def test_finished_keeps_the_edges_of_each_range_and_types_each_value() -> None:
    edges = {"magic": 2**63 - 1, "position": 0, "type": 2**31 - 1, "type_filling": 0,
             "expiration": 2**63 - 1, "volume": 1, "symbol": "x" * 29, "comment": ""}
    out = finished(edges)
    assert out == edges and type(out["volume"]) is float and type(out["magic"]) is int
    assert finished({}) == {}
    with pytest.raises(MT5ValidationError) as caught:
        finished({"type": -1})
    assert caught.value.operation == "place_order"


def test_an_id_travels_whole_in_the_comment_or_is_refused() -> None:
    assert check_client_order_id("A-z_09" + "x" * 14) == "A-z_09" + "x" * 14
    for bad in ("", "x" * 21, "a b", "a;b", 7, None):
        with pytest.raises(MT5ValidationError) as caught:
            check_client_order_id(bad, "close_position")
        err = caught.value
        assert (err.operation, err.field) == ("close_position", "client_order_id")
        assert err.detail == ("client_order_id must be 1-20 characters from A-Z, a-z, 0-9, _ "
                              "and - (it travels at the start of the 29-character MT5 comment), "
                              f"got {bad!r}")
    with pytest.raises(MT5ValidationError) as default:
        check_client_order_id("")
    assert default.value.operation == "place_order"
    made = {new_client_order_id() for _ in range(50)}
    assert len(made) == 50 and all(len(m) == 12 and check_client_order_id(m) for m in made)
    assert comment_room("A1") == 29 - len("mg-A1;")


def entry(kind: str = "place", symbol: str = "EURUSD", side: str = "buy", volume: float = 0.1,
          **payload: Any) -> JournalEntry:
    return JournalEntry(OrderIntent("K1", kind, symbol, side, volume, payload),
                        EntryState.FILLED, T0)


@pytest.mark.parametrize("other", [
    OrderIntent("K1", "close_position", "EURUSD", "buy", 0.1, {}),
    OrderIntent("K1", "place", "GBPUSD", "buy", 0.1, {}),
    OrderIntent("K1", "place", "EURUSD", "sell", 0.1, {}),
    OrderIntent("K1", "place", "EURUSD", "buy", 0.2, {}),
    OrderIntent("K1", "place", "EURUSD", "buy", 0.1, {"sl": 1.2}),
    OrderIntent("K1", "place", "EURUSD", "buy", 0.1, {"magic": 8}),
])
def test_a_known_id_reused_for_another_request_is_a_conflict_naming_it(
        other: OrderIntent) -> None:
    with pytest.raises(MT5IdempotencyConflict) as caught:
        same_request(entry(sl=1.1, magic=7), other)
    err = caught.value
    assert (err.client_order_id, err.field, err.retryable) == ("K1", "client_order_id", False)
    assert err.operation == ("place_order" if other.kind == "place" else other.kind)
    assert err.detail == ("'K1' was already used for place EURUSD buy 0.1 lots; this request "
                          "does not match it: choose another client_order_id")


def test_the_same_request_again_is_no_conflict() -> None:
    same_request(entry(sl=1.1), OrderIntent("K1", "place", "EURUSD", "buy", 0.1 + 1e-12,
                                             {"sl": 1.1, "comment": "other text"}))
    same_request(entry(sl=1.1), OrderIntent("K1", "place", "EURUSD", "buy", 0.1, {}))


def test_the_journal_view_of_an_order_and_its_outcome_round_trip() -> None:
    order = OrderRequest("A1", "EURUSD", Side.SELL, 0.5, sl=1.2, magic=3, position=44)
    intent = intent_for(order, "close_position")
    assert (intent.client_order_id, intent.kind, intent.symbol, intent.side, intent.volume) == \
        ("A1", "close_position", "EURUSD", "sell", 0.5)
    assert intent.payload["side"] == "sell" and intent.payload["sl"] == 1.2
    assert intent.payload["position"] == 44 and intent.payload["magic"] == 3
    assert intent_for(order).kind == "place"
    outcome = OrderOutcome("A1", 10009, 77, 900, 0.5, 1.1, "done", True)
    assert outcome_to_result(outcome) == {"outcome": {
        "client_order_id": "A1", "retcode": 10009, "order": 77, "deal": 900, "volume": 0.5,
        "price": 1.1, "comment": "done", "reconciled": True}}
    assert outcome_from_result(outcome_to_result(outcome)) == outcome
    assert outcome_from_result(None) is None and outcome_from_result({}) is None
    assert outcome_from_result({"error": {"kind": "rejected"}}) is None


def reply(**over: Any) -> SimpleNamespace:
    fields = {"retcode": 10009, "order": 77, "deal": 900, "volume": 0.5, "price": 1, "comment": ""}
    fields.update(over)
    return SimpleNamespace(**fields)


def test_a_reply_is_read_only_when_every_field_has_its_type() -> None:
    assert reply_fields(reply()) == (10009, 77, 900, 0.5, 1.0, "")
    assert type(reply_fields(reply())[4]) is float  # type: ignore[index]
    for bad in ({"retcode": True}, {"order": 1.0}, {"deal": "9"}, {"volume": float("nan")},
                {"price": False}, {"price": float("inf")}, {"comment": None}, {"volume": "1"}):
        assert reply_fields(reply(**bad)) is None, bad
    assert reply_fields(SimpleNamespace(retcode=10009)) is None
    assert reply_fields(None) is None
