"""The order journal when its storage fails, and files it must refuse (issue 17, defect 7).

Write faults are real SQLite errors: a database that may not grow
(``max_page_count``: "database or disk is full") or may not be written
(``query_only``: the storage refuses writes).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mt5guard.errors import MT5JournalError
from mt5guard.orders.journal import EntryState, JournalUnavailable, OrderIntent, OrderJournal

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def intent(cid: str = "A1", pad: int = 0) -> OrderIntent:
    return OrderIntent(cid, "place", "EURUSD", "buy", 0.1, {"comment": "x" * pad})


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "state" / "demo.journal.sqlite3")


def disk_full(journal: OrderJournal) -> None:
    """The file may not grow by one page more."""
    pages = journal._conn.execute("PRAGMA page_count").fetchone()[0]
    journal._conn.execute(f"PRAGMA max_page_count = {pages}")


def refuses_writes(journal: OrderJournal, refused: bool = True) -> None:
    journal._conn.execute(f"PRAGMA query_only = {int(refused)}")


def disk_freed(journal: OrderJournal) -> None:
    journal._conn.execute("PRAGMA max_page_count = 1073741823")
    refuses_writes(journal, False)


def test_a_full_disk_refuses_a_new_intent_with_a_journal_error_and_recovers(path: str) -> None:
    journal = OrderJournal.open(path)
    disk_full(journal)
    with pytest.raises(MT5JournalError, match="full") as full:
        journal.begin(intent("F1", pad=20_000), T0)  # needs pages the disk does not have
    assert full.value.retryable and not full.value.counts_for_breaker
    assert full.value.path == path and path in str(full.value) and "nothing was sent" in str(full.value)
    assert full.value.operation == "order_journal"
    assert full.value.detail.endswith("; free disk space or fix the file's storage")
    assert journal.get("F1") is None
    disk_freed(journal)
    assert journal.begin(intent("F1", pad=20_000), T0).state is EntryState.PENDING
    journal.close()


def test_a_failed_sent_write_refuses_the_send_and_leaves_the_id_free(path: str) -> None:
    journal = OrderJournal.open(path)
    entry = journal.begin(intent("S1"), T0)
    refuses_writes(journal)
    with pytest.raises(MT5JournalError, match="NOT sent"):
        journal.mark_sent(entry, T0)
    assert journal.get("S1") is None and journal.unresolved() == []
    refuses_writes(journal, False)
    again = journal.begin(intent("S1"), T0)  # the id was never sent: free
    journal.mark_sent(again, T0)
    assert [e.intent.client_order_id for e in journal.unresolved()] == ["S1"]
    journal.close()


def test_an_outcome_that_cannot_be_written_is_held_in_memory_and_written_before_the_next(
        path: str) -> None:
    journal = OrderJournal.open(path)
    entry = journal.begin(intent("H1"), T0)
    journal.mark_sent(entry, T0)
    released = journal.begin(intent("H2"), T0)
    journal.mark_sent(released, T0)
    refuses_writes(journal)
    journal.finish(entry, EntryState.FILLED, {"outcome": {"deal": 9}}, T0)  # no raise
    journal.release(released)
    assert journal.held == 2
    held = journal.get("H1")
    assert held is not None and held.state is EntryState.FILLED  # answered from memory
    assert journal.get("H2") is None
    with pytest.raises(MT5JournalError, match="held in memory"):
        journal.begin(intent("N1"), T0)  # nothing new goes while outcomes are unwritten

    refuses_writes(journal, False)
    journal.begin(intent("N1"), T0)
    assert journal.held == 0
    journal.close()
    reopened = OrderJournal.open(path)
    final = reopened.get("H1")
    assert final is not None and final.state is EntryState.FILLED
    assert final.result == {"outcome": {"deal": 9}}
    assert reopened.get("H2") is None and reopened.unresolved() == []
    reopened.close()


def test_an_id_found_in_the_terminal_whose_write_fails_is_held_as_found_never_as_free(
        path: str) -> None:
    """``record_found`` keeps an id the terminal executed: if the file refuses the row, the
    id must still read as executed (held in memory), never as unknown and free to send."""
    journal = OrderJournal.open(path)
    refuses_writes(journal)
    journal.record_found(intent("R1"), {"found": {"deal": 7}}, T0)  # no raise: held
    assert journal.held == 1
    held = journal.get("R1")
    assert held is not None and held.state is EntryState.RESOLVED
    assert held.result == {"found": {"deal": 7}}
    with pytest.raises(MT5JournalError, match="held in memory"):
        journal.begin(intent("R1"), T0)  # nothing goes, least of all this id again
    refuses_writes(journal, False)
    journal.flush()
    journal.close()
    reopened = OrderJournal.open(path)
    found = reopened.get("R1")
    assert found is not None and found.state is EntryState.RESOLVED
    assert found.result == {"found": {"deal": 7}}
    reopened.close()


def test_pruning_never_touches_an_entry_whose_outcome_is_unknown(path: str) -> None:
    journal = OrderJournal.open(path)
    sent = journal.begin(intent("S1"), T0)
    journal.mark_sent(sent, T0)
    unknown = journal.begin(intent("U1"), T0)
    journal.mark_sent(unknown, T0)
    journal.mark_unknown(unknown, "reply lost")
    done = journal.begin(intent("D1"), T0)
    journal.mark_sent(done, T0)
    journal.finish(done, EntryState.RESOLVED, {}, T0)

    assert journal.prune(T0 + timedelta(days=3650)) == 1
    assert journal.get("D1") is None
    journal.close()
    reopened = OrderJournal.open(path)
    assert sorted(e.intent.client_order_id for e in reopened.unresolved()) == ["S1", "U1"]
    assert reopened.count() == 2
    reopened.close()


# files that must be refused ---------------------------------------------------------


def written(path: str) -> None:
    journal = OrderJournal.open(path)
    for n in range(50):
        entry = journal.begin(intent(f"id{n}"), T0)
        journal.mark_sent(entry, T0)
    journal.close()


def test_an_orphan_wal_without_its_database_is_refused_never_a_fresh_journal(path: str) -> None:
    Path(path).parent.mkdir(parents=True)
    Path(f"{path}-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\x00" * 4000)
    with pytest.raises(JournalUnavailable, match=r"write-ahead log .* database is missing") as err:
        OrderJournal.open(path)
    assert path in str(err.value) and "restore" in str(err.value)
    assert Path(f"{path}-wal").stat().st_size == 4004 and not Path(path).exists()


def test_a_zero_byte_journal_is_refused(path: str) -> None:
    Path(path).parent.mkdir(parents=True)
    Path(path).write_bytes(b"")
    with pytest.raises(JournalUnavailable, match=r"empty \(0 bytes\)") as err:
        OrderJournal.open(path)
    assert path in str(err.value) and "move it aside" in str(err.value)


def test_a_truncated_journal_is_refused(path: str) -> None:
    written(path)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2 + 100])
    with pytest.raises(JournalUnavailable, match=r"corrupt|damaged") as err:
        OrderJournal.open(path)
    assert path in str(err.value)


def test_an_unreadable_row_is_refused_naming_it_not_a_traceback(path: str) -> None:
    written(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE intents SET payload = '{not json' WHERE client_order_id = 'id7'")
    conn.close()
    with pytest.raises(JournalUnavailable, match="unreadable row 'id7'") as err:
        OrderJournal.open(path)
    assert path in str(err.value)


def test_an_unreadable_row_refuses_the_open_before_a_pending_row_is_dropped(path: str) -> None:
    journal = OrderJournal.open(path)
    journal.begin(intent("never-sent"), T0)
    journal.mark_sent(journal.begin(intent("id7"), T0), T0)
    journal.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE intents SET payload = '{not json' WHERE client_order_id = 'id7'")
    conn.close()
    with pytest.raises(JournalUnavailable, match="unreadable row 'id7'"):
        OrderJournal.open(path)
    with sqlite3.connect(path) as conn:  # the refused open changed nothing in the file
        rows = sorted(conn.execute("SELECT client_order_id, state FROM intents"))
    conn.close()
    assert rows == [("id7", "sent"), ("never-sent", "pending")]


def test_a_foreign_table_under_our_schema_version_is_refused(path: str) -> None:
    Path(path).parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE intents (id INTEGER, what TEXT)")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    with pytest.raises(JournalUnavailable, match="not mt5guard's schema"):
        OrderJournal.open(path)


def test_a_read_only_directory_is_not_writable_with_its_path() -> None:
    top = Path(tempfile.mkdtemp(prefix="mt5guard-ro-"))  # reachable by another user
    try:
        top.chmod(0o755)
        state = top / "state"
        state.mkdir()
        state.chmod(0o555)
        # root writes anywhere: the probe imports first, then runs as nobody
        drop = "os.setgid(65534); os.setuid(65534)" if os.getuid() == 0 else "pass"
        probe = ("import os\nfrom mt5guard.orders.journal import OrderJournal, JournalUnavailable\n"
                 f"{drop}\n"
                 f"try:\n    OrderJournal.open({str(state / 'demo.journal.sqlite3')!r})\n"
                 "except JournalUnavailable as e:\n    print(e)\n    raise SystemExit(2)\n")
        run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                             timeout=20)
        assert run.returncode == 2, run.stderr
        assert "not writable" in run.stdout and f"{state} refuses writes" in run.stdout
        assert "corrupt" not in run.stdout and list(state.iterdir()) == []
    finally:
        shutil.rmtree(top)


def test_a_one_byte_orphan_wal_is_refused_and_an_empty_one_is_nothing_to_lose(path: str) -> None:
    Path(path).parent.mkdir(parents=True)
    Path(f"{path}-wal").write_bytes(b"\x37")
    with pytest.raises(JournalUnavailable, match="write-ahead log"):
        OrderJournal.open(path)
    Path(f"{path}-wal").write_bytes(b"")  # an empty log holds no history: a new journal
    journal = OrderJournal.open(path)
    assert journal.count() == 0
    journal.close()


@pytest.mark.parametrize("denied", ["folder", "file"])
def test_a_state_dir_or_journal_this_user_may_not_write_is_named_in_process(
        path: str, denied: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The permission check itself, in this process (the subprocess test above shows the
    real refusal; here the user's rights are simulated, as root may write anything)."""
    OrderJournal.open(path).close()
    refused = Path(path).parent if denied == "folder" else Path(path)
    real_access = os.access

    def access(target: Any, mode: int) -> bool:
        if Path(target) == refused and mode & os.W_OK:
            return False
        return real_access(target, mode)

    monkeypatch.setattr("mt5guard.orders._journal_file.os.access", access)
    with pytest.raises(JournalUnavailable, match="not writable") as err:
        OrderJournal.open(path)
    assert f"({refused} refuses writes by this user)" in str(err.value)
    assert "orders.state_dir" in str(err.value)


