"""A tree stopped while it is still starting its children starts no more."""

from __future__ import annotations

import threading

from toyactors import Script, Worker

from mt5guard.supervision import ChildSpec, ChildStarted, Supervisor, start_actor


def test_a_halted_supervisor_stops_without_starting_the_rest(clock, bus, recorder) -> None:
    script = Script()
    building, release = threading.Event(), threading.Event()

    def slow_second() -> Worker:
        building.set()
        release.wait(5)  # a start-up still in progress (thousands of accounts)
        return Worker("w1", script)

    children = [ChildSpec(f"w{i}", lambda i=i: Worker(f"w{i}", script)) for i in range(50)]
    children[1] = ChildSpec("w1", slow_second)
    supervisor = Supervisor("root", children, clock=clock, bus=bus)
    ref = start_actor(supervisor, clock, None)
    assert building.wait(5)
    supervisor.halt()  # from this thread, while on_start is busy
    release.set()
    ref.stop()
    assert [e.child for e in recorder.of(ChildStarted)] == ["w0", "w1"]
    assert script.journal == ["start w0", "start w1", "stop w1", "stop w0"]
