"""Story: a child that cannot start keeps failing; the operator sees restarts
spaced 60, 120, 240, 480, 600, 600... seconds apart, then a recovery."""

from __future__ import annotations

from toyactors import Script, Worker

from mt5guard.supervision import ChildSpec, ChildStarted, RestartScheduled, Supervisor


def test_eight_failures_in_a_row_restart_at_exact_backoff_times(clock, bus, recorder) -> None:
    script = Script()
    script.start_failures["session"] = 8
    child = ChildSpec("session", lambda: Worker("session", script))
    t0 = clock.now().timestamp()
    ref = Supervisor.start("account", [child], clock=clock, bus=bus, max_restarts=20)

    clock.advance(4 * 3600)  # four simulated hours, in milliseconds of real time

    starts = [e.at.timestamp() - t0 for e in recorder.of(ChildStarted)]
    # first start, then eight restarts after 60, 120, 240, 480, 600, 600, 600, 600 s
    assert starts == [0, 60, 180, 420, 900, 1500, 2100, 2700, 3300]
    assert [e.delay for e in recorder.of(RestartScheduled)] == [60, 120, 240, 480, 600, 600, 600, 600]
    assert [e.attempt for e in recorder.of(RestartScheduled)] == list(range(1, 9))
    assert child.handle.ask("who")[0] == "session"  # the ninth start succeeded
    assert script.journal == ["start session"]
    ref.stop()
