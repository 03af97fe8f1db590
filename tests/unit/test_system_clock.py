"""SystemClock's one scheduler thread outlives whatever it is handed (real time, ms)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import pytest

from mt5guard.clock import SystemClock


@pytest.fixture
def clock() -> Iterator[SystemClock]:
    clock = SystemClock()
    yield clock
    clock.close()


def fires(clock: SystemClock) -> bool:
    done = threading.Event()
    clock.call_later(0.005, done.set)
    return done.wait(2.0)


def waits_on_its_condition(clock: SystemClock) -> bool:
    """Whether the scheduler thread is parked in ``Condition.wait`` (not still computing)."""
    thread = clock._thread
    frame = None if thread is None else sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if frame.f_code.co_name == "wait" and frame.f_code.co_filename == threading.__file__:
            return True
        frame = frame.f_back
    return False


@pytest.mark.parametrize("delay", [9.3e9, 1e300, float("inf")])
def test_a_timer_far_in_the_future_does_not_stop_the_others(clock, delay) -> None:
    clock.call_later(delay, lambda: None)
    deadline = time.monotonic() + 5.0  # until the scheduler thread waits for that timer
    while not waits_on_its_condition(clock):
        assert clock._thread is not None and clock._thread.is_alive(), "the scheduler died"
        assert time.monotonic() < deadline, "the scheduler never waited for the far timer"
        time.sleep(0.001)
    assert fires(clock)


class Escapes(BaseException):
    """Not an Exception: what KeyboardInterrupt or a GeneratorExit look like."""


@pytest.mark.parametrize("error", [RuntimeError("boom"), Escapes("out"), SystemExit(1)])
def test_a_callback_that_raises_anything_does_not_stop_the_scheduler(clock, error) -> None:
    def bad() -> None:
        raise error

    clock.call_later(0.0, bad)
    assert fires(clock)


def test_timers_fire_in_time_order_whatever_order_they_were_set_in(clock) -> None:
    # A timer set behind the next one due does not wake the scheduler; it still fires.
    fired: list[str] = []
    done = threading.Event()
    second = clock.call_later(0.02, lambda: fired.append("second"))
    third = clock.call_later(0.04, lambda: fired.append("third"))
    first = clock.call_later(0.001, lambda: fired.append("first"))
    last = max(first, second, third, key=lambda timer: timer.due)  # set late on a busy machine
    clock.call_later(last.due - time.monotonic(), done.set)
    assert done.wait(2.0)
    by_due = sorted([("first", first.due), ("second", second.due), ("third", third.due)],
                    key=lambda named: named[1])
    assert fired == [name for name, _ in by_due]
