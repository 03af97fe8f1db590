"""Story: a trader checks and places pending orders, then moves them field by field.

What reaches the simulated trade server is what was asked: the side's price,
a forced filling, each changed field (and only those); a refusal names the
field or the ticket; an id reused for another pending order is a conflict.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mt5guard.errors import (
    MT5Error,
    MT5IdempotencyConflict,
    MT5OrderOutcomeUnknown,
    MT5StateError,
    MT5ValidationError,
)
from mt5guard.terminal import SimulatedTerminal
from mt5guard.terminal import constants as c
from mt5guard.terminal.records import TradeOrder


def below(story, pips: float) -> float:
    return round(story.session.get_price("EURUSD").ask - pips * 0.0001, 5)


def test_order_check_prices_a_sell_at_the_bid_with_the_filling_asked_for(story) -> None:
    s = story.session
    tick = s.get_price("EURUSD")
    sell = s.order_check("EURUSD", "sell", 0.1, filling="fok")
    buy = s.order_check("EURUSD", "buy", 0.1)
    assert (sell.request.price, sell.request.type_filling) == (tick.bid, c.ORDER_FILLING_FOK)
    assert buy.request.price == tick.ask and tick.ask != tick.bid
    with pytest.raises(MT5ValidationError) as caught:
        s.order_check("EURUSDX", "buy", 0.1)
    assert (caught.value.operation, caught.value.field) == ("order_check", "symbol")
    assert story.terminal.calls["order_check"] == 2 and story.terminal.sent_orders() == []


def test_a_pending_order_goes_out_with_the_filling_asked_for(story) -> None:
    story.session.place_pending_order("EURUSD", "buy_limit", 0.1, below(story, 20),
                                      filling="return", client_order_id="pf1")
    (sent,) = story.terminal.sent_orders()
    assert sent["type_filling"] == c.ORDER_FILLING_RETURN


def test_a_pending_order_the_check_refuses_is_never_sent_and_its_id_stays_free(story) -> None:
    with pytest.raises(MT5Error) as caught:
        story.session.place_pending_order("EURUSD", "buy_limit", 0.1, below(story, -20),
                                          client_order_id="pc1")
    err = caught.value
    assert err.code == c.TRADE_RETCODE_INVALID_PRICE and err.terminal_message == "Invalid price"
    assert err.operation == "place_pending_order" and err.retryable is False
    assert story.terminal.sent_orders() == []
    placed = story.session.place_pending_order("EURUSD", "buy_limit", 0.1, below(story, 20),
                                               client_order_id="pc1")
    assert placed.retcode == c.TRADE_RETCODE_PLACED


@pytest.mark.parametrize("other", [
    {"price_pips": 30}, {"kind": "buy_stop", "price_pips": -20}, {"sl_pips": 60},
    {"expiry": "day"}])
def test_a_pending_id_reused_for_another_order_is_a_conflict(story, other) -> None:
    price = below(story, 20)
    first = story.session.place_pending_order("EURUSD", "buy_limit", 0.1, price,
                                              client_order_id="pr1")
    with pytest.raises(MT5IdempotencyConflict) as caught:
        story.session.place_pending_order(
            "EURUSD", other.get("kind", "buy_limit"), 0.1, below(story, other.get("price_pips", 20)),
            sl=below(story, other["sl_pips"]) if "sl_pips" in other else 0.0,
            expiry=other.get("expiry", "gtc"), client_order_id="pr1")
    assert caught.value.client_order_id == "pr1"
    again = story.session.place_pending_order("EURUSD", "buy_limit", 0.1, price,
                                              client_order_id="pr1")
    assert again == first and len(story.terminal.sent_orders()) == 1


def test_a_modification_changes_only_the_fields_it_names(story) -> None:
    s = story.session
    sl, trigger, limit, tp, tp2, limit2 = (below(story, p) for p in (30, -20, -10, -60, -70, -5))
    placed = s.place_pending_order("EURUSD", "buy_stop_limit", 0.1, trigger, stoplimit=limit,
                                   sl=sl, tp=tp, expiry="day", client_order_id="pm1")
    (before,) = s.orders("EURUSD")
    s.modify_order(placed.order, tp=tp2, client_order_id="pm2")
    (after,) = s.orders("EURUSD")
    assert after.tp == tp2
    assert (after.price_open, after.price_stoplimit, after.sl, after.type_time) == \
        (before.price_open, before.price_stoplimit, before.sl, before.type_time)
    s.modify_order(placed.order, stoplimit=limit2, client_order_id="pm3")
    (moved,) = s.orders("EURUSD")
    assert (moved.price_stoplimit, moved.tp) == (limit2, tp2)
    until = datetime(2026, 1, 9, 12, 0, tzinfo=UTC)
    s.modify_order(placed.order, expiry="specified", expiration=until, client_order_id="pm4")
    (timed,) = s.orders("EURUSD")
    assert (timed.type_time, timed.time_expiration) == (c.ORDER_TIME_SPECIFIED,
                                                        int(until.timestamp()))
    assert timed.price_stoplimit == limit2


def test_modifying_an_order_that_is_not_in_the_book_names_the_ticket(story) -> None:
    with pytest.raises(MT5StateError) as caught:
        story.session.modify_order(987654, price=1.0, client_order_id="pn1")
    assert "no pending order with ticket 987654" in caught.value.detail
    assert story.terminal.sent_orders() == []


def test_an_unknown_symbol_is_refused_as_place_order_before_any_call(story) -> None:
    with pytest.raises(MT5ValidationError) as caught:
        story.session.place_order("EURUSDX", "buy", 0.1, client_order_id="u1")
    assert (caught.value.operation, caught.value.field) == ("place_order", "symbol")
    assert story.terminal.sent_orders() == []


def test_a_cancel_or_close_asked_again_with_its_id_answers_again_not_no_such_ticket(story) -> None:
    s = story.session
    placed = s.place_pending_order("EURUSD", "buy_limit", 0.1, below(story, 20),
                                   client_order_id="ca1")
    cancelled = s.cancel_order(placed.order, client_order_id="ca2")
    assert s.cancel_order(placed.order, client_order_id="ca2") == cancelled
    opened = s.place_order("EURUSD", "sell", 0.2, magic=41, client_order_id="cl1")
    closed = s.close_position(opened.order, deviation=7, client_order_id="cl2")
    assert s.close_position(opened.order, deviation=7, client_order_id="cl2") == closed
    closing = story.terminal.sent_orders()[-1]
    assert (closing["type"], closing["position"], closing["deviation"], closing["magic"]) == \
        (c.ORDER_TYPE_BUY, opened.order, 7, 41)
    assert len(story.terminal.sent_orders()) == 4  # place, cancel, open, close: once each


def test_an_outcome_that_stays_unknown_says_why_and_when_it_is_looked_at_again(story) -> None:
    ticket = story.session.place_order("EURUSD", "buy", 0.1, client_order_id="w0").order
    sl = round(story.session.get_price("EURUSD").bid - 0.002, 5)
    story.terminal.lose_next_order_reply(executed=False)
    with pytest.raises(MT5OrderOutcomeUnknown) as first:
        story.session.modify_position(ticket, sl=sl, client_order_id="w1")
    recheck = story.config.orders.recheck_after
    assert first.value.retry_at == story.clock.now() + timedelta(seconds=recheck)
    assert first.value.detail.startswith("reply lost (order_send returned None")
    assert first.value.detail.endswith("; the order was NOT re-sent")
    with pytest.raises(MT5OrderOutcomeUnknown) as again:
        story.session.modify_position(ticket, sl=sl, client_order_id="w1")
    assert again.value.detail == first.value.detail  # the first attempt's reason, kept


class RejectsUnseen(SimulatedTerminal):
    """The next order's reply is lost (None, last_error 1) and the terminal's history then
    holds it as rejected, nothing filled."""

    rejected: tuple[TradeOrder, ...] = ()

    def reject_next(self) -> None:
        self.lose_next_order_reply(executed=False, last_error=(1, "generic error"))
        self.armed = True

    def order_send(self, request):  # type: ignore[no-untyped-def]
        if getattr(self, "armed", False):
            self.armed = False
            self.rejected = (TradeOrder(
                900, 0, 0, 0, 0, 0, c.ORDER_TYPE_BUY, c.ORDER_TIME_GTC, c.ORDER_FILLING_IOC,
                c.ORDER_STATE_REJECTED, 0, 0, 0, 3, request["volume"], request["volume"],
                request["price"], 0.0, 0.0, request["price"], 0.0, request["symbol"],
                request["comment"], ""),)
        return super().order_send(request)

    def history_orders_get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        found = super().history_orders_get(*args, **kwargs)
        return found if found is None else (*found, *self.rejected)


def test_a_lost_reply_the_history_shows_rejected_is_retryable_and_the_id_free(
        story_factory) -> None:
    story = story_factory(terminal_class=RejectsUnseen)
    story.terminal.reject_next()
    with pytest.raises(MT5StateError) as caught:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="rj1")
    err = caught.value
    assert err.retryable is True and err.operation == "place_order"
    assert err.detail.startswith("reply lost (order_send returned None, last_error 1")
    assert f"was not executed (order state {c.ORDER_STATE_REJECTED} in history, nothing " \
        "filled); the id 'rj1' is free to retry" in err.detail
    story.terminal.rejected = ()
    again = story.session.place_order("EURUSD", "buy", 0.1, client_order_id="rj1")
    assert again.retcode == c.TRADE_RETCODE_DONE and story.terminal.calls["order_send"] == 2


def test_a_market_order_goes_out_at_its_side_s_price_with_the_filling_asked_for(story) -> None:
    s = story.session
    tick = s.get_price("EURUSD")
    s.place_order("EURUSD", "sell", 0.1, filling="fok", client_order_id="m1")
    s.place_order("EURUSD", "buy", 0.1, client_order_id="m2")
    sell, buy = story.terminal.sent_orders()
    assert tick.ask != tick.bid
    assert (sell["price"], sell["type_filling"]) == (tick.bid, c.ORDER_FILLING_FOK)
    assert buy["price"] == tick.ask


def test_a_market_order_the_check_refuses_names_the_check_and_the_terminal_s_reason(story) -> None:
    price = story.session.get_price("EURUSD").ask
    with pytest.raises(MT5Error) as caught:
        story.session.place_order("EURUSD", "buy", 0.1, sl=price + 0.01, client_order_id="mc1")
    err = caught.value
    assert err.code == c.TRADE_RETCODE_INVALID_STOPS and err.terminal_message == "Invalid stops"
    assert err.operation == "order_check" and story.terminal.sent_orders() == []


def test_the_journal_records_what_each_change_touched_its_symbol_and_side(story) -> None:
    """The journal is the account's audit trail: a change's row names the symbol and the
    side of the order or position it changed, and the values it asked for."""
    s = story.session
    placed_at, placed_sl, placed_tp = below(story, 20), below(story, 50), below(story, -30)
    limit = s.place_pending_order("EURUSD", "buy_limit", 0.1, placed_at, sl=placed_sl,
                                  tp=placed_tp, magic=77, client_order_id="jr1")
    stop = s.place_pending_order("EURUSD", "sell_stop", 0.1, below(story, 30),
                                 client_order_id="jr2")
    sold = s.place_order("EURUSD", "sell", 0.2, client_order_id="jr3")
    bought = s.place_order("EURUSD", "buy", 0.1, client_order_id="jr4")
    price, sl, tp = below(story, 25), below(story, 60), below(story, -40)
    until = datetime(2026, 1, 9, 12, 0, tzinfo=UTC)
    s.modify_order(limit.order, price=price, sl=sl, tp=tp, expiry="specified", expiration=until,
                   client_order_id="jc1")
    s.modify_order(stop.order, price=below(story, 35), client_order_id="jc6")
    s.cancel_order(stop.order, client_order_id="jc2")
    s.cancel_order(limit.order, client_order_id="jc7")
    s.modify_position(sold.order, sl=round(s.get_price("EURUSD").ask + 0.005, 5),
                      client_order_id="jc3")
    s.modify_position(bought.order, sl=round(s.get_price("EURUSD").bid - 0.005, 5),
                      client_order_id="jc8")
    s.close_position(bought.order, client_order_id="jc4")
    s.close_position(sold.order, client_order_id="jc5")

    journal = story.guard.journals["demo"]
    rows = {cid: journal.get(cid) for cid in ("jc1", "jc2", "jc3", "jc4", "jc5", "jc6", "jc7",
                                              "jc8")}
    assert {cid: (e.intent.kind, e.intent.symbol, e.intent.side, e.state.value)
            for cid, e in rows.items() if e is not None} == {
        "jc1": ("modify_order", "EURUSD", "buy", "filled"),
        "jc2": ("cancel_order", "EURUSD", "sell", "filled"),
        "jc3": ("modify_position", "EURUSD", "sell", "filled"),
        "jc4": ("close_position", "EURUSD", "sell", "filled"),  # a buy is closed by a sell
        "jc5": ("close_position", "EURUSD", "buy", "filled"),
        "jc6": ("modify_order", "EURUSD", "sell", "filled"),
        "jc7": ("cancel_order", "EURUSD", "buy", "filled"),
        "jc8": ("modify_position", "EURUSD", "buy", "filled"),
    }
    placement = journal.get("jr1")
    assert placement is not None and placement.intent.payload == {
        "kind": "buy_limit", "price": placed_at, "stoplimit": 0.0, "sl": placed_sl,
        "tp": placed_tp, "magic": 77, "type_time": c.ORDER_TIME_GTC, "expiration": 0}
    asked = rows["jc1"].intent.payload  # type: ignore[union-attr]
    assert (asked["ticket"], asked["price"], asked["sl"], asked["tp"]) == (limit.order, price, sl, tp)
    assert (asked["type_time"], asked["expiration"]) == (c.ORDER_TIME_SPECIFIED,
                                                         int(until.timestamp()))
