"""Story: what a trader reads in an answer is about the order they named.

A change goes to the ticket it names (not the account's first position or
order); a refusal by the terminal's check carries the check's name and the
terminal's own words; a lost reply names the terminal's last error; a final
rejection answered again from the journal is the same error, words included.
"""

from __future__ import annotations

import pytest

from mt5guard.errors import MT5Error, MT5OrderOutcomeUnknown, MT5StateError, MT5ValidationError
from mt5guard.terminal import SimulatedTerminal
from mt5guard.terminal import constants as c


def test_a_stop_change_goes_to_the_position_it_names_not_the_first(story) -> None:
    s = story.session
    first = s.place_order("EURUSD", "buy", 0.1, client_order_id="t1")
    second = s.place_order("EURUSD", "buy", 0.2, client_order_id="t2")
    sl = round(s.get_price("EURUSD").bid - 0.0100, 5)
    s.modify_position(second.order, sl=sl, client_order_id="t3")
    stops = {p.ticket: p.sl for p in s.positions()}
    assert stops == {first.order: 0.0, second.order: sl}
    change = story.terminal.sent_orders()[-1]  # as MT5 wants it: the position and its symbol
    assert (change["action"], change["position"], change["symbol"]) == (
        c.TRADE_ACTION_SLTP, second.order, "EURUSD")


def test_a_pending_change_goes_to_the_order_it_names_and_keeps_that_order_s_stops(
        story) -> None:
    s = story.session
    ask = s.get_price("EURUSD").ask
    first = s.place_pending_order("EURUSD", "buy_limit", 0.1, round(ask - 0.0020, 5),
                                  sl=round(ask - 0.0070, 5), client_order_id="o1")
    second = s.place_pending_order("EURUSD", "buy_limit", 0.1, round(ask - 0.0030, 5),
                                   sl=round(ask - 0.0080, 5), tp=round(ask + 0.0050, 5),
                                   client_order_id="o2")
    moved = round(ask - 0.0040, 5)
    s.modify_order(second.order, price=moved, client_order_id="o3")
    held = {o.ticket: (o.price_open, o.sl, o.tp) for o in s.orders("EURUSD")}
    assert held == {first.order: (round(ask - 0.0020, 5), round(ask - 0.0070, 5), 0.0),
                    second.order: (moved, round(ask - 0.0080, 5), round(ask + 0.0050, 5))}


def test_a_stop_change_the_check_refuses_carries_the_terminal_s_words_and_is_not_sent(
        story) -> None:
    s = story.session
    opened = s.place_order("EURUSD", "buy", 0.1, client_order_id="r1")
    above = round(s.get_price("EURUSD").ask + 0.0100, 5)  # a buy's stop above the price
    with pytest.raises(MT5Error) as caught:
        s.modify_position(opened.order, sl=above, client_order_id="r2")
    err = caught.value
    assert (err.code, err.terminal_message) == (c.TRADE_RETCODE_INVALID_STOPS, "Invalid stops")
    assert err.operation == "modify_position"
    assert story.terminal.calls["order_send"] == 1  # the opening only: the check stopped it


class CheckFails(SimulatedTerminal):
    """order_check returns None, as the module does when the terminal cannot check."""

    def order_check(self, request):  # type: ignore[no-untyped-def]
        self._last_error = (-1, "Terminal: generic fail")
        return None


def test_a_check_that_returns_nothing_is_an_error_of_the_check_and_nothing_is_sent(
        story_factory) -> None:
    story = story_factory(terminal_class=CheckFails)
    with pytest.raises(MT5Error) as caught:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="n1")
    assert caught.value.operation == "order_check" and caught.value.code == -1
    assert story.terminal.sent_orders() == []


def test_a_lost_reply_names_the_terminal_s_last_error(story) -> None:
    story.terminal.lose_next_order_reply(executed=False)
    with pytest.raises(MT5OrderOutcomeUnknown) as unknown:
        story.session.place_order("EURUSD", "sell", 0.1, client_order_id="L1")
    # the module's own words for it, not just its kind ("timeout")
    assert f"last_error {c.RES_E_INTERNAL_FAIL_TIMEOUT} 'IPC timeout'" in unknown.value.detail
    assert "NOT re-sent" in unknown.value.detail


def test_a_final_rejection_answered_again_is_the_same_error_with_the_terminal_s_words(
        story) -> None:
    story.terminal.script_order_retcodes(10019)  # no money: final
    with pytest.raises(MT5StateError) as first:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="N1")
    with pytest.raises(MT5StateError) as again:
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="N1")
    assert first.value.terminal_message == "No money"
    assert (again.value.code, again.value.terminal_message, again.value.operation) == (
        10019, "No money", "place_order")
    assert story.terminal.calls["order_send"] == 1


def test_a_public_check_that_returns_nothing_is_named_order_check(story_factory) -> None:
    story = story_factory(terminal_class=CheckFails)
    with pytest.raises(MT5Error) as caught:
        story.session.order_check("EURUSD", "sell", 0.1)
    assert caught.value.operation == "order_check" and caught.value.code == -1


class NoFillingFits(SimulatedTerminal):
    """A symbol that allows neither FOK nor IOC, under market execution (so no RETURN)."""

    def symbol_info(self, symbol):  # type: ignore[no-untyped-def]
        info = super().symbol_info(symbol)
        return None if info is None else info._replace(
            filling_mode=0, trade_exemode=c.SYMBOL_TRADE_EXECUTION_MARKET)


def test_a_symbol_no_filling_fits_is_refused_naming_the_call_the_trader_made(
        story_factory) -> None:
    story = story_factory(terminal_class=NoFillingFits)
    s = story.session
    opened = s.place_order("EURUSD", "buy", 0.1, filling="ioc", client_order_id="f1")  # named
    calls = {
        "place_order": lambda: s.place_order("EURUSD", "buy", 0.1, client_order_id="f2"),
        "order_check": lambda: s.order_check("EURUSD", "buy", 0.1),
        "close_position": lambda: s.close_position(opened.order, client_order_id="f3"),
        "place_pending_order": lambda: s.place_pending_order(
            "EURUSD", "buy_limit", 0.1, round(s.get_price("EURUSD").ask - 0.002, 5),
            client_order_id="f4"),
    }
    for operation, call in calls.items():
        with pytest.raises(MT5ValidationError) as refused:
            call()
        assert (refused.value.operation, refused.value.field) == (operation, "filling")
        assert "name the filling your broker documents" in refused.value.detail
    assert story.terminal.calls["order_send"] == 1  # only the order that named its filling
