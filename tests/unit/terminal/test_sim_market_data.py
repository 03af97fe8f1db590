"""The simulated terminal's bars and ticks: real dtypes, one walk, deterministic per seed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from mt5guard.terminal import SimulatedTerminal
from mt5guard.terminal import constants as c
from mt5guard.terminal.rates import RATE_DTYPE, TICK_DTYPE, bar_open, shift_bar
from mt5guard.testing import VirtualClock

START = datetime(2026, 3, 4, 9, 30, 10, tzinfo=UTC)  # a Wednesday


def make(seed: int = 7) -> tuple[SimulatedTerminal, VirtualClock]:
    clock = VirtualClock(start=START)
    term = SimulatedTerminal(clock, seed=seed)
    assert term.initialize(login=5001, password="x", server="MetaQuotes-Demo")
    for name in ("EURUSD", "USDJPY"):
        assert term.symbol_select(name, True)
    return term, clock


def test_rates_and_ticks_have_the_real_module_dtypes() -> None:
    term, _clock = make()
    rates = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M5, 0, 10)
    ticks = term.copy_ticks_from("EURUSD", START - timedelta(seconds=5), 10, c.COPY_TICKS_ALL)
    assert rates is not None and ticks is not None
    assert rates.dtype.descr == [("time", "<i8"), ("open", "<f8"), ("high", "<f8"), ("low", "<f8"),
                                 ("close", "<f8"), ("tick_volume", "<u8"), ("spread", "<i4"),
                                 ("real_volume", "<u8")]
    assert ticks.dtype.descr == [("time", "<i8"), ("bid", "<f8"), ("ask", "<f8"), ("last", "<f8"),
                                 ("volume", "<u8"), ("time_msc", "<i8"), ("flags", "<u4"),
                                 ("volume_real", "<f8")]
    assert rates.dtype == RATE_DTYPE and ticks.dtype == TICK_DTYPE


def test_bars_are_made_of_the_ticks_and_end_with_the_live_quote() -> None:
    term, clock = make()
    clock.advance(600)
    live = term.symbol_info_tick("EURUSD")
    bars = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 5)
    assert live is not None and bars is not None and len(bars) == 5
    assert list(np.diff(bars["time"])) == [60] * 4
    assert bars["time"][-1] == bar_open(c.TIMEFRAME_M1, live.time)
    assert bars["close"][-1] == live.bid  # the forming bar closes at the current bid
    for bar in bars[:-1]:
        ticks = term.copy_ticks_range("EURUSD", int(bar["time"]), int(bar["time"]) + 59.999,
                                      c.COPY_TICKS_ALL)
        assert ticks is not None and len(ticks) == bar["tick_volume"] == 240
        assert (bar["open"], bar["close"]) == (ticks["bid"][0], ticks["bid"][-1])
        assert (bar["high"], bar["low"]) == (ticks["bid"].max(), ticks["bid"].min())
        assert bar["spread"] == 10
        assert np.allclose(ticks["ask"] - ticks["bid"], 0.0001)


def test_higher_timeframes_aggregate_the_lower_ones() -> None:
    term, _ = make()
    h1 = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_H1, 1, 4)
    m15 = term.copy_rates_range("EURUSD", c.TIMEFRAME_M15, int(h1["time"][0]), int(h1["time"][-1]) + 2700)
    assert h1 is not None and m15 is not None and len(m15) == 16
    grouped = m15.reshape(4, 4)
    assert list(h1["open"]) == list(grouped["open"][:, 0])
    assert list(h1["high"]) == list(grouped["high"].max(axis=1))
    assert list(h1["close"]) == list(grouped["close"][:, -1])
    assert list(h1["tick_volume"]) == [14400] * 4


def test_week_and_month_bars_open_on_sunday_and_on_the_first() -> None:
    term, _ = make()
    weeks = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_W1, 0, 3)
    months = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_MN1, 0, 2)
    assert weeks is not None and months is not None
    assert [datetime.fromtimestamp(int(t), UTC).strftime("%a") for t in weeks["time"]] == ["Sun"] * 3
    assert [datetime.fromtimestamp(int(t), UTC).day for t in months["time"]] == [1, 1]
    assert shift_bar(c.TIMEFRAME_MN1, int(months["time"][0]), 1) == months["time"][1]


def test_history_is_the_same_whenever_and_however_it_is_read() -> None:
    a, _clock_a = make(seed=3)
    b, clock_b = make(seed=3)
    other, _ = make(seed=4)
    first = a.copy_rates_from_pos("USDJPY", c.TIMEFRAME_M30, 0, 48)
    for _ in range(3):
        clock_b.advance(0.25)
        b.symbol_info_tick("USDJPY")  # read live in between: must not change history
    again = b.copy_rates_range("USDJPY", c.TIMEFRAME_M30, int(first["time"][0]), int(first["time"][-2]))
    assert first is not None and again is not None
    assert np.array_equal(first[:-1], again)
    third = other.copy_rates_from_pos("USDJPY", c.TIMEFRAME_M30, 1, 47)
    assert third is not None and not np.array_equal(first[:-1]["close"], third["close"])


def test_copy_rates_from_ends_at_the_bar_open_at_date_from() -> None:
    term, _ = make()
    at = START - timedelta(hours=5, minutes=7)
    bars = term.copy_rates_from("EURUSD", c.TIMEFRAME_H1, at, 3)
    assert bars is not None
    assert list(bars["time"]) == [int((at - timedelta(hours=h)).replace(minute=0, second=0).timestamp())
                                  for h in (2, 1, 0)]


def test_history_has_a_start_and_no_future() -> None:
    term, _clock = make()
    future = term.copy_rates_range("EURUSD", c.TIMEFRAME_M1, START + timedelta(hours=1), START + timedelta(hours=2))
    ancient = term.copy_rates_range("EURUSD", c.TIMEFRAME_D1, datetime(2020, 1, 1), datetime(2020, 2, 1))
    assert future is not None and len(future) == 0 and future.dtype == RATE_DTYPE
    assert ancient is not None and len(ancient) == 0
    ticks = term.copy_ticks_from("EURUSD", START - timedelta(seconds=1), 100, c.COPY_TICKS_ALL)
    assert ticks is not None and len(ticks) == 5  # 4 per second, up to now
    assert term.copy_ticks_from("EURUSD", START - timedelta(seconds=1), 100, c.COPY_TICKS_TRADE).size == 0


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda t: t.copy_rates_from_pos("EURUSD", 60, 0, 10), (-2, 'Invalid "timeframe" argument')),
        (lambda t: t.copy_rates_from_pos("EURUSD", c.TIMEFRAME_H1, 0, 0), (-2, 'Invalid "count" argument')),
        (lambda t: t.copy_rates_from_pos("EURUSD", c.TIMEFRAME_H1, -1, 5), (-2, 'Invalid "start_pos" argument')),
        (lambda t: t.copy_ticks_from("EURUSD", 0, 5, 9), (-2, 'Invalid "flags" argument')),
        (lambda t: t.copy_rates_from_pos("GBPUSD", c.TIMEFRAME_H1, 0, 5), (-4, "Terminal: Not found")),
        (lambda t: t.copy_ticks_range("NOPE", 0, 1, c.COPY_TICKS_ALL), (-4, "Terminal: Not found")),
    ],
)
def test_bad_requests_return_none_with_the_real_codes(call, error) -> None:
    term, _ = make()
    assert call(term) is None
    assert term.last_error() == error


def test_symbols_get_lists_every_symbol_with_its_selection() -> None:
    term, _ = make()
    everything = term.symbols_get()
    assert everything is not None and term.symbols_total() == len(everything) == 4
    chosen = {s.name: s.select for s in everything}
    assert chosen == {"EURUSD": True, "GBPUSD": False, "USDJPY": True, "XAUUSD": False}
    usd_not_eur = term.symbols_get("*USD*,!EUR*")
    assert usd_not_eur is not None and [s.name for s in usd_not_eur] == ["GBPUSD", "USDJPY", "XAUUSD"]
