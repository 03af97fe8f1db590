"""Story: the program stops the tree from inside it: from ``on_give_up`` (on
the root's thread) or from a bus subscriber (on whichever actor published).
Guard.stop() there begins the stop and returns; the tree then stops."""

from __future__ import annotations

import threading
from typing import Any

import attrs
from storykit import story_config

from mt5guard.config import SupervisionConfig
from mt5guard.session.guard import Guard, start
from mt5guard.supervision import ChildFailed
from mt5guard.terminal import SimulatedTerminal


def down_terminal(clock: Any) -> SimulatedTerminal:
    terminal = SimulatedTerminal(clock, login=5001, password="pw", server="MetaQuotes-Demo")
    terminal.set_down(True)  # every connect fails
    return terminal


def test_guard_stop_from_on_give_up_does_not_deadlock(clock, bus) -> None:
    config = attrs.evolve(story_config(), supervision=SupervisionConfig(max_restarts=0))
    guards: list[Guard] = []
    started = threading.Event()

    def stop_from_inside(_event: object) -> None:
        # The give-up may come before start() has returned the guard (the first connect
        # fails on the session's own thread): wait for the guard, then stop it from here.
        assert started.wait(5)
        guards[0].stop()

    guard = start(config, clock=clock, bus=bus, terminals={"demo": down_terminal(clock)},
                  on_give_up=stop_from_inside)
    guards.append(guard)
    started.set()
    clock.advance(1)  # the first failure gives up at once
    assert guard.wait_stopped(timeout=5) and not guard.running
    guard.stop()  # idempotent


def test_guard_stop_from_a_bus_subscriber_on_a_supervisor_thread(clock, bus) -> None:
    guards: list[Guard] = []

    def on_event(event: Any) -> None:
        if isinstance(event, ChildFailed) and guards:
            guards[0].stop()  # runs on the account supervisor's thread

    bus.subscribe(on_event)
    guard = start(story_config(), clock=clock, bus=bus,
                  terminals={"demo": down_terminal(clock)})
    guards.append(guard)
    clock.advance(61)  # the session's failed connect is reported; the next one too
    assert guard.wait_stopped(timeout=5) and not guard.running
