"""What a supervisor supervises, and how."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import attrs

from mt5guard.supervision._handle import ChildHandle

__all__ = ["ChildSpec", "Restart", "Strategy"]


class Restart(enum.Enum):
    """When a child that ended is started again (Erlang/OTP meanings)."""

    PERMANENT = "permanent"
    """Always: after a crash and after it stopped by itself."""
    TRANSIENT = "transient"
    """Only after a crash; a child that stopped by itself stays stopped."""
    TEMPORARY = "temporary"
    """Never; the child is removed when it ends."""


class Strategy(enum.Enum):
    """Which siblings are restarted with a child that crashed."""

    ONE_FOR_ONE = "one_for_one"
    """Only the crashed child."""
    ONE_FOR_ALL = "one_for_all"
    """All children: the others are stopped (in reverse order) first."""
    REST_FOR_ONE = "rest_for_one"
    """The crashed child and every child started after it."""


def _valid_name(_: object, __: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"ChildSpec.name must be a non-empty string, got {value!r}")


@attrs.frozen
class ChildSpec:
    """One child of a supervisor.

    ``factory`` builds a *new, unstarted* pykka actor each time the child is
    (re)started, for example
    ``lambda: BreakerActor(name, config.breaker, clock, bus)``; the
    supervisor starts it. A :class:`~mt5guard.supervision.Supervisor` built by a
    factory is a valid child, which is how trees nest.

    ``handle`` is the stable way to reach the current incarnation; keep the
    spec (and so the handle) when a parent rebuilds this supervisor so the
    handle given to callers stays valid.
    """

    name: str = attrs.field(validator=_valid_name)
    factory: Callable[[], Any]
    restart: Restart = Restart.PERMANENT
    handle: ChildHandle = attrs.field(eq=False)

    @handle.default
    def _default_handle(self) -> ChildHandle:
        return ChildHandle(self.name)

    on_abandon: Callable[[], None] | None = attrs.field(default=None, eq=False, kw_only=True)
    """Run (on the supervisor's thread) when the child does not stop within its
    supervisor's ``shutdown_timeout`` and is abandoned: end what it holds."""
