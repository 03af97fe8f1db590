"""The token bucket: pure arithmetic on times given as arguments."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mt5guard.config import RateLimitConfig
from mt5guard.errors import MT5RateLimited
from mt5guard.market.rate_limit import RateLimits, TokenBucket


def test_a_full_bucket_lets_a_burst_through_then_paces_at_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=100.0)
    for _ in range(3):
        assert bucket.wait_for_token(100.0) == 0.0
        bucket.take(100.0)
    assert bucket.wait_for_token(100.0) == pytest.approx(0.5)
    assert bucket.wait_for_token(100.5) == 0.0


def test_reservations_queue_callers_behind_each_other() -> None:
    bucket = TokenBucket(rate=1.0, burst=1, now=0.0)
    bucket.take(0.0)
    waits = []
    for _ in range(3):
        waits.append(bucket.wait_for_token(0.0))
        bucket.take(0.0)
    assert waits == [pytest.approx(1.0), pytest.approx(2.0), pytest.approx(3.0)]


def test_idle_time_refills_only_up_to_the_burst() -> None:
    bucket = TokenBucket(rate=10.0, burst=2, now=0.0)
    bucket.take(0.0)
    bucket.take(0.0)
    for _ in range(2):
        assert bucket.wait_for_token(3600.0) == 0.0
        bucket.take(3600.0)
    assert bucket.wait_for_token(3600.0) == pytest.approx(0.1)


def test_a_slowdown_lowers_the_rate_for_its_period_only() -> None:
    bucket = TokenBucket(rate=1.0, burst=1, now=0.0)
    bucket.take(0.0)
    bucket.slow_down(0.0, factor=0.25, period=60.0)
    assert bucket.wait_for_token(0.0) == pytest.approx(4.0)
    bucket.take(100.0)  # after the period the full rate is back
    assert bucket.wait_for_token(100.0) == pytest.approx(1.0)


def test_no_limit_configured_means_no_bookkeeping_and_any_rate_turns_the_limits_on() -> None:
    assert RateLimits.configured(None, 0.0) is None
    assert RateLimits.configured(RateLimitConfig(), 0.0) is None  # both rates 0: nothing to admit
    for config in (RateLimitConfig(requests_per_second=1.0, request_burst=1, max_wait=0.0),
                   RateLimitConfig(orders_per_second=1.0, order_burst=1, max_wait=0.0)):
        limits = RateLimits.configured(config, 0.0)
        assert limits is not None
        assert limits.admit("place_order", 0.0, lambda: datetime(2024, 1, 1, tzinfo=UTC)) == 0.0
        with pytest.raises(MT5RateLimited):
            limits.admit("place_order", 0.0, lambda: datetime(2024, 1, 1, tzinfo=UTC))
