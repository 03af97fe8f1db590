"""Story: a connection lost while an order is being prepared. The session mends
the connection in place, but it never re-runs place_order on its own: the
caller decides (a retry with the same client order id is safe)."""

from __future__ import annotations

import pytest

from mt5guard.errors import MT5ConnectionError
from mt5guard.terminal import SimulatedTerminal


class DropsAtCheck(SimulatedTerminal):
    """The IPC link drops during the next order_check; initialize mends it."""

    armed = False

    def order_check(self, request):  # type: ignore[no-untyped-def]
        if self.armed:
            self.armed = False
            self.restart()  # the link drops; the process stays up
        return super().order_check(request)


def test_place_order_is_not_retried_after_an_in_place_reconnect(story_factory) -> None:
    story = story_factory(terminal_class=DropsAtCheck)
    story.terminal.armed = True
    with pytest.raises(MT5ConnectionError):
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="R1")
    assert story.terminal.calls["order_send"] == 0
    assert story.session.positions() == ()  # the link was mended: reads still work
    outcome = story.session.place_order("EURUSD", "buy", 0.1, client_order_id="R1")
    assert outcome.volume == 0.1 and story.terminal.calls["order_send"] == 1


def test_reads_are_still_retried_once_after_an_in_place_reconnect(story) -> None:
    story.terminal.restart()
    assert story.session.get_price("EURUSD").bid > 0
