"""The write-ahead order journal: one SQLite file per account, WAL mode.

An order-changing request with a client order id (``place`` today; modify,
close and cancel reuse it) is an :class:`OrderIntent`. Its row is committed
*before* ``order_send`` and moves through these states::

    pending -> sent -> filled | rejected | unknown ;  unknown -> resolved

- ``pending``: the intent is committed; ``order_send`` has not been called.
  A process that dies here never sent it, so on the next open the row is
  dropped and the id is free again.
- ``sent``: committed just before ``order_send``; from here on the order may
  have executed, and only the terminal can say (reconciliation).
- ``filled`` / ``rejected``: the terminal's reply said so. Final.
- ``unknown``: any doubt after sending. Reconciled until it is ``resolved``
  (read back from the terminal's orders, positions or history).

A definite non-execution that may be retried (requote, too many requests,
refused before sending) deletes the row: the id is free. Only ``pending``,
``sent`` and ``unknown`` entries are held in memory; final ones are read from
the file when a retry asks, and pruned after the configured retention.

A write that fails (disk full, I/O error) raises :class:`MT5JournalError`
before ``order_send`` (nothing is sent without its record; every new order
is refused until the journal writes again). After ``order_send`` nothing is
lost: the new state is held in memory, answered from there, and written
before the next intent is begun (:meth:`OrderJournal.flush`).

The file is opened once per process: SQLite's exclusive locking mode holds
the lock until :meth:`OrderJournal.close` (or the process dies), so a second
process on the same account is refused. A file that is corrupt, unreadable or
written by a newer mt5guard is refused too (:class:`JournalUnavailable`):
starting on a fresh journal would send ids a second time.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from mt5guard.config.orders import MEMORY, Synchronous
from mt5guard.errors import MT5JournalError
from mt5guard.orders._journal_commits import Commits
from mt5guard.orders._journal_file import (
    COLUMNS,
    SCHEMA_VERSION,
    STATEMENT_CACHE,
    JournalUnavailable,
    check_files,
    explain,
    prepare,
)
from mt5guard.orders._journal_rows import (
    BEGIN,
    OUTCOME,
    SENT,
    UNKNOWN,
    UPSERT,
    EntryState,
    JournalEntry,
    OrderIntent,
    entry_of,
    moment_of,
    row_of,
    ts,
)
from mt5guard.orders._run_once import ROW, VALUE, VERDICT, Rows, run_once

# ``pragma: no mutate`` marks lines of SQL text: SQLite's keywords and its pragma, table
# and column names are case-insensitive, so mutmut's upper/lower-case mutants of them are
# equivalent (docs/testing.md, "Mutation testing").

__all__ = [
    "SCHEMA_VERSION",
    "EntryState",
    "JournalEntry",
    "JournalUnavailable",
    "OrderIntent",
    "OrderJournal",
    "journal_path",
]

_log = logging.getLogger("mt5guard.orders")
_DELETE = "DELETE FROM intents WHERE client_order_id = ?"  # pragma: no mutate


def journal_path(state_dir: str, account: str) -> str:
    """The journal file of ``account`` under ``state_dir`` (or ``:memory:``)."""
    if state_dir == MEMORY:
        return MEMORY
    return str(Path(state_dir) / f"{account}.journal.sqlite3")


class OrderJournal:
    """The journal of one account. Thread-safe; used by one SessionActor at a time.

    Open with :meth:`open`; it raises :class:`JournalUnavailable` rather than
    start on a journal it cannot trust. Times are the injected clock's
    ``now()`` (aware datetimes) passed in by the caller.
    """

    def __init__(self, conn: sqlite3.Connection, path: str,
                 synchronous: Synchronous = "FULL", *, created: bool = False) -> None:
        self._conn = conn
        self._commits = Commits(conn, synchronous)
        self.path = path
        self._lock = threading.Lock()
        self._live: dict[str, JournalEntry] = {}
        self._held: dict[str, JournalEntry | None] = {}  # written after a failed write; None: delete
        self.released_on_open: list[str] = []
        """Ids found ``pending`` when the file was opened: never sent, so freed."""
        self._seen_until: datetime | None = None
        self._mark_due = False  # mark_seen's mark is not in the file yet
        if created:  # its schema was made by this open: no row, no pending id, no mark to read
            return
        entries: list[JournalEntry] = []

        def read(rows: Rows) -> None:  # every row is readable before a pending one is deleted
            entries.extend(entry_of(row, path) for row in rows.get("entry", []))

        with self._lock:
            rows = run_once(conn, f"""
                SELECT {ROW}('entry', {', '.join(COLUMNS)}) FROM intents
                    WHERE state IN ('pending','sent','unknown');
                SELECT {VERDICT}();
                DELETE FROM intents WHERE state = 'pending';
                SELECT {ROW}('seen', value) FROM marks WHERE name = 'seen_until';
            """, read)
        for entry in entries:
            if entry.state is EntryState.PENDING:
                self.released_on_open.append(entry.intent.client_order_id)
            else:
                self._live[entry.intent.client_order_id] = entry
        seen = rows["seen"][0] if "seen" in rows else None
        self._seen_until = None if seen is None else moment_of(seen[0])

    @classmethod
    def open(cls, path: str, *, synchronous: Synchronous = "FULL") -> OrderJournal:
        """Open (or create) the journal at ``path``; ``:memory:`` for one in memory."""
        try:
            if path != MEMORY:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                check_files(path)
            conn = sqlite3.connect(path, timeout=0.0, check_same_thread=False,
                                   isolation_level=None, cached_statements=STATEMENT_CACHE)
        except PermissionError as exc:
            raise JournalUnavailable(f"order journal {path}: not writable ({exc}); give mt5guard "
                                     "write access to orders.state_dir") from exc
        except (OSError, sqlite3.Error) as exc:
            raise JournalUnavailable(f"order journal {path}: cannot open: {exc}") from exc
        try:
            created = prepare(conn, path, synchronous)
            return cls(conn, path, synchronous, created=created)
        except sqlite3.Error as exc:
            conn.close()
            raise JournalUnavailable(explain(path, exc)) from exc
        except JournalUnavailable:
            conn.close()
            raise

    def close(self) -> None:
        """Write what is held (and the mark) if the file takes it, then release the file
        (and its lock). Idempotent. Outcomes still held are not lost: their rows say
        ``sent`` and are reconciled when the journal is opened next."""
        with contextlib.suppress(MT5JournalError, sqlite3.ProgrammingError):
            self.flush()
            self._write_mark()
        with self._lock:
            self._conn.close()

    # reading ------------------------------------------------------------------

    def get(self, client_order_id: str) -> JournalEntry | None:
        """The entry of ``client_order_id``: live and held ones from memory, final ones from
        the file. A ``pending`` row in the file (its ``sent`` write failed) was never sent."""
        with self._lock:
            if client_order_id in self._held:
                return self._held[client_order_id]
            live = self._live.get(client_order_id)
            if live is not None:
                return live
            try:
                row = self._conn.execute(
                    "SELECT * FROM intents WHERE client_order_id = ?", (client_order_id,)  # pragma: no mutate
                ).fetchone()
            except sqlite3.Error as exc:
                raise self._error(f"cannot read id {client_order_id!r}", exc) from exc
        try:
            entry = None if row is None else entry_of(row, self.path)
        except JournalUnavailable as exc:
            raise MT5JournalError(operation="order_journal", path=self.path,
                                  detail=str(exc)) from exc
        return None if entry is None or entry.state is EntryState.PENDING else entry

    @property
    def held(self) -> int:
        """Outcomes known in memory whose write failed; written before the next intent."""
        with self._lock:
            return len(self._held)

    def flush(self) -> None:
        """Write the held outcomes; :class:`MT5JournalError` while the file still refuses."""
        with self._lock:
            held = list(self._held.items())
        for cid, entry in held:
            with self._lock:
                try:
                    if entry is None:
                        self._commits.write(_DELETE, (cid,))
                    else:
                        self._commits.write(UPSERT, row_of(entry))
                except sqlite3.Error as exc:
                    raise self._error(f"{len(held)} outcome(s) are held in memory and not yet "
                                      "written; new orders are refused until they are",
                                      exc) from exc
                if self._held.get(cid, entry) is entry:
                    self._held.pop(cid, None)

    def unresolved(self) -> list[JournalEntry]:
        """Entries that were sent and have no known outcome yet (``sent`` or ``unknown``)."""
        with self._lock:
            return [e for e in self._live.values() if e.state is not EntryState.PENDING]

    @property
    def seen_until(self) -> datetime | None:
        """How far the account's deals and orders were read by the last catch-up (or None)."""
        return self._seen_until

    def mark_seen(self, until: datetime) -> None:
        """Remember ``until`` as :attr:`seen_until`; the file gets it with the next order's
        first write or at :meth:`close`. Not now: a journal's first write makes SQLite sync
        a new WAL file and its folder (5-12 ms), which every connect paid. A mark lost with
        the process only widens the next catch-up back to the last one written. The pages
        the catch-up read are given back: an idle account keeps no more than at open."""
        with self._lock:
            self._seen_until, self._mark_due = until, True
            with contextlib.suppress(sqlite3.Error):  # closed: nothing is cached either
                self._conn.executescript("PRAGMA shrink_memory;")  # nothing kept prepared

    def _write_mark(self) -> None:
        """Write the mark :meth:`mark_seen` left due; a failed write is only logged."""
        if not self._mark_due:
            return
        try:
            with self._lock, self._commits.unsynced():
                assert self._seen_until is not None  # set with _mark_due
                run_once(self._conn, f"""
                    INSERT OR REPLACE INTO marks VALUES ('seen_until', {VALUE}('until'));
                    PRAGMA shrink_memory;
                """, values={"until": ts(self._seen_until)})
                self._mark_due = False
        except sqlite3.Error as exc:
            _log.warning("order journal %s: cannot write seen_until (%s)", self.path, exc)

    def count(self) -> int:
        """Rows in the file (live and final)."""
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM intents").fetchone()[0])  # pragma: no mutate

    # writing ------------------------------------------------------------------

    def begin(self, intent: OrderIntent, at: datetime) -> JournalEntry:
        """Commit the intent as ``pending``; it must not be in the journal (a ``pending`` row
        whose ``sent`` write failed is replaced). :class:`MT5JournalError`: nothing was sent."""
        if self._held or self._mark_due:  # set by this account's own calls: read without the lock
            self.flush()
            self._write_mark()
        cid = intent.client_order_id
        entry = JournalEntry(intent, EntryState.PENDING, at)
        row = (cid, intent.kind, intent.symbol, intent.side, intent.volume,
               json.dumps(intent.payload), at.timestamp())
        with self._lock:
            try:
                self._commits.write(BEGIN, row)
            except sqlite3.Error as exc:
                raise self._error("cannot record a new order; nothing was sent", exc) from exc
            self._live[cid] = entry
        return entry

    def mark_sent(self, entry: JournalEntry, at: datetime) -> None:
        """Commit ``sent``: called immediately before ``order_send``.

        :class:`MT5JournalError` if it cannot be written: the intent is dropped
        from memory and must not be sent (a ``pending`` row left in the file is free).
        """
        cid = entry.intent.client_order_id
        with self._lock:
            try:
                self._commits.write(SENT, (at.timestamp(), cid), durable=True)
            except sqlite3.Error as exc:
                self._live.pop(cid, None)
                raise self._error("cannot record the order as sent; it was NOT sent", exc) from exc
            entry.state, entry.sent_at = EntryState.SENT, at

    def mark_unknown(self, entry: JournalEntry, why: str) -> None:
        result = {"unknown": why}
        self._update(entry, EntryState.UNKNOWN, UNKNOWN,
                     (json.dumps(result), entry.intent.client_order_id), result)

    def finish(self, entry: JournalEntry, state: EntryState, result: dict[str, Any],
               at: datetime) -> None:
        """Record a final outcome (filled, rejected or resolved); the entry leaves memory."""
        if not state.final:
            raise ValueError(f"{state} is not a final state")
        self._update(entry, state, OUTCOME, (state._value_, json.dumps(result), at.timestamp(),
                                             entry.intent.client_order_id), result, at)

    def record_found(self, intent: OrderIntent, result: dict[str, Any], at: datetime) -> None:
        """An id the journal did not know, found in the terminal: keep it as ``resolved``."""
        entry = JournalEntry(intent, EntryState.RESOLVED, at, None, at, result)
        with self._lock:
            try:
                self._commits.write(UPSERT, row_of(entry))
                return
            except sqlite3.Error as exc:
                self._held[intent.client_order_id] = entry
                failed = exc
        self._log_held(intent.client_order_id, failed)

    def release(self, entry: JournalEntry) -> None:
        """Forget an intent that definitely did not execute: the id is free to retry."""
        cid = entry.intent.client_order_id
        with self._lock:
            self._live.pop(cid, None)
            try:
                self._commits.write(_DELETE, (cid,))
                return
            except sqlite3.Error as exc:
                self._held[cid] = None
                failed = exc
        self._log_held(cid, failed)

    def prune(self, finished_before: datetime) -> int:
        """Delete final entries finished before ``finished_before``; how many went.

        Entries still ``sent`` or ``unknown`` are never pruned, however old: their
        record is what keeps the id from being sent twice.
        """
        try:
            with self._lock:
                return self._commits.write(
                    "DELETE FROM intents WHERE state IN "  # pragma: no mutate
                    "('filled','rejected','resolved') AND finished_at < ?",  # pragma: no mutate
                    (ts(finished_before),))
        except sqlite3.Error as exc:  # housekeeping: tried again at the next prune
            _log.warning("order journal %s: prune failed: %s", self.path, exc)
            return 0

    def _log_held(self, cid: str, exc: sqlite3.Error) -> None:
        _log.error("order journal %s: cannot write the outcome of %r (%s); held in memory and "
                   "written before the next order", self.path, cid, exc)

    def _error(self, what: str, exc: BaseException) -> MT5JournalError:
        return MT5JournalError(operation="order_journal", path=self.path,
                               detail=f"order journal {self.path}: {what} ({exc}); free disk "
                                      "space or fix the file's storage")

    def _update(self, entry: JournalEntry, state: EntryState, sql: str, params: tuple[Any, ...],
                result: dict[str, Any], finished_at: datetime | None = None) -> None:
        """Move ``entry`` to ``state`` by ``sql``; a failed write is held in memory."""
        cid = entry.intent.client_order_id
        failed: sqlite3.Error | None = None
        with self._lock:
            try:
                self._commits.write(sql, params)
            except sqlite3.Error as exc:
                self._held[cid] = entry
                failed = exc
            entry.state, entry.result = state, result
            entry.finished_at = finished_at or entry.finished_at
            if state.final:
                self._live.pop(cid, None)
        if failed is not None:
            self._log_held(cid, failed)
