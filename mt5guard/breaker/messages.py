"""Outcomes told to the BreakerActor, its commands, and the state it publishes."""

from __future__ import annotations

import enum
from concurrent.futures import Future
from datetime import datetime
from typing import Any

import attrs

from mt5guard.plain import PlainData, reply_field

__all__ = [
    "BreakerSnapshot",
    "BreakerState",
    "BreakerStateChanged",
    "CallFailed",
    "CallRejected",
    "CallSucceeded",
    "ForceOpen",
    "GetBreakerSnapshot",
    "ResetBreaker",
    "SetBreakerEnabled",
    "SubscribeBreaker",
    "TrialsGranted",
]


@attrs.frozen
class CallSucceeded(PlainData):
    """Terminal calls answered (a business rejection also proves liveness).

    While CLOSED the session does not tell every success: it counts them and
    sends one message standing for ``count`` successes in a row (before the
    next failure, on a breaker state change, or every 64 calls), so the hot path
    costs no message to the breaker.
    """

    epoch: int | None
    operation: str
    latency_ms: float
    count: int = 1


@attrs.frozen
class CallFailed(PlainData):
    """A terminal call failed in a way that counts against the breaker."""

    epoch: int | None
    operation: str
    error_kind: str
    code: int | None
    latency_ms: float
    successes_before: int = 0
    """Successes not told yet, which happened before this failure."""


@attrs.frozen
class CallRejected(PlainData):
    """The session rejected ``count`` calls locally because the breaker is open.

    Told in batches (64 or more, at most once a second of clock time; and
    before the session applies a new breaker state or a snapshot is read),
    so fast-fail wakes no other actor.
    """

    count: int = 1


@attrs.frozen
class SubscribeBreaker(PlainData):
    """Receive ``BreakerStateChanged`` (current state first) and ``TrialsGranted``.

    ``subscriber`` is an actor ref (told) or a callable (called on the
    breaker's thread).
    """

    subscriber: Any = attrs.field(eq=False)


@attrs.frozen
class ForceOpen(PlainData):
    reason: str = "forced open by operator"


@attrs.frozen
class ResetBreaker(PlainData):
    """Back to CLOSED with counters of the current window cleared."""


@attrs.frozen
class SetBreakerEnabled(PlainData):
    """``enabled=False`` lets every call through (state shown as DISABLED)."""

    enabled: bool


@attrs.frozen
class GetBreakerSnapshot(PlainData):
    reply_to: Future[Any] = reply_field()


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"
    DISABLED = "disabled"


@attrs.frozen
class BreakerStateChanged(PlainData):
    """A breaker transition. ``old is None`` for the snapshot a new subscriber gets."""

    account: str
    old: BreakerState | None
    new: BreakerState
    reason: str
    at: datetime
    epoch: int
    """Bumped on every transition; outcomes carry it so stale ones are ignored."""
    retry_at: datetime | None = None
    """While OPEN: when HALF_OPEN begins."""
    trials: int = 0
    """While HALF_OPEN: how many trial calls the session may let through."""


@attrs.frozen
class TrialsGranted(PlainData):
    """HALF_OPEN needs more successes: the session may let ``trials`` more through."""

    epoch: int
    trials: int


@attrs.frozen
class BreakerSnapshot(PlainData):
    account: str
    state: BreakerState
    epoch: int
    consecutive_failures: int
    calls: int
    """Outcomes received; successes arrive in batches, so it may lag by up to 64."""
    failures: int
    rejections: int
    """Calls refused while OPEN; told in batches, so it may lag by up to 64."""
    transitions: int
    open_duration: float
    """Seconds the next (or current) OPEN lasts."""
    retry_at: datetime | None
