"""Story: the terminal process restarts while we hold a position. The session
reconnects in place on the next call, the caller never sees the blip, and the
account's state and ticket numbering carry on."""

from __future__ import annotations

from mt5guard.session.messages import SessionConnected, SessionDisconnected
from mt5guard.supervision import ChildFailed


def test_a_terminal_restart_is_mended_in_place(story) -> None:
    first = story.session.place_order("EURUSD", "buy", 0.1)
    story.terminal.restart()

    tick = story.session.get_price("EURUSD")  # -10004, reconnect in place, answered
    assert tick.ask > tick.bid > 0
    assert [p.ticket for p in story.session.positions()] == [first.order]
    second = story.session.place_order("EURUSD", "sell", 0.1, position=first.order)
    assert second.order > first.order and second.deal > first.deal
    assert story.session.positions() == ()

    reasons = [e.reason for e in story.events(SessionDisconnected)]
    assert reasons == ["connection lost"]
    assert len(story.events(SessionConnected)) == 2
    assert story.events(ChildFailed) == []
