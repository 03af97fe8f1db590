"""The journal's file: lock, integrity and schema checks, and the schema itself.

Everything here runs once, when :meth:`OrderJournal.open` opens the file.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from mt5guard.config.orders import MEMORY, Synchronous

# ``pragma: no mutate`` marks lines of SQL text: SQLite's keywords and its pragma, table
# and column names are case-insensitive, so mutmut's upper/lower-case mutants of them are
# equivalent (docs/testing.md, "Mutation testing").

__all__ = ["SCHEMA_VERSION", "STATEMENT_CACHE", "JournalUnavailable", "check_files", "explain",
           "prepare"]

_COLUMNS = ["client_order_id", "kind", "symbol", "side", "volume", "payload", "state",
            "created_at", "sent_at", "finished_at", "result"]
_KEEP = ("restore it from a backup, or move it aside after reconciling the account by hand "
         "(a fresh journal forgets which ids were sent)")

SCHEMA_VERSION = 1
#: Prepared statements kept per journal connection (the write path uses three or four).
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

    True when the schema was created just now: the file holds no row yet.
    """
    # EXCLUSIVE before WAL: the lock is taken by the first write below and held
    # until close, and WAL then needs no shared memory (no other process may look).
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")  # pragma: no mutate
    conn.execute(f"PRAGMA cache_size = -{_PAGE_CACHE_KIB}")
    # With NORMAL (survives a process crash, not power loss) a new file is made without
    # fsyncs: SQLite's 6 per new file (~20 ms on a busy disk) were most of starting
    # 1,000 accounts, and a process crash loses nothing the OS was handed. FULL keeps
    # them (an fsync of our own would need a second descriptor of the file, and closing
    # that one drops this process's POSIX lock on it: the journal's single-owner lock).
    fresh = synchronous == "NORMAL" and path != MEMORY and os.path.getsize(path) == 0
    conn.execute(f"PRAGMA synchronous = {'OFF' if fresh else synchronous}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]  # pragma: no mutate
    if path != MEMORY and str(mode).lower() != "wal":
        raise JournalUnavailable(f"order journal {path}: cannot switch to WAL mode (got {mode})")
    conn.execute("BEGIN EXCLUSIVE")  # pragma: no mutate
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])  # pragma: no mutate
        tables = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}  # pragma: no mutate
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
        columns = [r[1] for r in conn.execute("PRAGMA table_info(intents)")]  # pragma: no mutate
        if version != 0 and columns != _COLUMNS:
            raise JournalUnavailable(
                f"order journal {path}: its intents table is not mt5guard's schema "
                f"{SCHEMA_VERSION} (columns {columns}); point orders.state_dir elsewhere")
        check = conn.execute("PRAGMA quick_check").fetchone()[0]  # pragma: no mutate
        if check != "ok":
            raise JournalUnavailable(f"order journal {path}: damaged ({check})")
        if version == 0:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute(_MARKS)  # pragma: no mutate
        conn.execute("COMMIT")  # pragma: no mutate
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")  # pragma: no mutate
        raise
    if fresh:
        conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA shrink_memory")  # pragma: no mutate (give back what the checks above cached)
    return version == 0


def explain(path: str, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return (f"order journal {path} is in use by another mt5guard process; two processes "
                "on one account can send an order twice: stop the other one first")
    if "readonly" in text or "read-only" in text:
        return (f"order journal {path}: not writable ({text}); give mt5guard write access to "
                f"{Path(path).parent} and the files in it")
    return f"order journal {path} is unreadable or corrupt ({text}); {_KEEP}"
