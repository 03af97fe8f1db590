"""Story: a strategy reads bars, ticks and symbols through the session: one
guarded hop each, blocking or awaited, typed errors, nothing sent when the
request itself is wrong, and no terminal call at all while the breaker is open."""

from __future__ import annotations

import asyncio
import inspect
from datetime import timedelta

import numpy as np
import pytest

from mt5guard.breaker.messages import BreakerState
from mt5guard.errors import MT5CircuitBreakerOpen, MT5DataError, MT5ValidationError
from mt5guard.session import facade
from mt5guard.session.messages import RequestCompleted
from mt5guard.terminal import constants as c
from mt5guard.terminal.rates import RATE_DTYPE, TICK_DTYPE


def test_bars_and_ticks_arrive_as_the_real_module_returns_them(story) -> None:
    story.clock.advance(3600)
    bars = story.session.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M15, 0, 8)
    ticks = story.session.copy_ticks_range("EURUSD", story.clock.now() - timedelta(seconds=10),
                                           story.clock.now(), c.COPY_TICKS_ALL)
    price = story.session.get_price("EURUSD")
    assert bars.dtype == RATE_DTYPE and len(bars) == 8 and list(np.diff(bars["time"])) == [900] * 7
    assert ticks.dtype == TICK_DTYPE and len(ticks) == 41
    assert ticks["bid"][-1] == price.bid == bars["close"][-1]
    ranged = story.session.copy_rates_range("EURUSD", c.TIMEFRAME_M15, int(bars["time"][0]),
                                            int(bars["time"][-1]))
    since = story.session.copy_rates_from("EURUSD", c.TIMEFRAME_M15, story.clock.now(), 8)
    assert np.array_equal(ranged, bars) and np.array_equal(since, bars)
    first = story.session.copy_ticks_from("EURUSD", ticks["time_msc"][1] / 1000, 4, c.COPY_TICKS_INFO)
    assert np.array_equal(first, ticks[1:5])
    done = [e.operation for e in story.events(RequestCompleted) if e.outcome == "ok"]
    assert {"copy_rates_from_pos", "copy_ticks_range", "copy_rates_range", "copy_rates_from",
            "copy_ticks_from"} <= set(done)


def test_a_symbol_outside_the_config_is_selected_on_demand(story) -> None:
    assert "XAUUSD" not in story.config.accounts[0].symbols
    info = story.session.symbol_info("XAUUSD")
    assert info.name == "XAUUSD" and info.digits == 2 and info.select
    bars = story.session.copy_rates_from_pos("XAUUSD", c.TIMEFRAME_H1, 0, 2)
    assert len(bars) == 2 and bars["spread"][0] == 25
    names = [s.name for s in story.session.symbols_get("*USD*,!EUR*")]
    assert names == ["GBPUSD", "USDJPY", "XAUUSD"]


def test_deselecting_a_symbol_is_remembered(story) -> None:
    story.session.symbol_select("USDJPY")
    story.session.symbol_select("USDJPY", enable=False)
    assert not [s for s in story.session.symbols_get("USDJPY") if s.select]
    assert story.session.symbol_info("USDJPY").select  # selected again on demand


def test_awaitable_calls_mirror_the_blocking_ones(story) -> None:
    async def read() -> tuple[np.ndarray, np.ndarray, tuple, object]:
        aio = story.session.aio
        bars = await aio.copy_rates_from_pos("GBPUSD", c.TIMEFRAME_M5, 1, 3)
        ticks = await aio.copy_ticks_from("GBPUSD", story.clock.now() - timedelta(seconds=2), 3)
        symbols = await aio.symbols_get()
        info = await aio.symbol_info("GBPUSD")
        await aio.symbol_select("GBPUSD", True)
        return bars, ticks, symbols, info

    bars, ticks, symbols, info = asyncio.run(read())
    assert np.array_equal(bars, story.session.copy_rates_from_pos("GBPUSD", c.TIMEFRAME_M5, 1, 3))
    assert ticks.dtype == TICK_DTYPE and len(ticks) == 3
    assert len(symbols) == 4 and info.name == "GBPUSD"


def test_session_and_async_session_offer_the_same_calls_typed_alike() -> None:
    def public(cls: type) -> dict[str, inspect.Signature]:
        return {name: inspect.signature(fn) for name, fn in inspect.getmembers(cls, inspect.isfunction)
                if not name.startswith("_")}

    blocking, awaitable = public(facade.Session), public(facade.AsyncSession)
    market = ["copy_rates_from", "copy_rates_from_pos", "copy_rates_range", "copy_ticks_from",
              "copy_ticks_range", "symbols_get", "symbol_info", "symbol_select"]
    for name in market:
        assert inspect.iscoroutinefunction(getattr(facade.AsyncSession, name))
        assert blocking[name] == awaitable[name], name


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.copy_rates_from_pos("EURUSD", 60, 0, 10), "timeframe"),
        (lambda s: s.copy_rates_from_pos("EURUSD", c.TIMEFRAME_H1, -1, 10), "start_pos"),
        (lambda s: s.copy_rates_from("EURUSD", c.TIMEFRAME_H1, "yesterday", 10), "date_from"),
        (lambda s: s.copy_rates_from("EURUSD", c.TIMEFRAME_H1, 0, 0), "count"),
        (lambda s: s.copy_rates_range("EURUSD", c.TIMEFRAME_H1, 2_000_000, 1_000_000), "date_to"),
        (lambda s: s.copy_ticks_range("EURUSD", 10, 20, flags=3), "flags"),
        (lambda s: s.copy_ticks_from("", 0, 10), "symbol"),
        (lambda s: s.symbols_get(group=5), "group"),
        (lambda s: s.symbol_select("EURUSD", enable="yes"), "enable"),
    ],
)
def test_bad_requests_are_refused_before_any_call(story, call, field) -> None:
    before = sum(story.terminal.calls.values())
    with pytest.raises(MT5ValidationError) as bad:
        call(story.session)
    assert bad.value.field == field
    assert sum(story.terminal.calls.values()) == before


def test_an_unknown_symbol_is_a_typed_error_that_leaves_the_breaker_alone(story) -> None:
    with pytest.raises(MT5DataError) as missing:
        story.session.copy_rates_from_pos("NOPE", c.TIMEFRAME_H1, 0, 5)
    assert missing.value.code == -4 and missing.value.operation == "symbol_select"
    assert story.session.breaker_state().state is BreakerState.CLOSED


def test_while_the_breaker_is_open_nothing_reaches_the_terminal(story) -> None:
    story.session.force_open("maintenance")
    story.clock.settle()
    calls = story.terminal.calls["copy_rates_from_pos"]
    with pytest.raises(MT5CircuitBreakerOpen):
        story.session.copy_rates_from_pos("EURUSD", c.TIMEFRAME_H1, 0, 5)
    with pytest.raises(MT5CircuitBreakerOpen):
        asyncio.run(story.session.aio.symbols_get())
    assert story.terminal.calls["copy_rates_from_pos"] == calls
