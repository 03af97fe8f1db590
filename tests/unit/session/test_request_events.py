"""RequestCompleted: one per facade request for whoever listens, none built for nobody."""

from __future__ import annotations

from typing import Any

from storykit import Story, story_config

from mt5guard.events.bus import EventBus
from mt5guard.observability import EventLogger
from mt5guard.observability.status import StatusBoard
from mt5guard.session.messages import RequestCompleted


def test_the_bus_hears_an_event_type_while_any_subscriber_takes_it(clock) -> None:  # type: ignore[no-untyped-def]
    bus = EventBus()
    assert not bus.heard(RequestCompleted)  # nobody subscribed
    bus.subscribe(StatusBoard(clock))
    bus.subscribe(EventLogger())
    assert not bus.heard(RequestCompleted)  # both skip it
    seen: list[Any] = []
    unsubscribe = bus.subscribe(seen.append)
    assert bus.heard(RequestCompleted)
    unsubscribe()
    assert not bus.heard(RequestCompleted)


def test_a_subscriber_gets_every_request_even_beside_ones_that_skip_them(clock) -> None:  # type: ignore[no-untyped-def]
    bus = EventBus()
    bus.subscribe(EventLogger())  # start() adds the StatusBoard: neither takes RequestCompleted
    story = Story(clock, bus, None, story_config())
    try:
        story.session.get_price("EURUSD")  # nobody listens: nothing to get
        seen: list[Any] = []
        unsubscribe = bus.subscribe(seen.append)
        story.session.get_price("EURUSD")
        story.session.positions()
        unsubscribe()
        story.session.get_price("EURUSD")
    finally:
        story.close()
    completed = [(e.account, e.operation, e.outcome) for e in seen
                 if isinstance(e, RequestCompleted)]
    assert completed == [("demo", "get_price", "ok"), ("demo", "positions", "ok")]
