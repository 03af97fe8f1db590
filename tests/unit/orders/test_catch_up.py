"""The catch-up's window and the journal's mark of the last record seen."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mt5guard.orders.catch_up import read, window_start
from mt5guard.orders.journal import OrderJournal
from mt5guard.orders.reconcile import TerminalLookups
from mt5guard.terminal.records import TradeDeal

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WEEK = 7 * 86400.0


def test_the_window_starts_at_the_mark_or_at_an_older_unresolved_entry_within_lookback() -> None:
    mark, older = T0 - timedelta(hours=1), T0 - timedelta(hours=5)
    assert window_start(T0, None, [], WEEK) is None  # a fresh journal: nothing to read
    assert window_start(T0, mark, [], WEEK) == mark
    assert window_start(T0, mark, [older, T0], WEEK) == older  # never past an unresolved entry
    assert window_start(T0, None, [older], WEEK) == older
    assert window_start(T0, T0 - timedelta(days=30), [], WEEK) == T0 - timedelta(days=7)


def test_the_mark_is_the_last_record_seen_never_later_than_our_clock() -> None:
    def deal(at: datetime) -> TradeDeal:
        seconds = int(at.timestamp())
        return TradeDeal(1, 1, seconds, seconds * 1000, 0, 0, 0, 0, 0, 0.1, 1.1, 0.0, 0.0, 0.0,
                         0.0, "EURUSD", "", "")

    def reading(*deals: TradeDeal) -> TerminalLookups:
        return TerminalLookups(open_orders=tuple, positions=tuple,
                               history_orders=lambda a, b: (), history_deals=lambda a, b: deals)

    seen = read(reading(deal(T0 - timedelta(hours=2)), deal(T0 - timedelta(hours=1))),
                T0 - timedelta(days=1), T0, book=False)
    assert (seen.deals, seen.mark(T0)) == (2, T0 - timedelta(hours=1))
    ahead = read(reading(deal(T0 + timedelta(hours=3))), T0, T0, book=False)  # a broker's UTC+3
    assert ahead.mark(T0) == T0
    assert read(reading(), T0, T0, book=False).mark(T0) == T0


def test_the_mark_survives_a_restart_and_an_older_journal_gains_it(tmp_path: Path) -> None:
    path = str(tmp_path / "demo.journal.sqlite3")
    journal = OrderJournal.open(path)
    assert journal.seen_until is None
    journal.mark_seen(T0)
    journal.close()
    reopened = OrderJournal.open(path)
    assert reopened.seen_until == T0
    reopened.close()

    conn = sqlite3.connect(path)  # a journal written before the mark existed
    conn.execute("DROP TABLE marks")
    conn.commit()
    conn.close()
    older = OrderJournal.open(path)
    assert older.seen_until is None  # read from the unresolved entries and lookback instead
    older.mark_seen(T0)
    older.close()
    again = OrderJournal.open(path)
    assert again.seen_until == T0
    again.close()
