"""The journal's file: lock, integrity and schema checks, and the schema itself.

Everything here runs once, when :meth:`OrderJournal.open` opens the file.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from mt5guard.config.orders import MEMORY, Synchronous
from mt5guard.orders._run_once import ROW, VERDICT, Rows, run_once

__all__ = ["COLUMNS", "SCHEMA_VERSION", "STATEMENT_CACHE", "JournalUnavailable", "check_files",
           "explain", "prepare"]

COLUMNS = ["client_order_id", "kind", "symbol", "side", "volume", "payload", "state",
            "created_at", "sent_at", "finished_at", "result"]
_KEEP = ("restore it from a backup, or move it aside after reconciling the account by hand "
         "(a fresh journal forgets which ids were sent)")

SCHEMA_VERSION = 1
#: Prepared statements kept per journal connection (an order's usual writes use three,
#: one per state change, and two more with ``FULL``'s switch; what runs once, at open, is
#: run as scripts and keeps none: :func:`run_once`).
STATEMENT_CACHE = 8
#: Page cache per journal connection, KiB: enough for the pages one state change
#: touches (16 KiB made each write ~1.6x slower). SQLite's default (2 MiB each,
#: filled by the integrity check) was most of a session's memory at 1,000 accounts.
_PAGE_CACHE_KIB = 32
_SCHEMA = """
CREATE TABLE IF NOT EXISTS intents (
    client_order_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    volume REAL NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    sent_at REAL,
    finished_at REAL,
    result TEXT
);
CREATE INDEX IF NOT EXISTS intents_finished ON intents (state, finished_at);
"""
#: Added within schema 1 (an older mt5guard ignores it): the account's marks,
#: ``seen_until`` = how far its deals and orders were read after a connect.
_MARKS = "CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY, value REAL NOT NULL)"


class JournalUnavailable(Exception):
    """The journal cannot be used: locked by another process, corrupt, unreadable or newer.

    Start-up stops with this message; a silent fresh journal could send ids twice.
    """


def check_files(path: str) -> None:
    """Refuse what SQLite would silently turn into a fresh, empty journal.

    A ``-wal`` without its database (SQLite deletes it and starts empty), a
    zero-byte file (SQLite reads it as a new database), and a directory or
    file this process cannot write.
    """
    file, wal = Path(path), Path(f"{path}-wal")
    folder = file.parent
    refusing = folder if not os.access(folder, os.W_OK | os.X_OK) else \
        file if file.exists() and not os.access(file, os.W_OK) else None
    if refusing is not None:
        raise JournalUnavailable(
            f"order journal {path}: not writable ({refusing} refuses writes by this user); "
            "give mt5guard write access to orders.state_dir and the files in it")
    if not file.exists() and wal.exists() and wal.stat().st_size > 0:
        raise JournalUnavailable(
            f"order journal {path}: the write-ahead log {wal} is there but its database is "
            f"missing, so the journal's history is incomplete; restore {file.name} beside it, "
            f"or {_KEEP}")
    if file.exists() and file.stat().st_size == 0:
        raise JournalUnavailable(
            f"order journal {path}: the file is empty (0 bytes) although it exists, so the "
            f"journal's history is lost; {_KEEP}")


def prepare(conn: sqlite3.Connection, path: str, synchronous: Synchronous) -> bool:
    """Lock, check and (for a new file) create the schema; raises on anything doubtful.

    True when the schema was created just now: the file holds no row yet. Runs
    as scripts (:func:`run_once`): none of these statements, which run once,
    stays prepared in the connection for the account's life.
    """
    # With NORMAL (survives a process crash, not power loss) a new file is made without
    # fsyncs: SQLite's 6 per new file (~20 ms on a busy disk) were most of starting
    # 1,000 accounts, and a process crash loses nothing the OS was handed. FULL keeps
    # them (an fsync of our own would need a second descriptor of the file, and closing
    # that one drops this process's POSIX lock on it: the journal's single-owner lock).
    empty = path == MEMORY or os.path.getsize(path) == 0
    fresh = synchronous == "NORMAL" and path != MEMORY and empty
    try:
        run_once(conn, _open_script(synchronous, fresh=fresh, create=empty),
                 _Verdict(path, create=empty))
    except _Blank:  # a database file with nothing in it: made a journal, checked again
        run_once(conn, _open_script(synchronous, fresh=fresh, create=True),
                 _Verdict(path, create=True))
        return True
    return empty


class _Blank(Exception):
    """An existing database without schema, tables or version: a journal is made in it."""


def _open_script(synchronous: Synchronous, *, fresh: bool, create: bool) -> str:
    """The open as one script: lock, WAL, the checks (:class:`_Verdict`) and, in the
    checks' transaction, the schema where ``create`` (made in a second transaction, the
    pages the checks read stay cached: ~85 KiB per journal that ``shrink_memory`` misses).

    EXCLUSIVE before WAL: the lock is taken by the first write below and held until
    close, and WAL then needs no shared memory (no other process may look). The
    integrity check reads the ``main`` database only: checking all of them also
    opens the connection's unused TEMP database, ~7 KiB kept until close (NULL: no
    error limit of ours).
    """
    schema = f"{_SCHEMA}PRAGMA user_version = {SCHEMA_VERSION};" if create else ""
    after = f"PRAGMA synchronous = {synchronous};" if fresh else ""
    return f"""
        PRAGMA locking_mode = EXCLUSIVE;
        PRAGMA cache_size = -{_PAGE_CACHE_KIB};
        PRAGMA synchronous = {'OFF' if fresh else synchronous};
        PRAGMA journal_mode = WAL;
        SELECT {ROW}('mode', journal_mode) FROM pragma_journal_mode;
        SELECT {VERDICT}();
        BEGIN EXCLUSIVE;
        SELECT {ROW}('version', user_version) FROM pragma_user_version;
        SELECT {ROW}('table', name) FROM sqlite_master WHERE type = 'table';
        SELECT {ROW}('column', name) FROM pragma_table_info('intents');
        SELECT {ROW}('check', quick_check) FROM pragma_quick_check(NULL, 'main');
        SELECT {VERDICT}();
        {schema}
        {_MARKS};
        COMMIT;
        {after}
        PRAGMA shrink_memory;
    """


class _Verdict:
    """Refuses, from the rows the open script has read so far, what must not be a journal."""

    def __init__(self, path: str, *, create: bool) -> None:
        self._path, self._create = path, create

    def __call__(self, rows: Rows) -> None:
        path = self._path
        mode = rows["mode"][0][0]
        if path != MEMORY and str(mode).lower() != "wal":
            raise JournalUnavailable(
                f"order journal {path}: cannot switch to WAL mode (got {mode})")
        if "version" not in rows:
            return
        version = int(rows["version"][0][0])
        tables = {name for (name,) in rows.get("table", [])}
        if version > SCHEMA_VERSION:
            raise JournalUnavailable(
                f"order journal {path}: schema version {version} is newer than this mt5guard "
                f"understands ({SCHEMA_VERSION}); upgrade mt5guard, never delete the file")
        if version == 0 and tables:
            raise JournalUnavailable(
                f"order journal {path}: not an mt5guard journal (tables {sorted(tables)}); "
                "point orders.state_dir elsewhere")
        if version != 0 and "intents" not in tables:
            raise JournalUnavailable(f"order journal {path}: schema {version} has no intents table")
        columns = [name for (name,) in rows.get("column", [])]
        if version != 0 and columns != COLUMNS:
            raise JournalUnavailable(
                f"order journal {path}: its intents table is not mt5guard's schema "
                f"{SCHEMA_VERSION} (columns {columns}); point orders.state_dir elsewhere")
        check = rows["check"][0][0]
        if check != "ok":
            raise JournalUnavailable(f"order journal {path}: damaged ({check})")
        if version == 0 and not self._create:
            raise _Blank


def explain(path: str, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return (f"order journal {path} is in use by another mt5guard process; two processes "
                "on one account can send an order twice: stop the other one first")
    if "readonly" in text or "read-only" in text:
        return (f"order journal {path}: not writable ({text}); give mt5guard write access to "
                f"{Path(path).parent} and the files in it")
    return f"order journal {path} is unreadable or corrupt ({text}); {_KEEP}"
