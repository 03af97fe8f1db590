"""Health aggregation, driven directly with probe results and times."""

from __future__ import annotations

from datetime import UTC, datetime

from mt5guard.config import HealthConfig
from mt5guard.health.messages import HealthStatus as H
from mt5guard.health.messages import ProbeResult
from mt5guard.health.policy import HealthPolicy

AT = datetime(2026, 1, 5, tzinfo=UTC)


def probe(ok: bool = True, *, auth: bool | None = None, feed: bool | None = None) -> ProbeResult:
    return ProbeResult(1, ok, ok if auth is None else auth, ok if feed is None else feed, 5.0, AT)


def test_unknown_until_the_first_result_then_serving() -> None:
    policy = HealthPolicy(HealthConfig(), started_at=0)
    assert policy.statuses()["overall"] is H.UNKNOWN
    changes = policy.record(probe(), now=0)
    assert [c.component for c in changes] == ["connection", "auth", "data_feed", "overall"]
    assert policy.overall is H.SERVING


def test_failures_during_startup_keep_unknown_then_count_after_the_grace() -> None:
    policy = HealthPolicy(HealthConfig(startup_grace=120, failure_threshold=3), started_at=0)
    for t in (0, 30, 60, 90):
        policy.record(probe(False), now=t)
    assert policy.overall is H.UNKNOWN  # terminal may still be launching
    policy.record(probe(False), now=120)  # grace over, and failing for long enough
    assert policy.overall is H.NOT_SERVING


def test_startup_ends_with_the_first_good_probe() -> None:
    policy = HealthPolicy(HealthConfig(startup_grace=120, failure_threshold=2), started_at=0)
    policy.record(probe(), now=0)
    policy.record(probe(False), now=30)
    policy.record(probe(False), now=60)
    assert policy.overall is H.NOT_SERVING


def test_thresholds_are_consecutive_like_kubernetes() -> None:
    policy = HealthPolicy(HealthConfig(failure_threshold=3, success_threshold=2), started_at=0)
    policy.record(probe(), 0)
    policy.record(probe(), 1)
    for t in (2, 3):
        policy.record(probe(False), t)
    policy.record(probe(), 4)  # breaks the run of failures
    policy.record(probe(False), 5)
    assert policy.overall is H.SERVING
    policy.record(probe(False), 6)
    policy.record(probe(False), 7)
    assert policy.overall is H.NOT_SERVING
    policy.record(probe(), 8)
    assert policy.overall is H.NOT_SERVING  # one success is not enough
    policy.record(probe(), 9)
    assert policy.overall is H.SERVING


def test_components_are_judged_separately_and_overall_is_the_worst() -> None:
    policy = HealthPolicy(HealthConfig(failure_threshold=1), started_at=0)
    policy.record(probe(), 0)
    policy.record(probe(True, feed=False), 1)
    statuses = policy.statuses()
    assert statuses["data_feed"] is H.NOT_SERVING and statuses["auth"] is H.SERVING
    assert statuses["overall"] is H.NOT_SERVING


def test_an_open_breaker_means_out_of_service_whatever_the_components() -> None:
    policy = HealthPolicy(HealthConfig(), started_at=0)
    policy.record(probe(), 0)
    (change,) = policy.set_breaker_open(True, "breaker open")
    assert change.new is H.OUT_OF_SERVICE
    (change,) = policy.set_breaker_open(False, "breaker closed")
    assert change.new is H.SERVING


def test_a_long_steady_run_counts_every_good_probe_and_the_next_failure_counts_from_one() -> None:
    policy = HealthPolicy(HealthConfig(failure_threshold=2), started_at=0)
    assert len(policy.record(probe(), now=0)) == 4  # all SERVING: the steady state from here
    for t in range(1, 100):
        assert policy.record(probe(), now=t) == []
    parts = policy.components
    assert [(c.successes, c.failures) for c in parts.values()] == [(100, 0)] * 3
    assert policy.record(probe(True, feed=False), now=100) == []  # one failure: below threshold
    parts = policy.components
    assert (parts["data_feed"].successes, parts["data_feed"].failures) == (0, 1)
    assert (parts["connection"].successes, parts["connection"].failures) == (101, 0)
    (change, overall) = policy.record(probe(True, feed=False), now=101)
    assert (change.component, change.new, overall.new) == ("data_feed", H.NOT_SERVING,
                                                           H.NOT_SERVING)
