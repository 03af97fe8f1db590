"""SystemClock's one scheduler thread outlives whatever it is handed (real time, ms)."""

from __future__ import annotations

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


@pytest.mark.parametrize("delay", [9.3e9, 1e300, float("inf")])
def test_a_timer_far_in_the_future_does_not_stop_the_others(clock, delay) -> None:
    clock.call_later(delay, lambda: None)
    time.sleep(0.05)  # the scheduler thread is now waiting for that timer
    assert fires(clock)


class Escapes(BaseException):
    """Not an Exception: what KeyboardInterrupt or a GeneratorExit look like."""


@pytest.mark.parametrize("error", [RuntimeError("boom"), Escapes("out"), SystemExit(1)])
def test_a_callback_that_raises_anything_does_not_stop_the_scheduler(clock, error) -> None:
    def bad() -> None:
        raise error

    clock.call_later(0.0, bad)
    assert fires(clock)
