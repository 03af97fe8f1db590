"""Stories: an order id is never sent twice and an outcome means what it says.

One test per case of issue 10's "Why" list; each failed on the in-memory
journal with prefix matching that came before the SQLite journal.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs
import pytest

from mt5guard.config import OrdersConfig
from mt5guard.errors import (
    MT5Error,
    MT5OrderOutcomeUnknown,
    MT5StateError,
    MT5ValidationError,
)
from mt5guard.orders.messages import OrderReconciled
from mt5guard.orders.reconcile import comment_id
from mt5guard.session.guard import start
from mt5guard.terminal import SimulatedTerminal


def fills(terminal: Any, client_order_id: str) -> int:
    """Requests the trade server executed for ``client_order_id`` (2 = a duplicate)."""
    return sum(1 for r in terminal.sent_orders() if comment_id(r["comment"]) == client_order_id)


def test_a_new_tree_on_the_same_terminal_never_sends_a_known_id_again(story) -> None:
    first = story.session.place_order("EURUSD", "buy", 0.1, client_order_id="R1")
    story.guard.stop()  # the process stops (or is restarted by systemd)

    guard = start(story.config, clock=story.clock, terminals={"demo": story.terminal})
    try:
        story.clock.settle()
        again = guard.session("demo").place_order("EURUSD", "buy", 0.1, client_order_id="R1")
    finally:
        guard.stop()
    assert again == first
    assert fills(story.terminal, "R1") == 1 and story.terminal.calls["order_send"] == 1


def test_an_id_the_journal_lost_is_looked_up_in_the_terminal_before_sending(story_factory,
                                                                              tmp_path) -> None:
    story = story_factory(orders=OrdersConfig(state_dir=str(tmp_path / "first")))
    story.session.place_order("EURUSD", "sell", 0.2, client_order_id="L1")
    story.session.place_order("EURUSD", "sell", 0.3, client_order_id="Z9")
    story.guard.stop()
    fresh = attrs.evolve(story.config, orders=OrdersConfig(state_dir=str(tmp_path / "empty")))

    guard = start(fresh, clock=story.clock, terminals={"demo": story.terminal})
    try:
        story.clock.settle()
        again = guard.session("demo").place_order("EURUSD", "sell", 0.2, client_order_id="L1")
        with pytest.raises(MT5ValidationError, match="already used") as reused:
            guard.session("demo").place_order("EURUSD", "buy", 0.5, client_order_id="L1")
        with pytest.raises(MT5ValidationError, match="does not match"):  # the terminal's Z9
            guard.session("demo").place_order("EURUSD", "buy", 0.2, client_order_id="Z9")
    finally:
        guard.stop()
    assert again.reconciled and again.volume == 0.2
    assert fills(story.terminal, "L1") == 1
    assert reused.value.field == "client_order_id"


def test_a_longer_id_with_the_same_prefix_is_not_taken_for_a_shorter_one(story) -> None:
    story.session.place_order("EURUSD", "buy", 0.1, client_order_id="A12")
    story.terminal.lose_next_order_reply(executed=False)

    with pytest.raises(MT5OrderOutcomeUnknown) as unknown:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="A1")
    assert unknown.value.retry_at is not None
    assert fills(story.terminal, "A1") == 0
    assert [e.outcome for e in story.events(OrderReconciled)] == ["unknown"]


def test_an_executed_order_with_a_lost_reply_is_reconciled_after_an_in_place_reconnect(
        story_factory) -> None:
    story = story_factory(terminal_class=DropsAfterSend)
    story.terminal.armed = True
    with pytest.raises(MT5OrderOutcomeUnknown):
        story.session.place_order("EURUSD", "buy", 0.3, client_order_id="C3")
    story.terminal.reconnect_allowed()

    assert story.session.get_price("EURUSD").ask > 0  # mends the link in place
    assert story.elapsed() == 0  # no restart, no backoff: the same session instance
    assert [e.outcome for e in story.events(OrderReconciled)][-1] == "executed"
    outcome = story.session.place_order("EURUSD", "buy", 0.3, client_order_id="C3")
    assert outcome.reconciled and fills(story.terminal, "C3") == 1


class DropsAfterSend(SimulatedTerminal):
    """Executes the next order, then loses both its reply and the connection."""

    armed = False

    def order_send(self, request):  # type: ignore[no-untyped-def]
        if not self.armed:
            return super().order_send(request)
        self.armed = False
        self.lose_next_order_reply(executed=True)
        result = super().order_send(request)
        self.disconnect()
        return result


class MalformedAfterFill(SimulatedTerminal):
    """Fills the order, then answers with a retcode that is not a number."""

    def order_send(self, request):  # type: ignore[no-untyped-def]
        result = super().order_send(request)
        return result._replace(retcode="10009 ok") if result is not None else None


def test_a_malformed_reply_after_execution_is_reconciled_not_a_data_error(story_factory) -> None:
    story = story_factory(terminal_class=MalformedAfterFill)
    outcome = story.session.place_order("EURUSD", "buy", 0.1, client_order_id="M1")
    assert outcome.reconciled and outcome.deal > 0
    assert len(story.session.positions()) == 1 and fills(story.terminal, "M1") == 1


@pytest.mark.parametrize("retcode", [10004, 10024, 10031])
def test_a_definite_non_execution_leaves_the_id_free_to_retry(story, retcode) -> None:
    story.terminal.script_order_retcodes(retcode)
    try:
        first = story.session.place_order("EURUSD", "buy", 0.1, client_order_id="Q1")
    except MT5Error as err:  # 10031 is mended in place and may be sent once more at once
        assert err.retryable and not isinstance(err, MT5OrderOutcomeUnknown)
        first = None
    outcome = story.session.place_order("EURUSD", "buy", 0.1, client_order_id="Q1")
    assert outcome.retcode == 10009 and fills(story.terminal, "Q1") == 1
    assert first is None or first == outcome


@pytest.mark.parametrize("symbol", ["FOOBAR", "eurusd", "EURUSD\x00", "USDJPY"])
def test_a_symbol_the_account_does_not_list_is_refused_before_any_call(story, symbol) -> None:
    before = sum(story.terminal.calls.values())
    with pytest.raises(MT5ValidationError) as refused:
        story.session.place_order(symbol, "buy", 0.1)
    with pytest.raises(MT5ValidationError):
        story.session.get_price(symbol)
    assert refused.value.field == "symbol"
    assert sum(story.terminal.calls.values()) == before


@pytest.mark.parametrize("bad", ["", "A 1", "a;b", "é1", "x" * 21, 7])
def test_an_id_the_comment_cannot_carry_is_refused_before_anything_is_sent(story, bad) -> None:
    with pytest.raises(MT5ValidationError, match="client_order_id") as refused:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id=bad)
    assert refused.value.field == "client_order_id"
    assert story.terminal.calls["order_send"] == 0


def test_an_order_without_an_id_gets_one_and_can_be_retried_with_it(story) -> None:
    outcome = story.session.place_order("EURUSD", "buy", 0.1)
    again = story.session.place_order("EURUSD", "buy", 0.1, client_order_id=outcome.client_order_id)
    assert again == outcome and fills(story.terminal, outcome.client_order_id) == 1


def test_finished_entries_leave_memory_and_are_pruned_after_the_retention(story_factory) -> None:
    story = story_factory(orders=OrdersConfig(retention=60.0))
    story.session.place_order("EURUSD", "buy", 0.1, client_order_id="P1")
    journal = story.guard.journals["demo"]
    assert journal.unresolved() == [] and journal.count() == 1
    story.clock.advance(3601)
    story.session.place_order("EURUSD", "buy", 0.1, client_order_id="P2")
    assert journal.count() == 1 and journal.get("P1") is None


def test_a_record_with_the_id_that_disagrees_is_an_unknown_outcome(story_factory) -> None:
    story = story_factory(terminal_class=SwapsTheSide)
    with pytest.raises(MT5OrderOutcomeUnknown, match="does not match"):
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="S1")
    assert [e.outcome for e in story.events(OrderReconciled)] == ["mismatch"]


def test_a_record_that_disagrees_is_a_warning_naming_the_id_and_what_differs(
        story_factory, caplog) -> None:
    story = story_factory(terminal_class=SwapsTheSide)
    with caplog.at_level(logging.WARNING, logger="mt5guard.orders"), \
            pytest.raises(MT5OrderOutcomeUnknown) as unknown:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="S2")
    (record,) = [r for r in caplog.records if r.args and r.args[0] == "S2"]
    _, detail = record.args
    assert record.levelno == logging.WARNING and "does not match" in detail
    assert record.getMessage() == f"order S2: {detail}"
    assert detail in str(unknown.value)  # the caller is told the same reason


class SwapsTheSide(SimulatedTerminal):
    """A server that executes a sell for a buy, and loses the reply."""

    def order_send(self, request):  # type: ignore[no-untyped-def]
        self.lose_next_order_reply(executed=True)
        return super().order_send({**request, "type": 1 - request["type"]})


def test_a_rejection_that_is_final_is_answered_from_the_journal(story) -> None:
    story.terminal.script_order_retcodes(10019)  # no money: final, not retryable
    with pytest.raises(MT5StateError) as first:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="N1")
    with pytest.raises(MT5StateError) as again:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="N1")
    assert first.value.code == again.value.code == 10019
    assert story.terminal.calls["order_send"] == 1
