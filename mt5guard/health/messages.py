"""Probe traffic between the HealthProbeActor and the SessionActor, and health events."""

from __future__ import annotations

import enum
from concurrent.futures import Future
from datetime import datetime
from typing import Any

import attrs

from mt5guard.breaker.messages import BreakerState
from mt5guard.plain import PlainData, reply_field

__all__ = [
    "GetHealth",
    "HealthChanged",
    "HealthReport",
    "HealthStatus",
    "ProbeRecorded",
    "ProbeResult",
    "RunProbe",
    "SubscribeHealth",
]


@attrs.frozen
class RunProbe(PlainData):
    """Probe the terminal: terminal_info, account_info, one tick of ``symbol``.

    The session replies by telling ``ProbeResult`` to ``reply_to`` (an actor
    ref), tagged with ``seq``.
    """

    symbol: str
    seq: int
    reply_to: Any = reply_field()


@attrs.frozen
class ProbeResult(PlainData):
    """One health probe. ``latency_ms`` covers the three terminal calls."""

    seq: int
    connection_ok: bool
    auth_ok: bool
    data_feed_ok: bool
    latency_ms: float
    at: datetime
    error: str | None = None
    skipped: bool = False
    """The session did not probe (breaker OPEN or trial in use): not a result."""


@attrs.frozen
class GetHealth(PlainData):
    """Reply with a :class:`HealthReport`."""

    reply_to: Future[Any] = reply_field()


@attrs.frozen
class SubscribeHealth(PlainData):
    """Receive ``HealthChanged``: current statuses first, then only changes."""

    subscriber: Any = attrs.field(eq=False)


class HealthStatus(enum.Enum):
    UNKNOWN = "UNKNOWN"
    SERVING = "SERVING"
    NOT_SERVING = "NOT_SERVING"
    OUT_OF_SERVICE = "OUT_OF_SERVICE"


@attrs.frozen
class HealthChanged(PlainData):
    """A component's status changed (``old is None``: snapshot for a new subscriber).

    ``component`` is ``overall``, ``connection``, ``auth`` or ``data_feed``.
    """

    account: str
    component: str
    old: HealthStatus | None
    new: HealthStatus
    reason: str
    at: datetime


@attrs.frozen
class HealthReport(PlainData):
    """An account's health as its HealthProbeActor sees it now."""

    account: str
    overall: HealthStatus
    components: tuple[tuple[str, HealthStatus], ...]
    breaker: BreakerState
    last_probe: ProbeResult | None
    at: datetime


@attrs.frozen
class ProbeRecorded(PlainData):
    """A probe result, as the HealthProbeActor counted it."""

    account: str
    result: ProbeResult
