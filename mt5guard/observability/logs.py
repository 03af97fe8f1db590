"""Readable log lines from bus events, a JSON formatter, and run.py's logging setup.

:class:`EventLogger` is a bus subscriber like :class:`~mt5guard.observability.Metrics`:
it turns one immutable event into one log line and never touches logging's
configuration. Only :func:`configure_logging` does that, and only ``run.py``
(the process owner) may call it; an engine embedding mt5guard configures its
own logging.
"""

from __future__ import annotations

import enum
import json
import logging
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from mt5guard.breaker.messages import BreakerState, BreakerStateChanged
from mt5guard.health.messages import HealthChanged, HealthStatus, ProbeRecorded
from mt5guard.orders.messages import OrderReconciled
from mt5guard.session.messages import RequestCompleted, SessionConnected, SessionDisconnected
from mt5guard.supervision.events import (
    ChildAbandoned,
    ChildExited,
    ChildFailed,
    ChildStarted,
    RestartScheduled,
    SupervisorGaveUp,
    SupervisorStopped,
)

__all__ = ["EventLogger", "JsonFormatter", "configure_logging", "status_line"]

_Line = tuple[int, str, dict[str, str]]
"""(level, message, structured extras) for one event."""

_EXTRA_FIELDS = ("event", "account", "supervisor")
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_FORMATS = ("text", "json")


class EventLogger:
    """Bus subscriber writing one line per event to ``logger``.

    Default logger: ``mt5guard.events``. Levels: WARNING for a breaker opening,
    a child failing, a component turning NOT_SERVING, a disconnect and an
    order whose outcome stays unknown; ERROR when a supervisor gives up; DEBUG
    for subscription snapshots (``old is None``) and probe results; INFO for
    the rest. ``RequestCompleted`` and unknown event types are not logged.
    Every record carries ``event`` (type name) and ``account`` or
    ``supervisor`` as extras for :class:`JsonFormatter`.
    """

    skips = frozenset({RequestCompleted})  # never logged: the bus need not build them

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger if logger is not None else logging.getLogger("mt5guard.events")

    def __call__(self, event: object) -> None:
        describe = _DESCRIBERS.get(type(event))
        if describe is None:
            return
        level, message, extra = describe(event)
        if self._logger.isEnabledFor(level):
            self._logger.log(level, "%s", message, extra=extra)


def _account(e: Any) -> dict[str, str]:
    return {"event": type(e).__name__, "account": e.account}


def _supervisor(e: Any) -> dict[str, str]:
    extra = {"event": type(e).__name__, "supervisor": e.supervisor}
    # Account supervisors are named "account:<name>"; let JSON logs filter by account.
    if e.supervisor.startswith("account:"):
        extra["account"] = e.supervisor.removeprefix("account:")
    return extra


def _breaker(e: BreakerStateChanged) -> _Line:
    new = _state(e.new)
    suffix = ""
    if e.new is BreakerState.OPEN and e.retry_at is not None:
        suffix = f"; half-open at {_iso(e.retry_at)}"
    elif e.new is BreakerState.HALF_OPEN and e.trials:
        suffix = f"; {e.trials} trial call{'s' if e.trials != 1 else ''} allowed"
    if e.old is None:
        level, change = logging.DEBUG, new
    else:
        level = logging.WARNING if e.new is BreakerState.OPEN else logging.INFO
        change = f"{_state(e.old)} -> {new}"
    return level, f"account {e.account}: breaker {change}{_paren(e.reason)}{suffix}", _account(e)


def _health(e: HealthChanged) -> _Line:
    prefix = f"account {e.account}: health {e.component}"
    if e.old is None:
        return logging.DEBUG, f"{prefix} {e.new.value}{_paren(e.reason)}", _account(e)
    level = logging.WARNING if e.new is HealthStatus.NOT_SERVING else logging.INFO
    return level, f"{prefix} {e.old.value} -> {e.new.value}{_paren(e.reason)}", _account(e)


def _connected(e: SessionConnected) -> _Line:
    message = f"account {e.account}: connected (login {e.login} on {e.server})"
    return logging.INFO, message, _account(e)


def _disconnected(e: SessionDisconnected) -> _Line:
    level = logging.INFO if e.expected else logging.WARNING
    return level, f"account {e.account}: disconnected{_paren(e.reason)}", _account(e)


def _reconciled(e: OrderReconciled) -> _Line:
    level = logging.WARNING if e.outcome == "unknown" else logging.INFO
    message = (f"account {e.account}: order {e.client_order_id} with a lost reply "
               f"reconciled as {e.outcome}")
    return level, message, _account(e)


def _probe(e: ProbeRecorded) -> _Line:
    r = e.result
    prefix = f"account {e.account}: probe #{r.seq}"
    if r.skipped:
        return logging.DEBUG, f"{prefix} skipped", _account(e)
    if r.connection_ok and r.auth_ok and r.data_feed_ok:
        return logging.DEBUG, f"{prefix} ok in {r.latency_ms:.1f} ms", _account(e)
    checks = " ".join(
        f"{name}={'ok' if ok else 'failed'}"
        for name, ok in (("connection", r.connection_ok), ("auth", r.auth_ok),
                         ("data_feed", r.data_feed_ok))
    )
    error = f"; {r.error}" if r.error else ""
    message = f"{prefix} failed in {r.latency_ms:.1f} ms ({checks}{error})"
    return logging.DEBUG, message, _account(e)


