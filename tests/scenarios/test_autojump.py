"""Story: a test that only calls the Session, in simulated time, with no thread of its
own and no advance: inside ``clock.autojump()`` each call's wait moves time itself,
from timer to timer, until its answer is there (trio's autojump clock)."""

from __future__ import annotations

import pytest

from mt5guard.config import RateLimitConfig
from mt5guard.errors import MT5TimeoutError, MT5Unavailable
from mt5guard.supervision import ChildFailed


def test_a_call_behind_a_60_s_initialize_returns_when_it_gives_up(story_factory) -> None:
    story = story_factory(prepare=lambda terminal: terminal.initialize_times_out())
    with story.clock.autojump(), pytest.raises(MT5Unavailable):
        story.session.get_price("EURUSD")  # queued behind the first initialize
    assert story.elapsed() == 60  # not a moment later: time stops once the answer is there
    assert [story.at(e) for e in story.events(ChildFailed) if e.child == "session"] == [60]


def test_a_call_the_rate_limit_holds_back_waits_its_token_in_simulated_time(story_factory) -> None:
    limits = RateLimitConfig(orders_per_second=1.0, order_burst=1, max_wait=0.5)
    story = story_factory(rate_limits=limits)
    with story.clock.autojump():
        story.session.place_order("EURUSD", "buy", 0.1)
        story.clock.advance(0.6)
        assert story.session.place_order("EURUSD", "sell", 0.1).retcode == 10009
    assert story.elapsed() == pytest.approx(1.0)  # held back 0.4 s for its token
    assert story.terminal.calls["order_send"] == 2


def test_a_call_that_hangs_times_out_after_exactly_its_request_timeout(story_factory) -> None:
    story = story_factory(request_timeout=30.0)
    story.terminal.hang_next("symbol_info_tick", seconds=110)  # ends between two probes
    with story.clock.autojump(), pytest.raises(MT5TimeoutError, match="no reply within 30 s"):
        story.session.get_price("EURUSD")
    assert story.elapsed() == 30
    story.clock.advance(80)  # the hang ends; the session serves again
    with story.clock.autojump():
        assert story.session.get_price("GBPUSD").bid > 0


def test_outside_the_block_a_call_waits_in_real_time_as_before(story_factory) -> None:
    story = story_factory()
    with story.clock.autojump():
        pass
    assert story.session.get_price("EURUSD").bid > 0
    assert story.elapsed() == 0
