"""The session's local view of its breaker admits exactly the trials it was granted."""

from __future__ import annotations

from typing import Any

import pytest

from mt5guard.breaker.messages import (
    BreakerState,
    BreakerStateChanged,
    CallRejected,
    TrialsGranted,
)
from mt5guard.errors import MT5CircuitBreakerOpen
from mt5guard.session._breaker_link import BreakerLink
from mt5guard.testing import VirtualClock


class Breaker:
    """Stands where the BreakerActor's handle is: records what it is told."""

    def __init__(self) -> None:
        self.told: list[Any] = []

    def tell(self, message: Any) -> None:
        self.told.append(message)


class View:
    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.breaker = Breaker()
        self.link = BreakerLink(self.clock, self.breaker)  # type: ignore[arg-type]
        self.epoch = 1
        self.state = BreakerState.CLOSED

    def enter(self, state: BreakerState, trials: int = 0) -> None:
        self.epoch += 1
        self.link.changed(BreakerStateChanged("demo", self.state, state, "test",
                                              self.clock.now(), self.epoch, trials=trials))
        self.state = state


@pytest.mark.parametrize("granted", [1, 3])
def test_half_open_admits_the_granted_trials_then_refuses_until_more_are_granted(
        granted: int) -> None:
    view = View()
    view.enter(BreakerState.HALF_OPEN, trials=granted)
    for _ in range(granted):
        assert view.link.admit("get_price") is None
    for _ in range(5):
        refused = view.link.admit("get_price")
        assert isinstance(refused, MT5CircuitBreakerOpen) and "trial in progress" in str(refused)
    view.link.granted(TrialsGranted(view.epoch, 1))  # one more
    assert view.link.admit("get_price") is None
    assert isinstance(view.link.admit("get_price"), MT5CircuitBreakerOpen)
    view.link.granted(TrialsGranted(view.epoch - 1, 5))  # an older epoch's grant counts nothing
    assert isinstance(view.link.admit("get_price"), MT5CircuitBreakerOpen)
    view.clock.close()


def test_open_refuses_everything_and_closed_admits_everything() -> None:
    view = View()
    assert all(view.link.admit("get_price") is None for _ in range(100))
    view.enter(BreakerState.OPEN)
    assert all(isinstance(view.link.admit("place_order"), MT5CircuitBreakerOpen)
               for _ in range(100))
    view.enter(BreakerState.CLOSED)  # the state change tells the rejections counted so far
    rejected = [m.count for m in view.breaker.told if isinstance(m, CallRejected)]
    assert rejected == [64, 36]
    view.clock.close()


def test_grants_add_up_to_trials_not_yet_used() -> None:
    view = View()
    view.enter(BreakerState.HALF_OPEN, trials=1)
    view.link.granted(TrialsGranted(view.epoch, 2))  # on top of the one not yet used
    for _ in range(3):
        assert view.link.admit("get_price") is None
    assert isinstance(view.link.admit("get_price"), MT5CircuitBreakerOpen)
    view.clock.close()
