"""Stories: every answer about an order is true (issue 17).

Each test is one row of the table in docs/orders.md: how an order, a
modification, a close or a cancel can end, what the caller is told, and what
a resend of the same client order id does. ``fills`` counts what the trade
server executed for an id: 2 would be a duplicate order.
"""

from __future__ import annotations

from typing import Any

import pytest
from storykit import story_config

from mt5guard.config import MEMORY, OrdersConfig, RateLimitConfig
from mt5guard.errors import (
    MT5CircuitBreakerOpen,
    MT5Error,
    MT5IdempotencyConflict,
    MT5JournalError,
    MT5OrderOutcomeUnknown,
    MT5RateLimited,
    MT5StateError,
    MT5Unavailable,
)
from mt5guard.orders.journal import EntryState, OrderJournal
from mt5guard.orders.messages import OrderReconciled
from mt5guard.orders.reconcile import comment_id
from mt5guard.session.guard import start
from mt5guard.supervision.events import ChildFailed
from mt5guard.terminal import SimulatedTerminal
from mt5guard.terminal import constants as c
from mt5guard.terminal.sim._done_orders import done_order
from mt5guard.testing import DeterministicRuntime


def fills(terminal: Any, client_order_id: str) -> int:
    return sum(1 for r in terminal.sent_orders() if comment_id(r["comment"]) == client_order_id)


MAY_HAVE_LEFT = [(1, "Success"), (-1, "Terminal: Call failed"), (-3, "Terminal: Out of memory"),
                 (-10003, "IPC initialize failed, MetaTrader 5 x64 not found")]


@pytest.mark.parametrize("last_error", MAY_HAVE_LEFT, ids=lambda e: str(e[0]))
def test_none_after_send_that_executed_is_read_back_and_a_resend_sends_nothing(
        story, last_error) -> None:
    story.terminal.lose_next_order_reply(executed=True, last_error=last_error)
    outcome = story.session.place_order("EURUSD", "buy", 0.1, client_order_id="N1")
    assert outcome.reconciled and outcome.deal > 0

    assert story.session.place_order("EURUSD", "buy", 0.1, client_order_id="N1") == outcome
    assert story.terminal.calls["order_send"] == 1 and fills(story.terminal, "N1") == 1


@pytest.mark.parametrize("last_error", MAY_HAVE_LEFT, ids=lambda e: str(e[0]))
def test_none_after_send_with_nothing_found_is_unknown_not_retryable_and_never_resent(
        story, last_error) -> None:
    story.terminal.lose_next_order_reply(executed=False, last_error=last_error)
    with pytest.raises(MT5OrderOutcomeUnknown) as unknown:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="N2")
    assert unknown.value.retryable is False and unknown.value.client_order_id == "N2"
    with pytest.raises(MT5OrderOutcomeUnknown):
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="N2")
    assert story.terminal.calls["order_send"] == 1


def test_an_undocumented_retcode_is_unknown_and_read_back_not_a_rejection(story) -> None:
    story.terminal.lose_next_order_reply(executed=True, retcode=99999)
    outcome = story.session.place_order("EURUSD", "sell", 0.2, client_order_id="U1")
    assert outcome.reconciled and outcome.deal > 0 and outcome.volume == 0.2
    assert story.session.place_order("EURUSD", "sell", 0.2, client_order_id="U1") == outcome
    assert story.terminal.calls["order_send"] == 1


def test_retcode_0_from_order_send_is_not_a_fill(story) -> None:
    story.terminal.lose_next_order_reply(executed=False, retcode=0)
    with pytest.raises(MT5OrderOutcomeUnknown) as unknown:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="Z0")
    assert unknown.value.retryable is False
    assert story.session.positions() == ()
    assert story.terminal.calls["order_send"] == 1


class SlowFill(SimulatedTerminal):
    """order_send takes 30 s of clock time, then executes and answers."""

    def order_send(self, request):  # type: ignore[no-untyped-def]
        self._clock.sleep(30)
        return super().order_send(request)


def test_a_reply_that_outlives_request_timeout_is_unknown_not_a_retryable_timeout() -> None:
    with DeterministicRuntime(5) as runtime:
        config = story_config(request_timeout=5.0, orders=OrdersConfig(state_dir=MEMORY))
        term = config.accounts[0].terminal
        terminal = SlowFill(runtime.clock, login=term.login, password=term.password.reveal(),
                            server=term.server)
        guard = start(config, clock=runtime.clock, terminals={"demo": terminal})
        session = guard.session("demo")
        with pytest.raises(MT5OrderOutcomeUnknown) as unknown:
            session.place_order("EURUSD", "buy", 0.1, client_order_id="T1")
        assert unknown.value.retryable is False and unknown.value.client_order_id == "T1"
        runtime.advance(60)  # the slow send completes: the order executed

        again = session.place_order("EURUSD", "buy", 0.1, client_order_id="T1")
        assert again.deal > 0 and fills(terminal, "T1") == 1
        assert terminal.calls["order_send"] == 1
        guard.stop()


