"""Log lines an operator reads, the JSON formatter, and run.py's logging setup."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from mt5guard.breaker.messages import BreakerState, BreakerStateChanged
from mt5guard.health.messages import HealthChanged, HealthStatus, ProbeRecorded, ProbeResult
from mt5guard.observability import EventLogger, JsonFormatter, configure_logging, status_line
from mt5guard.orders.messages import OrderReconciled
from mt5guard.session.messages import RequestCompleted, SessionConnected, SessionDisconnected
from mt5guard.supervision.events import (
    ChildExited,
    ChildFailed,
    ChildStarted,
    RestartScheduled,
    SupervisorGaveUp,
    SupervisorStopped,
)

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 1, 5, 9, 3, tzinfo=UTC)
DEBUG, INFO, WARNING, ERROR = logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR


@pytest.fixture
def events_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="mt5guard.events")
    return caplog


def breaker(
    old: BreakerState | None,
    new: BreakerState,
    reason: str = "test",
    retry_at: datetime | None = None,
    trials: int = 0,
) -> BreakerStateChanged:
    return BreakerStateChanged("demo", old, new, reason, AT, 1, retry_at=retry_at, trials=trials)


@pytest.mark.parametrize(
    ("event", "level", "message"),
    [
        (SessionConnected("demo", 5001, "MetaQuotes-Demo", AT), INFO,
         "account demo: connected (login 5001 on MetaQuotes-Demo)"),
        (SessionDisconnected("demo", "IPC timeout", AT), WARNING,
         "account demo: disconnected (IPC timeout)"),
        (SessionDisconnected("demo", "session stopped", AT, expected=True), INFO,
         "account demo: disconnected (session stopped)"),
        (breaker(BreakerState.CLOSED, BreakerState.OPEN,
                 reason="5 consecutive failures (last: timeout)", retry_at=LATER), WARNING,
         "account demo: breaker closed -> open (5 consecutive failures (last: timeout)); "
         "half-open at 2026-01-05T09:03:00Z"),
        (breaker(BreakerState.OPEN, BreakerState.HALF_OPEN, reason="open period over",
                 trials=1), INFO,
         "account demo: breaker open -> half-open (open period over); 1 trial call allowed"),
        (breaker(None, BreakerState.CLOSED, reason="subscribed"), DEBUG,
         "account demo: breaker closed (subscribed)"),
        (HealthChanged("demo", "overall", HealthStatus.SERVING, HealthStatus.NOT_SERVING,
                       "3 failed probes", AT), WARNING,
         "account demo: health overall SERVING -> NOT_SERVING (3 failed probes)"),
        (HealthChanged("demo", "auth", HealthStatus.UNKNOWN, HealthStatus.SERVING, "", AT), INFO,
         "account demo: health auth UNKNOWN -> SERVING"),
        (HealthChanged("demo", "overall", None, HealthStatus.UNKNOWN, "no probe yet", AT), DEBUG,
         "account demo: health overall UNKNOWN (no probe yet)"),
        (OrderReconciled("demo", "c-1", "executed", AT), INFO,
         "account demo: order c-1 with a lost reply reconciled as executed"),
        (OrderReconciled("demo", "c-2", "unknown", AT), WARNING,
         "account demo: order c-2 with a lost reply reconciled as unknown"),
        (ProbeRecorded("demo", ProbeResult(7, True, True, True, 3.21, AT)), DEBUG,
         "account demo: probe #7 ok in 3.2 ms"),
        (ProbeRecorded("demo", ProbeResult(8, True, False, False, 12.0, AT, error="auth")),
         DEBUG,
         "account demo: probe #8 failed in 12.0 ms "
         "(connection=ok auth=failed data_feed=failed; auth)"),
        (ProbeRecorded("demo", ProbeResult(9, False, False, False, 0.0, AT, skipped=True)),
         DEBUG, "account demo: probe #9 skipped"),
        (ChildStarted("account:demo", "session", 2, AT), INFO,
         "supervisor account:demo: started session (generation 2)"),
        (ChildFailed("account:demo", "session", 2, "MT5ConnectionError: IPC timeout", AT),
         WARNING, "supervisor account:demo: child session failed: MT5ConnectionError: IPC timeout"),
        (ChildExited("account:demo", "health", 1, AT), INFO,
         "supervisor account:demo: child health exited"),
        (RestartScheduled("account:demo", ("session", "health"), "session", 2, 120.0, LATER, AT),
         INFO, "supervisor account:demo: restart of session, health in 120 s "
         "(attempt 2, after session) at 2026-01-05T09:03:00Z"),
        (SupervisorGaveUp("root", 5, 600.0, "account:demo exceeded 5 restarts", AT), ERROR,
         "supervisor root: gave up: account:demo exceeded 5 restarts (5 restarts within 600 s)"),
        (SupervisorStopped("root", AT), INFO, "supervisor root: stopped"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, int | str) else "",
)
def test_one_readable_line_per_event(
    events_log: pytest.LogCaptureFixture, event: object, level: int, message: str
) -> None:
    EventLogger()(event)
    lines = events_log.records
    assert [(r.name, r.levelno, r.getMessage()) for r in lines] == [
        ("mt5guard.events", level, message)
    ]
    assert lines[0].__dict__["event"] == type(event).__name__


def test_structured_extras_name_the_account(events_log: pytest.LogCaptureFixture) -> None:
    log = EventLogger()
    log(SessionDisconnected("demo", "bye", AT))
    log(ChildFailed("account:demo", "session", 1, "E: x", AT))
    log(SupervisorGaveUp("root", 5, 60.0, "too many", AT))
    keys = ("event", "account", "supervisor")
    extras = [{k: r.__dict__.get(k) for k in keys} for r in events_log.records]
    assert extras == [
        {"event": "SessionDisconnected", "account": "demo", "supervisor": None},
        {"event": "ChildFailed", "account": "demo", "supervisor": "account:demo"},
        {"event": "SupervisorGaveUp", "account": None, "supervisor": "root"},
    ]


def test_requests_and_unknown_events_are_not_logged(events_log: pytest.LogCaptureFixture) -> None:
    log = EventLogger()
    log(RequestCompleted("demo", "get_price", "ok", 0.3))
    log(object())
    assert events_log.records == []


def test_custom_logger_and_level_filtering(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="engine.mt5")
    log = EventLogger(logging.getLogger("engine.mt5"))
    log(breaker(None, BreakerState.CLOSED))  # snapshot: DEBUG, filtered out
    log(SessionConnected("demo", 1, "srv", AT))
    assert [r.name for r in caplog.records] == ["engine.mt5"]


def record(level: int = INFO, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("mt5guard.events", level, __file__, 1, "hello %s", ("world",), None)
    rec.__dict__.update(extra)
    return rec


def test_json_formatter_writes_one_parseable_object() -> None:
    rec = record(event="SessionConnected", account="demo")
    rec.created = AT.timestamp() + 0.25
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    assert json.loads(line) == {
        "ts": "2026-01-05T09:00:00.250Z", "level": "INFO", "logger": "mt5guard.events",
        "message": "hello world", "event": "SessionConnected", "account": "demo",
    }


def test_json_formatter_includes_the_exception() -> None:
    try:
        raise ValueError("bad tick")
    except ValueError:
        rec = record(ERROR)
        rec.exc_info = sys.exc_info()
    payload = json.loads(JsonFormatter().format(rec))
    assert (payload["exc_type"], payload["exc_message"]) == ("ValueError", "bad tick")
    assert "Traceback" in payload["exc"] and "event" not in payload


@pytest.fixture
def clean_root() -> Iterator[logging.Logger]:
    root, pykka_log = logging.getLogger(), logging.getLogger("pykka")
    saved = (root.level, list(root.handlers), pykka_log.level)
    yield root
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    pykka_log.setLevel(saved[2])


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_configure_logging_attaches_one_removable_root_handler(
    clean_root: logging.Logger, fmt: str
) -> None:
    stream = io.StringIO()
    before = list(clean_root.handlers)
    handler = configure_logging(fmt=fmt, level="debug", stream=stream)
    try:
        assert clean_root.handlers == [*before, handler]
        assert clean_root.level == DEBUG
        assert logging.getLogger("pykka").level == WARNING
        logging.getLogger("mt5guard.test").info("ready")
    finally:
        clean_root.removeHandler(handler)
    out = stream.getvalue()
    if fmt == "json":
        assert json.loads(out)["message"] == "ready"
    else:
        assert out.endswith(" INFO    mt5guard.test: ready\n")
        assert out[:23].count("-") == 2 and out[23] == "Z"  # 2026-01-05T09:00:00.250Z


@pytest.mark.parametrize(
    ("fmt", "level", "allowed"),
    [("yaml", "INFO", "text, json"), ("text", "LOUD", "DEBUG, INFO, WARNING")],
)
def test_configure_logging_rejects_unknown_values(
    clean_root: logging.Logger, fmt: str, level: str, allowed: str
) -> None:
    before = list(clean_root.handlers)
    with pytest.raises(ValueError, match=allowed):
        configure_logging(fmt=fmt, level=level)
    assert clean_root.handlers == before


def test_status_line() -> None:
    report = {"status": HealthStatus.SERVING, "breaker": BreakerState.CLOSED,
              "connected": True, "last_probe_ms": 3.21, "restarts": 0}
    assert status_line("demo", report) == (
        "status demo: SERVING breaker=closed connected=yes last_probe=3.2ms restarts=0"
    )
    assert status_line("live", {"status": "NOT_SERVING", "connected": False}) == (
        "status live: NOT_SERVING breaker=- connected=no last_probe=- restarts=-"
    )
