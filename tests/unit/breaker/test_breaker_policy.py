"""The breaker state machine, driven directly (no threads, no clock)."""

from __future__ import annotations

import pytest

from mt5guard.breaker.messages import BreakerState as S
from mt5guard.breaker.policy import BreakerPolicy
from mt5guard.config import BreakerConfig


def tripped(policy: BreakerPolicy, failures: int = 5) -> BreakerPolicy:
    for _ in range(failures):
        policy.on_failure(policy.epoch, "timeout")
    return policy


def test_consecutive_failures_trip_and_a_success_resets_the_count() -> None:
    policy = BreakerPolicy(BreakerConfig(failure_threshold=3))
    for _ in range(2):
        policy.on_failure(0, "timeout")
    policy.on_success(0)
    assert policy.on_failure(0, "timeout") is None and policy.state is S.CLOSED
    policy.on_failure(0, "timeout")
    move = policy.on_failure(0, "connection")
    assert move is not None and move.new is S.OPEN and move.open_for == 60
    assert "3 consecutive failures (last: connection)" in move.reason


def test_failure_rate_trips_only_after_the_minimum_number_of_calls() -> None:
    policy = BreakerPolicy(BreakerConfig(failure_threshold=100, failure_rate=0.5, window=10,
                                         minimum_calls=6))
    outcomes = [False, True, False, True, False]  # 60 % failures, but only 5 calls
    for ok in outcomes:
        assert (policy.on_success(0) if ok else policy.on_failure(0, "timeout")) is None
    move = policy.on_success(0)  # 6 calls, 50 %
    assert move is None  # rate checked on failures only
    move = policy.on_failure(0, "timeout")
    assert move is not None and move.new is S.OPEN and "failure rate" in move.reason


def test_open_leaves_on_its_own_timer_and_a_trial_success_closes() -> None:
    policy = tripped(BreakerPolicy(BreakerConfig()))
    opened = policy.epoch
    move = policy.on_open_elapsed(opened)
    assert move is not None and move.new is S.HALF_OPEN and move.trials == 1
    move = policy.on_success(policy.epoch)
    assert move is not None and move.new is S.CLOSED


def test_failed_trials_double_the_open_period_up_to_the_maximum_and_closing_resets() -> None:
    policy = tripped(BreakerPolicy(BreakerConfig()))
    periods = []
    for _ in range(6):
        policy.on_open_elapsed(policy.epoch)
        move = policy.on_failure(policy.epoch, "timeout")
        assert move is not None
        periods.append(move.open_for)
    assert periods == [120, 240, 480, 600, 600, 600]
    policy.on_open_elapsed(policy.epoch)
    policy.on_success(policy.epoch)
    tripped(policy)
    assert policy.open_duration == 60


def test_no_trial_result_within_the_wait_falls_back_to_open() -> None:
    policy = tripped(BreakerPolicy(BreakerConfig()))
    policy.on_open_elapsed(policy.epoch)
    move = policy.on_trial_timeout(policy.epoch)
    assert move is not None and move.new is S.OPEN and "no trial result within 30 s" in move.reason


def test_outcomes_from_an_older_epoch_cannot_move_the_breaker() -> None:
    policy = tripped(BreakerPolicy(BreakerConfig()))
    stale = policy.epoch - 1
    policy.on_open_elapsed(policy.epoch)
    assert policy.on_failure(stale, "timeout") is None
    assert policy.on_success(stale) is None
    assert policy.state is S.HALF_OPEN
    assert policy.on_open_elapsed(stale) is None and policy.on_trial_timeout(stale) is None


def test_success_threshold_needs_several_trials() -> None:
    policy = tripped(BreakerPolicy(BreakerConfig(success_threshold=3)))
    policy.on_open_elapsed(policy.epoch)
    assert policy.on_success(policy.epoch) is None
    assert policy.on_success(policy.epoch) is None
    move = policy.on_success(policy.epoch)
    assert move is not None and move.new is S.CLOSED