# modify, close, cancel ------------------------------------------------------------------


def open_buy(story: Any, volume: float = 0.3, cid: str | None = None) -> int:
    return int(story.session.place_order("EURUSD", "buy", volume, client_order_id=cid).order)


class FillsBeforeCancel(SimulatedTerminal):
    """The pending order fills as our cancel travels; the cancel's reply is lost."""

    armed = False

    def order_send(self, request):  # type: ignore[no-untyped-def]
        if not (self.armed and request.get("action") == c.TRADE_ACTION_REMOVE):
            return super().order_send(request)
        self.armed = False
        order = self._ledger.orders.pop(request["order"])
        done = done_order(order.record(0.0), int(self._clock.now().timestamp() * 1000),
                          c.ORDER_STATE_FILLED, c.ORDER_REASON_CLIENT)
        self._ledger.history_orders.append(done._replace(volume_current=0.0))
        self._last_error = (-10005, "IPC timeout")
        return None


def pending_buy_limit(story: Any) -> int:
    bid = story.terminal.symbol_info_tick("EURUSD").bid
    result = story.terminal.order_send({
        "action": c.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.1,
        "type": c.ORDER_TYPE_BUY_LIMIT, "price": round(bid - 0.005, 5),
        "type_time": c.ORDER_TIME_GTC, "type_filling": c.ORDER_FILLING_RETURN,
    })
    return int(result.order)


def test_a_lost_cancel_reply_for_an_order_that_filled_is_not_a_successful_cancel(
        story_factory) -> None:
    story = story_factory(terminal_class=FillsBeforeCancel)
    ticket = pending_buy_limit(story)
    story.clock.advance(3600)  # the order rests in the book for an hour first
    story.terminal.armed = True
    with pytest.raises(MT5StateError, match="not cancelled") as refused:
        story.session.cancel_order(ticket, client_order_id="K1")
    assert not isinstance(refused.value, MT5OrderOutcomeUnknown)
    assert refused.value.retryable is False
    with pytest.raises(MT5StateError, match="no pending order"):  # a resend: nothing to cancel
        story.session.cancel_order(ticket, client_order_id="K1")


def test_a_lost_cancel_reply_for_an_order_that_was_cancelled_is_a_cancel(story) -> None:
    ticket = pending_buy_limit(story)
    story.terminal.lose_next_order_reply(executed=True)
    gone = story.session.cancel_order(ticket, client_order_id="K2")
    assert gone.reconciled and story.session.orders() == ()
    assert story.session.cancel_order(ticket, client_order_id="K2") == gone


@pytest.mark.parametrize("second", [{"sl": 1.0}, {"tp": 1.3}, {"sl": 1.0, "tp": 1.3}],
                         ids=["other-sl", "tp-instead", "both"])
def test_a_modify_id_reused_with_other_stops_is_a_conflict_and_the_same_stops_answer_again(
        story, second) -> None:
    ticket = open_buy(story)
    sl = round(story.terminal.symbol_info_tick("EURUSD").bid - 0.01, 5)
    first = story.session.modify_position(ticket, sl=sl, client_order_id="M1")
    with pytest.raises(MT5IdempotencyConflict, match="'M1'") as conflict:
        story.session.modify_position(ticket, **second, client_order_id="M1")
    assert conflict.value.client_order_id == "M1" and conflict.value.retryable is False
    assert story.session.modify_position(ticket, sl=sl, client_order_id="M1") == first
    assert story.session.positions()[0].sl == sl  # the conflicting stops were never sent


def test_a_close_id_reused_with_another_volume_is_a_conflict_and_the_same_volume_answers_again(
        story) -> None:
    ticket = open_buy(story, 0.3)
    first = story.session.close_position(ticket, 0.1, client_order_id="C1")
    for other in (0.2, None):
        with pytest.raises(MT5IdempotencyConflict, match="'C1'"):
            story.session.close_position(ticket, other, client_order_id="C1")
    assert story.session.close_position(ticket, 0.1, client_order_id="C1") == first
    assert story.session.positions()[0].volume == pytest.approx(0.2)


@pytest.mark.parametrize("other", [
    {"symbol": "GBPUSD"}, {"side": "sell"}, {"volume": 0.2}, {"sl": 1.0}, {"tp": 2.0},
    {"magic": 7}], ids=lambda o: next(iter(o)))
