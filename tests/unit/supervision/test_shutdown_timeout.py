"""supervision.shutdown_timeout: a child that will not stop is abandoned, never waited for."""

from __future__ import annotations

import threading
import time

import pykka

from mt5guard.clock import SystemClock
from mt5guard.events.bus import EventBus
from mt5guard.supervision import ChildAbandoned, ChildSpec, Supervisor, SupervisorStopped


class Stuck(pykka.ThreadingActor):
    """Its on_stop blocks until ``release`` is set (a terminal call that never returns)."""

    def __init__(self, release: threading.Event, journal: list[str], name: str) -> None:
        super().__init__()
        self.release, self.journal, self.name = release, journal, name

    def on_stop(self) -> None:
        self.journal.append(f"stopping {self.name}")
        self.release.wait(30)
        self.journal.append(f"stopped {self.name}")


class Quick(pykka.ThreadingActor):
    def __init__(self, journal: list[str], name: str) -> None:
        super().__init__()
        self.journal, self.name = journal, name

    def on_stop(self) -> None:
        self.journal.append(f"stopped {self.name}")


def test_a_child_that_does_not_stop_in_time_is_abandoned_and_released() -> None:
    clock, bus, events = SystemClock(), EventBus(), []  # real waits: shutdown is real time
    bus.subscribe(events.append)
    release, journal = threading.Event(), []
    children = [
        ChildSpec("first", lambda: Quick(journal, "first")),
        ChildSpec("stuck", lambda: Stuck(release, journal, "stuck"), on_abandon=release.set),
        ChildSpec("last", lambda: Quick(journal, "last")),
    ]
    ref = Supervisor.start("sup", children, clock=clock, bus=bus, shutdown_timeout=0.2)
    started = time.monotonic()
    ref.stop(block=True, timeout=5)
    assert time.monotonic() - started < 5.0  # not the stuck child's 30 s
    abandoned = [e for e in events if isinstance(e, ChildAbandoned)]
    assert [(e.supervisor, e.child, e.released) for e in abandoned] == [("sup", "stuck", True)]
    # What was left of the shared 0.2 s deadline (0.1 s at least): never more than the timeout.
    # Its lower end depends on how long stopping "last" took, so a loaded machine lowers it.
    assert 0.1 <= abandoned[0].waited <= 0.2
    assert any(isinstance(e, SupervisorStopped) for e in events)
    # still in reverse order; the one after the stuck child was not starved of its stop
    assert journal[:2] == ["stopped last", "stopping stuck"] and "stopped first" in journal
    assert release.is_set()  # on_abandon ran, so the stuck thread could end
    clock.close()


def test_children_that_stop_in_time_are_never_reported_abandoned() -> None:
    clock, bus, events = SystemClock(), EventBus(), []
    bus.subscribe(events.append)
    journal: list[str] = []
    children = [ChildSpec(n, lambda n=n: Quick(journal, n)) for n in ("a", "b", "c")]
    ref = Supervisor.start("sup", children, clock=clock, bus=bus, shutdown_timeout=0.5)
    ref.stop(block=True, timeout=5)
    assert journal == ["stopped c", "stopped b", "stopped a"]
    assert not [e for e in events if isinstance(e, ChildAbandoned)]
    clock.close()




def stuck_pair(journal: list[str]) -> list[ChildSpec]:
    releases = {name: threading.Event() for name in ("a", "b")}

    def abandon(name: str) -> None:
        journal.append(f"abandon {name}")
        releases[name].set()

    return [ChildSpec(n, lambda n=n: Stuck(releases[n], journal, n), on_abandon=lambda n=n: abandon(n))
            for n in ("a", "b")]


def test_by_default_children_stop_one_at_a_time_so_each_hung_one_is_abandoned_first() -> None:
    clock, journal = SystemClock(), []
    ref = Supervisor.start("sup", stuck_pair(journal), clock=clock, shutdown_timeout=0.2)
    ref.stop(block=True, timeout=5)
    stops = [e for e in journal if not e.startswith("stopped")]
    assert stops == ["stopping b", "abandon b", "stopping a", "abandon a"]
    clock.close()


def test_independent_children_stopped_together_hang_in_parallel_not_in_turn() -> None:
    clock, bus, events, journal = SystemClock(), EventBus(), [], []
    bus.subscribe(events.append)
    ref = Supervisor.start("root", stuck_pair(journal), clock=clock, bus=bus, shutdown_timeout=0.2,
                           stop_together=True)
    ref.stop(block=True, timeout=5)
    stops = [e for e in journal if not e.startswith("stopped")]
    assert sorted(stops[:2]) == ["stopping a", "stopping b"]  # both asked before either was abandoned
    assert stops[2:] == ["abandon b", "abandon a"]  # still awaited in reverse order
    assert [e.child for e in events if isinstance(e, ChildAbandoned)] == ["b", "a"]
    clock.close()
