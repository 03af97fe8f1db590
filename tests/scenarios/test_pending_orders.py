"""Story: a strategy works with limit and stop orders. It places, moves and cancels them,
sees them trigger and expire on the simulated server, and never places one twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mt5guard.errors import MT5ValidationError
from mt5guard.events.messages import OrderCancelled, OrderFilled, OrderPlaced, PositionOpened
from mt5guard.orders.messages import OrderReconciled
from mt5guard.terminal import constants as c


def below_market(story, pips: float) -> float:
    return round(story.session.get_price("EURUSD").ask - pips * 0.0001, 5)


def test_place_modify_and_cancel_a_buy_limit(story) -> None:
    price = below_market(story, 20)
    placed = story.session.place_pending_order("EURUSD", "buy_limit", 0.1, price,
                                               comment="dip-buy", client_order_id="lim1")
    assert placed.retcode == c.TRADE_RETCODE_PLACED and placed.order > 0
    (order,) = story.session.orders("EURUSD")
    assert (order.ticket, order.type, order.price_open) == (placed.order, c.ORDER_TYPE_BUY_LIMIT, price)
    assert order.comment == "mg-lim1;dip-buy"

    moved = story.session.modify_order(placed.order, price=round(price - 0.0010, 5),
                                       sl=round(price - 0.0050, 5))
    assert moved.retcode == c.TRADE_RETCODE_DONE
    (order,) = story.session.orders("EURUSD")
    assert (order.price_open, order.sl) == (round(price - 0.0010, 5), round(price - 0.0050, 5))

    cancelled = story.session.cancel_order(placed.order)
    assert cancelled.retcode == c.TRADE_RETCODE_DONE
    assert story.session.orders("EURUSD") == ()
    # asked again with the same id: the first answer, nothing placed again
    again = story.session.place_pending_order("EURUSD", "buy_limit", 0.1, price,
                                              comment="dip-buy", client_order_id="lim1")
    assert again == placed
    pendings = [r for r in story.terminal.sent_orders() if r["action"] == c.TRADE_ACTION_PENDING]
    assert len(pendings) == 1 and type(pendings[0]["expiration"]) is int


def test_an_id_reused_for_another_order_is_refused(story) -> None:
    story.session.place_pending_order("EURUSD", "buy_limit", 0.1, below_market(story, 20),
                                      client_order_id="lim2")
    with pytest.raises(MT5ValidationError, match="client_order_id"):
        story.session.place_pending_order("EURUSD", "sell_limit", 0.1, below_market(story, -20),
                                          client_order_id="lim2")


def test_a_buy_stop_triggers_and_is_heard_as_placed_then_filled(story) -> None:
    heard = []
    story.session.watch_trades(heard.append)
    story.clock.advance(1.0)
    placed = story.session.place_pending_order("EURUSD", "buy_stop", 0.1,
                                               below_market(story, -2), client_order_id="brk1")
    waited = 0.0
    while not story.session.positions("EURUSD"):
        assert waited < 6 * 3600, "the walk never reached the stop"
        story.clock.advance(60.0)
        waited += 60.0
    (position,) = story.session.positions("EURUSD")
    assert position.ticket == placed.order and position.comment.startswith("mg-brk1;")
    story.clock.advance(1.0)
    kinds = [type(e) for e in heard]
    assert OrderPlaced in kinds and OrderFilled in kinds and PositionOpened in kinds
    assert kinds.index(OrderPlaced) < kinds.index(OrderFilled)
    assert not [e for e in heard if getattr(e, "external", False)]


def test_an_order_good_till_a_time_expires(story) -> None:
    heard = []
    story.session.watch_trades(heard.append)
    story.clock.advance(1.0)
    until = story.clock.now() + timedelta(minutes=10)
    placed = story.session.place_pending_order("EURUSD", "buy_limit", 0.1,
                                               below_market(story, 300), expiry="specified",
                                               expiration=until)
    story.clock.advance(9 * 60)
    assert [o.ticket for o in story.session.orders()] == [placed.order]
    story.clock.advance(2 * 60)
    assert story.session.orders() == ()
    now = story.clock.now()
    (gone,) = [o for o in story.session.history_orders(now - timedelta(hours=1), now)
               if o.ticket == placed.order]
    assert gone.state == c.ORDER_STATE_EXPIRED and gone.time_expiration == int(until.timestamp())
    story.clock.advance(1.0)
    (left,) = [e for e in heard if isinstance(e, OrderCancelled)]
    assert (left.ticket, left.expired) == (placed.order, True)


def test_a_cancelled_order_is_heard_as_cancelled_not_expired(story) -> None:
    heard = []
    story.session.watch_trades(heard.append)
    story.clock.advance(1.0)
    placed = story.session.place_pending_order("EURUSD", "sell_stop", 0.1, below_market(story, 300),
                                               expiry="day")
    story.clock.advance(1.0)
    story.session.cancel_order(placed.order)
    story.clock.advance(1.0)
    assert [type(e).__name__ for e in heard] == ["OrderPlaced", "OrderCancelled"]
    assert heard[1].expired is False and not heard[1].external


def test_a_lost_placement_reply_is_read_back_never_placed_twice(story) -> None:
    story.terminal.lose_next_order_reply(executed=True)
    outcome = story.session.place_pending_order("EURUSD", "sell_limit", 0.1,
                                                below_market(story, -30), client_order_id="lost1")
    assert outcome.reconciled and outcome.retcode == c.TRADE_RETCODE_PLACED
    assert len(story.session.orders("EURUSD")) == 1
    assert [e.outcome for e in story.events(OrderReconciled)][-1] == "pending"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"kind": "buy_stop_limit"}, "stoplimit"), ({"kind": "sell_at_market"}, "kind"),
    ({"expiry": "specified"}, "expiration"), ({"expiry": "gtc", "expiration": 1_900_000_000},
                                              "expiration"),
    ({"price": 0.0}, "price"), ({"symbol": "EURUSD" * 5}, "symbol")])
def test_bad_pending_orders_are_refused_before_any_call(story, kwargs, field) -> None:
    args = {"symbol": "EURUSD", "kind": "buy_limit", "volume": 0.1, "price": 1.0, **kwargs}
    before = sum(story.terminal.calls.values())
    with pytest.raises(MT5ValidationError) as caught:
        story.session.place_pending_order(args.pop("symbol"), args.pop("kind"), args.pop("volume"),
                                          args.pop("price"), **args)
    assert caught.value.field == field
    assert sum(story.terminal.calls.values()) == before
