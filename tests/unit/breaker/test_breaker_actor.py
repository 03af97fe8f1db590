"""The BreakerActor around the policy: trial grants, timers, subscribers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pykka
import pytest

from mt5guard.breaker.actor import BreakerActor
from mt5guard.breaker.messages import (
    BreakerState,
    CallFailed,
    CallSucceeded,
    SubscribeBreaker,
    TrialsGranted,
)
from mt5guard.config import BreakerConfig
from mt5guard.events.bus import EventBus
from mt5guard.supervision import start_actor
from mt5guard.testing import VirtualClock


@pytest.fixture
def breaker(clock: VirtualClock) -> Iterator[tuple[pykka.ActorRef[Any], list[Any]]]:
    seen: list[Any] = []
    config = BreakerConfig(failure_threshold=1, success_threshold=2)
    ref = start_actor(BreakerActor("demo", config, clock, EventBus()), clock, None)
    ref.tell(SubscribeBreaker(seen.append))
    clock.settle()
    yield ref, seen
    ref.stop()


def test_a_stale_success_in_half_open_grants_no_extra_trial(
    clock: VirtualClock, breaker: tuple[pykka.ActorRef[Any], list[Any]]
) -> None:
    ref, seen = breaker
    ref.tell(CallFailed(0, "get_price", "timeout", None, 1.0))
    clock.advance(60)  # OPEN -> HALF_OPEN with one trial
    assert seen[-1].new is BreakerState.HALF_OPEN
    ref.tell(CallSucceeded(0, "get_price", 1.0))  # observed while CLOSED: stale
    clock.settle()
    assert not [m for m in seen if isinstance(m, TrialsGranted)]
    ref.tell(CallSucceeded(seen[-1].epoch, "probe", 1.0))  # the real trial succeeded
    clock.settle()
    assert [m for m in seen if isinstance(m, TrialsGranted)] == [TrialsGranted(2, 1)]
