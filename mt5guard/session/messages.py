"""Requests to the SessionActor from the Session facade, and the session's own events."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import datetime
from typing import Any

import attrs

from mt5guard.plain import PlainData, reply_field

__all__ = [
    "Connect",
    "Disconnect",
    "GetAccountInfo",
    "GetOrders",
    "GetPositions",
    "Reconnect",
    "RequestCompleted",
    "SessionConnected",
    "SessionDisconnected",
]


@attrs.frozen
class Connect(PlainData):
    """Connect now if not connected (initialize + login)."""

    reply_to: Future[Any] = reply_field()
    deadline: float | None = None


@attrs.frozen
class Disconnect(PlainData):
    """Shut the terminal connection down; the session stays up, disconnected."""

    reply_to: Future[Any] = reply_field()
    deadline: float | None = None


@attrs.frozen
class Reconnect(PlainData):
    """Shut down and connect again in place."""

    reply_to: Future[Any] = reply_field()
    deadline: float | None = None


@attrs.frozen
class GetAccountInfo(PlainData):
    reply_to: Future[Any] = reply_field()
    deadline: float | None = None


@attrs.frozen
class GetPositions(PlainData):
    symbol: str | None = None
    reply_to: Future[Any] = reply_field()
    deadline: float | None = None


@attrs.frozen
class GetOrders(PlainData):
    symbol: str | None = None
    reply_to: Future[Any] = reply_field()
    deadline: float | None = None


@attrs.frozen
class SessionConnected(PlainData):
    account: str
    login: int
    server: str
    at: datetime


@attrs.frozen
class SessionDisconnected(PlainData):
    account: str
    reason: str
    at: datetime
    expected: bool = False
    """True when asked for (stop, disconnect, reconnect), False when lost."""


@attrs.frozen
class RequestCompleted(PlainData):
    """A facade request finished. ``outcome`` is ``ok`` or the error kind."""

    account: str
    operation: str
    outcome: str
    latency_ms: float
