"""Catching an account up after a connect: its deals and orders since the last one seen.

While the connection was down (a breaker trip, a failed health probe, a
restarted session or worker, a killed process) the trade server went on: an
order whose reply was lost may have filled meanwhile. So after every connect,
before the account sends a new id, the desk reads the account's history
deals and history orders once, from the journal's mark (``seen_until``: the
last record seen, kept in the journal so it survives a restart) to now, and
the open orders and positions when an entry is unresolved; every unresolved
entry is reconciled against that one reading (:meth:`OrderDesk.catch_up`).
An id still unknown afterwards waits: a resend of it is answered from a fresh
read-back, never sent. Other ids go.

The window starts at the mark, or earlier when an unresolved entry was
created before it, never earlier than ``orders.lookback``; the desk widens
it by its clock-skew margin on both sides. Record times are the trade
server's: a mark is never set later than our own clock, so a server whose
clock runs ahead cannot push the next window past what it has not shown yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from mt5guard.orders.reconcile import TerminalLookups

__all__ = ["Reading", "read", "window_start"]


def window_start(now: datetime, seen_until: datetime | None, unresolved: Iterable[datetime],
                 lookback: float) -> datetime | None:
    """Where a catch-up's reading starts; None when there is nothing to read.

    ``unresolved``: when each unresolved entry was created; ``lookback`` in
    seconds. A journal with no mark and nothing unresolved needs no reading:
    every later entry is created after ``now``.
    """
    starts = [moment for moment in (seen_until, *unresolved) if moment is not None]
    if not starts:
        return None
    return max(min(starts), now - timedelta(seconds=lookback))


@attrs.frozen
class Reading:
    """One reading of an account's records; ``lookups`` answers from it, without a call."""

    lookups: TerminalLookups
    deals: int
    orders: int
    newest: datetime | None
    """The newest deal or history order's time (the trade server's clock), or None."""

    def mark(self, now: datetime) -> datetime:
        """The next ``seen_until``: the last record seen, never later than ``now``."""
        return now if self.newest is None else min(self.newest, now)


def read(lookups: TerminalLookups, since: datetime, until: datetime, *, book: bool) -> Reading:
    """History deals and orders between ``since`` and ``until``; open orders and positions
    too when ``book``. Raises what the lookups raise (nothing is half-read)."""
    deals = tuple(lookups.history_deals(since, until))
    orders = tuple(lookups.history_orders(since, until))
    positions = tuple(lookups.positions()) if book else ()
    pending = tuple(lookups.open_orders()) if book else ()
    times = [_moment(d.time) for d in deals]
    times += [_moment(max(int(o.time_done), int(o.time_setup))) for o in orders]
    return Reading(
        TerminalLookups(open_orders=lambda: pending, positions=lambda: positions,
                        history_orders=lambda _a, _b: orders, history_deals=lambda _a, _b: deals),
        len(deals), len(orders), max(times, default=None))


def _moment(seconds: Any) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)
