"""Story: the terminal stops answering (every call times out). The breaker
opens after five counted failures, callers are refused at once without any
terminal call, probes pause, and the breaker finds the recovery by itself."""

from __future__ import annotations

import pytest

from mt5guard.breaker.messages import BreakerState, BreakerStateChanged
from mt5guard.errors import MT5CircuitBreakerOpen, MT5TimeoutError
from mt5guard.health.messages import HealthChanged, HealthStatus


def overall(story) -> list[tuple[float, HealthStatus]]:
    return [(story.at(e), e.new) for e in story.events(HealthChanged) if e.component == "overall" and e.old]


def test_outage_opens_the_breaker_then_recovers_through_a_trial(story) -> None:
    term = story.terminal
    term.hang_next("symbol_info_tick", seconds=2, times=1000)  # every tick call: 2 s, then IPC timeout

    for _ in range(5):
        pending = story.in_background(story.session.get_price, "EURUSD", hangs=True)
        story.clock.advance(2)
        with pytest.raises(MT5TimeoutError):
            pending.result(timeout=5)
    assert story.session.breaker_state().state is BreakerState.OPEN

    calls_before = sum(term.calls.values())
    for _ in range(100):  # refused at once: no wait, no terminal call
        with pytest.raises(MT5CircuitBreakerOpen) as refused:
            story.session.get_price("EURUSD")
    assert sum(term.calls.values()) == calls_before
    assert refused.value.retry_at is not None
    assert story.session.breaker_state().rejections == 100  # the snapshot counts every one

    story.clock.advance(45)  # probes paused: the 30 s tick does not touch the terminal
    assert sum(term.calls.values()) == calls_before
    assert story.session.health().overall is HealthStatus.OUT_OF_SERVICE

    # 60 s after opening: HALF_OPEN, the probe is the trial; the terminal still hangs
    story.clock.advance(20)
    transitions = [(e.old, e.new) for e in story.events(BreakerStateChanged) if e.old]
    assert transitions[-2:] == [
        (BreakerState.OPEN, BreakerState.HALF_OPEN),
        (BreakerState.HALF_OPEN, BreakerState.OPEN),
    ]
    snapshot = story.session.breaker_state()
    assert snapshot.open_duration == 120  # failed trial: twice as long
    assert snapshot.rejections == 100  # the rest were told before the state changed

    term.restore()
    story.clock.advance(120)  # next trial succeeds
    assert story.session.breaker_state().state is BreakerState.CLOSED
    assert story.session.get_price("EURUSD").bid > 0
    story.clock.advance(60)
    assert story.session.health().overall is HealthStatus.SERVING
    assert overall(story) == [
        (0, HealthStatus.SERVING),
        (10, HealthStatus.OUT_OF_SERVICE),  # opened by the fifth timeout, at 5 x 2 s
        (192, HealthStatus.SERVING),  # closed by the second trial: 10 + 60 + 2 + 120
    ]
