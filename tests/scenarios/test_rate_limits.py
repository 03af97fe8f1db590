"""Story: a runaway strategy fires orders faster than the account allows. The
first ones go, the next wait a moment on the clock, the rest are refused at
once with MT5RateLimited saying when to retry, and nothing extra reaches the
terminal. When the server itself says 10024 TOO_MANY_REQUESTS, mt5guard slows
down."""

from __future__ import annotations

import time

import pytest

from mt5guard.config import RateLimitConfig
from mt5guard.errors import MT5RateLimited, MT5StateError


def orders_limited(story_factory, **limits):
    return story_factory(rate_limits=RateLimitConfig(**limits))


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.002)


def test_over_the_order_rate_a_call_waits_then_is_refused(story_factory) -> None:
    story = orders_limited(story_factory, orders_per_second=1.0, order_burst=2, max_wait=0.5)
    story.session.place_order("EURUSD", "buy", 0.1)
    story.session.place_order("EURUSD", "buy", 0.1)
    with pytest.raises(MT5RateLimited) as limited:
        story.session.place_order("EURUSD", "buy", 0.1)
    assert limited.value.retryable and not limited.value.counts_for_breaker
    assert (limited.value.retry_at - story.clock.now()).total_seconds() == pytest.approx(1.0)
    assert story.terminal.calls["order_send"] == 2

    story.clock.advance(0.6)  # a token frees up in 0.4 s: within max_wait, so the call waits
    due = story.clock.monotonic() + 0.4
    waiting = story.in_background(story.session.place_order, "EURUSD", "sell", 0.1)
    wait_until(lambda: any(abs(t - due) < 1e-6 for t in story.clock.pending_timers()))  # held back
    assert not waiting.done() and story.terminal.calls["order_send"] == 2
    story.clock.advance(0.4)
    assert waiting.result(timeout=5).retcode == 10009
    assert story.terminal.calls["order_send"] == 3
    assert story.session.get_account_info().login == 5001  # reads have no order limit here


def test_every_request_counts_against_the_request_rate(story_factory) -> None:
    story = orders_limited(story_factory, requests_per_second=10.0, request_burst=5, max_wait=0.0)
    story.session.subscribe("EURUSD")
    story.clock.advance(0.25)
    for _ in range(5):
        story.session.get_price("GBPUSD")
    with pytest.raises(MT5RateLimited):
        story.session.positions()
    assert story.session.get_price("EURUSD", max_age=1.0).bid > 0  # the cache is no request
    story.clock.advance(0.1)
    assert story.session.positions() == ()


@pytest.mark.parametrize(("server_says", "retry_after"), [(10024, 2.0), (10018, 1.0)])
def test_too_many_requests_from_the_server_slows_orders_down(story_factory, server_says,
                                                             retry_after) -> None:
    story = orders_limited(story_factory, orders_per_second=1.0, order_burst=1, max_wait=0.0,
                           slowdown_factor=0.5)
    story.terminal.script_order_retcodes(server_says)
    with pytest.raises(MT5StateError) as refused:
        story.session.place_order("EURUSD", "buy", 0.1)
    assert refused.value.code == server_says
    with pytest.raises(MT5RateLimited) as limited:
        story.session.place_order("EURUSD", "buy", 0.1)
    assert (limited.value.retry_at - story.clock.now()).total_seconds() == pytest.approx(retry_after)
