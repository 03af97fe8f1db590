"""The session's local view of its breaker admits exactly the trials it was granted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mt5guard.breaker.messages import (
    BreakerState,
    BreakerStateChanged,
    CallFailed,
    CallRejected,
    CallSucceeded,
    TrialsGranted,
)
from mt5guard.errors import MT5CircuitBreakerOpen, MT5ConnectionError
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


def test_a_refusal_storm_wakes_the_breaker_at_most_once_a_second_and_loses_no_count() -> None:
    view = View()
    view.enter(BreakerState.OPEN)
    told = lambda: [m.count for m in view.breaker.told if isinstance(m, CallRejected)]  # noqa: E731
    for _ in range(10_000):  # one instant of clock time: one batch, at the 64th
        view.link.count_rejection()
    assert told() == [64]
    view.clock.advance(0.999)
    view.link.count_rejection()
    assert told() == [64]  # not a second yet
    view.clock.advance(0.001)
    view.link.count_rejection()
    assert told() == [64, 9_938]  # a second since the last batch: all counted so far
    for _ in range(63):
        view.link.count_rejection()
    view.clock.advance(5)
    view.link.count_rejection()  # 64 counted and the second passed: told at once
    view.link.count_rejection()
    view.link.flush_rejections()  # before a snapshot is read: the rest
    view.link.flush_rejections()  # nothing left: nothing told
    assert told() == [64, 9_938, 64, 1]
    assert sum(told()) == 10_067  # every refusal, once
    view.clock.close()


def test_grants_add_up_to_trials_not_yet_used() -> None:
    view = View()
    view.enter(BreakerState.HALF_OPEN, trials=1)
    view.link.granted(TrialsGranted(view.epoch, 2))  # on top of the one not yet used
    for _ in range(3):
        assert view.link.admit("get_price") is None
    assert isinstance(view.link.admit("get_price"), MT5CircuitBreakerOpen)
    view.clock.close()


# what the breaker is told: the counts and figures its policy works from ----------------


def quiet_successes(view: View, n: int, operation: str = "get_price") -> None:
    for _ in range(n):
        view.link.report(operation, view.clock.monotonic(), None)


def test_a_failure_is_told_at_once_with_its_code_latency_and_the_successes_before_it() -> None:
    view = View()
    quiet_successes(view, 5)
    assert view.breaker.told == []  # plain successes ride along with the next message
    view.clock.advance(40.0)  # a call that did not start at the clock's zero
    started = view.clock.monotonic()
    view.clock.advance(0.25)
    view.link.report("get_price", started, MT5ConnectionError(operation="get_price", code=-10004))
    (failed,) = view.breaker.told
    assert isinstance(failed, CallFailed)
    assert (failed.operation, failed.error_kind, failed.code) == ("get_price", "connection", -10004)
    assert failed.latency_ms == pytest.approx(250.0) and failed.successes_before == 5
    view.clock.close()


def test_the_success_that_ends_a_failure_streak_is_told_at_once_then_successes_batch_again(
        ) -> None:
    view = View()
    started = view.clock.monotonic()
    view.link.report("get_price", started, MT5ConnectionError(operation="get_price"))
    view.clock.advance(0.01)
    quiet_successes(view, 1)
    ended = view.breaker.told[-1]
    assert isinstance(ended, CallSucceeded) and ended.count == 1  # the streak is over
    quiet_successes(view, 10)
    assert len(view.breaker.told) == 2  # batched again
    view.clock.close()


def test_a_new_state_ends_a_failure_streak_the_session_was_in() -> None:
    view = View()
    view.link.report("get_price", view.clock.monotonic(), MT5ConnectionError(operation="x"))
    view.enter(BreakerState.CLOSED)  # e.g. reset by an operator: the breaker starts afresh
    quiet_successes(view, 3)
    assert [type(m) for m in view.breaker.told] == [CallFailed]
    view.clock.close()


def test_successes_are_told_in_batches_of_64_while_closed() -> None:
    view = View()
    quiet_successes(view, 63)
    assert view.breaker.told == []
    quiet_successes(view, 1)
    (batch,) = view.breaker.told
    assert isinstance(batch, CallSucceeded) and batch.count == 64
    quiet_successes(view, 64 * 2)
    assert [m.count for m in view.breaker.told] == [64, 64, 64]
    view.clock.close()


def test_a_state_change_tells_the_successes_counted_in_the_epoch_they_happened() -> None:
    view = View()
    view.link.adopt(BreakerStateChanged("demo", None, BreakerState.CLOSED, "start",
                                        view.clock.now(), view.epoch))
    quiet_successes(view, 7)
    view.enter(BreakerState.OPEN)
    (batch,) = view.breaker.told
    assert isinstance(batch, CallSucceeded)
    assert (batch.epoch, batch.count, batch.operation, batch.latency_ms) == (
        view.epoch - 1, 7, "batched", 0.0)
    view.enter(BreakerState.HALF_OPEN, trials=1)  # nothing more counted: nothing more told
    assert len(view.breaker.told) == 1
    view.clock.close()


def test_the_same_epoch_announced_again_is_applied_without_telling_anything() -> None:
    view = View()
    view.link.adopt(BreakerStateChanged("demo", None, BreakerState.HALF_OPEN, "start",
                                        view.clock.now(), view.epoch, trials=1))
    view.link.changed(BreakerStateChanged("demo", BreakerState.HALF_OPEN, BreakerState.OPEN,
                                          "forced", view.clock.now(), view.epoch))
    assert view.link.state is BreakerState.OPEN and view.breaker.told == []
    view.link.changed(BreakerStateChanged("demo", BreakerState.OPEN, BreakerState.CLOSED,
                                          "old", view.clock.now(), view.epoch - 1))
    assert view.link.state is BreakerState.OPEN  # an older epoch changes nothing
    view.clock.close()


def test_a_success_told_at_once_carries_its_own_latency() -> None:
    """A HALF_OPEN trial's success is told at once (it may close the breaker): its
    latency is the call's own, from its start, in milliseconds."""
    view = View()
    view.enter(BreakerState.HALF_OPEN, trials=1)
    view.clock.advance(90.0)
    assert view.link.admit("get_price") is None
    started = view.clock.monotonic()
    view.clock.advance(0.125)
    view.link.report("get_price", started, None)
    (told,) = view.breaker.told
    assert isinstance(told, CallSucceeded) and told.count == 1
    assert told.latency_ms == pytest.approx(125.0)
    view.clock.close()