def test_a_place_id_reused_for_a_different_order_is_refused_and_the_same_order_answers_again(
        story, other) -> None:
    order = {"symbol": "EURUSD", "side": "buy", "volume": 0.1, "sl": 0.0, "tp": 0.0, "magic": 0}
    first = story.session.place_order(**order, client_order_id="P1")
    with pytest.raises(MT5IdempotencyConflict, match="'P1'"):
        story.session.place_order(**{**order, **other}, client_order_id="P1")
    assert story.session.place_order(**order, client_order_id="P1") == first
    assert story.terminal.calls["order_send"] == 1


class RoundsStops(SimulatedTerminal):
    """The server rounds a modification's stops to the symbol's digits; the reply is lost."""

    def order_send(self, request):  # type: ignore[no-untyped-def]
        if request.get("action") == c.TRADE_ACTION_SLTP:
            request = {**request, "sl": round(request["sl"], 5)}
            self.lose_next_order_reply(executed=True)
        return super().order_send(request)


def test_a_lost_modify_reply_whose_stop_the_server_rounded_is_read_back_as_done(
        story_factory) -> None:
    story = story_factory(terminal_class=RoundsStops)
    ticket = open_buy(story)
    sl = story.terminal.symbol_info_tick("EURUSD").bid - 0.0100012  # finer than a point
    done = story.session.modify_position(ticket, sl=sl, client_order_id="R5")
    assert done.reconciled
    assert story.session.positions()[0].sl == round(sl, 5)


# whose record is it ------------------------------------------------------------------


def test_a_smaller_foreign_record_with_our_id_text_is_a_conflict_never_a_partial_fill(
        story) -> None:
    tick = story.terminal.symbol_info_tick("EURUSD")
    foreign = story.terminal.order_send({  # someone else's order, carrying our id text
        "action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.05,
        "type": c.ORDER_TYPE_BUY, "price": tick.ask, "comment": "mg-F1;",
        "type_filling": c.ORDER_FILLING_IOC})
    assert foreign.retcode == c.TRADE_RETCODE_DONE

    with pytest.raises(MT5IdempotencyConflict, match="'F1'"):
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="F1")
    assert [e.outcome for e in story.events(OrderReconciled)] == ["mismatch"]
    assert len(story.session.positions()) == 1  # only the foreign one: nothing was sent


# refused before sending -------------------------------------------------------------


def test_an_order_refused_by_the_open_breaker_spends_no_rate_limit_token(story_factory) -> None:
    story = story_factory(rate_limits=RateLimitConfig(orders_per_second=0.01, order_burst=1,
                                                      max_wait=0.0))
    story.session.force_open("maintenance")
    story.clock.settle()
    with pytest.raises(MT5CircuitBreakerOpen) as refused:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="B1")
    assert refused.value.retryable
    story.session.reset_breaker()
    story.clock.settle()
    outcome = story.session.place_order("EURUSD", "buy", 0.1, client_order_id="B1")
    assert outcome.retcode == 10009 and story.terminal.calls["order_send"] == 1
    with pytest.raises(MT5RateLimited):  # the one token was spent by the order that went
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="B2")


def test_an_order_refused_while_the_session_is_down_spends_no_rate_limit_token(
        story_factory) -> None:
    story = story_factory(prepare=lambda terminal: terminal.initialize_times_out(),
                          rate_limits=RateLimitConfig(orders_per_second=0.001, order_burst=1,
                                                      max_wait=0.0))
    story.clock.advance(61)  # the first start failed; the next is at 120 s
    with pytest.raises(MT5Unavailable):
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="D1")
    story.terminal.initialize_times_out(False)
    story.clock.advance(60)  # started again and connected
    assert story.session.place_order("EURUSD", "buy", 0.1, client_order_id="D1").retcode == 10009


# the journal's storage fails ---------------------------------------------------------------


def storage_refuses(journal: Any, refused: bool = True) -> None:
    """The journal's file refuses every write (as a full or read-only disk does)."""
    journal._conn.execute(f"PRAGMA query_only = {int(refused)}")


def test_a_journal_that_cannot_write_refuses_new_orders_and_the_session_stays_up(
        story_factory, tmp_path) -> None:
    story = story_factory(orders=OrdersConfig(state_dir=str(tmp_path)))
    journal = story.guard.journals["demo"]
    storage_refuses(journal)
    with pytest.raises(MT5JournalError) as refused:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="J1")
    assert refused.value.retryable and journal.path in str(refused.value)
    assert story.terminal.calls["order_send"] == 0  # nothing is sent without its record
    assert story.session.positions() == ()  # the session is up
    assert not [e for e in story.events(ChildFailed) if e.child == "session"]

    storage_refuses(journal, False)
    assert story.session.place_order("EURUSD", "buy", 0.1, client_order_id="J1").deal > 0


