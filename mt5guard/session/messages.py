"""Requests to the SessionActor from the Session facade, and the session's own events."""

from __future__ import annotations

from datetime import datetime

import attrs

from mt5guard.plain import PlainData, Request

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
    "SessionFailed",
]


@attrs.frozen
class Connect(Request):
    """Connect now if not connected (initialize + login)."""



@attrs.frozen
class Disconnect(Request):
    """Shut the terminal connection down; the session stays up, disconnected."""



@attrs.frozen
class Reconnect(Request):
    """Shut down and connect again in place."""



@attrs.frozen
class GetAccountInfo(Request):
    """The terminal's ``AccountInfo``."""


@attrs.frozen
class GetPositions(Request):
    symbol: str | None = None


@attrs.frozen
class GetOrders(Request):
    symbol: str | None = None


@attrs.frozen
class SessionFailed:
    """A read on a caller's thread found the session lost (its worker killed or dead):
    the SessionActor fails on it, and its supervisor restarts it."""

    reason: str


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
