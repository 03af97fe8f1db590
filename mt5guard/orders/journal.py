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

The file is opened once per process: SQLite's exclusive locking mode holds
the lock until :meth:`OrderJournal.close` (or the process dies), so a second
process on the same account is refused. A file that is corrupt, unreadable or
written by a newer mt5guard is refused too (:class:`JournalUnavailable`):
starting on a fresh journal would send ids a second time.
"""

from __future__ import annotations

import contextlib
import enum
import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from mt5guard.config.orders import MEMORY, Synchronous
from mt5guard.orders._journal_file import (
    SCHEMA_VERSION,
    STATEMENT_CACHE,
    JournalUnavailable,
    explain,
    prepare,
)

__all__ = [
    "SCHEMA_VERSION",
    "EntryState",
    "JournalEntry",
    "JournalUnavailable",
    "OrderIntent",
    "OrderJournal",
    "journal_path",
]

_FINAL = ("filled", "rejected", "resolved")


class EntryState(enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    FILLED = "filled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    RESOLVED = "resolved"

    @property
    def final(self) -> bool:
        return self.value in _FINAL


@attrs.frozen
class OrderIntent:
    """An order-changing request with a client order id, as the journal keeps it.

    ``kind`` names the request (``place``; later ``modify``, ``close``,
    ``cancel``); ``symbol``, ``side`` and ``volume`` (lots) are what a
    terminal record must agree on to be taken as this request's outcome;
    ``payload`` is the request's own fields (JSON-able), opaque to the journal.
    """

    client_order_id: str
    kind: str
    symbol: str
    side: str
    volume: float
    payload: dict[str, Any] = attrs.field(factory=dict, eq=False)


@attrs.define
class JournalEntry:
    """One intent and what is known of it. ``result`` is the JSON-able outcome or error."""

    intent: OrderIntent
    state: EntryState
    created_at: datetime
    sent_at: datetime | None = None
    finished_at: datetime | None = None
    result: dict[str, Any] | None = None


def journal_path(state_dir: str, account: str) -> str:
    """The journal file of ``account`` under ``state_dir`` (or ``:memory:``)."""
    if state_dir == MEMORY:
        return MEMORY
    return str(Path(state_dir) / f"{account}.journal.sqlite3")


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _dt(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


class OrderJournal:
    """The journal of one account. Thread-safe; used by one SessionActor at a time.

    Open with :meth:`open`; it raises :class:`JournalUnavailable` rather than
    start on a journal it cannot trust. Times are the injected clock's
    ``now()`` (aware datetimes) passed in by the caller.
    """

    def __init__(self, conn: sqlite3.Connection, path: str,
                 synchronous: Synchronous = "FULL") -> None:
        self._conn = conn
        self.path = path
        self._synchronous = synchronous
        self._lock = threading.Lock()
        self._live: dict[str, JournalEntry] = {}
        self.released_on_open: list[str] = []
        """Ids found ``pending`` when the file was opened: never sent, so freed."""
        with self._lock:
            rows = conn.execute("SELECT * FROM intents WHERE state IN ('pending','sent','unknown')")
            for row in rows.fetchall():
                entry = _entry(row)
                if entry.state is EntryState.PENDING:
                    self.released_on_open.append(entry.intent.client_order_id)
                else:
                    self._live[entry.intent.client_order_id] = entry
            with conn:
                conn.execute("DELETE FROM intents WHERE state = 'pending'")

    @classmethod
    def open(cls, path: str, *, synchronous: Synchronous = "FULL") -> OrderJournal:
        """Open (or create) the journal at ``path``; ``:memory:`` for one in memory."""
        try:
            if path != MEMORY:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=0.0, check_same_thread=False,
                                   isolation_level=None, cached_statements=STATEMENT_CACHE)
        except (OSError, sqlite3.Error) as exc:
            raise JournalUnavailable(f"order journal {path}: cannot open: {exc}") from exc
        try:
            prepare(conn, path, synchronous)
            return cls(conn, path, synchronous)
        except sqlite3.Error as exc:
            conn.close()
            raise JournalUnavailable(explain(path, exc)) from exc
        except JournalUnavailable:
            conn.close()
            raise

    def close(self) -> None:
        """Release the file (and its lock). Idempotent."""
        with self._lock:
            self._conn.close()

    # reading ------------------------------------------------------------------

    def get(self, client_order_id: str) -> JournalEntry | None:
        """The entry of ``client_order_id``: live ones from memory, final ones from the file."""
        with self._lock:
            live = self._live.get(client_order_id)
            if live is not None:
                return live
            row = self._conn.execute(
                "SELECT * FROM intents WHERE client_order_id = ?", (client_order_id,)
            ).fetchone()
        return None if row is None else _entry(row)

    def unresolved(self) -> list[JournalEntry]:
        """Entries that were sent and have no known outcome yet (``sent`` or ``unknown``)."""
        with self._lock:
            return [e for e in self._live.values() if e.state is not EntryState.PENDING]

    def count(self) -> int:
        """Rows in the file (live and final)."""
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM intents").fetchone()[0])

    # writing ------------------------------------------------------------------

    def begin(self, intent: OrderIntent, at: datetime) -> JournalEntry:
        """Commit the intent as ``pending``; it must not be in the journal."""
        entry = JournalEntry(intent, EntryState.PENDING, at)
        with self._commit(durable=False):
            self._conn.execute(
                "INSERT INTO intents (client_order_id, kind, symbol, side, volume, payload, "
                "state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                (intent.client_order_id, intent.kind, intent.symbol, intent.side, intent.volume,
                 json.dumps(intent.payload), _ts(at)),
            )
            self._live[intent.client_order_id] = entry
        return entry

    def mark_sent(self, entry: JournalEntry, at: datetime) -> None:
        """Commit ``sent``: called immediately before ``order_send``."""
        self._update(entry, EntryState.SENT, sent_at=at)

    def mark_unknown(self, entry: JournalEntry, why: str) -> None:
        self._update(entry, EntryState.UNKNOWN, result={"unknown": why})

    def finish(self, entry: JournalEntry, state: EntryState, result: dict[str, Any],
               at: datetime) -> None:
        """Record a final outcome (filled, rejected or resolved); the entry leaves memory."""
        if not state.final:
            raise ValueError(f"{state} is not a final state")
        self._update(entry, state, result=result, finished_at=at)

    def record_found(self, intent: OrderIntent, result: dict[str, Any], at: datetime) -> None:
        """An id the journal did not know, found in the terminal: keep it as ``resolved``."""
        with self._commit(durable=False):
            self._conn.execute(
                "INSERT OR REPLACE INTO intents (client_order_id, kind, symbol, side, volume, "
                "payload, state, created_at, finished_at, result) "
                "VALUES (?, ?, ?, ?, ?, ?, 'resolved', ?, ?, ?)",
                (intent.client_order_id, intent.kind, intent.symbol, intent.side, intent.volume,
                 json.dumps(intent.payload), _ts(at), _ts(at), json.dumps(result)),
            )

    def release(self, entry: JournalEntry) -> None:
        """Forget an intent that definitely did not execute: the id is free to retry."""
        cid = entry.intent.client_order_id
        with self._commit(durable=False):
            self._conn.execute("DELETE FROM intents WHERE client_order_id = ?", (cid,))
            self._live.pop(cid, None)

    def prune(self, finished_before: datetime) -> int:
        """Delete final entries finished before ``finished_before``; how many went."""
        with self._commit(durable=False):
            cursor = self._conn.execute(
                "DELETE FROM intents WHERE state IN ('filled','rejected','resolved') "
                "AND finished_at < ?", (_ts(finished_before),),
            )
        return int(cursor.rowcount)

    @contextlib.contextmanager
    def _commit(self, *, durable: bool) -> Iterator[None]:
        """One write (autocommit). Only ``sent`` must be on disk before ``order_send``.

        Every other write may be lost with the machine (never with the process:
        WAL commits survive a process crash whatever the setting) without
        risking a second order: a lost ``pending`` row was never sent, a lost
        outcome leaves ``sent``, which is reconciled. So only the ``sent``
        commit waits for ``synchronous``; with ``FULL`` the others are written
        with ``synchronous=OFF``. A later synced commit makes earlier ones
        durable too. With ``NORMAL`` (the default) no commit waits for the
        disk in WAL mode anyway, so the setting is never switched: one
        statement, one transaction per state change.
        """
        with self._lock:
            switch = not durable and self._synchronous == "FULL"
            if switch:
                self._conn.execute("PRAGMA synchronous = OFF")
            try:
                yield
            finally:
                if switch:
                    self._conn.execute(f"PRAGMA synchronous = {self._synchronous}")

    def _update(self, entry: JournalEntry, state: EntryState, *,
                result: dict[str, Any] | None = None, sent_at: datetime | None = None,
                finished_at: datetime | None = None) -> None:
        cid = entry.intent.client_order_id
        with self._commit(durable=state is EntryState.SENT):
            self._conn.execute(
                "UPDATE intents SET state = ?, result = coalesce(?, result), "
                "sent_at = coalesce(?, sent_at), finished_at = coalesce(?, finished_at) "
                "WHERE client_order_id = ?",
                (state.value, None if result is None else json.dumps(result), _ts(sent_at),
                 _ts(finished_at), cid),
            )
            entry.state = state
            entry.result = result if result is not None else entry.result
            entry.sent_at = sent_at or entry.sent_at
            entry.finished_at = finished_at or entry.finished_at
            if state.final:
                self._live.pop(cid, None)


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    (cid, kind, symbol, side, volume, payload, state, created, sent, finished, result) = row
    intent = OrderIntent(cid, kind, symbol, side, float(volume), json.loads(payload))
    created_at = _dt(created)
    assert created_at is not None
    return JournalEntry(intent, EntryState(state), created_at, _dt(sent), _dt(finished),
                        None if result is None else json.loads(result))
