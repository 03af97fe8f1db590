"""Shared fixtures: a virtual clock, an event recorder, and a leak check."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pykka
import pytest

from mt5guard.events.bus import EventBus
from mt5guard.testing import VirtualClock


class Recorder:
    """Collects published events; ``of(Type)`` filters them."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, *types: type) -> list[Any]:
        with self._lock:
            return [e for e in self.events if isinstance(e, types)]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(settle_timeout=5.0)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def bus(recorder: Recorder) -> EventBus:
    bus = EventBus()
    bus.subscribe(recorder)
    return bus


@pytest.fixture(autouse=True)
def state_in_tmp(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in its own folder, so order journals (``./state``) never meet."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def no_actor_left_behind() -> Iterator[None]:
    """Every test must stop what it started: no actor, no actor thread."""
    before = set(pykka.ActorRegistry.get_all())
    yield
    leaked = [ref for ref in pykka.ActorRegistry.get_all() if ref not in before]
    for ref in leaked:
        ref.stop(block=True, timeout=2)
    assert not leaked, f"test left actors running: {leaked}"
