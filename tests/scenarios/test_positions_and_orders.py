"""Story: a strategy manages what it holds: moves stops, takes partial profit,
closes, cancels a pending order and reads the history back. Every change has a
client order id and is sent at most once, even when its reply is lost."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from mt5guard.errors import MT5OrderOutcomeUnknown, MT5StateError, MT5ValidationError
from mt5guard.terminal import constants as c


def open_buy(story, volume: float = 0.3) -> int:
    outcome = story.session.place_order("EURUSD", "buy", volume)
    return outcome.order  # the simulator's position ticket is its opening order's


def pending_buy_limit(story) -> int:
    """An order placed by hand in the terminal, outside mt5guard."""
    bid = story.terminal.symbol_info_tick("EURUSD").bid
    result = story.terminal.order_send({
        "action": c.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.1,
        "type": c.ORDER_TYPE_BUY_LIMIT, "price": round(bid - 0.005, 5),
        "type_time": c.ORDER_TIME_GTC, "type_filling": c.ORDER_FILLING_RETURN,
    })
    assert result.retcode == c.TRADE_RETCODE_PLACED
    return int(result.order)


def test_modify_stops_then_close_in_two_parts_then_read_the_history(story) -> None:
    ticket = open_buy(story)
    bid = story.session.get_price("EURUSD").bid
    sl, tp = round(bid - 0.002, 5), round(bid + 0.003, 5)
    moved = story.session.modify_position(ticket, sl=sl, tp=tp, client_order_id="mod1")
    assert moved.retcode == c.TRADE_RETCODE_DONE
    (pos,) = story.session.positions("EURUSD")
    assert (pos.sl, pos.tp) == (sl, tp)
    story.session.modify_position(ticket, tp=0.0)  # remove the take profit, keep the stop
    (pos,) = story.session.positions("EURUSD")
    assert (pos.sl, pos.tp) == (sl, 0.0)

    story.clock.advance(60)
    part = story.session.close_position(ticket, 0.1, client_order_id="tp1")
    assert part.retcode == c.TRADE_RETCODE_DONE and part.volume == 0.1
    assert story.session.positions("EURUSD")[0].volume == pytest.approx(0.2)
    rest = story.session.close_position(ticket)
    assert rest.volume == pytest.approx(0.2) and story.session.positions() == ()

    deals = story.session.history_deals(story.t0, story.clock.now())
    assert [(d.entry, d.volume) for d in deals] == [(c.DEAL_ENTRY_IN, 0.3), (c.DEAL_ENTRY_OUT, 0.1),
                                                    (c.DEAL_ENTRY_OUT, pytest.approx(0.2))]
    assert deals[1].comment.startswith("mg-tp1")
    orders = story.session.history_orders(story.t0, story.clock.now(), group="EUR*")
    assert [o.state for o in orders] == [c.ORDER_STATE_FILLED] * 3
    assert story.session.history_orders(story.t0 - timedelta(days=2), story.t0 - timedelta(days=1)) == ()


def test_a_pending_order_is_cancelled_and_shows_in_the_history(story) -> None:
    ticket = pending_buy_limit(story)
    assert [o.ticket for o in story.session.orders()] == [ticket]
    gone = asyncio.run(story.session.aio.cancel_order(ticket, client_order_id="cx1"))
    assert gone.retcode == c.TRADE_RETCODE_DONE and story.session.orders() == ()
    (done,) = story.session.history_orders(story.t0, story.clock.now())
    assert (done.ticket, done.state) == (ticket, c.ORDER_STATE_CANCELED)
    with pytest.raises(MT5StateError, match="no pending order"):
        story.session.cancel_order(ticket)


def test_a_change_is_never_sent_twice(story) -> None:
    ticket = open_buy(story, 0.2)
    first = story.session.close_position(ticket, 0.1, client_order_id="half")
    again = story.session.close_position(ticket, 0.1, client_order_id="half")
    assert again == first
    assert story.session.positions()[0].volume == pytest.approx(0.1)
    sent = [r for r in story.terminal.sent_orders() if r.get("position") == ticket]
    assert len(sent) == 1


def test_a_lost_modify_reply_is_read_back_not_resent(story) -> None:
    ticket = open_buy(story)
    sl = round(story.session.get_price("EURUSD").bid - 0.002, 5)
    story.terminal.lose_next_order_reply(executed=True)
    outcome = story.session.modify_position(ticket, sl=sl, client_order_id="lost1")
    assert outcome.reconciled and outcome.retcode == c.TRADE_RETCODE_DONE
    assert story.session.positions()[0].sl == sl
    assert story.session.modify_position(ticket, sl=sl, client_order_id="lost1") == outcome


def test_a_lost_reply_that_did_not_execute_is_unknown_and_not_resent(story) -> None:
    ticket = open_buy(story)
    sl = round(story.session.get_price("EURUSD").bid - 0.002, 5)
    story.terminal.lose_next_order_reply(executed=False)
    calls = story.terminal.calls["order_send"]
    with pytest.raises(MT5OrderOutcomeUnknown) as unknown:
        story.session.modify_position(ticket, sl=sl, client_order_id="lost2")
    assert unknown.value.client_order_id == "lost2"
    assert story.terminal.calls["order_send"] == calls + 1
    assert story.session.positions()[0].sl == 0.0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.modify_position(0, sl=1.0), "ticket"),
        (lambda s: s.modify_position(7), "sl"),
        (lambda s: s.modify_position(7, tp=-1.0), "tp"),
        (lambda s: s.close_position(7, 0), "volume"),
        (lambda s: s.close_position(7, float("nan")), "volume"),
        (lambda s: s.close_position(7, deviation=-1), "deviation"),
        (lambda s: s.cancel_order("7"), "ticket"),
        (lambda s: s.cancel_order(7, client_order_id="no spaces!"), "client_order_id"),
        (lambda s: s.history_deals(100, 50), "date_to"),
        (lambda s: s.history_orders("today", 50), "date_from"),
    ],
)
def test_bad_changes_are_refused_before_any_call(story, call, field) -> None:
    before = sum(story.terminal.calls.values())
    with pytest.raises(MT5ValidationError) as bad:
        call(story.session)
    assert bad.value.field == field
    assert sum(story.terminal.calls.values()) == before


def test_changing_what_is_not_there_is_a_clear_state_error(story) -> None:
    with pytest.raises(MT5StateError, match="no open position with ticket 999"):
        story.session.close_position(999)
    with pytest.raises(MT5StateError, match="no open position"):
        story.session.modify_position(999, sl=1.0)