def test_the_state_dir_must_also_be_enterable(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    OrderJournal.open(path).close()
    folder = Path(path).parent
    real_access = os.access

    def access(target: Any, mode: int) -> bool:  # writable, but not searchable (no x bit)
        if Path(target) == folder and mode & os.X_OK:
            return False
        return real_access(target, mode)

    monkeypatch.setattr("mt5guard.orders._journal_file.os.access", access)
    with pytest.raises(JournalUnavailable, match=f"{folder} refuses writes"):
        OrderJournal.open(path)


def test_a_row_without_its_creation_time_is_refused_naming_the_row_and_the_column(
        path: str) -> None:
    Path(path).parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:  # our columns, written by a tool that left one empty
        conn.execute("CREATE TABLE intents (client_order_id TEXT PRIMARY KEY, kind TEXT, "
                     "symbol TEXT, side TEXT, volume REAL, payload TEXT, state TEXT, "
                     "created_at REAL, sent_at REAL, finished_at REAL, result TEXT)")
        conn.execute("INSERT INTO intents VALUES ('c9', 'place', 'EURUSD', 'buy', 0.1, '{}', "
                     "'sent', NULL, NULL, NULL, NULL)")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    with pytest.raises(JournalUnavailable, match=r"unreadable row 'c9' \(no created_at\)") as err:
        OrderJournal.open(path)
    assert path in str(err.value)
