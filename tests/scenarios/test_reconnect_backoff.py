"""Story: the terminal process dies. The session fails, and its supervisor
brings it back after 60, 120, 240, 480, 600, 600 s until the terminal is back."""

from __future__ import annotations

import pytest

from mt5guard.breaker.messages import BreakerState
from mt5guard.errors import MT5Unavailable
from mt5guard.session.messages import SessionConnected
from mt5guard.supervision import ChildStarted, RestartScheduled


def test_crash_loop_restarts_at_backoff_times_and_recovers(story) -> None:
    story.terminal.set_down(True)
    story.clock.advance(30)  # the probe at 30 s finds no IPC connection and cannot mend it
    for _ in range(6):
        with pytest.raises(MT5Unavailable) as down:  # at once, saying when the next try is
            story.session.get_price("EURUSD")
        story.clock.advance_to(down.value.retry_at)
    story.terminal.set_down(False)
    story.clock.advance(600)  # the restart at 2730 connects; the breaker tries it at once
    assert story.session.breaker_state().state is BreakerState.CLOSED

    delays = [e.delay for e in story.events(RestartScheduled) if e.cause == "session"]
    assert delays == [60, 120, 240, 480, 600, 600, 600]
    starts = [story.at(e) for e in story.events(ChildStarted) if e.child == "session"]
    assert starts == [0, 90, 210, 450, 930, 1530, 2130, 2730]
    assert [story.at(e) for e in story.events(SessionConnected)] == [0, 2730]
    assert story.session.get_price("EURUSD").bid > 0