def test_a_reconnect_while_open_starts_a_trial_at_once_but_not_when_forced() -> None:
    policy = tripped(BreakerPolicy(BreakerConfig()))
    move = policy.on_success(policy.epoch - 1, reconnected=True)  # seen before it opened
    assert move is not None and move.new is S.HALF_OPEN
    forced = BreakerPolicy(BreakerConfig())
    forced.force_open("maintenance")
    assert forced.on_success(forced.epoch, reconnected=True) is None and forced.state is S.OPEN


def test_an_outcome_without_an_epoch_is_never_current() -> None:
    """epoch=None: observed by a session that did not know the breaker's state yet."""
    policy = tripped(BreakerPolicy(BreakerConfig()))
    policy.on_open_elapsed(policy.epoch)
    assert policy.on_success(None) is None and policy.state is S.HALF_OPEN
    closed = BreakerPolicy(BreakerConfig(failure_threshold=1))
    assert closed.on_failure(None, "timeout") is None and closed.state is S.CLOSED


@pytest.mark.parametrize("command", ["force_open", "reset", "disable"])
def test_operator_commands(command: str) -> None:
    policy = BreakerPolicy(BreakerConfig())
    if command == "force_open":
        move = policy.force_open("maintenance")
        assert move is not None and move.new is S.OPEN and move.open_for is None
        assert policy.on_open_elapsed(policy.epoch) is None  # forced: stays open
    elif command == "reset":
        tripped(policy)
        move = policy.reset()
        assert move is not None and move.new is S.CLOSED and policy.open_duration == 60
    else:
        move = policy.set_enabled(False)
        assert move is not None and move.new is S.DISABLED
        assert tripped(policy, 50).state is S.DISABLED
        again = policy.set_enabled(True)
        assert again is not None and again.new is S.CLOSED


def test_counters() -> None:
    policy = tripped(BreakerPolicy(BreakerConfig()))
    policy.on_rejected()
    assert (policy.calls, policy.failures, policy.rejections, policy.transitions) == (5, 5, 1, 1)


def test_reset_forgets_the_failures_and_says_the_operator_did_it() -> None:
    policy = BreakerPolicy(BreakerConfig(failure_threshold=3))
    policy.on_failure(policy.epoch, "timeout")
    policy.on_failure(policy.epoch, "timeout")
    assert policy.reset() is None and policy.consecutive_failures == 0  # closed: no move
    policy.on_failure(policy.epoch, "timeout")
    policy.on_failure(policy.epoch, "timeout")
    assert policy.state is S.CLOSED  # two since the reset, not four: still closed
    tripped(policy, 1)
    move = policy.reset()
    assert move is not None and (move.old, move.new, move.reason) == \
        (S.OPEN, S.CLOSED, "reset by operator")
    assert policy.consecutive_failures == 0


def test_disable_and_enable_say_the_operator_did_it_and_enabling_starts_counting_afresh() -> None:
    policy = BreakerPolicy(BreakerConfig(failure_threshold=3))
    assert policy.set_enabled(True) is None  # already enabled: no move
    policy.on_failure(policy.epoch, "timeout")
    policy.on_failure(policy.epoch, "timeout")
    off = policy.set_enabled(False)
    assert off is not None and (off.old, off.new, off.reason) == \
        (S.CLOSED, S.DISABLED, "disabled by operator")
    assert policy.set_enabled(False) is None  # already disabled
    on = policy.set_enabled(True)
    assert on is not None and (on.old, on.new, on.reason) == \
        (S.DISABLED, S.CLOSED, "enabled by operator")
    assert policy.consecutive_failures == 0
    policy.on_failure(policy.epoch, "timeout")
    policy.on_failure(policy.epoch, "timeout")
    assert policy.state is S.CLOSED
    forced = BreakerPolicy(BreakerConfig())
    forced.force_open("maintenance")
    assert forced.set_enabled(True) is None and forced.state is S.OPEN  # enabling is not reset


