"""Story: a session restarts while its breaker is OPEN. The new session and
probe know the breaker's state from their first moment, however late the
breaker's "current state" message arrives: nothing reaches the terminal."""

from __future__ import annotations

from typing import Any

from mt5guard.breaker.messages import BreakerState, GetBreakerSnapshot
from mt5guard.health.messages import ProbeRecorded


class Stall:
    """A reply_to whose set_result holds the breaker's thread in simulated time."""

    def __init__(self, clock: Any, seconds: float) -> None:
        self.clock, self.seconds = clock, seconds

    def set_result(self, _snapshot: Any) -> None:
        self.clock.sleep(self.seconds)


def test_a_restarted_session_sends_no_probe_while_the_breaker_is_open(story) -> None:
    story.session.force_open("maintenance")
    story.clock.settle()
    probes_before = story.terminal.calls["terminal_info"]
    recorded_before = len(story.events(ProbeRecorded))
    story.session._core.session.ref().stop()  # the session ends; it restarts after 60 s
    story.session._core.breaker.tell(GetBreakerSnapshot(reply_to=Stall(story.clock, 600)))
    story.clock.advance(61)  # restarted while the breaker is busy and cannot answer yet
    assert story.session._core.session.running
    preflight = 1  # the reconnect reads terminal_info once: can this account trade?
    assert story.terminal.calls["terminal_info"] == probes_before + preflight
    assert all(e.result.skipped for e in story.events(ProbeRecorded)[recorded_before:])
    story.clock.advance(600)
    assert story.session.breaker_state().state is BreakerState.OPEN
    assert story.terminal.calls["terminal_info"] == probes_before + preflight


def test_a_restarted_session_refuses_requests_while_the_breaker_is_open(story) -> None:
    story.session.force_open("maintenance")
    story.clock.settle()
    ticks_before = story.terminal.calls["symbol_info_tick"]
    story.session._core.session.ref().stop()
    story.session._core.breaker.tell(GetBreakerSnapshot(reply_to=Stall(story.clock, 600)))
    story.clock.advance(61)
    pending = story.in_background(story.session.get_price, "EURUSD")
    error = pending.exception(timeout=5)
    assert type(error).__name__ == "MT5CircuitBreakerOpen"
    assert story.terminal.calls["symbol_info_tick"] == ticks_before
    story.clock.advance(600)
