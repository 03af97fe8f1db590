"""Pending orders are validated in the caller's thread before anything is sent.

Every refusal is a :class:`MT5ValidationError` naming the operation, the bad
field and the fix, in words a trader can act on; a valid order or change comes
back normalised (floats, the expiry stamp, the id). These are pure functions:
no session, no terminal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mt5guard.errors import MT5ValidationError
from mt5guard.orders.messages import ChangeKind, PendingOrderRequest, TradeChange
from mt5guard.orders.pending import check_order_change, check_pending

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
NOON_S = int(NOON.timestamp())


def pending(**over: Any) -> PendingOrderRequest:
    args: dict[str, Any] = {"symbol": "EURUSD", "kind": "buy_limit", "volume": 0.1,
                            "price": 1.05, "client_order_id": "P1"}
    args.update(over)
    return check_pending(args.pop("symbol"), args.pop("kind"), args.pop("volume"),
                         args.pop("price"), **args)


def whole(words: str) -> bool:
    """A message given in full in the tables below (the others are its telling part)."""
    return (words.split()[0] not in ("got", "no", "room", "1-20") and \
        not words.endswith(("or None", "characters"))) or words.startswith("comment must")


def refused(call: Any, **over: Any) -> MT5ValidationError:
    with pytest.raises(MT5ValidationError) as caught:
        call(**over)
    err = caught.value
    assert type(err) is MT5ValidationError
    assert err.retryable is False
    return err


def test_a_valid_pending_order_comes_back_normalised() -> None:
    order = pending(volume=1, price=2, sl=1, tp=3, magic=7, comment="grid", filling="ioc")
    assert order == PendingOrderRequest("P1", "EURUSD", "buy_limit", 1.0, 2.0, 0.0, 1.0, 3.0,
                                        "gtc", 0, 7, "grid", "ioc")
    assert all(type(v) is float for v in (order.volume, order.price, order.stoplimit,
                                          order.sl, order.tp))
    assert pending().filling is None
    limit = pending(kind="sell_stop_limit", stoplimit=1.04)
    assert (limit.kind, limit.stoplimit) == ("sell_stop_limit", 1.04)
    assert pending(magic=2**63 - 1).magic == 2**63 - 1
    assert pending(magic=0).magic == 0
    assert pending(comment="x" * 29).comment == "x" * 29


def test_an_order_without_an_id_gets_a_fresh_valid_one() -> None:
    first = pending(client_order_id=None).client_order_id
    second = pending(client_order_id=None).client_order_id
    assert first != second and 1 <= len(first) <= 20


@pytest.mark.parametrize("expiry", ["specified", "specified_day"])
def test_a_timed_expiry_takes_its_expiration_as_utc_epoch_seconds(expiry: str) -> None:
    assert pending(expiry=expiry, expiration=NOON).expiration == NOON_S
    assert pending(expiry=expiry, expiration=NOON.replace(tzinfo=None)).expiration == NOON_S
    assert pending(expiry=expiry, expiration=NOON_S).expiry == expiry


@pytest.mark.parametrize(("over", "field", "words"), [
    ({"kind": "buy"}, "kind",
     "kind must be one of buy_limit, sell_limit, buy_stop, sell_stop, buy_stop_limit, "
     "sell_stop_limit, got 'buy'"),
    ({"volume": 0}, "volume", "volume must be a positive number of lots, got 0"),
    ({"volume": -1.0}, "volume", "volume must be a positive number of lots, got -1.0"),
    ({"volume": True}, "volume", "got True"),
    ({"volume": float("inf")}, "volume", "got inf"),
    ({"volume": "0.1"}, "volume", "got '0.1'"),
    ({"price": 0}, "price", "price must be a positive price, got 0"),
    ({"price": float("nan")}, "price", "price must be a positive price, got nan"),
    ({"price": -1.0}, "price", "got -1.0"),
    ({"sl": -0.5}, "sl", "sl must be a price >= 0 (0 = none), got -0.5"),
    ({"tp": "1.1"}, "tp", "tp must be a price >= 0 (0 = none), got '1.1'"),
    ({"stoplimit": False}, "stoplimit", "stoplimit must be a price >= 0 (0 = none), got False"),
    ({"kind": "buy_stop_limit"}, "stoplimit",
     "a stop-limit order needs stoplimit (the limit price it places) and no other kind "
     "takes one"),
    ({"stoplimit": 1.04}, "stoplimit", "no other kind takes one"),
    ({"expiry": "week"}, "expiry",
     "expiry must be one of gtc, day, specified, specified_day, got 'week'"),
    ({"expiry": "day", "expiration": NOON}, "expiration",
     "expiration only applies to expiry 'specified' or 'specified_day', not 'day': leave it "
     "None"),
    ({"expiry": "specified"}, "expiration",
     "expiry 'specified' needs expiration: a datetime (naive = UTC) or epoch seconds"),
    ({"magic": -1}, "magic", "magic must be a whole number from 0 to 2**63-1, got -1"),
    ({"magic": 2**63}, "magic", f"got {2**63}"),
    ({"magic": True}, "magic", "got True"),
    ({"magic": 1.0}, "magic", "got 1.0"),
    ({"comment": "x" * 30}, "comment", "comment must be text of at most 29 characters"),
    ({"comment": 5}, "comment", "comment must be text of at most 29 characters"),
    ({"filling": "all"}, "filling", "filling must be None or one of fok, ioc, return, got 'all'"),
    ({"comment_overflow": "cut"}, "comment_overflow",
     "comment_overflow must be 'truncate' or 'refuse'"),
    ({"client_order_id": "a b"}, "client_order_id", "client_order_id must be 1-20 characters"),
    ({"comment_overflow": "refuse", "comment": "x" * 25}, "comment", "room for 23: shorten it"),
])
def test_a_bad_pending_order_is_refused_naming_the_field_and_the_fix(
        over: dict[str, Any], field: str, words: str) -> None:
    err = refused(pending, **over)
    assert (err.operation, err.field) == ("place_pending_order", field)
    assert words in err.detail
    if whole(words):  # the whole message, as the caller reads it
        assert str(err) == f"place_pending_order failed: invalid request: {words}; not retryable"


def test_a_long_comment_is_truncated_unless_the_caller_asks_to_refuse() -> None:
    assert pending(comment="x" * 25, comment_overflow="truncate").comment == "x" * 25


# --- modify_order: check_order_change ------------------------------------------------------

def change(ticket: object = 5, **over: Any) -> TradeChange:
    return check_order_change(ticket, client_order_id="C1", **over)


def test_a_valid_change_keeps_what_it_does_not_name() -> None:
    assert change(price=1) == TradeChange("C1", ChangeKind.MODIFY_ORDER, 5, price=1.0)
    got = change(sl=0, tp=2, stoplimit=1.5, expiry="specified", expiration=NOON)
    assert (got.price, got.sl, got.tp, got.stoplimit, got.expiry, got.expiration) == \
        (None, 0.0, 2.0, 1.5, "specified", NOON_S)
    assert type(got.tp) is float and type(got.sl) is float
    assert change(expiration=NOON_S).expiration == NOON_S
    assert change(expiry="gtc").expiration is None
    assert check_order_change(5, sl=1.0).client_order_id  # an id is made when none is given


@pytest.mark.parametrize(("ticket", "over", "field", "words"), [
    (0, {"price": 1}, "ticket",
     "ticket must be the pending order's ticket (an int > 0), got 0"),
    (True, {"price": 1}, "ticket", "got True"),
    ("5", {"price": 1}, "ticket", "got '5'"),
    (5, {"price": -1}, "price", "price must be a price >= 0, or None to keep it, got -1"),
    (5, {"sl": float("inf")}, "sl", "sl must be a price >= 0, or None to keep it, got inf"),
    (5, {"tp": True}, "tp", "tp must be a price >= 0, or None to keep it, got True"),
    (5, {"stoplimit": "1"}, "stoplimit", "stoplimit must be a price >= 0, or None"),
    (5, {"price": 0}, "price", "price must be positive"),
    (5, {"expiry": "week"}, "expiry",
     "expiry must be None or one of gtc, day, specified, specified_day, got 'week'"),
    (5, {}, "price", "give price, stoplimit, sl, tp, expiry or expiration: a modification "
                     "without any changes nothing"),
    (5, {"price": 1, "client_order_id": "no spaces"}, "client_order_id", "1-20 characters"),
])
def test_a_bad_change_is_refused_naming_the_field_and_the_fix(
        ticket: object, over: dict[str, Any], field: str, words: str) -> None:
    over.setdefault("client_order_id", "C1")
    err = refused(lambda **kw: check_order_change(ticket, **kw), **over)
    assert (err.operation, err.field) == ("modify_order", field)
    assert words in err.detail
    if whole(words):
        assert str(err) == f"modify_order failed: invalid request: {words}; not retryable"


@pytest.mark.parametrize("name", ["price", "stoplimit", "sl", "tp", "expiry", "expiration"])
def test_any_one_value_is_a_change(name: str) -> None:
    value: object = {"expiry": "day", "expiration": NOON}.get(name, 1.0)
    got = change(**{name: value})
    assert got.kind is ChangeKind.MODIFY_ORDER and got.ticket == 5


def test_what_a_pending_order_leaves_out_is_none_zero_and_gtc() -> None:
    assert check_pending("EURUSD", "buy_limit", 0.1, 1.05, client_order_id="P1") == \
        PendingOrderRequest("P1", "EURUSD", "buy_limit", 0.1, 1.05, 0.0, 0.0, 0.0, "gtc", 0, 0,
                            "", None)


@pytest.mark.parametrize("call", [
    lambda: pending(expiry="specified", expiration="tomorrow"),
    lambda: check_order_change(5, expiration=-1.0, client_order_id="C1"),
])
def test_a_bad_expiration_is_refused_naming_it(call: Any) -> None:
    err = refused(call)
    assert err.field == "expiration"
    assert err.detail.startswith("expiration must be a datetime or epoch seconds within "
                                 "1970..2038")


def test_ticket_one_is_a_ticket() -> None:
    assert change(1, price=1).ticket == 1
