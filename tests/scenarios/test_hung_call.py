"""Story: one terminal call hangs for two minutes. The health probe notices
within its 10 s timeout, the stuck caller gets a typed timeout, callers queued
behind it past their deadline are told so, and service resumes afterwards."""

from __future__ import annotations

import pytest

from mt5guard.errors import MT5TimeoutError
from mt5guard.health.messages import ProbeRecorded


def test_a_hung_call_times_out_everyone_cleanly_and_service_resumes(story_factory) -> None:
    story = story_factory(request_timeout=30.0)
    story.terminal.hang_next("symbol_info_tick", seconds=120)
    stuck = story.in_background(story.session.get_price, "EURUSD", hangs=True)
    story.clock.advance(20)
    queued = story.in_background(story.session.get_price, "GBPUSD")  # deadline at 20 + 30 s
    story.clock.advance(30)  # the probe sent at 30 s has no answer by 40 s

    probes = [e.result for e in story.events(ProbeRecorded)]
    assert probes[-1].error is not None and "timed out" in probes[-1].error
    assert story.at(probes[-1]) == 40

    story.clock.advance(70)  # the hang ends at 120 s
    with pytest.raises(MT5TimeoutError) as hung:
        stuck.result(timeout=5)
    assert hung.value.code == -10005
    with pytest.raises(MT5TimeoutError, match="deadline"):
        queued.result(timeout=5)

    assert story.session.get_price("GBPUSD").bid > 0
    story.clock.advance(30)
    assert story.events(ProbeRecorded)[-1].result.error is None
