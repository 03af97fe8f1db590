"""The deterministic runtime's timeline: timers fire in due order, then in the order set."""

from __future__ import annotations

from mt5guard.testing._clock import DEFAULT_START
from mt5guard.testing._timeline import Timeline


def test_timers_fire_by_due_time_then_in_the_order_set_and_a_cancelled_one_never() -> None:
    timeline, fired = Timeline(DEFAULT_START), []
    for name, delay in (("b", 5.0), ("a", 1.0), ("c", 5.0), ("e", 5.0), ("d", 5.0)):
        timer = timeline.call_later(delay, lambda name=name: fired.append(name))
    timer.cancel()  # "d"
    timeline.call_later(-3.0, lambda: fired.append("now"))  # a negative delay means now
    gone = timeline.call_later(5.0, lambda: fired.append("never"))
    gone.cancel()
    gone.cancel()  # harmless twice
    assert timeline.pending() == [0.0, 1.0, 5.0, 5.0, 5.0]
    while timeline.fire_next(10.0):
        pass
    assert fired == ["now", "a", "b", "c", "e"]
    assert timeline.mono == 5.0 and timeline.pending() == []


def test_a_timer_cancelled_by_one_firing_at_the_same_instant_does_not_fire() -> None:
    timeline, fired = Timeline(DEFAULT_START), []
    first = timeline.call_later(2.0, lambda: (fired.append("first"), second.cancel()))
    second = timeline.call_later(2.0, lambda: fired.append("second"))
    assert first is not second
    assert timeline.fire_next(2.0) and fired == ["first"]
    assert not timeline.fire_next(100.0)
