"""A supervisor's restart record, kept outside the supervisor so it survives a rebuild."""

from __future__ import annotations

__all__ = ["RestartHistory"]


class RestartHistory:
    """Restart intensity and backoff state of one supervisor.

    A parent that rebuilds a nested supervisor (after it crashed or gave up)
    builds a fresh actor; handing every incarnation the same history keeps
    its backoff going (600 s stays 600 s, not 60 s again) and its restarts
    counted in the same sliding window. Touched only by the supervisor
    owning it at the time (one incarnation at a time).
    """

    def __init__(self) -> None:
        self.restarts: list[float] = []
        """Monotonic seconds of each restart within the window."""
        self.attempts: dict[str, int] = {}
        """Consecutive failures per child name, as counted for backoff."""
