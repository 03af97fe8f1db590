"""Memory of open journals: one account's journal stays small (issue 21).

Every account keeps its journal open for its whole life, so at 1,000
accounts the journal connection's memory is most of what a session costs.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from pathlib import Path

from mt5guard.orders.journal import EntryState, OrderIntent, OrderJournal

JOURNALS = 200


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def test_an_open_journal_that_has_recorded_an_order_holds_little_memory(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    gc.collect()
    before = _rss_kib()
    journals = [OrderJournal.open(str(tmp_path / f"{i}.sqlite3"), synchronous="NORMAL")
                for i in range(JOURNALS)]
    try:
        for i, journal in enumerate(journals):
            entry = journal.begin(OrderIntent(f"id{i}", "place", "EURUSD", "buy", 0.1, {}), now)
            journal.mark_sent(entry, now)
            journal.finish(entry, EntryState.FILLED, {"deal": i}, now)
            assert journal.get(f"id{i}") is not None
        gc.collect()
        per_journal = (_rss_kib() - before) / JOURNALS
    finally:
        for journal in journals:
            journal.close()
    # SQLite's defaults (a 2 MiB page cache filled by the integrity check at
    # open, 128 cached statements) cost about 285 KiB per journal; bounded: ~125.
    assert per_journal < 180, f"{per_journal:.0f} KiB per open journal"



def test_the_mark_a_connect_writes_leaves_the_journal_as_small_as_it_was(tmp_path: Path) -> None:
    """Every connect writes the catch-up mark; an account that places no order (most of
    1,000) keeps its journal at the size it had when opened, not with its pages cached."""
    journals = [OrderJournal.open(str(tmp_path / f"{i}.sqlite3"), synchronous="NORMAL")
                for i in range(JOURNALS)]
    try:
        gc.collect()
        opened = _rss_kib()
        for journal in journals:
            journal.mark_seen(datetime.now(UTC))
        gc.collect()
        per_journal = (_rss_kib() - opened) / JOURNALS
    finally:
        for journal in journals:
            journal.close()
    # the pages the write read, kept in the page cache: ~26 KiB per journal
    assert per_journal < 10, f"{per_journal:.0f} KiB more per journal after its mark"
