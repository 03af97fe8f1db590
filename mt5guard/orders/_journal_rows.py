"""The journal's rows: an intent, its entry and state, and how they are stored.

Shared by :mod:`mt5guard.orders.journal` (which re-exports the public names).
"""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime
from typing import Any

import attrs

from mt5guard.orders._journal_file import JournalUnavailable

__all__ = ["BEGIN", "OUTCOME", "SENT", "UNKNOWN", "UPSERT", "EntryState", "JournalEntry",
           "OrderIntent", "entry_of", "moment_of", "row_of", "ts"]

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
        return self._value_ in _FINAL  # not .value: an enum property, twice as slow


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


def ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def moment_of(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


UPSERT = ("INSERT OR REPLACE INTO intents (client_order_id, kind, symbol, side, volume, "
           "payload, state, created_at, sent_at, finished_at, result) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")

# One statement per state change of an order's usual path, binding only what it changes
# (an UPDATE of every column through coalesce(?, column) cost ~1 us more per write).
#: ``begin``: (client_order_id, kind, symbol, side, volume, payload, created_at)
BEGIN = ("INSERT OR REPLACE INTO intents (client_order_id, kind, symbol, side, volume, "  # pragma: no mutate
         "payload, state, created_at, sent_at, finished_at, result) "  # pragma: no mutate
         "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, NULL, NULL, NULL)")  # pragma: no mutate
#: ``mark_sent``: (sent_at, client_order_id)
SENT = "UPDATE intents SET state = 'sent', sent_at = ? WHERE client_order_id = ?"  # pragma: no mutate
#: ``mark_unknown``: (result, client_order_id)
UNKNOWN = "UPDATE intents SET state = 'unknown', result = ? WHERE client_order_id = ?"  # pragma: no mutate
#: ``finish``: (state, result, finished_at, client_order_id)
OUTCOME = ("UPDATE intents SET state = ?, result = ?, finished_at = ? "  # pragma: no mutate
           "WHERE client_order_id = ?")  # pragma: no mutate


def row_of(entry: JournalEntry) -> tuple[Any, ...]:
    i = entry.intent
    return (i.client_order_id, i.kind, i.symbol, i.side, i.volume, json.dumps(i.payload),
            entry.state.value, ts(entry.created_at), ts(entry.sent_at),
            ts(entry.finished_at), None if entry.result is None else json.dumps(entry.result))


def entry_of(row: tuple[Any, ...], path: str) -> JournalEntry:
    try:
        (cid, kind, symbol, side, volume, payload, state, created, sent, finished, result) = row
        intent = OrderIntent(str(cid), str(kind), str(symbol), str(side), float(volume),
                             json.loads(payload))
        created_at = moment_of(created)
        if created_at is None:
            raise ValueError("no created_at")
        return JournalEntry(intent, EntryState(state), created_at, moment_of(sent),
                            moment_of(finished), None if result is None else json.loads(result))
    except (ValueError, TypeError, OverflowError) as exc:
        raise JournalUnavailable(
            f"order journal {path}: unreadable row {str(row[0]) if row else '?'!r} ({exc}); "
            "restore the file from a backup, or move it aside after reconciling the account "
            "by hand (a fresh journal forgets which ids were sent)") from exc
