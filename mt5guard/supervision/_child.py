"""What a supervisor knows about each child, and the messages it sends itself."""

from __future__ import annotations

from typing import Any

import attrs
import pykka

from mt5guard.supervision._spec import ChildSpec

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
class ChildState:
    """A child as its supervisor sees it (from :meth:`Supervisor.children`)."""

    name: str
    state: str
    """``running``, ``stopping``, ``down`` or ``removed``."""
    generation: int
    failures: int
    """Consecutive failures counted for backoff."""


class _Child:
    __slots__ = ("attempts", "generation", "ref", "spec", "started_at", "state", "stop_sent")

    def __init__(self, spec: ChildSpec) -> None:
        self.spec = spec
        self.ref: pykka.ActorRef[Any] | None = None
        self.generation = 0
        self.state = "down"
        self.attempts = 0
        self.started_at: float | None = None
        self.stop_sent = False
