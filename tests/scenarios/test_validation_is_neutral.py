"""Story: a buggy strategy floods the session with bad orders. Each gets a
clear typed error naming the problem; none of them moves the breaker."""

from __future__ import annotations

import pytest

from mt5guard.breaker.messages import BreakerState
from mt5guard.errors import MT5StateError, MT5ValidationError


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"volume": -1}, "volume"),
        ({"volume": float("nan")}, "volume"),
        ({"side": "hold"}, "side"),
        ({"symbol": ""}, "symbol"),
        ({"sl": -5}, "sl"),
        ({"client_order_id": "has spaces"}, "client_order_id"),
    ],
)
def test_bad_arguments_are_refused_before_the_actor(story, kwargs, field) -> None:
    order = {"symbol": "EURUSD", "side": "buy", "volume": 0.1, **kwargs}
    with pytest.raises(MT5ValidationError) as bad:
        story.session.place_order(**order)
    assert bad.value.field == field
    assert story.terminal.calls["order_check"] == 0


def test_a_flood_of_rejected_orders_never_trips_the_breaker(story) -> None:
    story.terminal.script_order_retcodes(*([10018] * 10))  # market closed
    for _ in range(10):
        with pytest.raises(MT5ValidationError):
            story.session.place_order("EURUSD", "buy", 0.013)  # not a multiple of the step
        with pytest.raises(MT5StateError, match="closed"):
            story.session.place_order("EURUSD", "buy", 0.1)
        with pytest.raises(MT5StateError):
            story.session.place_order("EURUSD", "buy", 90.0)  # no money
    snapshot = story.session.breaker_state()
    assert snapshot.state is BreakerState.CLOSED
    assert snapshot.failures == 0 and snapshot.consecutive_failures == 0
    assert story.terminal.calls["order_send"] == 10
