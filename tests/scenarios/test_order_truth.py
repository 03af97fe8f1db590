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

from mt5guard.config import MEMORY, OrdersConfig
from mt5guard.errors import MT5OrderOutcomeUnknown
from mt5guard.orders.reconcile import comment_id
from mt5guard.session.guard import start
from mt5guard.terminal import SimulatedTerminal
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
