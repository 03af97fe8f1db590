"""Story: an order's reply is lost. The session never sends it again: it reads
the outcome back from deals and orders by the client order id, and a caller
who retries with the same id gets that outcome, not a second order."""

from __future__ import annotations

import logging

import pytest

from mt5guard.errors import MT5Error, MT5OrderOutcomeUnknown
from mt5guard.orders.messages import OrderReconciled
from mt5guard.terminal import SimulatedTerminal


@pytest.mark.parametrize("lost_as", [None, 10012], ids=["ipc-timeout", "retcode-10012"])
def test_an_executed_order_with_a_lost_reply_is_read_back_not_resent(story, lost_as) -> None:
    story.terminal.lose_next_order_reply(executed=True, retcode=lost_as)
    outcome = story.session.place_order("EURUSD", "buy", 0.2, client_order_id="A1")
    assert outcome.reconciled and outcome.deal > 0 and outcome.volume == 0.2

    again = story.session.place_order("EURUSD", "buy", 0.2, client_order_id="A1")
    assert again == outcome
    assert story.terminal.calls["order_send"] == 1
    assert len(story.session.positions()) == 1
    assert [e.outcome for e in story.events(OrderReconciled)] == ["executed"]


def test_an_order_that_cannot_be_found_is_reported_unknown_and_never_resent(story) -> None:
    story.terminal.lose_next_order_reply(executed=False)
    with pytest.raises(MT5OrderOutcomeUnknown) as unknown:
        story.session.place_order("EURUSD", "sell", 0.1, client_order_id="B2")
    assert unknown.value.client_order_id == "B2" and "NOT re-sent" in str(unknown.value)
    with pytest.raises(MT5OrderOutcomeUnknown):
        story.session.place_order("EURUSD", "sell", 0.1, client_order_id="B2")
    assert story.terminal.calls["order_send"] == 1
    assert story.session.positions() == ()


class DropsAfterSend(SimulatedTerminal):
    """Executes the next order, then loses both its reply and the connection."""

    armed = False

    def order_send(self, request):  # type: ignore[no-untyped-def]
        if not self.armed:
            return super().order_send(request)
        self.armed = False
        self.lose_next_order_reply(executed=True)
        result = super().order_send(request)  # executed, reply lost (-10005)
        self.disconnect()  # and the reconciliation that follows finds no connection
        return result


def test_reply_and_connection_lost_is_reconciled_after_the_restart(story_factory) -> None:
    story = story_factory(terminal_class=DropsAfterSend)
    story.terminal.armed = True
    with pytest.raises(MT5OrderOutcomeUnknown):
        story.session.place_order("EURUSD", "buy", 0.3, client_order_id="C3")
    story.clock.advance(30)  # the probe finds the connection gone; the session restarts
    story.terminal.reconnect_allowed()
    story.clock.advance(60)  # reconnected: the journal is reconciled on start

    assert [e.outcome for e in story.events(OrderReconciled)][-1] == "executed"
    outcome = story.session.place_order("EURUSD", "buy", 0.3, client_order_id="C3")
    assert outcome.reconciled and outcome.volume == 0.3
    assert story.terminal.calls["order_send"] == 1
    assert len(story.session.positions()) == 1


def test_a_reconciliation_that_cannot_read_the_terminal_is_logged_with_the_id_and_the_error(
        story_factory, caplog) -> None:
    story = story_factory(terminal_class=DropsAfterSend)
    story.terminal.armed = True
    with caplog.at_level(logging.INFO, logger="mt5guard.orders"), \
            pytest.raises(MT5OrderOutcomeUnknown) as unknown:
        story.session.place_order("EURUSD", "buy", 0.3, client_order_id="C4")
    failed = [r for r in caplog.records if "reconciliation failed" in r.getMessage()]
    assert failed, [r.getMessage() for r in caplog.records]
    record = failed[0]
    assert record.levelno == logging.INFO and record.name == "mt5guard.orders"
    cid, err = record.args
    assert cid == "C4" and isinstance(err, MT5Error) and err.kind == "connection"
    assert record.getMessage() == f"order C4: reconciliation failed: {err}"
    # subscribers learn the outcome is still open
    assert [e.outcome for e in story.events(OrderReconciled)] == ["unknown"]
    assert unknown.value.client_order_id == "C4"


class HistoryBlinks(SimulatedTerminal):
    """Loses the next order's reply, and the history reads right after it fail once."""

    blind = 0

    def order_send(self, request):  # type: ignore[no-untyped-def]
        self.lose_next_order_reply(executed=True)
        self.blind = 1  # the first history read of the reconciliation that follows
        return super().order_send(request)

    def history_deals_get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.blind:
            self.blind -= 1
            self._last_error = (-1, "Terminal: generic fail")
            return None
        return super().history_deals_get(*args, **kwargs)

    def history_orders_get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.blind:
            self.blind -= 1
            self._last_error = (-1, "Terminal: generic fail")
            return None
        return super().history_orders_get(*args, **kwargs)


def test_a_retry_of_an_unknown_id_reads_it_back_again_and_answers_the_fill(story_factory) -> None:
    story = story_factory(terminal_class=HistoryBlinks)
    with pytest.raises(MT5OrderOutcomeUnknown):
        story.session.place_order("EURUSD", "buy", 0.2, client_order_id="H1")
    again = story.session.place_order("EURUSD", "buy", 0.2, client_order_id="H1")
    assert again.reconciled and again.volume == 0.2 and again.deal > 0
    assert story.terminal.calls["order_send"] == 1 and len(story.session.positions()) == 1


class FillsHalf(SimulatedTerminal):
    """An IOC order of which the server fills half, and whose reply is lost."""

    def order_send(self, request):  # type: ignore[no-untyped-def]
        self.lose_next_order_reply(executed=True)
        return super().order_send({**request, "volume": request["volume"] / 2})

    def history_orders_get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        found = super().history_orders_get(*args, **kwargs)  # the order was for all of it
        return None if found is None else tuple(
            o._replace(volume_initial=o.volume_initial * 2) for o in found)


def test_a_partial_fill_read_back_is_answered_as_partial_with_the_volume_filled(
        story_factory) -> None:
    story = story_factory(terminal_class=FillsHalf)
    outcome = story.session.place_order("EURUSD", "buy", 0.2, client_order_id="P1")
    assert outcome.reconciled and outcome.retcode == 10010  # TRADE_RETCODE_DONE_PARTIAL
    assert outcome.volume == pytest.approx(0.1)
    assert story.terminal.calls["order_send"] == 1
