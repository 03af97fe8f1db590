"""VirtualClock: time moves only on advance, and advance waits for the actors."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pykka
import pytest
from toyactors import Sleeper

from mt5guard.supervision import start_actor
from mt5guard.testing import SettleTimeout, VirtualClock, simulated_time


def test_timers_fire_in_time_order_including_ones_scheduled_while_advancing() -> None:
    clock = VirtualClock()
    fired: list[tuple[str, float]] = []
    clock.call_later(10, lambda: fired.append(("b", clock.monotonic())))
    clock.call_later(5, lambda: (fired.append(("a", clock.monotonic())),
                                 clock.call_later(2, lambda: fired.append(("a2", clock.monotonic())))))
    cancelled = clock.call_later(6, lambda: fired.append(("never", 0)))
    cancelled.cancel()
    clock.advance(9)
    assert fired == [("a", 5), ("a2", 7)]
    clock.advance(1)
    assert fired[-1] == ("b", 10) and clock.monotonic() == 10


class Relay(pykka.ThreadingActor):
    def __init__(self, log: list[str], name: str, to: Any = None) -> None:
        super().__init__()
        self.log, self.name, self.to = log, name, to

    def on_receive(self, message: Any) -> None:
        self.log.append(self.name)
        if self.to is not None:
            self.to.tell(message)


def test_advance_returns_only_after_a_chain_of_actors_is_done() -> None:
    clock, log = VirtualClock(), []
    last = start_actor(Relay(log, "c"), clock, None)
    middle = start_actor(Relay(log, "b", last), clock, None)
    first = start_actor(Relay(log, "a", middle), clock, None)
    try:
        for _ in range(20):
            clock.call_later(1, lambda: first.tell("go"))
            clock.advance(1)
            assert log[-3:] == ["a", "b", "c"]
        assert len(log) == 60
    finally:
        for ref in (first, middle, last):
            ref.stop()


def test_an_actor_asleep_on_the_clock_counts_as_idle_and_wakes_on_time() -> None:
    clock, log = VirtualClock(), []
    ref = start_actor(Sleeper(clock, log), clock, None)
    ref.tell(30.0)
    ref.tell(5.0)  # queued behind the sleeper: still idle as far as advance is concerned
    clock.advance(29)
    assert log == []
    clock.advance(1)
    assert log == [30]
    clock.advance(5)
    assert log == [30, 35]
    ref.stop()


def test_close_wakes_sleepers_so_a_tree_can_stop() -> None:
    clock, log = VirtualClock(), []
    ref = start_actor(Sleeper(clock, log), clock, None)
    ref.tell(3600.0)
    clock.wait_for_sleepers(1)
    clock.close()
    ref.stop()  # would wait forever without close()
    assert log == [0]


def test_a_busy_actor_fails_the_test_instead_of_hanging_it() -> None:
    clock = VirtualClock(settle_timeout=0.05)
    release = threading.Event()

    class Stuck(pykka.ThreadingActor):
        def on_receive(self, message: Any) -> None:
            release.wait(5)

    ref = start_actor(Stuck(), clock, None)
    ref.tell("x")
    with pytest.raises(SettleTimeout, match="Stuck"):
        clock.advance(1)
    release.set()
    ref.stop()


def test_simulated_time_moves_the_wall_clock_too() -> None:
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    with simulated_time(start) as clock:
        clock.advance(90)
        assert datetime.now(UTC) == clock.now() == datetime(2026, 3, 2, 8, 1, 30, tzinfo=UTC)
    assert datetime.now(UTC).year >= 2026 and datetime.now(UTC) != clock.now()