def test_a_refusal_while_open_says_when_the_breaker_will_try_again() -> None:
    """The trader is told the breaker's own retry time, not a guess and not nothing."""
    view = View()
    retry_at = view.clock.now() + timedelta(seconds=60)
    view.epoch += 1
    view.link.changed(BreakerStateChanged("demo", BreakerState.CLOSED, BreakerState.OPEN,
                                          "test", view.clock.now(), view.epoch,
                                          retry_at=retry_at))
    refused = view.link.admit("get_price")
    assert isinstance(refused, MT5CircuitBreakerOpen) and refused.retry_at == retry_at
    view.epoch += 1
    view.link.changed(BreakerStateChanged("demo", BreakerState.OPEN, BreakerState.HALF_OPEN,
                                          "test", view.clock.now(), view.epoch, trials=0,
                                          retry_at=retry_at))
    refused = view.link.admit("get_price")  # no trial left: refused, same retry time
    assert isinstance(refused, MT5CircuitBreakerOpen) and refused.retry_at == retry_at
    view.clock.close()


def test_a_refusal_while_open_has_no_trial_detail() -> None:
    view = View()
    view.enter(BreakerState.OPEN)
    refused = view.link.admit("get_price")
    assert isinstance(refused, MT5CircuitBreakerOpen) and refused.detail == ""
    view.clock.close()


def test_live_follows_every_state_the_link_adopts_and_gates_the_batched_successes() -> None:
    view = View()
    assert view.link.live  # CLOSED at first
    for state, live in ((BreakerState.OPEN, False), (BreakerState.HALF_OPEN, False),
                        (BreakerState.DISABLED, True), (BreakerState.OPEN, False),
                        (BreakerState.CLOSED, True)):
        view.enter(state, trials=1)
        assert view.link.live is live, state
    view.enter(BreakerState.HALF_OPEN, trials=1)
    view.link.report("get_price", view.clock.monotonic(), None)  # a trial's success: told now
    assert [type(m) for m in view.breaker.told][-1] is CallSucceeded
    view.clock.close()
