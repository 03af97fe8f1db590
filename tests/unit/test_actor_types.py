"""The actors every probe passes through are built as GuardedActors, never adopted."""

from __future__ import annotations

from mt5guard.breaker.actor import BreakerActor
from mt5guard.health.actor import HealthProbeActor
from mt5guard.session.actor import SessionActor
from mt5guard.supervision import GuardedActor


def test_the_accounts_actors_are_guarded_actors_as_built_so_none_is_adopted() -> None:
    """Adoption swaps an instance's class after ``__init__``, and CPython 3.11's attribute
    caches then miss on every ``self.x`` of that instance (loads 2-2.5 times slower):
    the breaker, the session and the health actor are GuardedActors from the start,
    so ``start_actor`` keeps their class as it is (issue 21)."""
    for cls in (BreakerActor, SessionActor, HealthProbeActor):
        assert issubclass(cls, GuardedActor), cls
