"""Story: one terminal call hangs for two hours. The tree notices: probe
timeouts count for the breaker, which opens; no second probe is sent while
one is still stuck at the session, so nothing piles up and nothing bursts
out when the call returns; a caller that gives up counts too."""

from __future__ import annotations

import pytest
from storykit import Story, story_config

from mt5guard.breaker.messages import BreakerState, BreakerStateChanged
from mt5guard.errors import MT5TimeoutError
from mt5guard.health.messages import ProbeRecorded


def test_a_two_hour_hang_opens_the_breaker_and_probes_never_pile_up(story) -> None:
    probes_before = story.terminal.calls["terminal_info"]
    story.terminal.hang_next("symbol_info_tick", seconds=7200)
    stuck = story.in_background(story.session.get_price, "EURUSD", hangs=True)
    story.clock.advance(300)

    opened = [e for e in story.events(BreakerStateChanged) if e.new is BreakerState.OPEN]
    assert opened and story.at(opened[0]) <= 160  # 5 timed-out probes, 30 s apart
    assert "timeout" in opened[0].reason
    assert story.terminal.calls["terminal_info"] == probes_before  # one probe queued, unsent

    story.clock.advance(7200 - 300)  # the hang ends
    with pytest.raises(MT5TimeoutError):
        stuck.result(timeout=5)
    assert story.terminal.calls["terminal_info"] - probes_before <= 1  # no burst

    failed = [e.result for e in story.events(ProbeRecorded) if e.result.error]
    assert any("still unanswered" in r.error for r in failed)
    story.clock.advance(1200)  # open period, trial probe, closed again
    assert story.session.breaker_state().state is BreakerState.CLOSED
    assert story.events(ProbeRecorded)[-1].result.error is None


def test_a_request_that_times_out_counts_for_the_breaker(clock, bus, recorder) -> None:
    story = Story(clock, bus, recorder, story_config(request_timeout=0.05))
    try:
        failures = story.session.breaker_state().failures
        story.terminal.hang_next("symbol_info_tick", seconds=600)
        with pytest.raises(MT5TimeoutError, match="no reply within"):
            story.session.get_price("EURUSD")  # real 50 ms: nobody advances the clock
        snapshot = story.session.breaker_state()
        assert snapshot.failures == failures + 1 and snapshot.consecutive_failures == 1
    finally:
        story.close()
