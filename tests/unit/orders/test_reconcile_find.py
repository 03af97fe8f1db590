"""Reading an order back by its client order id (orders/reconcile.py, orders/pending.py).

What the terminal holds decides the answer a trader gets after a lost reply:
executed (with the order, deal, volume and price of the fill), still pending,
not executed, a mismatch (someone else's record with our id text: never taken as
ours) or nothing. Pure functions over the terminal's four reads.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from mt5guard.orders.journal import OrderIntent
from mt5guard.orders.pending import FINDERS as PENDING_FINDERS
from mt5guard.orders.reconcile import Finding, Found, TerminalLookups, comment_id, find, id_comment
from mt5guard.terminal import constants as c

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


def lookups(*, deals: Any = (), history: Any = (), positions: Any = (),
            open_orders: Any = ()) -> TerminalLookups:
    return TerminalLookups(open_orders=lambda: open_orders, positions=lambda: positions,
                           history_orders=lambda a, b: history, history_deals=lambda a, b: deals)


def intent(side: str = "buy", volume: float = 0.3, cid: str = "A1") -> OrderIntent:
    return OrderIntent(cid, "place", "EURUSD", side, volume, {})


def deal(ticket: int = 900, order: int = 77, volume: float = 0.3, *, side: str = "buy",
         symbol: str = "EURUSD", price: float = 1.101, comment: str = "mg-A1; x") -> Any:
    return SimpleNamespace(ticket=ticket, order=order, volume=volume, price=price,
                           type=c.DEAL_TYPE_BUY if side == "buy" else c.DEAL_TYPE_SELL,
                           symbol=symbol, comment=comment)


def position(ticket: int = 55, volume: float = 0.3, *, side: str = "buy",
             symbol: str = "EURUSD", comment: str = "mg-A1;") -> Any:
    return SimpleNamespace(ticket=ticket, volume=volume, price_open=1.102, symbol=symbol,
                           type=c.POSITION_TYPE_BUY if side == "buy" else c.POSITION_TYPE_SELL,
                           comment=comment)


def order(ticket: int = 77, state: int = c.ORDER_STATE_PLACED, *, initial: float = 0.3,
          current: float | None = None, side: str = "buy", symbol: str = "EURUSD",
          comment: str = "mg-A1;", kind: int | None = None) -> Any:
    typ = kind if kind is not None else (c.ORDER_TYPE_BUY if side == "buy" else c.ORDER_TYPE_SELL)
    return SimpleNamespace(ticket=ticket, state=state, volume_initial=initial,
                           volume_current=initial if current is None else current,
                           price_open=1.103, sl=0.0, tp=0.0, type=typ, symbol=symbol,
                           comment=comment)


def test_the_comment_carries_the_id_first_and_closed() -> None:
    assert id_comment("A1") == "mg-A1;"
    assert id_comment("A1", "grid long") == "mg-A1; grid long"
    assert id_comment("A1", "y" * 40) == ("mg-A1; " + "y" * 40)[:31]
    assert len(id_comment("A1", "y" * 40)) == 31
    assert len(id_comment("A1", "y" * 40, limit=29)) == 29
    assert comment_id("mg-A1; grid") == "A1"
    assert comment_id("mg-A1") is None and comment_id(None) is None and comment_id(7) is None


def test_deals_of_one_full_order_are_the_fill_with_its_order_deal_volume_and_price() -> None:
    got = find(intent(), lookups(deals=[deal(900, volume=0.1), deal(901, volume=0.2),
                                        deal(902, comment="mg-A12;")],
                                 history=[order(77, c.ORDER_STATE_FILLED)]), T0, T1)
    assert got == Finding(Found.EXECUTED, 77, 900, pytest.approx(0.3), 1.101,
                          "read back from deals")


def test_a_partial_fill_of_our_order_is_ours_and_a_smaller_foreign_order_is_not() -> None:
    ours = find(intent(), lookups(deals=[deal(volume=0.1)], history=[order(77, initial=0.3)]),
                T0, T1)
    assert (ours.found, ours.volume, ours.order) == (Found.EXECUTED, 0.1, 77)
    foreign = find(intent(), lookups(deals=[deal(volume=0.1)], history=[order(77, initial=0.1)]),
                   T0, T1)
    assert foreign.found is Found.MISMATCH
    assert foreign.detail == ("an order with id 'A1' filled 0.1 lots of 0.1, not of the 0.3 "
                              "requested; not taken as this order's outcome")
    # without the order record only a full fill is taken as ours
    alone = find(intent(), lookups(deals=[deal(volume=0.1)]), T0, T1)
    assert alone.found is Found.MISMATCH and "filled 0.1 lots of 0.1" in alone.detail
    assert find(intent(), lookups(deals=[deal(volume=0.3)]), T0, T1).found is Found.EXECUTED


def test_deals_from_two_orders_with_our_id_are_a_conflict_not_a_fill() -> None:
    got = find(intent(), lookups(deals=[deal(1, order=77, volume=0.1),
                                        deal(2, order=78, volume=0.2)]), T0, T1)
    assert got.found is Found.MISMATCH
    assert got.detail.startswith("2 orders with id 'A1' filled 0.3 lots")


@pytest.mark.parametrize(("record", "words"), [
    (deal(side="sell"), "a deal with id 'A1' does not match the request (EURUSD not buy 0.3 "
                        "lots vs EURUSD buy 0.3); it is not taken as this order's outcome"),
    (deal(symbol="GBPUSD"), "a deal with id 'A1' does not match the request (GBPUSD buy 0.3 "
                            "lots vs EURUSD buy 0.3); it is not taken as this order's outcome"),
    (deal(volume=0.5), "(EURUSD buy 0.5 lots vs EURUSD buy 0.3)"),
])
def test_a_deal_that_disagrees_is_a_mismatch_naming_both(record: Any, words: str) -> None:
    got = find(intent(), lookups(deals=[record]), T0, T1)
    assert (got.found, got.order, got.volume) == (Found.MISMATCH, 0, 0.0)
    assert words in got.detail


def test_an_open_position_with_the_id_is_the_fill() -> None:
    got = find(intent(), lookups(positions=[position(volume=0.2), position(56)],
                                 history=[order(comment="mg-A1;")]), T0, T1)
    assert got == Finding(Found.EXECUTED, 55, 0, 0.2, 1.102, "read back from open positions")
    sell = find(intent("sell"), lookups(positions=[position(side="sell")]), T0, T1)
    assert (sell.found, sell.order) == (Found.EXECUTED, 55)
    other = find(intent(), lookups(positions=[position(comment="mg-A2;")]), T0, T1)
    assert other.found is Found.NOTHING


@pytest.mark.parametrize(("record", "words"), [
    (position(side="sell"), "a position with id 'A1' does not match the request (EURUSD not "
                            "buy 0.3 lots vs EURUSD buy 0.3); it is not taken as this order's "
                            "outcome"),
    (position(symbol="XAUUSD"), "(XAUUSD buy 0.3 lots vs EURUSD buy 0.3)"),
    (position(volume=0.4), "(EURUSD buy 0.4 lots vs EURUSD buy 0.3)"),
    (position(volume=0.0), "(EURUSD buy 0 lots vs"),
])
def test_a_position_that_disagrees_is_a_mismatch(record: Any, words: str) -> None:
    got = find(intent(), lookups(positions=[record]), T0, T1)
    assert got.found is Found.MISMATCH and words in got.detail


def test_a_history_order_that_filled_is_executed_with_the_filled_volume() -> None:
    got = find(intent(), lookups(history=[order(77, c.ORDER_STATE_CANCELED, current=0.1)]),
               T0, T1)
    assert got == Finding(Found.EXECUTED, 77, 0, pytest.approx(0.2), 1.103,
                          "read back from history orders")
    filled = find(intent(), lookups(history=[order(78, c.ORDER_STATE_FILLED, current=0.3)]),
                  T0, T1)
    assert (filled.found, filled.order) == (Found.EXECUTED, 78)


@pytest.mark.parametrize("state", [c.ORDER_STATE_CANCELED, c.ORDER_STATE_REJECTED,
                                   c.ORDER_STATE_EXPIRED])
def test_a_dead_unfilled_history_order_is_not_executed(state: int) -> None:
    got = find(intent(), lookups(history=[order(77, state)]), T0, T1)
    assert got == Finding(Found.NOT_EXECUTED, 77,
                          detail=f"order state {state} in history, nothing filled")


def test_an_order_still_in_the_book_is_pending_and_a_placed_one_in_history_is_nothing_yet() -> None:
    got = find(intent(), lookups(open_orders=[order(80, current=0.2), order(81)]), T0, T1)
    assert got == Finding(Found.PENDING, 80, 0, 0.2, 1.103, "read back from open orders")
    assert find(intent(), lookups(history=[order(77, c.ORDER_STATE_PLACED)]), T0, T1) == \
        Finding(Found.NOTHING)
    assert find(intent(), lookups(), T0, T1) == Finding(Found.NOTHING)


@pytest.mark.parametrize(("where", "record", "words"), [
    ("history", order(side="sell", state=c.ORDER_STATE_FILLED),
     "an order with id 'A1' does not match the request (EURUSD not buy 0.3 lots vs EURUSD buy "
     "0.3); it is not taken as this order's outcome"),
    ("open_orders", order(symbol="GBPUSD"), "(GBPUSD buy 0.3 lots vs EURUSD buy 0.3)"),
    ("open_orders", order(initial=0.2), "(EURUSD buy 0.2 lots vs EURUSD buy 0.3)"),
])
def test_an_order_record_that_disagrees_is_a_mismatch(where: str, record: Any,
                                                      words: str) -> None:
    got = find(intent(), lookups(**{where: [record]}), T0, T1)
    assert got.found is Found.MISMATCH and words in got.detail


def test_a_sell_is_matched_by_sell_records_only() -> None:
    assert find(intent("sell"), lookups(open_orders=[order(side="sell")]), T0, T1).found \
        is Found.PENDING
    assert find(intent("sell"), lookups(deals=[deal(side="sell")]), T0, T1).found \
        is Found.EXECUTED


# --- pending placements and modifications --------------------------------------------------

def placed(**kw: Any) -> Finding:
    return PENDING_FINDERS["place_pending_order"](intent(kw.pop("side", "buy")), lookups(**kw),
                                                  T0, T1)


def test_a_placement_is_found_filled_in_the_book_or_in_history() -> None:
    assert placed(deals=[deal(900, volume=0.1), deal(901, volume=0.2)]) == Finding(
        Found.EXECUTED, 77, 900, pytest.approx(0.3), 1.101,
        "placed and filled (read back from deals)")
    limit = order(80, c.ORDER_STATE_PLACED, current=0.3, kind=c.ORDER_TYPE_BUY_LIMIT)
    assert placed(open_orders=[limit]) == Finding(Found.PENDING, 80, 0, 0.3, 1.103,
                                                  f"placed (order state {c.ORDER_STATE_PLACED})")
    expired = order(81, c.ORDER_STATE_EXPIRED, kind=c.ORDER_TYPE_BUY_STOP)
    assert placed(history=[expired]).found is Found.PENDING  # it was placed: the id is spent
    rejected = order(82, c.ORDER_STATE_REJECTED, kind=c.ORDER_TYPE_BUY_LIMIT)
    assert placed(history=[rejected]) == Finding(Found.NOT_EXECUTED, 82, detail="rejected")
    assert placed(open_orders=[order(83, comment="mg-A11;")]) == Finding(Found.NOTHING)
    sell = order(84, kind=c.ORDER_TYPE_SELL_LIMIT)
    assert placed(side="sell", open_orders=[sell]).found is Found.PENDING


@pytest.mark.parametrize("record", [
    order(kind=c.ORDER_TYPE_SELL_LIMIT), order(symbol="GBPUSD"), order(initial=0.2)])
def test_a_placement_record_that_disagrees_is_a_mismatch(record: Any) -> None:
    got = placed(open_orders=[record])
    assert got.found is Found.MISMATCH
    assert got.detail == (f"an order with id 'A1' does not match the request ({record.symbol} "
                          f"{record.volume_initial:g} lots vs EURUSD 0.3)")


def test_a_pending_modification_is_done_when_the_order_has_the_price_and_stops() -> None:
    change = OrderIntent("M1", "modify_order", "EURUSD", "buy", 0.3,
                         {"ticket": 80, "price": 1.103, "sl": 1.09, "tp": 1.12})

    def book(*records: Any) -> Finding:
        return PENDING_FINDERS["modify_order"](change, lookups(open_orders=records), T0, T1)

    done = SimpleNamespace(ticket=80, price_open=1.103, sl=1.09, tp=1.12, volume_current=0.2,
                           price_stoplimit=0.0, type_time=0, time_expiration=0)
    assert book(done) == Finding(Found.EXECUTED, 80, 0, 0.2, 1.103,
                                 "the order has the price and stops asked for")
    for other in ({"price_open": 1.104}, {"sl": 1.0}, {"tp": 1.0}, {"ticket": 81}):
        assert book(SimpleNamespace(**{**vars(done), **other})) == Finding(Found.NOTHING)


@pytest.mark.parametrize(("held", "found"), [
    ((1.10300, 1.09000, 1.12000), Found.EXECUTED),  # the server rounded to its 5 digits
    ((1.10301, 1.09000, 1.12000), Found.NOTHING),  # one point off: another price
    ((1.10300, 1.08999, 1.12000), Found.NOTHING),
    ((1.10300, 1.09000, 1.12001), Found.NOTHING),
])
def test_a_pending_modification_is_compared_at_the_symbols_precision(
        held: tuple[float, float, float], found: Found) -> None:
    change = OrderIntent("M1", "modify_order", "EURUSD", "buy", 0.3,
                         {"ticket": 80, "price": 1.1030012, "sl": 1.0899996, "tp": 1.12,
                          "point": 0.00001})
    record = SimpleNamespace(ticket=80, price_open=held[0], sl=held[1], tp=held[2],
                             volume_current=0.3, price_stoplimit=0.0, type_time=0,
                             time_expiration=0)
    got = PENDING_FINDERS["modify_order"](change, lookups(open_orders=[record]), T0, T1)
    assert got.found is found


def test_a_pending_modification_of_the_stop_limit_or_expiry_is_done_only_when_the_order_has_it(
        ) -> None:
    change = OrderIntent("M2", "modify_order", "EURUSD", "buy", 0.3,
                         {"ticket": 80, "price": 1.103, "sl": 0.0, "tp": 0.0, "stoplimit": 1.1,
                          "type_time": c.ORDER_TIME_SPECIFIED, "expiration": 1_800_000_000,
                          "point": 0.00001})
    done = SimpleNamespace(ticket=80, price_open=1.103, sl=0.0, tp=0.0, volume_current=0.3,
                           price_stoplimit=1.1, type_time=c.ORDER_TIME_SPECIFIED,
                           time_expiration=1_800_000_000)

    def book(record: Any) -> Found:
        return PENDING_FINDERS["modify_order"](change, lookups(open_orders=[record]), T0,
                                               T1).found

    assert book(done) is Found.EXECUTED
    for other in ({"price_stoplimit": 1.099}, {"type_time": c.ORDER_TIME_GTC},
                  {"time_expiration": 1_800_000_060}):
        assert book(SimpleNamespace(**{**vars(done), **other})) is Found.NOTHING, other
