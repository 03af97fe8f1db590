"""Story: the terminal was restarted by image name and came back with AutoTrading off
(or the account was configured with its investor password). The session says so once,
keeps serving reads, and refuses orders with a typed, non-retryable error instead of
sending them or retrying; when a person turns trading back on, orders go through."""

from __future__ import annotations

import logging

import pytest

from mt5guard.errors import MT5TradingDisabled
from mt5guard.terminal import constants as c


@pytest.mark.parametrize(("fault", "says"), [("autotrading_off", "AutoTrading is off"),
                                             ("investor_login", "investor")])
def test_orders_are_refused_with_the_reason_and_reads_keep_working(
        story_factory, caplog, fault: str, says: str) -> None:
    with caplog.at_level(logging.WARNING, logger="mt5guard.session"):
        story = story_factory(prepare=lambda terminal: getattr(terminal, fault)())
    lines = [r.getMessage() for r in caplog.records if "trading is disabled" in r.getMessage()]
    assert len(lines) == 1 and says in lines[0]
    assert story.session.get_price("EURUSD").bid > 0
    with pytest.raises(MT5TradingDisabled) as caught:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="nope1")
    assert not caught.value.retryable and says in str(caught.value)
    with pytest.raises(MT5TradingDisabled):
        story.session.place_pending_order("EURUSD", "buy_limit", 0.1, 1.0)
    assert story.terminal.sent_orders() == []
    assert story.session.breaker_state().state.name == "CLOSED"

    getattr(story.terminal, fault)(False)  # a person turns it back on
    placed = story.session.place_order("EURUSD", "buy", 0.1, client_order_id="nope1")
    assert placed.retcode == c.TRADE_RETCODE_DONE


def test_autotrading_turned_off_while_connected_is_a_typed_refusal(story) -> None:
    story.terminal.autotrading_off()
    with pytest.raises(MT5TradingDisabled) as caught:
        story.session.place_order("EURUSD", "buy", 0.1)
    assert caught.value.code == c.TRADE_RETCODE_CLIENT_DISABLES_AT and not caught.value.retryable