def _started(e: ChildStarted) -> _Line:
    message = f"supervisor {e.supervisor}: started {e.child} (generation {e.generation})"
    return logging.INFO, message, _supervisor(e)


def _failed(e: ChildFailed) -> _Line:
    message = f"supervisor {e.supervisor}: child {e.child} failed: {e.error}"
    return logging.WARNING, message, _supervisor(e)


def _exited(e: ChildExited) -> _Line:
    return logging.INFO, f"supervisor {e.supervisor}: child {e.child} exited", _supervisor(e)


def _restart(e: RestartScheduled) -> _Line:
    message = (f"supervisor {e.supervisor}: restart of {', '.join(e.children)} in "
               f"{_seconds(e.delay)} s (attempt {e.attempt}, after {e.cause}) "
               f"at {_iso(e.restart_at)}")
    return logging.INFO, message, _supervisor(e)


def _gave_up(e: SupervisorGaveUp) -> _Line:
    message = (f"supervisor {e.supervisor}: gave up: {e.reason} "
               f"({e.restarts} restarts within {_seconds(e.period)} s)")
    return logging.ERROR, message, _supervisor(e)


def _abandoned(e: ChildAbandoned) -> _Line:
    message = (f"supervisor {e.supervisor}: child {e.child} did not stop within "
               f"{_seconds(e.waited)} s: abandoned"
               + ("; its terminal worker killed" if e.released else ""))
    return logging.WARNING, message, _supervisor(e)


def _stopped(e: SupervisorStopped) -> _Line:
    return logging.INFO, f"supervisor {e.supervisor}: stopped", _supervisor(e)


_DESCRIBERS: dict[type[Any], Callable[[Any], _Line]] = {
    BreakerStateChanged: _breaker,
    HealthChanged: _health,
    SessionConnected: _connected,
    SessionDisconnected: _disconnected,
    OrderReconciled: _reconciled,
    ProbeRecorded: _probe,
    ChildStarted: _started,
    ChildFailed: _failed,
    ChildExited: _exited,
    RestartScheduled: _restart,
    SupervisorGaveUp: _gave_up,
    SupervisorStopped: _stopped,
    ChildAbandoned: _abandoned,
}


def _state(state: BreakerState) -> str:
    return state.value.replace("_", "-")


def _paren(reason: str) -> str:
    return f" ({reason})" if reason else ""


def _seconds(seconds: float) -> str:
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def _iso(at: datetime) -> str:
    """UTC ISO 8601 with a ``Z``; naive datetimes are taken as UTC (the clock's wall time)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    text = at.strftime("%Y-%m-%dT%H:%M:%S")
    if at.microsecond:
        text += f".{at.microsecond // 1000:03d}"
    return text + "Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts`` (ISO UTC), ``level``, ``logger``, ``message``,
    the ``event``/``account``/``supervisor`` extras when present and, for a record
    with ``exc_info``, ``exc_type``, ``exc_message`` and the traceback as ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": _utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                payload[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, exc, _ = record.exc_info
            payload["exc_type"] = exc_type.__name__
            payload["exc_message"] = str(exc)
            payload["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


class _UtcTextFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc_timestamp(record.created)


def _utc_timestamp(created: float) -> str:
    stamp = datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def configure_logging(
    *, fmt: str = "text", level: str = "INFO", stream: TextIO | None = None
) -> logging.Handler:
    """Attach one handler to the root logger and set its level. For ``run.py`` only.

    Libraries and engines embedding mt5guard must not call this: it changes
    process-wide logging. ``fmt`` is ``text`` (``<UTC ISO time> LEVEL logger:
    message``) or ``json`` (:class:`JsonFormatter`); ``level`` a standard level
    name (case-insensitive). pykka's logger is set to WARNING so its per-actor
    debug chatter stays out even at DEBUG. ``stream`` defaults to stderr.
    Returns the handler so the caller can remove it again.
    """
    if fmt not in _FORMATS:
        raise ValueError(f"log format must be one of {', '.join(_FORMATS)}, not {fmt!r}")
    level_name = str(level).upper()
    if level_name not in _LEVELS:
        raise ValueError(f"log level must be one of {', '.join(_LEVELS)}, not {level!r}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_UtcTextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level_name)
    logging.getLogger("pykka").setLevel(logging.WARNING)
    return handler


def status_line(account: str, report: Mapping[str, Any]) -> str:
    """One periodic status line, e.g.
    ``status demo: SERVING breaker=closed connected=yes last_probe=3.2ms restarts=0``.

    ``report`` may hold ``status``, ``breaker``, ``connected`` (bool),
    ``last_probe_ms`` (milliseconds) and ``restarts``; missing or None shows ``-``.
    """
    connected = report.get("connected")
    probe_ms = report.get("last_probe_ms")
    fields = (
        _word(report.get("status")),
        f"breaker={_word(report.get('breaker'))}",
        f"connected={'-' if connected is None else ('yes' if connected else 'no')}",
        f"last_probe={'-' if probe_ms is None else f'{float(probe_ms):.1f}ms'}",
        f"restarts={_word(report.get('restarts'))}",
    )
    return f"status {account}: " + " ".join(fields)


def _word(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)
