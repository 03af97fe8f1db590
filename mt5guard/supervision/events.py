"""Supervision events: immutable facts published on the event bus.

Logs and metrics subscribe to these; nothing in the core depends on who
listens. Times are the supervisor clock's wall time (UTC) and delays are in
seconds.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from mt5guard.plain import PlainData

__all__ = [
    "ChildAbandoned",
    "ChildExited",
    "ChildFailed",
    "ChildStarted",
    "RestartScheduled",
    "SupervisorGaveUp",
    "SupervisorStopped",
]


@attrs.frozen
class ChildStarted(PlainData):
    """A child incarnation was started (its ``on_start`` may still be running)."""

    supervisor: str
    child: str
    generation: int
    at: datetime


@attrs.frozen
class ChildFailed(PlainData):
    """A child crashed: its ``on_start`` or a ``tell`` handler raised."""

    supervisor: str
    child: str
    generation: int
    error: str
    """``"ExceptionType: message"``, never a traceback."""
    at: datetime


@attrs.frozen
class ChildExited(PlainData):
    """A child stopped by itself, without an error."""

    supervisor: str
    child: str
    generation: int
    at: datetime


@attrs.frozen
class RestartScheduled(PlainData):
    """Children will be started again after ``delay`` seconds."""

    supervisor: str
    children: tuple[str, ...]
    cause: str
    """The child whose end triggered the restart."""
    attempt: int
    """1 for the first restart after a stable period, then 2, 3, ..."""
    delay: float
    restart_at: datetime
    at: datetime


@attrs.frozen
class SupervisorGaveUp(PlainData):
    """Too many restarts within the period: children stopped, escalated."""

    supervisor: str
    restarts: int
    period: float
    reason: str
    at: datetime


@attrs.frozen
class ChildAbandoned(PlainData):
    """A child did not stop within the shutdown timeout and was left behind.

    Its thread may still be running; the supervisor ran the child spec's
    ``on_abandon`` (the session's terminal worker is killed by its PID).
    """

    supervisor: str
    child: str
    generation: int
    waited: float
    """Seconds the supervisor waited for it."""
    released: bool
    """Whether the spec's ``on_abandon`` ran (for a session: its terminal worker was killed)."""
    at: datetime


@attrs.frozen
class SupervisorStopped(PlainData):
    """A supervisor stopped its children (reverse order) and ended normally."""

    supervisor: str
    at: datetime
