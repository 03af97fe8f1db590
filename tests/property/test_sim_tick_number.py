"""The tick number every quote board of the process shares for the instant it saw last
is the number worked out afresh from that instant, whatever order instants come in."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from mt5guard.terminal.sim._quotes import QuoteBoard, tick_number
from mt5guard.terminal.sim.symbols import DEFAULT_SYMBOLS, TICK_MS

_instants = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1),
                         timezones=st.sampled_from([UTC, timezone(timedelta(hours=3))]))


def _plain(now: datetime) -> int:
    return int(now.timestamp() * 1000) // TICK_MS


@settings(max_examples=300, deadline=None)
@given(instants=st.lists(_instants, min_size=1, max_size=8),
       order=st.lists(st.integers(0, 7), min_size=1, max_size=40))
def test_the_shared_number_is_the_number_of_the_instant_asked_about(
        instants: list[datetime], order: list[int]) -> None:
    for index in order:  # the same objects again and again, interleaved
        now = instants[index % len(instants)]
        assert tick_number(now) == _plain(now)
        copy = now + timedelta(0)  # an equal instant in another object
        assert tick_number(copy) == _plain(copy)


def test_boards_on_two_clocks_read_the_ticks_of_their_own_instants() -> None:
    start = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    plain = QuoteBoard(DEFAULT_SYMBOLS, 1, 0.0, start)
    shared = [QuoteBoard(DEFAULT_SYMBOLS, 1, 0.0, start) for _ in range(2)]
    for step in range(1, 200):
        early = start + timedelta(seconds=step * 7.3)
        late = start + timedelta(seconds=step * 11.1)
        for board, now in ((shared[0], early), (shared[1], late), (shared[0], early)):
            assert board.now_tick(now) == _plain(now)
            assert board.tick("EURUSD", now, False).time_msc <= _plain(now) * TICK_MS
        expected = plain.tick("EURUSD", late + timedelta(0), False)
        assert shared[1].tick("EURUSD", late, False) == expected


def test_threads_asking_about_their_own_instants_get_their_own_numbers() -> None:
    start = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    wrong: list[datetime] = []

    def ask(offset: float) -> None:
        for step in range(2000):
            now = start + timedelta(seconds=offset + step * 0.1)
            if tick_number(now) != _plain(now) or tick_number(now) != _plain(now):
                wrong.append(now)

    threads = [threading.Thread(target=ask, args=(i * 1000.0,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10.0)
    assert wrong == []
