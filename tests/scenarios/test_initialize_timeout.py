"""Story: the terminal never answers initialize (IPC timeout after the whole
60 s). Callers are never left hanging: the one waiting on the first attempt
learns it failed, later ones are told at once when the next attempt is."""

from __future__ import annotations

import pytest

from mt5guard.errors import MT5Error, MT5Unavailable
from mt5guard.health.messages import HealthChanged, HealthStatus
from mt5guard.session.messages import SessionConnected
from mt5guard.supervision import ChildFailed, ChildStarted


def test_initialize_timeouts_restart_with_backoff_until_the_terminal_answers(story_factory) -> None:
    story = story_factory(prepare=lambda terminal: terminal.initialize_times_out())
    waiting = story.in_background(story.session.get_price, "EURUSD")  # queued behind initialize
    story.clock.advance(60)  # initialize gives up after its 60 s timeout
    with pytest.raises(MT5Unavailable):
        waiting.result(timeout=5)

    failures = [e for e in story.events(ChildFailed) if e.child == "session"]
    assert [story.at(e) for e in failures] == [60]
    assert "IPC timeout" in failures[0].error and "-10005" in failures[0].error

    story.clock.advance(1)  # down until 120: refused at once, with the time of the next attempt
    with pytest.raises(MT5Unavailable) as down:
        story.session.get_price("EURUSD")
    assert down.value.retry_at is not None
    assert (down.value.retry_at - story.t0).total_seconds() == 120

    story.clock.advance(59 + 60)  # second attempt 120..180 times out too; next at 180 + 120
    story.terminal.initialize_times_out(False)
    story.clock.advance(120)
    starts = [story.at(e) for e in story.events(ChildStarted) if e.child == "session"]
    assert starts == [0, 120, 300]
    assert [story.at(e) for e in story.events(SessionConnected)] == [300]
    assert story.session.get_price("EURUSD").ask > 0

    story.clock.advance(30)
    overall = [(story.at(e), e.new) for e in story.events(HealthChanged) if e.component == "overall"]
    assert overall[-1] == (300, HealthStatus.SERVING)
    assert HealthStatus.SERVING not in [s for t, s in overall if t < 300]


def test_a_first_start_gets_the_longer_first_timeout_and_a_reconnect_the_usual_one(
        story_factory) -> None:
    """A fresh terminal compiles for about a minute: the session's first initialize may take
    ``first_timeout`` (here 3 min); a reconnect later waits the usual 60 s."""
    import attrs
    from storykit import story_config

    base = story_config()
    account = base.accounts[0]
    slow_start = attrs.evolve(account, terminal=attrs.evolve(account.terminal, first_timeout=180.0))
    story = story_factory(prepare=lambda terminal: terminal.initialize_times_out(),
                          accounts=(slow_start,))
    story.clock.advance(60)
    assert not [e for e in story.events(ChildFailed) if e.child == "session"]  # still waiting
    story.clock.advance(120)
    failures = [e for e in story.events(ChildFailed) if e.child == "session"]
    assert [story.at(e) for e in failures] == [180] and "-10005" in failures[0].error

    story.terminal.initialize_times_out(False)
    story.clock.advance(60)  # the restart at 240 connects
    assert [story.at(e) for e in story.events(SessionConnected)] == [240]
    story.terminal.initialize_times_out()
    again = story.in_background(story.session.reconnect, hangs=True)  # shutdown + initialize
    story.clock.advance(59)
    assert not again.done()
    story.clock.advance(1)  # a later initialize waits the usual 60 s
    with pytest.raises(MT5Error, match="-10005"):
        again.result(timeout=5)