class StorageFailsOnSend(SimulatedTerminal):
    """The order executes; from that moment the journal's storage refuses writes."""

    journal: Any = None

    def order_send(self, request):  # type: ignore[no-untyped-def]
        result = super().order_send(request)
        if self.journal is not None:
            storage_refuses(self.journal)
        return result


def test_a_fill_whose_record_cannot_be_written_is_answered_held_and_written_later(
        story_factory, tmp_path) -> None:
    story = story_factory(terminal_class=StorageFailsOnSend,
                          orders=OrdersConfig(state_dir=str(tmp_path)))
    journal = story.guard.journals["demo"]
    story.terminal.journal = journal
    filled = story.session.place_order("EURUSD", "buy", 0.1, client_order_id="W1")
    assert filled.retcode == 10009 and filled.deal > 0 and journal.held == 1
    story.terminal.journal = None
    assert story.session.place_order("EURUSD", "buy", 0.1, client_order_id="W1") == filled
    with pytest.raises(MT5JournalError, match="held in memory"):
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="W2")

    storage_refuses(journal, False)
    assert story.session.place_order("EURUSD", "buy", 0.1, client_order_id="W2").deal > 0
    assert journal.held == 0 and story.terminal.calls["order_send"] == 2
    story.guard.stop()
    reopened = OrderJournal.open(journal.path)
    entry = reopened.get("W1")
    reopened.close()
    assert entry is not None and entry.state is EntryState.FILLED


def test_an_unresolved_id_reused_for_a_different_order_is_refused_not_answered(story) -> None:
    story.terminal.lose_next_order_reply(executed=False)
    with pytest.raises(MT5OrderOutcomeUnknown):
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="Q1")
    with pytest.raises(MT5IdempotencyConflict, match="'Q1'"):
        story.session.place_order("EURUSD", "buy", 0.3, client_order_id="Q1")
    with pytest.raises(MT5OrderOutcomeUnknown):  # the same order: still reconciled, not sent
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="Q1")
    assert story.terminal.calls["order_send"] == 1


def test_an_order_check_refusal_sends_nothing_and_leaves_the_id_free(story) -> None:
    with pytest.raises(MT5Error) as refused:
        story.session.place_order("EURUSD", "buy", 5000.0, client_order_id="V1")
    assert refused.value.code in (10014, 10019) and refused.value.operation == "order_check"
    assert story.terminal.calls["order_send"] == 0
    assert story.guard.journals["demo"].get("V1") is None
    assert story.session.place_order("EURUSD", "buy", 0.1, client_order_id="V1").deal > 0


def test_none_with_a_last_error_that_proves_nothing_left_is_that_error_and_frees_the_id(
        story) -> None:
    story.terminal.lose_next_order_reply(executed=False, last_error=(-2, 'Invalid "comment" argument'))
    with pytest.raises(MT5Error) as refused:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="V2")
    assert refused.value.code == -2 and not isinstance(refused.value, MT5OrderOutcomeUnknown)
    assert story.session.place_order("EURUSD", "buy", 0.1, client_order_id="V2").deal > 0
    assert story.terminal.calls["order_send"] == 2 and fills(story.terminal, "V2") == 1


class RoundsOrderPrices(SimulatedTerminal):
    """The server rounds a pending order's new price and stops to the symbol's digits; the
    reply is lost."""

    def order_send(self, request):  # type: ignore[no-untyped-def]
        if request.get("action") == c.TRADE_ACTION_MODIFY:
            request = {**request, "price": round(request["price"], 5),
                       "sl": round(request["sl"], 5)}
            self.lose_next_order_reply(executed=True)
        return super().order_send(request)


def test_a_lost_pending_modify_reply_whose_price_the_server_rounded_is_read_back_as_done(
        story_factory) -> None:
    story = story_factory(terminal_class=RoundsOrderPrices)
    ask = story.terminal.symbol_info_tick("EURUSD").ask
    placed = story.session.place_pending_order("EURUSD", "buy_limit", 0.1, round(ask - 0.002, 5),
                                               client_order_id="R6")
    price, sl = ask - 0.0030012, ask - 0.0080004  # finer than a point
    done = story.session.modify_order(placed.order, price=price, sl=sl, client_order_id="R7")
    assert done.reconciled and done.retcode == c.TRADE_RETCODE_DONE
    (order,) = story.session.orders("EURUSD")
    assert (order.price_open, order.sl) == (round(price, 5), round(sl, 5))
    assert story.session.modify_order(placed.order, price=price, sl=sl,
                                      client_order_id="R7") == done  # answered, not resent
    assert story.terminal.calls["order_send"] == 2
