"""Story: a strategy subscribes to quotes instead of polling. It hears a tick
only when the quote changed (as a callback, an actor or an ``async for``),
reads cached prices without an actor hop, and never mistakes a cached tick
for a live one while the breaker is open."""

from __future__ import annotations

import asyncio

import pykka
import pytest

from mt5guard.config import QuotesConfig
from mt5guard.errors import MT5CircuitBreakerOpen, MT5ValidationError
from mt5guard.market.messages import StaleQuote, Tick
from mt5guard.session.messages import RequestCompleted


def test_a_callback_hears_each_changed_quote_once(story) -> None:
    heard: list[Tick] = []
    subscription = story.session.subscribe(["EURUSD"], heard.append)
    story.clock.advance(2.0)  # eight polls, a new tick every 0.25 s
    assert 6 <= len(heard) <= 8 and {t.symbol for t in heard} == {"EURUSD"}
    stamps = [t.time_msc for t in heard]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert heard[-1].bid == story.session.get_price("EURUSD").bid

    story.terminal.stale_quotes("EURUSD")  # the feed stops: polls go on, nothing is published
    polls = story.terminal.calls["symbol_info_tick"]
    count = len(heard)
    story.clock.advance(2.0)
    assert story.terminal.calls["symbol_info_tick"] > polls and len(heard) == count

    story.terminal.fresh_quotes()
    subscription.close()
    story.clock.advance(2.0)
    assert len(heard) == count and story.session._core.quotes.wanted() == ()


def test_an_actor_subscriber_gets_ticks_as_messages(story) -> None:
    class Collector(pykka.ThreadingActor):
        def __init__(self) -> None:
            super().__init__()
            self.ticks: list[Tick] = []

        def on_receive(self, message):
            if isinstance(message, Tick):
                self.ticks.append(message)
            return None

        def seen(self) -> list[str]:
            return [t.symbol for t in self.ticks]

    ref = Collector.start()
    try:
        with story.session.subscribe(["EURUSD", "GBPUSD"], ref):
            story.clock.advance(1.0)
        seen = ref.proxy().seen().get(timeout=5)
        assert {"EURUSD", "GBPUSD"} <= set(seen) and len(seen) <= 8
    finally:
        ref.stop()


def test_async_for_ticks_and_leaving_the_loop_unsubscribes(story) -> None:
    async def main() -> list[Tick]:
        stream = story.session.aio.ticks("GBPUSD")
        first = asyncio.ensure_future(stream.__anext__())
        while "GBPUSD" not in story.session._core.quotes.wanted():
            await asyncio.sleep(0)  # the generator runs up to its first wait: subscribed
        await asyncio.to_thread(story.clock.advance, 1.0)
        got = [await asyncio.wait_for(first, 5)]
        async for tick in stream:
            got.append(tick)
            if len(got) == 3:
                break
        await stream.aclose()
        return got

    got = asyncio.run(main())
    assert [t.symbol for t in got] == ["GBPUSD"] * 3
    assert story.session._core.quotes.wanted() == ()


def test_a_fresh_cached_price_needs_no_actor_hop(story) -> None:
    story.session.subscribe("EURUSD")
    story.clock.advance(0.25)  # one poll
    calls = story.terminal.calls["symbol_info_tick"]
    requests = len(story.events(RequestCompleted))
    cached = story.session.get_price("EURUSD", max_age=1.0)
    assert asyncio.run(story.session.aio.get_price("EURUSD", max_age=1.0)) == cached
    assert story.terminal.calls["symbol_info_tick"] == calls
    assert len(story.events(RequestCompleted)) == requests  # no request reached the session

    story.clock.advance(0.2)  # 0.2 s since the poll confirmed it: too old for max_age=0.1
    live = story.session.get_price("EURUSD", max_age=0.1)
    assert story.terminal.calls["symbol_info_tick"] == calls + 1
    assert live.time_msc >= cached.time_msc
    unsubscribed = story.session.get_price("GBPUSD", max_age=60)  # never cached: guarded
    assert unsubscribed.bid > 0 and story.terminal.calls["symbol_info_tick"] == calls + 2
    with pytest.raises(MT5ValidationError) as bad:
        story.session.get_price("EURUSD", max_age=-1)
    assert bad.value.field == "max_age"


def test_while_open_a_cached_tick_is_refused_by_default(story) -> None:
    story.session.subscribe("EURUSD")
    story.clock.advance(0.25)
    story.session.force_open("maintenance")
    story.clock.settle()
    with pytest.raises(MT5CircuitBreakerOpen, match="not live"):
        story.session.get_price("EURUSD", max_age=3600)


def test_while_open_a_cached_tick_can_come_with_its_age(story_factory) -> None:
    story = story_factory(quotes=QuotesConfig(when_breaker_open="age"))
    story.session.subscribe("EURUSD")
    story.clock.advance(0.25)
    story.session.force_open("maintenance")
    story.clock.settle()
    polls = story.terminal.calls["symbol_info_tick"]
    story.clock.advance(5.0)
    stale = story.session.get_price("EURUSD", max_age=3600)
    assert isinstance(stale, StaleQuote) and stale.age == pytest.approx(5.0)
    assert stale.reason == "circuit breaker open" and stale.tick.bid > 0
    assert story.terminal.calls["symbol_info_tick"] == polls  # no polling while OPEN
    story.session.reset_breaker()
    story.clock.advance(0.5)
    assert story.session.get_price("EURUSD", max_age=1.0).time_msc > stale.tick.time_msc


def test_bad_subscriptions_are_refused(story) -> None:
    for symbols, field in (([], "symbols"), ([""], "symbol"), (["EURUSD"], "subscriber")):
        with pytest.raises(MT5ValidationError) as bad:
            story.session.subscribe(symbols, 42 if field == "subscriber" else None)
        assert bad.value.field == field
