"""The token bucket: pure arithmetic on times given as arguments."""

from __future__ import annotations

import pytest

from mt5guard.market.rate_limit import TokenBucket


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
