"""The catch-up's window and the journal's mark of the last record seen."""

from __future__ import annotations

import logging
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mt5guard.config import OrdersConfig
from mt5guard.errors import MT5ConnectionError, MT5Error, MT5StateError, MT5Unavailable
from mt5guard.orders.catch_up import CatchUp, read, window_start
from mt5guard.orders.journal import EntryState, OrderIntent, OrderJournal
from mt5guard.orders.reconcile import TerminalLookups
from mt5guard.terminal.records import TradeDeal
from mt5guard.testing import VirtualClock

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


def test_a_connect_writes_nothing_to_the_file_and_close_writes_its_mark(
        tmp_path: Path) -> None:
    # A journal's first write makes SQLite sync a new WAL file and its folder (5-12 ms);
    # the mark alone no longer pays it at every connect.
    path = str(tmp_path / "demo.journal.sqlite3")
    wal = Path(path + "-wal")
    OrderJournal.open(path).close()  # made by an earlier process
    journal = OrderJournal.open(path, synchronous="NORMAL")
    journal.mark_seen(T0)
    assert journal.seen_until == T0
    assert not wal.exists() or wal.stat().st_size == 0  # nothing written yet
    journal.close()
    again = OrderJournal.open(path)
    assert again.seen_until == T0  # written at close
    again.close()


def test_a_process_killed_before_writing_its_mark_leaves_the_last_one_written(
        tmp_path: Path) -> None:
    path = str(tmp_path / "demo.journal.sqlite3")
    journal = OrderJournal.open(path)
    journal.mark_seen(T0)
    journal.close()
    for trades, mark in ((False, T0), (True, T0 + timedelta(days=1))):
        killed = subprocess.run([sys.executable, "-c", f"""
import os, signal
from datetime import datetime, UTC
from mt5guard.orders.journal import OrderIntent, OrderJournal
journal = OrderJournal.open({path!r})
journal.mark_seen(datetime(2026, 1, 6, 9, tzinfo=UTC))
if {trades}:  # the mark goes with the order's first write
    journal.begin(OrderIntent("K1", "place", "EURUSD", "buy", 0.1, {{}}), journal.seen_until)
os.kill(os.getpid(), signal.SIGKILL)
"""], check=False, timeout=30)
        assert killed.returncode == -signal.SIGKILL
        reopened = OrderJournal.open(path)
        # without an order: the last mark written; the next catch-up reads from there
        assert reopened.seen_until == mark
        reopened.close()


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
    odd = T0 + timedelta(microseconds=123_457)
    again.mark_seen(odd)  # written as a double, bit for bit, not as SQL text
    again.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM marks").fetchall() == [(odd.timestamp(),)]
    conn.close()
    assert OrderJournal.open(path).seen_until == odd


# a catch-up as the operator sees it: what it read, what it reconciled, why it waits ------


class Account:
    """A journal with one unresolved order, the terminal's records, and what the desk did."""

    def __init__(self, *, fails: MT5Error | None = None) -> None:
        self.clock = VirtualClock(start=T0)
        self.journal = OrderJournal.open(":memory:")
        entry = self.journal.begin(OrderIntent("U1", "place", "EURUSD", "buy", 0.1, {}),
                                   T0 - timedelta(hours=1))
        self.journal.mark_sent(entry, T0 - timedelta(hours=1))
        self.fails = fails
        self.reconciled: list[tuple[str, int]] = []
        self.published: list[tuple[str, str]] = []
        deals = (deal(T0 - timedelta(minutes=30)), deal(T0 - timedelta(minutes=20)))
        self.catch_up = CatchUp(
            "demo", self.journal,
            TerminalLookups(open_orders=tuple, positions=tuple,
                            history_orders=lambda a, b: (), history_deals=self._deals(deals)),
            self.clock, OrdersConfig(recheck_after=30.0),
            lambda e, lookups: self.reconciled.append(
                (e.intent.client_order_id, len(tuple(lookups.history_deals(T0, T0))))),
            lambda intent, found: self.published.append((intent.client_order_id, found)),
            timedelta(minutes=5))

    def _deals(self, deals: tuple[TradeDeal, ...]) -> Any:
        def history_deals(_a: datetime, _b: datetime) -> tuple[TradeDeal, ...]:
            if self.fails is not None:
                raise self.fails
            return deals
        return history_deals

    def close(self) -> None:
        self.journal.close()
        self.clock.close()


def deal(at: datetime) -> TradeDeal:
    seconds = int(at.timestamp())
    return TradeDeal(1, 1, seconds, seconds * 1000, 0, 0, 0, 0, 0, 0.1, 1.1, 0.0, 0.0, 0.0,
                     0.0, "EURUSD", "", "")


def test_a_catch_up_reconciles_each_unresolved_id_from_one_reading_and_logs_the_counts(
        caplog: pytest.LogCaptureFixture) -> None:
    account = Account()
    with caplog.at_level(logging.INFO, logger="mt5guard.orders"):
        assert account.catch_up.run() is None
    assert account.reconciled == [("U1", 2)]  # answered from the reading, no call of its own
    assert account.catch_up.done and account.journal.seen_until == T0 - timedelta(minutes=20)
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert record.args == ("demo", (T0 - timedelta(hours=1)).isoformat(), 2, 0, 1)
    assert record.getMessage().startswith("demo: caught up from ")
    account.close()


def test_a_reading_that_fails_is_a_warning_every_id_stays_unknown_and_new_ids_wait(
        caplog: pytest.LogCaptureFixture) -> None:
    account = Account(fails=MT5StateError(operation="history_deals_get", code=-1))
    with caplog.at_level(logging.INFO, logger="mt5guard.orders"):
        failed = account.catch_up.run()
    assert failed is account.fails and not account.catch_up.done
    assert account.reconciled == [] and account.published == [("U1", "unknown")]
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.args == ("demo", (T0 - timedelta(hours=1)).isoformat(), account.fails)
    assert record.getMessage().startswith("demo: the deals and orders since ")
    with pytest.raises(MT5Unavailable) as waiting:
        account.catch_up.require("place_order")
    assert waiting.value.operation == "place_order" and waiting.value.retryable
    assert waiting.value.retry_at == T0 + timedelta(seconds=30)
    assert "nothing was sent" in waiting.value.detail
    account.fails = MT5ConnectionError(operation="history_deals_get")
    with pytest.raises(MT5ConnectionError):  # the guarded call reconnects, then catches up
        account.catch_up.require("place_order")
    account.fails = None
    account.catch_up.require("place_order")
    assert account.catch_up.done and account.reconciled == [("U1", 2)]
    account.close()


def test_outcomes_the_journal_still_cannot_write_after_a_catch_up_are_a_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    account = Account()
    entry = account.journal.unresolved()[0]
    account.journal._conn.execute("PRAGMA query_only = 1")
    account.journal.finish(entry, EntryState.FILLED, {}, T0)  # held in memory
    with caplog.at_level(logging.WARNING, logger="mt5guard.orders"):
        assert account.catch_up.run() is None
    warned = [r for r in caplog.records if r.levelno == logging.WARNING
              and isinstance(r.args, tuple) and r.args and isinstance(r.args[0], MT5Error)]
    assert len(warned) == 1 and warned[0].getMessage() == str(warned[0].args[0])
    assert "held in memory" in warned[0].getMessage()
    account.close()
