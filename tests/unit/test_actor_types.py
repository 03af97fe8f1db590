"""The actors every probe passes through are built as GuardedActors, never adopted."""

from __future__ import annotations

import gc

from mt5guard.breaker.actor import BreakerActor
from mt5guard.health.actor import HealthProbeActor
from mt5guard.session.actor import SessionActor
from mt5guard.supervision import GuardedActor
from mt5guard.testing import DeterministicRuntime


def test_the_accounts_actors_are_guarded_actors_as_built_so_none_is_adopted() -> None:
    """Adoption swaps an instance's class after ``__init__``, and CPython 3.11's attribute
    caches then miss on every ``self.x`` of that instance (loads 2-2.5 times slower):
    the breaker, the session and the health actor are GuardedActors from the start,
    so ``start_actor`` keeps their class as it is (issue 21)."""
    for cls in (BreakerActor, SessionActor, HealthProbeActor):
        assert issubclass(cls, GuardedActor), cls



class _Echo(GuardedActor):
    def on_receive(self, message: object) -> object:
        return message


def test_starting_an_actor_leaves_its_attributes_in_cpythons_fast_layout() -> None:
    """The glue keeps its own state (host, start, exit, failure) as plain attributes:
    touching an instance's ``__dict__`` makes CPython 3.11 build a real dict for it,
    and every ``self.x`` of the actor then takes the slow lookup (about 4x slower;
    issue 21). Seen from the collector: a built dict is among the instance's referents.
    (An adopted actor gets one anyway: swapping an instance's class builds it.)"""
    with DeterministicRuntime(0) as runtime:
        ref = runtime.start(_Echo)
        assert ref.ask("ping") == "ping"
        (actor,) = [entry.actor for entry in runtime._entries.values()]
        assert actor._mt5guard_started and actor._mt5guard_host is runtime
        assert not any(type(r) is dict for r in gc.get_referents(actor))
        ref.stop()
