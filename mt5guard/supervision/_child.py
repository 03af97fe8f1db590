"""What a supervisor knows about each child, and the messages it sends itself."""

from __future__ import annotations

from typing import Any

import attrs
import pykka

from mt5guard.supervision._spec import ChildSpec, Strategy

__all__ = ["ChildState"]


@attrs.frozen
class _ChildEnded:
    name: str
    generation: int
    error: BaseException | None


@attrs.frozen
class _RestartDue:
    token: int
    plan: tuple[tuple[str, int], ...]
    """(child name, generation it had when the restart was planned)."""


@attrs.frozen
class _StopOverdue:
    """A sibling asked to stop for a group restart has had ``shutdown_timeout`` seconds."""

    token: int
    name: str
    generation: int


@attrs.frozen
class ChildState:
    """A child as its supervisor sees it (from :meth:`Supervisor.children`)."""

    name: str
    state: str
    """``running``, ``stopping``, ``down`` or ``removed``."""
    generation: int
    failures: int
    """Consecutive failures counted for backoff."""


class _Child:
    __slots__ = ("abandoned", "attempts", "generation", "ref", "spec", "started_at", "state",
                 "stop_sent")

    def __init__(self, spec: ChildSpec) -> None:
        self.spec = spec
        self.ref: pykka.ActorRef[Any] | None = None
        self.generation = 0
        self.state = "down"
        self.attempts = 0
        self.started_at: float | None = None
        self.stop_sent = False
        self.abandoned = False  # this incarnation did not stop in time: its end is no news


def restart_group(strategy: Strategy, children: list[_Child], child: _Child) -> list[_Child]:
    """The children ``strategy`` restarts when ``child`` ends, in start order.

    one_for_one: the child; one_for_all: every child not removed; rest_for_one:
    the child and those started after it, not removed.
    """
    if strategy is Strategy.ONE_FOR_ONE:
        return [child]
    if strategy is Strategy.ONE_FOR_ALL:
        return [c for c in children if c.state != "removed"]
    return [c for c in children[children.index(child):] if c.state != "removed"]
