"""Story: the health probe keeps a steady 30 s beat, skips nothing while the
terminal answers, pauses while the breaker is open and probes at once when
it half-opens."""

from __future__ import annotations

from mt5guard.health.messages import ProbeRecorded


def probe_times(story) -> list[float]:  # type: ignore[no-untyped-def]
    return [story.at(e.result) for e in story.events(ProbeRecorded) if not e.result.skipped]


def test_probes_run_on_a_fixed_30_s_grid(story) -> None:
    story.clock.advance(150)
    assert probe_times(story) == [0, 30, 60, 90, 120, 150]
    assert story.terminal.calls["terminal_info"] == 6 + 1  # six probes and the connect's preflight


def test_a_slow_probe_does_not_shift_the_grid(story_factory) -> None:
    story = story_factory()
    story.terminal.hang_next("terminal_info", seconds=4)
    story.clock.advance(60)  # the probe sent at 30 s hangs until 34 s (an IPC timeout)
    assert probe_times(story) == [0, 34, 60]


def test_probing_pauses_while_open_and_resumes_with_the_trial(story) -> None:
    story.session.force_open("maintenance")
    story.clock.advance(1)
    calls = story.terminal.calls["terminal_info"]
    story.clock.advance(300)
    assert story.terminal.calls["terminal_info"] == calls  # nothing while OPEN
    story.session.reset_breaker()
    story.clock.advance(1)
    assert probe_times(story)[-1] == 301  # resumed at once
    story.clock.advance(30)
    assert probe_times(story)[-1] == 331


def test_a_day_of_answered_probes_leaves_no_timer_behind_and_none_times_out() -> None:
    from storykit import deterministic_tree

    from mt5guard.events.bus import EventBus
    from mt5guard.testing import DeterministicRuntime

    with DeterministicRuntime(1) as runtime:
        bus, probes = EventBus(), []
        bus.subscribe(lambda e: probes.append(e) if isinstance(e, ProbeRecorded) else None)
        guard, _terminal = deterministic_tree(runtime, bus)
        runtime.advance(60)
        armed = runtime.pending_timers()
        runtime.advance(86_400)
        assert len(runtime.pending_timers()) == len(armed)  # the next slot and its timeout, ...
        assert len(probes) == 2 + 1 + 2_880 and all(not p.result.error for p in probes)
        assert not any("_ProbeTimedOut" in line or "_SlotDue" in line for line in runtime.log)
        guard.stop()
