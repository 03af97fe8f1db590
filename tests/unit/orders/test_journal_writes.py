"""What the order journal promises about its writes (issue 17, mutation survivors).

- only the ``sent`` record waits for the disk: with ``synchronous = FULL`` it is
  committed while SQLite syncs (FULL), every other write with syncing OFF and
  FULL restored right after; with ``NORMAL`` the setting is never switched;
- a write that fails after ``order_send`` is logged for the operator with the
  file and the client id, and held; closing does not raise over it;
- a journal in use is refused at once, not after a wait;
- each state change's row in the file is the whole entry held in memory, and a
  write the file refused does not keep the file locked after close.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mt5guard.config.orders import Synchronous
from mt5guard.errors import MT5JournalError
from mt5guard.orders._journal_rows import row_of
from mt5guard.orders.journal import EntryState, JournalUnavailable, OrderIntent, OrderJournal

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def intent(cid: str = "A1") -> OrderIntent:
    return OrderIntent(cid, "place", "EURUSD", "buy", 0.1, {"comment": "x"})


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "state" / "demo.journal.sqlite3")


def refuses_writes(journal: OrderJournal, refused: bool = True) -> None:
    journal._conn.execute(f"PRAGMA query_only = {int(refused)}")


class Writes:
    """Each write statement of the journal with the ``synchronous`` level it ran under."""

    def __init__(self, journal: OrderJournal) -> None:
        self.level = int(journal._conn.execute("PRAGMA synchronous").fetchone()[0])
        self.seen: list[tuple[str, int]] = []
        journal._conn.set_trace_callback(self._trace)

    def _trace(self, sql: str) -> None:
        words = sql.split()
        if words[:2] == ["PRAGMA", "synchronous"] and len(words) == 4:
            self.level = {"OFF": 0, "NORMAL": 1, "FULL": 2}[words[3]]
        elif words[0] in ("INSERT", "UPDATE", "DELETE"):
            self.seen.append((sql, self.level))

    def take(self) -> list[tuple[str, int]]:
        seen, self.seen = self.seen, []
        return seen


def test_with_full_sync_only_the_sent_record_waits_for_the_disk(path: str) -> None:
    journal = OrderJournal.open(path, synchronous="FULL")
    writes = Writes(journal)
    entry = journal.begin(intent("A1"), T0)
    assert [level for _, level in writes.take()] == [0]          # pending: never sent yet
    journal.mark_sent(entry, T0)
    (sent, level), = writes.take()
    assert "UPDATE" in sent and level == 2                       # on disk before order_send
    journal.finish(entry, EntryState.FILLED, {"outcome": {"deal": 1}}, T0)
    other = journal.begin(intent("A2"), T0)
    journal.mark_sent(other, T0)
    journal.mark_unknown(other, "reply lost")
    freed = journal.begin(intent("A3"), T0)
    journal.mark_sent(freed, T0)
    writes.take()
    journal.release(freed)
    journal.record_found(intent("A4"), {"outcome": {"deal": 2}}, T0)
    journal.prune(T0 + timedelta(days=1))
    assert [level for _, level in writes.take()] == [0, 0, 0]
    # the setting is back to FULL after every unsynced write
    assert journal._conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    journal.close()


def test_held_outcomes_are_written_unsynced_when_the_file_takes_them_again(path: str) -> None:
    journal = OrderJournal.open(path, synchronous="FULL")
    entry = journal.begin(intent("H1"), T0)
    journal.mark_sent(entry, T0)
    refuses_writes(journal)
    journal.finish(entry, EntryState.FILLED, {}, T0)
    refuses_writes(journal, False)
    writes = Writes(journal)
    journal.flush()
    assert [level for _, level in writes.take()] == [0] and journal.held == 0
    journal.close()


def test_with_normal_sync_the_setting_is_never_switched(path: str) -> None:
    journal = OrderJournal.open(path, synchronous="NORMAL")
    writes = Writes(journal)
    entry = journal.begin(intent("N1"), T0)
    journal.mark_sent(entry, T0)
    journal.finish(entry, EntryState.FILLED, {}, T0)
    assert [level for _, level in writes.take()] == [1, 1, 1]
    assert journal._conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    journal.close()


def test_a_freed_id_leaves_the_file_at_once_and_nothing_is_held(path: str,
                                                                 caplog: pytest.LogCaptureFixture,
                                                                 ) -> None:
    journal = OrderJournal.open(path)
    entry = journal.begin(intent("R1"), T0)
    journal.mark_sent(entry, T0)
    with caplog.at_level(logging.WARNING, logger="mt5guard.orders"):
        journal.release(entry)
    assert journal.held == 0 and caplog.records == []
    assert journal.count() == 0 and journal.get("R1") is None
    journal.release(entry)  # twice (a retry's answer after a restart): still nothing held
    assert journal.held == 0
    journal.close()


def test_an_unwritable_outcome_is_logged_with_the_file_and_the_id(
        path: str, caplog: pytest.LogCaptureFixture) -> None:
    journal = OrderJournal.open(path)
    entry = journal.begin(intent("L1"), T0)
    journal.mark_sent(entry, T0)
    refuses_writes(journal)
    with caplog.at_level(logging.ERROR, logger="mt5guard.orders"):
        journal.finish(entry, EntryState.FILLED, {}, T0)
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.name == "mt5guard.orders"
    file, cid, exc = record.args  # type: ignore[misc]
    assert file == path and cid == "L1" and isinstance(exc, sqlite3.Error)
    message = record.getMessage()
    assert message.startswith(f"order journal {path}: ") and "'L1'" in message
    assert message.endswith("written before the next order")
    journal.close()


def test_a_failed_prune_is_a_warning_and_prunes_nothing(path: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    journal = OrderJournal.open(path)
    entry = journal.begin(intent("P1"), T0)
    journal.mark_sent(entry, T0)
    journal.finish(entry, EntryState.FILLED, {}, T0)
    refuses_writes(journal)
    with caplog.at_level(logging.WARNING, logger="mt5guard.orders"):
        assert journal.prune(T0 + timedelta(days=30)) == 0
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    file, exc = record.args  # type: ignore[misc]
    assert file == path and isinstance(exc, sqlite3.Error)
    assert record.getMessage().startswith(f"order journal {path}: prune failed")
    refuses_writes(journal, False)
    assert journal.prune(T0 + timedelta(days=30)) == 1
    journal.close()


def test_closing_with_outcomes_the_file_refuses_does_not_raise_and_they_stay_sent(
        path: str) -> None:
    journal = OrderJournal.open(path)
    entry = journal.begin(intent("C1"), T0)
    journal.mark_sent(entry, T0)
    refuses_writes(journal)
    journal.finish(entry, EntryState.FILLED, {}, T0)
    journal.close()
    journal.close()  # idempotent, even with an outcome still held
    reopened = OrderJournal.open(path)
    assert [(e.intent.client_order_id, e.state) for e in reopened.unresolved()] == [
        ("C1", EntryState.SENT)]  # reconciled on the next start, never lost
    reopened.close()


def test_the_state_dir_is_made_with_its_parents(tmp_path: Path) -> None:
    path = tmp_path / "var" / "lib" / "mt5guard" / "demo.journal.sqlite3"
    journal = OrderJournal.open(str(path))
    journal.begin(intent(), T0)
    journal.close()
    assert path.exists()


def test_a_journal_in_use_is_refused_at_once_not_after_a_wait(path: str) -> None:
    journal = OrderJournal.open(path)
    journal.begin(intent(), T0)
    started = time.monotonic()
    with pytest.raises(JournalUnavailable) as err:
        OrderJournal.open(path)
    assert time.monotonic() - started < 0.5
    assert path in str(err.value)
    journal.close()


def test_an_unreadable_final_row_asked_for_by_a_retry_is_a_journal_error_naming_the_file(
        path: str) -> None:
    journal = OrderJournal.open(path)
    entry = journal.begin(intent("B1"), T0)
    journal.mark_sent(entry, T0)
    journal.finish(entry, EntryState.FILLED, {}, T0)
    journal._conn.execute("UPDATE intents SET payload = '{not json' WHERE client_order_id = 'B1'")
    with pytest.raises(MT5JournalError) as err:
        journal.get("B1")
    assert err.value.operation == "order_journal" and err.value.path == path
    assert "unreadable row 'B1'" in err.value.detail and path in err.value.detail
    journal.close()


def test_only_a_final_state_finishes_an_entry(path: str) -> None:
    journal = OrderJournal.open(path)
    entry = journal.begin(intent(), T0)
    with pytest.raises(ValueError, match="SENT is not a final state"):
        journal.finish(entry, EntryState.SENT, {}, T0)
    journal.close()


def test_the_entry_in_memory_keeps_its_times_and_result_through_its_states(path: str) -> None:
    journal = OrderJournal.open(path)
    entry = journal.begin(intent("M1"), T0)
    journal.mark_sent(entry, T0 + timedelta(seconds=1))
    journal.mark_unknown(entry, "reply lost")
    assert entry.sent_at == T0 + timedelta(seconds=1) and entry.result == {"unknown": "reply lost"}
    journal.finish(entry, EntryState.RESOLVED, {"outcome": {"deal": 3}},
                   T0 + timedelta(seconds=5))
    assert entry.sent_at == T0 + timedelta(seconds=1)
    assert entry.finished_at == T0 + timedelta(seconds=5)
    assert entry.result == {"outcome": {"deal": 3}}
    journal.close()


def _row(journal: OrderJournal, cid: str) -> tuple[object, ...]:
    return tuple(journal._conn.execute("SELECT * FROM intents WHERE client_order_id = ?",
                                       (cid,)).fetchone())


@pytest.mark.parametrize("synchronous", ["NORMAL", "FULL"])
def test_each_state_change_leaves_the_entry_in_memory_as_its_row_in_the_file(
        path: str, synchronous: Synchronous) -> None:
    """Each change writes only the columns it changes; the row must still be the whole entry."""
    journal = OrderJournal.open(path, synchronous=synchronous)
    entry = journal.begin(intent("W1"), T0)
    assert _row(journal, "W1") == row_of(entry)
    journal.mark_sent(entry, T0 + timedelta(seconds=1))
    assert _row(journal, "W1") == row_of(entry)
    journal.mark_unknown(entry, "reply lost")
    assert _row(journal, "W1") == row_of(entry)
    journal.finish(entry, EntryState.RESOLVED, {"outcome": {"deal": 7}}, T0 + timedelta(seconds=9))
    assert _row(journal, "W1") == row_of(entry)
    other = journal.begin(intent("W2"), T0)
    journal.mark_sent(other, T0)
    journal.finish(other, EntryState.REJECTED, {"error": {"code": 10006}}, T0)
    assert _row(journal, "W2") == row_of(other)
    journal.close()
    reopened = OrderJournal.open(path, synchronous=synchronous)
    assert reopened.get("W1") == entry and reopened.get("W2") == other
    reopened.close()


def test_a_write_the_file_refused_does_not_keep_it_locked_after_close(path: str) -> None:
    """The caller keeps the error (and with it the failed write's frames); close() must still
    let the file go, or the account's next start finds it in use."""
    journal = OrderJournal.open(path)
    refuses_writes(journal)
    with pytest.raises(MT5JournalError) as refused:
        journal.begin(intent("K1"), T0)
    journal.close()
    OrderJournal.open(path).close()
    assert refused.value.path == path