# what operators read: the reasons in the log (docs/operations.md), the snapshot's counts --


def test_the_reasons_operators_read_are_the_documented_ones() -> None:
    policy = tripped(BreakerPolicy(BreakerConfig(failure_threshold=5)))
    elapsed = policy.on_open_elapsed(policy.epoch)
    assert elapsed is not None and elapsed.reason == "open period elapsed"
    closed = policy.on_success(policy.epoch)
    assert closed is not None and closed.reason == "trial call succeeded"
    assert (closed.new, closed.trials) == (S.CLOSED, 0)
    tripped(policy)
    back = policy.on_success(None, reconnected=True)
    assert back is not None and (back.new, back.reason) == (S.HALF_OPEN, "terminal reconnected")
    assert policy.transitions == 5  # open, half-open, closed, open, half-open


def test_outcomes_that_arrive_while_open_are_not_counted_as_failures() -> None:
    policy = tripped(BreakerPolicy(BreakerConfig(failure_threshold=5)))
    assert policy.failures == 5
    assert policy.on_failure(policy.epoch, "timeout") is None  # a call still in flight
    assert policy.on_success(policy.epoch) is None  # neither a plain success...
    assert policy.state is S.OPEN and policy.failures == 5  # ...nor a late failure counts
    policy.set_enabled(False)
    policy.on_failure(policy.epoch, "timeout")
    assert policy.failures == 5


def test_a_rate_trip_opens_for_the_base_period_a_failed_trial_or_a_silent_one_doubles_it(
        ) -> None:
    policy = BreakerPolicy(BreakerConfig(failure_threshold=100, failure_rate=0.5, window=4,
                                         minimum_calls=4, open_duration=60))
    policy.on_success(0)
    for _ in range(3):
        move = policy.on_failure(0, "timeout")
    assert move is not None and "failure rate" in move.reason and move.open_for == 60
    assert policy.on_open_elapsed(policy.epoch) is not None
    again = policy.on_trial_timeout(policy.epoch)  # no trial result in time
    assert again is not None and again.new is S.OPEN and again.open_for == 120


def test_a_stale_open_timer_does_not_end_a_later_open_period() -> None:
    policy = tripped(BreakerPolicy(BreakerConfig(failure_threshold=5)))
    first = policy.epoch
    policy.on_open_elapsed(first)
    policy.on_failure(policy.epoch, "timeout")  # the trial failed: open again
    assert policy.on_open_elapsed(first) is None and policy.state is S.OPEN


def test_a_plain_success_does_not_end_an_open_period_only_a_reconnect_does() -> None:
    policy = tripped(BreakerPolicy(BreakerConfig(failure_threshold=5)))
    assert policy.on_success(None) is None and policy.state is S.OPEN


def test_after_a_reconnect_every_required_trial_success_is_counted_afresh() -> None:
    policy = tripped(BreakerPolicy(BreakerConfig(failure_threshold=5, success_threshold=2,
                                                 half_open_max_trials=2)))
    policy.on_open_elapsed(policy.epoch)
    policy.on_success(policy.epoch)  # one of two trials done...
    policy.on_failure(policy.epoch, "timeout")  # ...then one failed: open again
    assert policy.on_success(None, reconnected=True) is not None
    assert policy.on_success(policy.epoch) is None and policy.state is S.HALF_OPEN
    assert policy.on_success(policy.epoch) is not None and policy.state is S.CLOSED


def test_closing_after_trials_starts_the_failure_count_afresh() -> None:
    policy = tripped(BreakerPolicy(BreakerConfig(failure_threshold=3)), failures=3)
    policy.on_open_elapsed(policy.epoch)
    policy.on_success(policy.epoch)
    assert policy.state is S.CLOSED
    for _ in range(2):
        assert policy.on_failure(policy.epoch, "timeout") is None
    assert policy.state is S.CLOSED
