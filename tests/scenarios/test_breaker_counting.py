"""Story: the breaker counts what the session tells it, though plain
successes travel in batches to keep the hot path free of extra messages."""

from __future__ import annotations

import pytest

from mt5guard.breaker.messages import BreakerState
from mt5guard.config import BreakerConfig
from mt5guard.errors import MT5TimeoutError


def fail_once(story) -> None:  # type: ignore[no-untyped-def]
    story.terminal.hang_next("symbol_info_tick", seconds=1)
    pending = story.in_background(story.session.get_price, "EURUSD", hangs=True)
    story.clock.advance(1)
    with pytest.raises(MT5TimeoutError):
        pending.result(timeout=5)


def test_a_success_between_failures_ends_the_streak(story) -> None:
    for _ in range(4):
        fail_once(story)
    story.session.get_price("EURUSD")
    for _ in range(4):
        fail_once(story)
    snapshot = story.session.breaker_state()
    assert snapshot.state is BreakerState.CLOSED and snapshot.consecutive_failures == 4
    fail_once(story)
    assert story.session.breaker_state().state is BreakerState.OPEN


def test_batched_successes_are_all_counted(story) -> None:
    for _ in range(200):
        story.session.get_price("EURUSD")
    calls = story.session.breaker_state().calls
    assert 200 - 64 <= calls <= 200 + 2  # the connect and the first probe count too
    fail_once(story)  # a failure carries the successes not told yet
    assert story.session.breaker_state().calls == 2 + 200 + 1


def test_the_failure_rate_sees_successes_in_their_order(story_factory) -> None:
    story = story_factory(breaker=BreakerConfig(failure_threshold=100, failure_rate=0.5,
                                                window=10, minimum_calls=10))
    for _ in range(6):
        story.session.get_price("EURUSD")
    for _ in range(4):
        fail_once(story)
    assert story.session.breaker_state().state is BreakerState.CLOSED  # 4 of the last 10
    fail_once(story)  # 5 of the last 10
    assert story.session.breaker_state().state is BreakerState.OPEN
