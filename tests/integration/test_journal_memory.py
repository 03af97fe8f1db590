"""Memory of open journals: one account's journal stays small (issue 21).

Every account keeps its journal open for its whole life, so at 1,000
accounts the journal connection's memory is most of what a session costs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mt5guard.orders._journal_file import _MARKS, _SCHEMA
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
    """Every connect marks how far it caught up; an account that places no order (most
    of 1,000) keeps its journal at the size it had when opened, not with its pages cached."""
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


def _sqlite_heap() -> Callable[[], int]:
    """SQLite's own count of the bytes it holds (``sqlite3_memory_used``) in the library
    Python's ``sqlite3`` runs on; skips where that library is not a shared one we can reach."""
    name = ctypes.util.find_library("sqlite3")
    if name is None:
        pytest.skip("no shared SQLite library to ask")
    used = ctypes.CDLL(name).sqlite3_memory_used
    used.restype = ctypes.c_int64
    before = used()
    probe = sqlite3.connect(":memory:")
    reached = used() != before
    probe.close()
    if not reached:
        pytest.skip("Python's sqlite3 does not use the shared SQLite library")
    return lambda: int(used())


def _bare_journal(path: str) -> sqlite3.Connection:
    """The journal's file and settings, nothing kept prepared: what any journal holds."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(f"""
        PRAGMA locking_mode = EXCLUSIVE; PRAGMA cache_size = -32; PRAGMA journal_mode = WAL;
        BEGIN EXCLUSIVE; {_SCHEMA} PRAGMA user_version = 1; {_MARKS}; COMMIT;
        INSERT OR REPLACE INTO marks VALUES ('seen_until', 1.0); PRAGMA shrink_memory;
    """)
    return conn


@pytest.mark.parametrize("reopened", [False, True], ids=["new", "reopened"])
def test_an_open_journal_keeps_nothing_of_its_open_checks(tmp_path: Path, reopened: bool) -> None:
    """The checks at open run once; what they prepare or read must not stay for the
    account's life: their statements (8 were kept, ~1.5 KiB each), the pages of the
    integrity check, the connection's TEMP database it opened (~7 KiB)."""
    heap = _sqlite_heap()
    count = 50
    if reopened:
        for i in range(count):
            OrderJournal.open(str(tmp_path / f"{i}.sqlite3"), synchronous="NORMAL").close()
    gc.collect()
    start = heap()
    journals = [OrderJournal.open(str(tmp_path / f"{i}.sqlite3"), synchronous="NORMAL")
                for i in range(count)]
    for journal in journals:
        journal.mark_seen(datetime.now(UTC))  # as every connect does
    gc.collect()
    per_journal = (heap() - start) / count
    middle = heap()
    bare = [_bare_journal(str(tmp_path / f"bare{i}.sqlite3")) for i in range(count)]
    floor = (heap() - middle) / count
    for journal in journals:
        journal.close()
    for conn in bare:
        conn.close()
    # kept: the pragma tables the checks read (~2 KiB); before rss21 (issue 21): 23 KiB
    # over the floor when new, 34 KiB reopened (the checks' statements, the mark's)
    assert per_journal - floor < 4 * 1024, f"{per_journal / 1024:.1f} vs {floor / 1024:.1f} KiB"
