"""Story: a terminal (or a bridge in front of one) answers with replies that
are not shaped like MetaTrader5's. Callers get a typed data error naming the
problem; the session stays up and the breaker does not count it."""

from __future__ import annotations

import math
import types
from typing import Any

import pytest

from mt5guard.breaker.messages import BreakerState
from mt5guard.errors import MT5DataError
from mt5guard.supervision import ChildFailed
from mt5guard.terminal import SimulatedTerminal


class Garbled(SimulatedTerminal):
    garble = False

    def symbol_info_tick(self, symbol):  # type: ignore[no-untyped-def]
        tick = super().symbol_info_tick(symbol)
        return tick._replace(bid="n/a", time_msc="soon") if self.garble and tick else tick

    def account_info(self):  # type: ignore[no-untyped-def]
        info = super().account_info()
        return ("login", 5001) if self.garble and info else info


def test_malformed_replies_are_typed_errors_and_nothing_crashes(story_factory) -> None:
    story = story_factory(terminal_class=Garbled)
    story.terminal.garble = True
    with pytest.raises(MT5DataError, match=r"malformed terminal reply|implausible quote"):
        story.session.get_price("EURUSD")
    with pytest.raises(MT5DataError, match="no field 'login'"):
        story.session.get_account_info()
    story.clock.advance(120)  # probes see it too
    assert story.session.health().last_probe.error is not None
    story.terminal.garble = False
    assert story.session.get_price("EURUSD").bid > 0
    assert story.events(ChildFailed) == []
    assert story.session.breaker_state().state is BreakerState.CLOSED


class Quoting(SimulatedTerminal):
    quote: Any = None  # a (bid, ask) pair, or a whole reply, in place of the terminal's tick

    def symbol_info_tick(self, symbol):  # type: ignore[no-untyped-def]
        tick = super().symbol_info_tick(symbol)
        if self.quote is None or tick is None:
            return tick
        if isinstance(self.quote, tuple):
            return tick._replace(bid=self.quote[0], ask=self.quote[1])
        return self.quote


@pytest.mark.parametrize(("bid", "ask"), [(math.nan, 1.1), (1.1, math.nan), (1.1, math.inf),
                                          (math.inf, math.inf), (-math.inf, 1.1), (0.0, 1.1),
                                          (-1.1, 1.1), (1.2, 1.1), (1.1, "1.2")])
def test_an_implausible_quote_is_a_data_error_the_breaker_ignores(story_factory, bid,
                                                                   ask) -> None:
    story = story_factory(terminal_class=Quoting)
    story.terminal.quote = (bid, ask)
    with pytest.raises(MT5DataError, match="implausible quote for EURUSD"):
        story.session.get_price("EURUSD")
    assert story.session.breaker_state().state is BreakerState.CLOSED


def test_whole_numbers_and_no_spread_are_plausible_and_a_missing_field_is_named(story_factory) -> None:
    story = story_factory(terminal_class=Quoting)
    for bid, ask in ((1, 2), (1.1, 1.1), (1, 1.5)):
        story.terminal.quote = (bid, ask)
        tick = story.session.get_price("EURUSD")
        assert (tick.bid, tick.ask) == (bid, ask)
    story.terminal.quote = types.SimpleNamespace(bid=1.1)
    with pytest.raises(MT5DataError, match="no field 'ask'"):
        story.session.get_price("EURUSD")
