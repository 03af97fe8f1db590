"""Story: an account whose terminal never comes back. With the default
supervision settings the account gives up at its 21st failure, 2 h 55 min
after the first, and, being the only account, the whole tree gives up with
it (run.py exits 3), as docs/supervision.md says; nothing starts the backoff again at 60 s."""

from __future__ import annotations

from toyactors import Script, Worker

from mt5guard.supervision import (
    ChildSpec,
    ChildStarted,
    RestartHistory,
    RestartScheduled,
    Supervisor,
    SupervisorGaveUp,
)


def test_a_permanent_crash_loop_gives_up_at_the_documented_time(story_factory) -> None:
    story = story_factory(prepare=lambda terminal: terminal.set_down(True))
    story.clock.advance(24 * 3600)

    gave_up = story.events(SupervisorGaveUp)
    assert [(e.supervisor, story.at(e)) for e in gave_up] == [
        ("account:demo", 10_500), ("root", 10_500)]
    assert gave_up[0].restarts == 21
    assert story.guard.wait_gave_up(timeout=0) and not story.guard.running
    delays = [e.delay for e in story.events(RestartScheduled) if e.supervisor == "account:demo"]
    assert delays == [60, 120, 240, 480] + [600] * 16  # never back to 60 s


def test_a_rebuilt_supervisor_keeps_its_backoff_and_intensity(clock, bus, recorder) -> None:
    script = Script()
    script.always_fail.add("w")
    history = RestartHistory()
    inner_children = [ChildSpec("w", lambda: Worker("w", script))]
    inner = ChildSpec("inner", lambda: Supervisor(
        "inner", inner_children, clock=clock, bus=bus, max_restarts=100, history=history))
    inner_children[0].handle.parent = inner.handle
    root = Supervisor.start("root", [inner], clock=clock, bus=bus)
    clock.advance(1000)  # w failed at 0, 60, 180, 420 and 900 s
    inner.handle.ref().stop()  # the inner supervisor ends; the root rebuilds it in 60 s
    clock.advance(100)
    assert len([e for e in recorder.of(ChildStarted) if e.child == "inner"]) == 2
    delays = [e.delay for e in recorder.of(RestartScheduled) if e.supervisor == "inner"]
    assert delays == [60, 120, 240, 480, 600, 600]  # the rebuilt one goes on at 600 s
    assert len(history.restarts) == 6
    root.stop()
