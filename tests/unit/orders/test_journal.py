"""The SQLite order journal: write-ahead states, the lock, and files it must refuse."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mt5guard.orders._journal_file import explain
from mt5guard.orders.journal import (
    SCHEMA_VERSION,
    EntryState,
    JournalUnavailable,
    OrderIntent,
    OrderJournal,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def intent(cid: str = "A1") -> OrderIntent:
    return OrderIntent(cid, "place", "EURUSD", "buy", 0.1, {"comment": "x"})


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "state" / "demo.journal.sqlite3")


def test_states_survive_reopening_and_a_pending_intent_is_freed(path: str) -> None:
    journal = OrderJournal.open(path)
    never_sent = journal.begin(intent("P1"), T0)
    sent = journal.begin(intent("S1"), T0)
    journal.mark_sent(sent, T0)
    filled = journal.begin(intent("F1"), T0)
    journal.mark_sent(filled, T0)
    journal.finish(filled, EntryState.FILLED, {"outcome": {"deal": 7}}, T0)
    assert never_sent.state is EntryState.PENDING
    journal.close()

    reopened = OrderJournal.open(path)
    assert reopened.released_on_open == ["P1"] and reopened.get("P1") is None
    assert [e.intent.client_order_id for e in reopened.unresolved()] == ["S1"]
    final = reopened.get("F1")
    assert final is not None and final.state is EntryState.FILLED
    assert final.result == {"outcome": {"deal": 7}} and final.intent == intent("F1")
    reopened.close()


def test_final_entries_leave_memory_and_are_pruned_after_retention(path: str) -> None:
    journal = OrderJournal.open(path)
    for n, cid in enumerate(("old", "new")):
        entry = journal.begin(intent(cid), T0)
        journal.mark_sent(entry, T0)
        journal.finish(entry, EntryState.FILLED, {}, T0 + timedelta(days=n * 2))
    assert journal.unresolved() == [] and journal._live == {}
    assert journal.prune(T0 + timedelta(days=1)) == 1
    assert journal.get("old") is None and journal.get("new") is not None
    journal.close()


def test_a_second_process_on_the_same_journal_is_refused(path: str) -> None:
    journal = OrderJournal.open(path)
    probe = ("from mt5guard.orders.journal import OrderJournal, JournalUnavailable\n"
             f"try:\n    OrderJournal.open({path!r})\nexcept JournalUnavailable as e:\n"
             "    print(e)\n    raise SystemExit(2)\n")
    other = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           timeout=20)
    assert other.returncode == 2, other.stderr
    assert "in use by another mt5guard process" in other.stdout
    with pytest.raises(JournalUnavailable, match="in use"):  # a second tree in this process too
        OrderJournal.open(path)
    journal.close()
    OrderJournal.open(path).close()  # closed: the next owner may take it


@pytest.mark.parametrize(("synchronous", "level"), [("NORMAL", 1), ("FULL", 2)])
def test_a_new_journal_writes_orders_with_the_configured_sync(path: str, synchronous: str,
                                                               level: int) -> None:
    # A new NORMAL file is made without fsyncs; its orders must not stay unsynced (OFF).
    for opening in range(2):  # made, then opened again
        journal = OrderJournal.open(path, synchronous=synchronous)  # type: ignore[arg-type]
        assert journal._conn.execute("PRAGMA synchronous").fetchone()[0] == level, opening
        assert journal._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        journal.close()


def test_a_corrupt_file_is_refused_never_replaced(path: str) -> None:
    Path(path).parent.mkdir(parents=True)
    Path(path).write_bytes(b"SQLite format 3\x00" + b"\xde\xad" * 4000)
    with pytest.raises(JournalUnavailable, match="unreadable or corrupt"):
        OrderJournal.open(path)
    assert Path(path).read_bytes().startswith(b"SQLite format 3\x00\xde\xad")


def test_a_damaged_page_is_found_by_the_check_on_open(path: str) -> None:
    journal = OrderJournal.open(path)
    for n in range(300):
        entry = journal.begin(intent(f"id{n}"), T0)
        journal.finish(entry, EntryState.FILLED, {"pad": "x" * 200}, T0)
    journal.close()
    data = bytearray(Path(path).read_bytes())
    data[4096 * 2: 4096 * 2 + 400] = b"\x07" * 400  # scribble over a b-tree page
    Path(path).write_bytes(bytes(data))
    with pytest.raises(JournalUnavailable, match=r"damaged|corrupt") as err:
        OrderJournal.open(path)
    assert path in str(err.value)  # the operator is told which file


def test_our_schema_version_without_an_intents_table_is_refused(path: str) -> None:
    Path(path).parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER)")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    with pytest.raises(JournalUnavailable, match="schema 1 has no intents table") as err:
        OrderJournal.open(path)
    assert path in str(err.value)


def test_a_newer_schema_is_refused(path: str) -> None:
    OrderJournal.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(JournalUnavailable, match="newer than this mt5guard"):
        OrderJournal.open(path)


def test_a_database_that_is_not_a_journal_is_refused(path: str) -> None:
    Path(path).parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE trades (id INTEGER)")
    conn.close()
    with pytest.raises(JournalUnavailable, match="not an mt5guard journal"):
        OrderJournal.open(path)
    with sqlite3.connect(path) as conn:  # refused before anything of ours was written into it
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master")]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    assert (tables, version) == (["trades"], 0)


def test_a_database_file_with_nothing_in_it_yet_becomes_a_journal(path: str) -> None:
    """A file made by SQLite with no table left in it (not an empty file: refused)."""
    Path(path).parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE scratch (id INTEGER)")
        conn.execute("DROP TABLE scratch")
    conn.close()
    assert Path(path).stat().st_size > 0
    journal = OrderJournal.open(path)
    journal.mark_sent(journal.begin(intent("S1"), T0), T0)
    journal.close()
    reopened = OrderJournal.open(path)
    assert [e.intent.client_order_id for e in reopened.unresolved()] == ["S1"]
    reopened.close()


def test_an_unreadable_location_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(JournalUnavailable, match="cannot open"):
        OrderJournal.open(str(blocker / "demo.journal.sqlite3"))


def test_an_id_found_in_the_terminal_is_kept_resolved_with_its_times_and_pruned_later(
        path: str) -> None:
    journal = OrderJournal.open(path)
    journal.record_found(intent("R1"), {"outcome": {"deal": 9}}, T0)
    sent = journal.begin(intent("S1"), T0)
    journal.mark_sent(sent, T0 + timedelta(seconds=1))
    journal.finish(sent, EntryState.FILLED, {"outcome": {"deal": 10}}, T0 + timedelta(seconds=2))
    journal.close()
    journal = OrderJournal.open(path)
    found = journal.get("R1")
    assert found is not None and found.state is EntryState.RESOLVED
    assert (found.result, found.created_at, found.finished_at) == ({"outcome": {"deal": 9}}, T0, T0)
    filled = journal.get("S1")
    assert filled is not None
    assert (filled.sent_at, filled.finished_at) == (T0 + timedelta(seconds=1),
                                                    T0 + timedelta(seconds=2))
    assert filled.sent_at is not None and filled.sent_at.tzinfo is not None
    assert journal.count() == 2
    assert journal.prune(T0 + timedelta(seconds=1)) == 1  # the found one, finished at T0
    assert journal.get("R1") is None and journal.count() == 1
    journal.close()


@pytest.mark.parametrize(("error", "says"), [
    ("database is locked", "is in use by another mt5guard process; two processes on one "
                           "account can send an order twice: stop the other one first"),
    ("database is busy", "is in use by another mt5guard process"),
    ("attempt to write a readonly database", ": not writable (attempt to write a readonly "
                                             "database); give mt5guard write access to "),
    ("read-only file system", ": not writable (read-only file system)"),
    ("file is not a database", " is unreadable or corrupt (file is not a database); "),
])
def test_why_a_journal_cannot_be_opened_is_told_with_the_fix(error: str, says: str) -> None:
    text = explain("/state/demo.journal.sqlite3", sqlite3.OperationalError(error))
    assert text.startswith("order journal /state/demo.journal.sqlite3")
    assert says in text
    if "not writable" in says:
        assert text.endswith("write access to /state and the files in it")
