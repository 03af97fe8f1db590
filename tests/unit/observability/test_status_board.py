"""The status board behind /readyz and the status lines, fed with events."""

from __future__ import annotations

from datetime import UTC, datetime

from mt5guard.breaker.messages import BreakerState, BreakerStateChanged
from mt5guard.health.messages import HealthChanged, HealthStatus, ProbeRecorded, ProbeResult
from mt5guard.observability.status import StatusBoard
from mt5guard.session.messages import SessionConnected
from mt5guard.supervision.events import ChildFailed, RestartScheduled, SupervisorGaveUp
from mt5guard.testing import VirtualClock

AT = datetime(2026, 1, 5, 9, tzinfo=UTC)


def board() -> StatusBoard:
    status = StatusBoard(VirtualClock())
    status.expect("demo")
    status.expect("other")
    return status


def test_an_account_is_ready_only_when_its_overall_health_is_serving() -> None:
    status = board()
    assert not status.ready()
    for name in ("demo", "other"):
        status(HealthChanged(name, "overall", HealthStatus.UNKNOWN, HealthStatus.SERVING, "ok", AT))
    assert status.ready()
    status(HealthChanged("demo", "auth", HealthStatus.SERVING, HealthStatus.NOT_SERVING, "x", AT))
    assert status.ready()  # a component alone does not decide; overall does
    status(HealthChanged("demo", "overall", HealthStatus.SERVING, HealthStatus.NOT_SERVING, "x", AT))
    assert not status.ready()


def test_rows_follow_the_session_breaker_probe_and_restarts() -> None:
    status = board()
    status(SessionConnected("demo", 5001, "MetaQuotes-Demo", AT))
    status(BreakerStateChanged("demo", BreakerState.CLOSED, BreakerState.OPEN, "x", AT, 1, AT))
    status(ProbeRecorded("demo", ProbeResult(1, True, True, True, 2.5, AT)))
    status(ChildFailed("account:demo", "session", 1, "MT5ConnectionError: lost", AT))
    status(RestartScheduled("account:demo", ("session", "health"), "session", 1, 60, AT, AT))
    status(RestartScheduled("root", ("account:other",), "account:other", 1, 60, AT, AT))
    row = status.snapshot()["demo"]
    assert (row["connected"], row["breaker"], row["last_probe_ms"], row["restarts"]) == (
        False, "open", 2.5, 1,
    )
    assert row["last_error"] == "MT5ConnectionError: lost"
    assert status.snapshot()["other"]["restarts"] == 1


def test_a_supervisor_that_gave_up_makes_its_account_not_serving() -> None:
    status = board()
    status(HealthChanged("demo", "overall", HealthStatus.UNKNOWN, HealthStatus.SERVING, "ok", AT))
    status(SupervisorGaveUp("account:demo", 21, 10800, "last failure: session", AT))
    row = status.snapshot()["demo"]
    assert row["status"] == "NOT_SERVING" and "gave up" in row["last_error"]


def test_a_probe_shows_its_latency_to_the_microsecond_and_a_failed_one_its_error() -> None:
    status = board()
    status(ProbeRecorded("demo", ProbeResult(1, True, True, True, 0.0764999, AT)))
    assert status.snapshot()["demo"]["last_probe_ms"] == 0.076
    status(ProbeRecorded("demo", ProbeResult(2, False, True, False, 12.34567, AT, "MT5Lost: x")))
    row = status.snapshot()["demo"]
    assert (row["last_probe_ms"], row["last_error"]) == (12.346, "MT5Lost: x")
    status(ProbeRecorded("demo", ProbeResult(3, True, True, True, 1.0, AT)))
    row = status.snapshot()["demo"]  # a good probe keeps the last error on the board
    assert (row["last_probe_ms"], row["last_error"]) == (1.0, "MT5Lost: x")
    status(ProbeRecorded("other", ProbeResult(4, False, False, False, 0.0, AT, "x", skipped=True)))
    assert status.snapshot()["other"]["last_probe_ms"] is None  # skipped: no probe was made
