"""Story: an order's reply is lost, the connection drops, and the order fills on the
trade server while mt5guard cannot look. Whatever brings the connection back (an
in-place reconnect after a failed health probe, the supervisor restarting the
session, the next order finding the link gone), the account's deals and orders
since the last one seen are read and the unknown id is resolved from them before
anything new is sent. A resend of that id answers the fill and makes no deal;
another id is sent normally after the catch-up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mt5guard.breaker.messages import BreakerState, BreakerStateChanged
from mt5guard.errors import MT5ConnectionError, MT5OrderOutcomeUnknown, MT5Unavailable
from mt5guard.events.bus import EventBus
from mt5guard.orders.messages import OrderReconciled
from mt5guard.session.messages import SessionConnected
from mt5guard.supervision.events import RestartScheduled
from mt5guard.terminal import SimulatedTerminal


class ArrivesLate(SimulatedTerminal):
    """The next order's reply is lost before it reached the trade server (``late``);
    :meth:`~SimulatedTerminal.execute_late` makes it fill there later, by itself."""

    armed = False
    late: dict[str, Any] | None = None
    history_refused = False  # history_deals_get answers None (-1, generic fail) while True
    deal_windows: list[datetime]

    def order_send(self, request):  # type: ignore[no-untyped-def]
        if self.armed:
            self.armed, self.late = False, dict(request)
            self.lose_next_order_reply(executed=False)  # None, last_error -10005 IPC timeout
        return super().order_send(request)

    def history_deals_get(self, date_from, date_to, **kw):  # type: ignore[no-untyped-def]
        self.__dict__.setdefault("deal_windows", []).append(date_from)
        if self.history_refused:
            self._last_error = (-1, "generic fail")
            return None
        return super().history_deals_get(date_from, date_to, **kw)


def sends_when_reconciled(bus: EventBus, terminal: Any) -> list[tuple[str, str, int]]:
    """(id, outcome, order_send calls made so far) for every OrderReconciled, as published."""
    seen: list[tuple[str, str, int]] = []

    def note(event: object) -> None:
        if isinstance(event, OrderReconciled):
            seen.append((event.client_order_id, event.outcome, terminal.calls["order_send"]))

    bus.subscribe(note)
    return seen


def lose_l1_then_fill_it_while_disconnected(story: Any) -> None:
    story.terminal.armed = True
    with pytest.raises(MT5OrderOutcomeUnknown) as unknown:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="L1")
    assert not unknown.value.retryable
    story.terminal.disconnect()  # the connection drops ...
    story.terminal.execute_late(story.terminal.late)  # ... and the order fills meanwhile
    assert story.terminal.calls["order_send"] == 1


def in_place_after_a_failed_probe(story: Any) -> None:
    story.terminal.reconnect_allowed()
    story.clock.advance(30)  # the probe finds -10004, mends in place: shutdown + initialize


def by_a_supervisor_restart(story: Any) -> None:
    story.clock.advance(30)  # the probe fails, the in-place reconnect too: the session fails
    assert story.events(RestartScheduled)
    story.terminal.reconnect_allowed()
    story.clock.advance(60)  # restarted after its backoff: on_start connects


def by_the_next_order_finding_the_link_gone(story: Any) -> None:
    story.terminal.reconnect_allowed()
    with pytest.raises(MT5ConnectionError) as refused:  # L2 is not sent: the link was gone
        story.session.place_order("EURUSD", "sell", 0.2, client_order_id="L2")
    assert refused.value.retryable  # it mended in place and caught up; L2 may be sent again


def after_the_breaker_tripped(story: Any) -> None:
    while not any(e.new is BreakerState.OPEN for e in story.events(BreakerStateChanged)):
        assert story.elapsed() < 3600, "the breaker never opened"
        story.clock.advance(30)  # probes fail, restarts fail to connect: failures counted
    story.terminal.reconnect_allowed()
    story.clock.advance(700)  # half-open after open_duration; the next restart connects


RECONNECTS: dict[str, Callable[[Any], None]] = {
    "breaker-trips-then-recovers": after_the_breaker_tripped,
    "probe-mends-in-place": in_place_after_a_failed_probe,
    "supervisor-restart": by_a_supervisor_restart,
    "next-order-mends": by_the_next_order_finding_the_link_gone,
}


@pytest.mark.parametrize("reconnect", RECONNECTS.values(), ids=RECONNECTS.keys())
def test_an_order_that_filled_while_disconnected_is_resolved_on_reconnect_before_any_new_send(
        story_factory: Callable[..., Any], bus: EventBus,
        reconnect: Callable[[Any], None]) -> None:
    story = story_factory(terminal_class=ArrivesLate)
    seen = sends_when_reconciled(bus, story.terminal)
    connects = len(story.events(SessionConnected))
    lose_l1_then_fill_it_while_disconnected(story)

    reconnect(story)

    assert len(story.events(SessionConnected)) == connects + 1
    assert seen[-1] == ("L1", "executed", 1)  # resolved from the records; nothing new sent yet
    again = story.session.place_order("EURUSD", "buy", 0.1, client_order_id="L1")
    assert again.reconciled and again.volume == 0.1 and again.deal > 0
    assert story.terminal.calls["order_send"] == 1  # answered, not sent: no second deal
    other = story.session.place_order("EURUSD", "sell", 0.2, client_order_id="L2")
    assert not other.reconciled and other.deal > 0
    assert story.terminal.calls["order_send"] == 2
    deals = story.session.history_deals(story.t0 - timedelta(minutes=1),
                                        story.clock.now() + timedelta(minutes=1))
    assert sorted(d.comment.split(";")[0] for d in deals) == ["mg-L1", "mg-L2"]


def test_until_the_records_can_be_read_new_ids_wait_and_the_unknown_id_is_not_sent(
        story_factory: Callable[..., Any], bus: EventBus) -> None:
    story = story_factory(terminal_class=ArrivesLate)
    seen = sends_when_reconciled(bus, story.terminal)
    lose_l1_then_fill_it_while_disconnected(story)
    story.terminal.history_refused = True  # connected again, but the history cannot be read
    in_place_after_a_failed_probe(story)

    with pytest.raises(MT5Unavailable) as waiting:
        story.session.place_order("EURUSD", "sell", 0.2, client_order_id="L2")
    assert waiting.value.retryable and "nothing was sent" in str(waiting.value)
    with pytest.raises(MT5OrderOutcomeUnknown):
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="L1")
    assert story.terminal.calls["order_send"] == 1

    story.terminal.history_refused = False
    other = story.session.place_order("EURUSD", "sell", 0.2, client_order_id="L2")
    assert other.deal > 0
    assert ("L1", "executed", 1) in seen  # the catch-up before L2's send resolved L1 first
    assert story.session.place_order("EURUSD", "buy", 0.1, client_order_id="L1").reconciled
    assert story.terminal.calls["order_send"] == 2


def test_after_a_reconnect_the_records_are_read_from_the_last_one_seen(
        story_factory: Callable[..., Any]) -> None:
    story = story_factory(terminal_class=ArrivesLate)
    story.clock.advance(3600)
    story.session.place_order("EURUSD", "buy", 0.1, client_order_id="S1")
    (deal,) = story.session.history_deals(story.t0, story.clock.now())
    story.clock.advance(3600)
    story.terminal.disconnect()
    in_place_after_a_failed_probe(story)  # reads from the start's mark: S1 is seen
    story.clock.advance(3600)
    story.terminal.deal_windows.clear()

    story.terminal.disconnect()
    in_place_after_a_failed_probe(story)

    # one reading, from S1's deal (the last one seen) less the five-minute
    # clock-skew margin; not the seven days of orders.lookback
    assert story.terminal.deal_windows == [
        datetime.fromtimestamp(deal.time, UTC) - timedelta(minutes=5)]
