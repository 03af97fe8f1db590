"""The supervision views of one account: its health and its breaker, as Session calls.

Reads ask the HealthProbeActor or the BreakerActor (not the terminal, so a
missing reply does not count for the breaker); the breaker switches are
tells and never wait.
"""

from __future__ import annotations

from mt5guard.breaker.messages import (
    BreakerSnapshot,
    ForceOpen,
    GetBreakerSnapshot,
    ResetBreaker,
    SetBreakerEnabled,
)
from mt5guard.health.messages import GetHealth, HealthReport
from mt5guard.session._core import Pending, Ready, SessionCore

__all__ = ["breaker_state", "force_open", "health", "reset_breaker", "set_breaker_enabled"]


def health(core: SessionCore) -> Pending[HealthReport]:
    """The account's health as the HealthProbeActor sees it."""
    return core.ask(core.health, "health", lambda r: GetHealth(reply_to=r))


def breaker_state(core: SessionCore) -> Pending[BreakerSnapshot]:
    """The breaker's state and counters; ``rejections`` counts every refusal made
    before this call (the refusals still counted by the session are told first,
    from this thread, so they reach the breaker before the question)."""
    door = None if core.lane is None else core.lane.door
    if door is not None:
        door.flush_rejections()
    return core.ask(core.breaker, "breaker_state", lambda r: GetBreakerSnapshot(reply_to=r))


def force_open(core: SessionCore, reason: str = "forced open by operator") -> Ready[None]:
    """Open the breaker until :meth:`reset_breaker` (a tell: never waits)."""
    return core.tell(core.breaker, "force_open", ForceOpen(reason))


def reset_breaker(core: SessionCore) -> Ready[None]:
    """Close the breaker and clear its counters (a tell: never waits)."""
    return core.tell(core.breaker, "reset_breaker", ResetBreaker())


def set_breaker_enabled(core: SessionCore, enabled: bool) -> Ready[None]:
    """``False`` lets every call through whatever happens (a tell: never waits)."""
    return core.tell(core.breaker, "set_breaker_enabled", SetBreakerEnabled(enabled))
