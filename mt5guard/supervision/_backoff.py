"""Exponential backoff arithmetic: pure, no clock, no threads."""

from __future__ import annotations

import random

import attrs

__all__ = ["Backoff"]


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"Backoff.{attribute.name} must be > 0 seconds, got {value!r}")


@attrs.frozen
class Backoff:
    """Delays between restarts of a failing child, in seconds.

    The n-th consecutive failure (n = 0 for the first) waits
    ``min(maximum, initial * multiplier**n)``, then spreads it by
    ``±jitter`` (a fraction) and clamps it into ``[initial, maximum]``.
    A child that ran ``reset_after`` seconds without failing starts again at
    ``initial``.
    """

    initial: float = attrs.field(default=60.0, validator=_positive)
    maximum: float = attrs.field(default=600.0, validator=_positive)
    multiplier: float = attrs.field(default=2.0)
    jitter: float = attrs.field(default=0.0)
    reset_after: float = attrs.field(default=300.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.initial > self.maximum:
            raise ValueError(
                f"Backoff.initial ({self.initial} s) must not exceed maximum ({self.maximum} s)"
            )
        if self.multiplier < 1:
            raise ValueError(f"Backoff.multiplier must be >= 1, got {self.multiplier!r}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"Backoff.jitter must be within 0..1, got {self.jitter!r}")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        exponent = min(max(attempt, 0), 64)  # beyond this the cap always wins
        base = min(self.maximum, self.initial * self.multiplier**exponent)
        if self.jitter and rng is not None:
            base *= 1.0 + rng.uniform(-self.jitter, self.jitter)
        return min(self.maximum, max(self.initial, base))

    def schedule(self, failures: int) -> list[float]:
        """The delays (no jitter) for ``failures`` consecutive failures."""
        return [self.delay(n) for n in range(failures)]
