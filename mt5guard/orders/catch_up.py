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

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from mt5guard.clock import Clock
from mt5guard.config import OrdersConfig
from mt5guard.errors import MT5ConnectionError, MT5Error, MT5Unavailable
from mt5guard.orders.journal import JournalEntry, OrderIntent, OrderJournal
from mt5guard.orders.reconcile import TerminalLookups
from mt5guard.terminal.hung import TerminalHung

__all__ = ["CatchUp", "Reading", "read", "window_start"]

_log = logging.getLogger("mt5guard.orders")


class CatchUp:
    """One account's catch-up, held by its OrderDesk (``reconcile``: the desk's
    ``reconcile_entry``; ``publish``: its OrderReconciled; ``skew`` widens the window)."""

    def __init__(self, account: str, journal: OrderJournal, lookups: TerminalLookups,
                 clock: Clock, config: OrdersConfig,
                 reconcile: Callable[[JournalEntry, TerminalLookups], object],
                 publish: Callable[[OrderIntent, str], None], skew: timedelta) -> None:
        self._account, self._journal, self._lookups = account, journal, lookups
        self._clock, self._config, self._skew = clock, config, skew
        self._reconcile, self._publish = reconcile, publish
        self.done = False
        """Whether the account's records were read since its last connect."""

    def run(self) -> MT5Error | None:
        """Read, reconcile every unresolved entry, move the mark, write held outcomes.

        Returns the error of a reading that failed: nothing is reconciled then
        (each unresolved id is published ``unknown``) and new ids wait.
        """
        self.done = False
        journal, now = self._journal, self._clock.now()
        unresolved = journal.unresolved()
        since = window_start(now, journal.seen_until, [e.created_at for e in unresolved],
                             self._config.lookback)
        mark = now
        if since is not None:
            try:
                reading = read(self._lookups, since - self._skew, now + self._skew,
                               book=bool(unresolved))
            except TerminalHung:
                raise  # the session must restart; the entries stay unresolved
            except MT5Error as err:
                _log.warning("%s: the deals and orders since %s could not be read after the "
                             "connect (%s); new order ids wait until they are", self._account,
                             since.isoformat(), err)
                for entry in unresolved:
                    self._publish(entry.intent, "unknown")
                return err
            for entry in unresolved:
                self._reconcile(entry, reading.lookups)
            mark = reading.mark(now)
            if _log.isEnabledFor(logging.INFO):  # not formatting the time for nobody, every connect
                _log.info("%s: caught up from %s: %d deal(s) and %d order(s) read, %d unresolved "
                          "entr(ies) reconciled", self._account, since.isoformat(), reading.deals,
                          reading.orders, len(unresolved))
        journal.mark_seen(mark)
        self.done = True
        try:
            journal.flush()
        except MT5Error as err:  # still refused: the next order tries again, and is refused
            _log.warning("%s", err)
        return None

    def require(self, operation: str) -> None:
        """Before a new id is sent: catch up now if the last try failed; refuse if it fails."""
        if self.done:
            return
        failed = self.run()
        if failed is None:
            return
        if isinstance(failed, MT5ConnectionError):
            raise failed  # the guarded call mends the connection (and catches up again)
        raise MT5Unavailable(
            operation=operation,
            retry_at=self._clock.now() + timedelta(seconds=self._config.recheck_after),
            detail=f"the account's deals and orders since its last connect could not be read "
                   f"({failed}); no new order is sent before they are; nothing was sent")


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
