"""The session's local view of its breaker admits exactly the trials it was granted."""

from __future__ import annotations

from typing import Any

import pytest

from mt5guard.breaker.messages import BreakerState, BreakerStateChanged, CallRejected
from mt5guard.errors import MT5CircuitBreakerOpen
from mt5guard.session._breaker_link import BreakerLink
from mt5guard.testing import VirtualClock


class Breaker:
    """Stands where the BreakerActor's handle is: records what it is told."""

    def __init__(self) -> None:
        self.told: list[Any] = []

    def tell(self, message: Any) -> None:
        self.told.append(message)


class View(BreakerLink):
    def __init__(self) -> None:
        self._clock = VirtualClock()
        self._breaker = Breaker()  # type: ignore[assignment]
        self._state, self._epoch, self._retry_at, self._trials = BreakerState.CLOSED, 1, None, 0
        self._quiet_successes = self._quiet_rejections = 0
        self._failure_streak = False

    def enter(self, state: BreakerState, trials: int = 0) -> None:
        assert self._epoch is not None
        self._breaker_changed(BreakerStateChanged("demo", self._state, state, "test",
                                                  self._clock.now(), self._epoch + 1,
                                                  trials=trials))


@pytest.mark.parametrize("granted", [1, 3])
def test_half_open_admits_the_granted_trials_then_refuses_until_more_are_granted(
        granted: int) -> None:
    view = View()
    view.enter(BreakerState.HALF_OPEN, trials=granted)
    for _ in range(granted):
        assert view._admit("get_price") is None
    for _ in range(5):
        refused = view._admit("get_price")
        assert isinstance(refused, MT5CircuitBreakerOpen) and "trial in progress" in str(refused)
    view._trials += 1  # TrialsGranted(epoch, 1): one more
    assert view._admit("get_price") is None
    assert isinstance(view._admit("get_price"), MT5CircuitBreakerOpen)
    view._clock.close()


def test_open_refuses_everything_and_closed_admits_everything() -> None:
    view = View()
    assert all(view._admit("get_price") is None for _ in range(100))
    view.enter(BreakerState.OPEN)
    assert all(isinstance(view._admit("place_order"), MT5CircuitBreakerOpen) for _ in range(100))
    view.enter(BreakerState.CLOSED)  # the state change tells the rejections counted so far
    rejected = [m.count for m in view._breaker.told if isinstance(m, CallRejected)]
    assert rejected == [64, 36]
    view._clock.close()
