"""The simulated price walk: the same prices however they are stored, read or shared."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

import attrs
import numpy as np
import pytest

from mt5guard.terminal import SimulatedTerminal
from mt5guard.terminal.sim._history import PriceHistory, shared_history
from mt5guard.terminal.sim.symbols import DEFAULT_SYMBOLS
from mt5guard.testing import VirtualClock

START = datetime(2026, 3, 4, 9, 30, 10, tzinfo=UTC)
ORIGIN = int(START.timestamp() * 1000)
FIRST = ORIGIN - 30 * 86_400_000
TICK0 = ORIGIN // 250
HOUR = 14_400


def test_the_walk_gives_the_prices_it_always_gave() -> None:
    # Pinned from the implementation that kept whole hours of int32 points: a
    # change of storage (packed steps, chunked reads) must not move a price.
    eurusd = PriceHistory(DEFAULT_SYMBOLS["EURUSD"], 7, ORIGIN, FIRST)
    expected = {TICK0: 1.08501, TICK0 + 1023: 1.08511, TICK0 + 1024: 1.08511,
                TICK0 + 3 * HOUR + 5: 1.08637, TICK0 - 240 * HOUR: 1.07154}
    assert {tick: eurusd.bid(tick) for tick in expected} == expected
    assert PriceHistory(DEFAULT_SYMBOLS["XAUUSD"], 7, ORIGIN, FIRST).bid(TICK0 + 777) == 2353.2


def test_live_reads_agree_with_bulk_reads_at_every_tick_and_chunk_edge() -> None:
    for name in ("EURUSD", "USDJPY", "XAUUSD"):
        history = PriceHistory(DEFAULT_SYMBOLS[name], 3, ORIGIN, FIRST)
        first = (TICK0 // HOUR) * HOUR - 5  # across an hour's end and every chunk of the next
        bulk = history.bids(first, first + HOUR + 10)
        live = [history.bid(tick) for tick in range(first, first + HOUR + 11)]
        assert live == bulk.tolist()
        backwards = [history.bid(tick) for tick in range(first + HOUR + 10, first - 1, -1)]
        assert backwards == live[::-1]


def test_a_symbol_whose_steps_do_not_fit_a_byte_keeps_whole_points() -> None:
    wild = attrs.evolve(DEFAULT_SYMBOLS["EURUSD"], volatility=0.002)  # ~200 points a tick
    history = PriceHistory(wild, 5, ORIGIN, FIRST)
    hour = TICK0 // HOUR
    live = [history.bid(tick) for tick in range(hour * HOUR, hour * HOUR + 3000)]
    assert live == history.bids(hour * HOUR, hour * HOUR + 2999).tolist()
    assert history._stored(hour).dtype == np.int32  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["EURUSD", "GBPUSD", "USDJPY"])
def test_a_quiet_symbol_hour_takes_an_eighth_of_int32_points(name: str) -> None:
    """The default currency pairs move a few points a tick: two steps to a byte."""
    history = PriceHistory(DEFAULT_SYMBOLS[name], 5, ORIGIN, FIRST)
    history.bid(TICK0)
    stored = history._stored(TICK0 // HOUR)
    kept = stored.steps.nbytes + stored.marks.nbytes  # type: ignore[union-attr]
    assert kept < HOUR * 4 / 7.8
    _, part, values, _ = history._hot  # type: ignore[misc]
    assert part >= 0 and values.nbytes <= 2 * 1024  # the chunk live quotes read: int16 offsets


def test_an_hour_whose_steps_do_not_fit_a_nibble_keeps_a_byte_a_step_and_the_same_prices(
) -> None:
    kinds = set()
    for volatility in (0.000015, 0.00004, 0.0001):  # ~1.6, ~4, ~11 points a tick
        spec = attrs.evolve(DEFAULT_SYMBOLS["EURUSD"], volatility=volatility)
        history = PriceHistory(spec, 8, ORIGIN, FIRST)
        hour = TICK0 // HOUR
        live = [history.bid(tick) for tick in range(hour * HOUR, (hour + 1) * HOUR)]
        assert live == history.bids(hour * HOUR, (hour + 1) * HOUR - 1).tolist()
        stored = history._stored(hour)
        whole = PriceHistory(spec, 8, ORIGIN, FIRST)._hour_bids(hour)  # decoded at once
        assert live == whole.tolist()
        steps = np.diff(np.rint(whole * 10**spec.digits))
        fits = bool(steps.min() >= -8 and steps.max() <= 7)
        assert stored.nibbles == fits  # type: ignore[union-attr]
        kinds.add(fits)
    assert kinds == {True, False}


def test_terminals_made_alike_share_one_history_for_as_long_as_one_lives() -> None:
    clock = VirtualClock(start=START)
    a, b = (SimulatedTerminal(clock, seed=11) for _ in range(2))
    other = SimulatedTerminal(clock, seed=12)
    for term in (a, b, other):
        assert term.initialize(login=5001, password="x", server="MetaQuotes-Demo")
        assert term.symbol_select("EURUSD", True)
        assert term.symbol_info_tick("EURUSD") is not None
    assert a._quotes.history("EURUSD") is b._quotes.history("EURUSD")
    assert a._quotes.history("EURUSD") is not other._quotes.history("EURUSD")
    assert a.symbol_info_tick("EURUSD") == b.symbol_info_tick("EURUSD")
    key_args = (DEFAULT_SYMBOLS["EURUSD"], 11, a._quotes._origin_msc, a._quotes._first_msc)
    kept = shared_history(*key_args)
    assert kept is a._quotes.history("EURUSD")
    del a, b, kept
    gc.collect()
    fresh = shared_history(*key_args)
    assert fresh._hours == {}  # nothing kept it alive: built anew, empty


def test_minute_bars_keep_a_bounded_number_of_hours_and_the_same_bars(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A process reading M1 bars for weeks used to keep every hour's table for good.
    import mt5guard.terminal.sim._history as history_module

    monkeypatch.setattr(history_module, "_CACHED_MINUTE_HOURS", 4)
    history = PriceHistory(DEFAULT_SYMBOLS["EURUSD"], 9, ORIGIN, FIRST)
    now_tick = TICK0 + 2 * HOUR
    first_hour = TICK0 // HOUR - 10
    first_bars = history.minute_bars(first_hour * 60, first_hour * 60 + 59, now_tick)
    for hour in range(first_hour, first_hour + 10):  # ten complete hours, one after another
        history.minute_bars(hour * 60, hour * 60 + 59, now_tick)
    assert len(history._minutes) == 4
    assert sorted(history._minutes) == list(range(first_hour + 6, first_hour + 10))
    again = history.minute_bars(first_hour * 60, first_hour * 60 + 59, now_tick)  # rebuilt
    assert again.tolist() == first_bars.tolist()
    assert len(first_bars) == 60 and first_bars[:, 5].tolist() == [240.0] * 60


def test_a_terminal_builds_the_history_of_the_symbols_it_quotes_only() -> None:
    terminal = SimulatedTerminal(VirtualClock(start=START), seed=21)
    assert terminal.initialize(login=5001, password="x", server="MetaQuotes-Demo")
    assert terminal.symbol_select("EURUSD", True)
    assert terminal.symbol_info_tick("EURUSD") is not None
    assert set(terminal._quotes._histories) == {"EURUSD"}  # not its other default symbols
    assert terminal.symbol_select("GBPUSD", True)
    assert terminal.copy_ticks_from("GBPUSD", START - timedelta(minutes=1), 10, 1) is not None
    assert set(terminal._quotes._histories) == {"EURUSD", "GBPUSD"}


@pytest.mark.parametrize(("low", "high", "nibbles"), [(-8, 7, True), (-127, 127, False)])
def test_packed_steps_give_back_every_point_of_every_chunk(
        low: int, high: int, nibbles: bool) -> None:
    """Every step value the packing allows, at every position, through every chunk."""
    from mt5guard.terminal.sim._packed import CHUNK, pack

    steps = np.resize(np.arange(low, high + 1, dtype=np.int32), HOUR)
    steps[0] = 0
    np.random.default_rng(4).shuffle(steps[1:])
    points = (np.cumsum(steps) + 2_000_000_000 - int(np.cumsum(steps).max())).astype(np.int32)
    packed = pack(points)
    assert packed is not None and packed.nibbles is nibbles
    assert packed.points().tolist() == points.tolist()
    for number in range(-(-HOUR // CHUNK)):
        base, offsets = packed.chunk(number)
        assert (base + offsets.astype(np.int64)).tolist() == \
            points[number * CHUNK:(number + 1) * CHUNK].tolist()
    steps[7] = high + 1  # one step too big for this packing: the next one, or whole points
    wider = pack(np.cumsum(steps).astype(np.int32))
    assert (wider is None) if not nibbles else (wider is not None and not wider.nibbles)


def test_quotes_prepared_before_the_first_read_are_the_quotes_it_would_have_read() -> None:
    # start() prepares each simulated terminal's probe symbol on its own thread (issue 21).
    clock = VirtualClock(start=START)
    prepared, plain = SimulatedTerminal(clock, seed=31), SimulatedTerminal(clock, seed=31)
    prepared.prepare_quotes("EURUSD", "NOSUCH")  # an unknown symbol is left for the API to refuse
    assert set(prepared._quotes._histories) == {"EURUSD"}
    assert prepared.calls == plain.calls  # not an API call: nothing counted
    clock.advance(3.0)
    readings = []
    for term in (prepared, plain):
        assert term.initialize(login=5001, password="x", server="MetaQuotes-Demo")
        assert term.symbol_select("EURUSD", True)
        readings.append((term.symbol_info_tick("EURUSD"),
                         term.copy_ticks_from("EURUSD", START - timedelta(minutes=1), 50, 1)))
        assert term.symbol_info_tick("NOSUCH") is None
    assert readings[0][0] == readings[1][0]
    assert readings[0][1].tolist() == readings[1][1].tolist()


@pytest.mark.parametrize("name", sorted(DEFAULT_SYMBOLS))
def test_a_live_ask_is_the_bid_plus_the_spread_rounded_to_the_symbol_digits(name: str) -> None:
    # The live tick divides whole points (bid and bid + spread) instead of rounding the
    # sum of the bid and the spread's price: the same floats, at every tick of two hours.
    spec = DEFAULT_SYMBOLS[name]
    history = PriceHistory(spec, 5, ORIGIN, FIRST)
    for number in range((TICK0 // HOUR) * HOUR, (TICK0 // HOUR + 2) * HOUR):
        tick = history.tick(number)
        assert tick.bid == history.bid(number)
        assert tick.ask == round(tick.bid + spec.spread * spec.point, spec.digits)
