"""Sending an order-changing request exactly once: journal first, terminal second.

:meth:`OrderDesk.send_once` is the one path every request with a client order
id takes (``place_order`` today; modify, close and cancel can reuse it with
their own :class:`~mt5guard.orders.journal.OrderIntent` and request builder):

1. an id the journal knows is answered from it, never sent again (an
   unresolved one is reconciled first);
2. an id the journal does not know waits until the account has caught up
   since its last connect (:meth:`OrderDesk.catch_up`), then is looked up in the terminal (orders,
   positions, history orders and deals over ``orders.lookback``): found means
   answered, not sent;
3. the intent is committed (``pending``), the request built and checked, then
   ``sent`` is committed and ``order_send`` called;
4. the reply decides: executed -> ``filled``; a definite non-execution that may
   be retried (requote, too many requests, refused before sending) frees the
   id; other rejections are ``rejected``; any doubt (timeout, lost link,
   malformed reply, an exception) is ``unknown`` and reconciled at once, after
   every reconnect, and whenever the id is asked for again.

Runs on the SessionActor's thread only.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from mt5guard.clock import Clock
from mt5guard.config import OrdersConfig
from mt5guard.errors import (
    CODE_TABLE,
    ORDER_NOT_SENT_CODES,
    MT5Error,
    MT5IdempotencyConflict,
    MT5OrderOutcomeUnknown,
    MT5StateError,
    error_from_retcode,
)
from mt5guard.events.bus import EventBus
from mt5guard.orders import catch_up, reconcile
from mt5guard.orders.journal import EntryState, JournalEntry, OrderIntent, OrderJournal
from mt5guard.orders.messages import OrderOutcome, OrderReconciled, OrderRequest, Side
from mt5guard.orders.request import (
    intent_for,
    outcome_from_result,
    outcome_to_result,
    reply_fields,
    same_request,
    trade_request,
)
from mt5guard.terminal.calls import TerminalOps
from mt5guard.terminal.constants import TRADE_RETCODE_TIMEOUT
from mt5guard.terminal.hung import TerminalHung

__all__ = ["Finder", "OrderDesk", "TerminalCalls"]

_log = logging.getLogger("mt5guard.orders")
_TIMEOUT_RETCODE = TRADE_RETCODE_TIMEOUT
_PARTIAL = 10010
_CLOCK_SKEW = timedelta(minutes=5)  # terminal/server times may run ahead of ours
_PRUNE_EVERY = timedelta(hours=1)

#: ``call(operation, fn, *args)`` runs one terminal call the MT5 way (None -> typed error).
TerminalCalls = Callable[..., Any]
#: Reads one intent back from the terminal: ``(intent, lookups, since, until) -> Finding``.
Finder = Callable[[OrderIntent, reconcile.TerminalLookups, datetime, datetime], reconcile.Finding]


class _Lookup:
    """One of the terminal reads a reconciliation makes, the MT5 way (None -> typed error).

    Holds the terminal and the call, not the desk (whose lookups these are): an ended
    session's desk is then no cycle for the garbage collector, and no closure is made.
    """

    __slots__ = ("call", "name", "terminal")

    def __init__(self, call: TerminalCalls, terminal: Any, name: str) -> None:
        self.call, self.terminal, self.name = call, terminal, name

    def __call__(self, *args: Any) -> Any:
        return self.call(self.name, getattr(self.terminal, self.name), *args)


class _Weakly:
    """A desk's method for its catch-up, without keeping the desk (which keeps the
    catch-up: a cycle otherwise). Only the desk's own catch-up calls it.

    What a ``WeakMethod`` keeps, the desk weakly and the function, but the desk's two
    share one weak reference (a WeakMethod is two and a finalizer, at every session start).
    """

    __slots__ = ("desk", "func")

    def __init__(self, desk: weakref.ref[Any], func: Callable[..., Any]) -> None:
        self.desk, self.func = desk, func

    def __call__(self, *args: Any) -> Any:
        desk = self.desk()
        assert desk is not None, "the desk outlives its catch-up"
        return self.func(desk, *args)


class OrderDesk:
    """Places orders for one account through its journal; see the module docstring."""

    def __init__(self, ops: TerminalOps, terminal: Any, clock: Clock, account: str,
                 journal: OrderJournal, bus: EventBus, config: OrdersConfig) -> None:
        self._ops = ops
        self._call: TerminalCalls = ops.call
        self._t = terminal
        self._clock = clock
        self._account = account
        self._journal = journal
        self.journal = journal
        self.finders: dict[str, Finder] = {}
        """Read-back per intent kind (modify, cancel); :func:`reconcile.find` otherwise."""
        self._bus = bus
        self._config = config
        self._pruned_at: datetime | None = None
        self._not_executed = ""  # what the last NOT_EXECUTED finding saw
        self.lookups = reconcile.TerminalLookups(  # not the desk's methods: no cycle with it
            open_orders=_Lookup(self._call, terminal, "orders_get"),
            positions=_Lookup(self._call, terminal, "positions_get"),
            history_orders=_Lookup(self._call, terminal, "history_orders_get"),
            history_deals=_Lookup(self._call, terminal, "history_deals_get"),
        )
        me, kind = weakref.ref(self), type(self)
        self._catch_up = catch_up.CatchUp(account, journal, self.lookups, clock, config,
                                          _Weakly(me, kind.reconcile_entry),
                                          _Weakly(me, kind._publish), _CLOCK_SKEW)

    # placing ------------------------------------------------------------------

    def place(self, order: OrderRequest, kind: str = "place",
              asked: dict[str, Any] | None = None) -> OrderOutcome:
        """A market order, sent at most once per client order id.

        ``kind`` is ``close_position`` for the opposite order that closes one:
        its symbol comes from the terminal's position, so it is not checked
        against the account's list; ``asked`` is what the caller asked for
        (kept in the journal: a resend of the id must ask the same).
        """
        if kind == "place":
            self._ops.check_symbol(order.symbol, "place_order")

        def prepare() -> dict[str, Any]:
            tick = self._ops.price(order.symbol)
            filling = self._ops.filling(order.symbol, order.filling, _operation_of(kind))
            request = trade_request(order, float(tick.ask if order.side is Side.BUY else tick.bid),
                                    filling)
            check = self._call("order_check", self._t.order_check, request)
            rejected = error_from_retcode(int(check.retcode), str(check.comment), "order_check")
            if rejected is not None:
                raise rejected
            return request

        intent = intent_for(order, kind)
        if asked is not None:
            intent.payload["asked"] = asked
        return self.send_once(intent, prepare)

    def send_once(self, intent: OrderIntent, prepare: Callable[[], dict[str, Any]]) -> OrderOutcome:
        """Send the request ``prepare`` builds, unless ``intent``'s id was ever sent.

        ``prepare`` runs after the intent is committed and before it is marked
        sent; whatever it raises frees the id and reaches the caller.
        """
        answered = self.answer_again(intent.client_order_id,
                                     lambda known: same_request(known, intent))
        if answered is not None:
            return answered
        self._catch_up.require(_operation(intent))
        found = self._first_sight(intent)
        if found is not None:
            return found
        entry = self._journal.begin(intent, self._clock.now())
        try:
            request = prepare()
        except BaseException:
            self._journal.release(entry)
            raise
        self._journal.mark_sent(entry, self._clock.now())
        try:
            reply = self._call("order_send", self._t.order_send, request)
        except TerminalHung as err:  # no connection left to read the outcome back through
            why = f"the send hung ({err.detail})"
            self._journal.mark_unknown(entry, why)
            raise self._unknown(entry, f"{why}; it is reconciled when the session has "
                                       "restarted") from err
        except MT5Error as err:
            if err.code in ORDER_NOT_SENT_CODES:  # refused before sending (arguments, auth)
                self._journal.release(entry)
                raise
            # None plus any other last_error: it may have reached the server
            return self._doubt(entry, f"reply lost (order_send returned None, last_error "
                                      f"{err.code} {err.terminal_message or err.kind!r})")
        except Exception as exc:
            return self._doubt(entry, f"order_send raised {exc!r}")
        outcome = self._settle(entry, reply)
        self._prune_if_due()
        return outcome

    def _settle(self, entry: JournalEntry, reply: Any) -> OrderOutcome:
        fields = reply_fields(reply)
        if fields is None:
            return self._doubt(entry, f"malformed order_send reply {reply!r}"[:200])
        retcode, order, deal, volume, price, comment = fields
        if retcode == _TIMEOUT_RETCODE:
            return self._doubt(entry, "the trade server timed out (10012)")
        if retcode not in CODE_TABLE or retcode == 0:  # 0 is order_check's pass, not a fill
            return self._doubt(entry, f"order_send answered retcode {retcode} ({comment!r}), "
                                      "which says neither filled nor rejected")
        failure = error_from_retcode(retcode, comment, _operation(entry.intent))
        if failure is None:
            outcome = OrderOutcome(entry.intent.client_order_id, retcode, order, deal, volume,
                                   price, comment)
            self._journal.finish(entry, EntryState.FILLED, outcome_to_result(outcome),
                                 self._clock.now())
            return outcome
        if failure.retryable:  # a definite non-execution: the id is free to retry
            self._journal.release(entry)
        else:
            self._journal.finish(entry, EntryState.REJECTED,
                                 {"error": {"code": retcode, "comment": comment}},
                                 self._clock.now())
        raise failure

    # answering and reconciling -------------------------------------------------

    def cached(self, entry: JournalEntry,
               order: OrderRequest | None = None) -> OrderOutcome | MT5Error:
        """The answer for a final entry, straight from the journal (no terminal call)."""
        try:
            if order is not None:
                same_request(entry, intent_for(order))
            answered = self.answer(entry)
        except MT5Error as err:
            return err
        assert answered is not None, "a final entry is never freed"
        return answered

    def answer_again(self, client_order_id: str,
                     same: Callable[[JournalEntry], None]) -> OrderOutcome | None:
        """A known id's outcome, after ``same`` checked (raising) that it comes back with
        the same request; None for a new id, or one that reconciliation freed (send it then)."""
        known = self._journal.get(client_order_id)
        if known is None:
            return None
        same(known)
        return self.answer(known)

    def answer(self, entry: JournalEntry) -> OrderOutcome | None:
        """The outcome of a known id; None if reconciliation freed it (send it then)."""
        outcome = outcome_from_result(entry.result)
        if entry.state.final and outcome is not None:
            return outcome
        if entry.state is EntryState.REJECTED and entry.result and "error" in entry.result:
            error = entry.result["error"]
            failure = error_from_retcode(int(error["code"]), str(error["comment"]),
                                         _operation(entry.intent))
            if failure is not None:
                raise failure
        found = self.reconcile_entry(entry)
        if isinstance(found, OrderOutcome):
            return found
        if found is reconcile.Found.NOT_EXECUTED:
            return None
        why = (entry.result or {}).get("unknown", "its first attempt has no known outcome")
        raise self._unknown(entry, str(why))

    def catch_up(self) -> MT5Error | None:
        """After every connect: read the account's deals and orders since the last one seen
        and reconcile every unresolved entry against them (:mod:`mt5guard.orders.catch_up`);
        new ids are sent only after. Returns the error of a reading that failed."""
        return self._catch_up.run()

    @property
    def caught_up(self) -> bool:
        """Whether the account's records were read since its last connect."""
        return self._catch_up.done

    def reconcile_entry(self, entry: JournalEntry, lookups: reconcile.TerminalLookups | None = None,
                        ) -> OrderOutcome | reconcile.Found:
        """Read ``entry`` back from the terminal (or from ``lookups``: a catch-up's reading),
        record and publish what was found."""
        now = self._clock.now()
        since = max(entry.created_at, now - timedelta(seconds=self._config.lookback))
        find = self.finders.get(entry.intent.kind, reconcile.find)
        try:
            finding = find(entry.intent, lookups or self.lookups, since - _CLOCK_SKEW,
                           now + _CLOCK_SKEW)
        except TerminalHung:
            raise  # the session must restart; the entry stays unresolved
        except MT5Error as err:
            _log.info("order %s: reconciliation failed: %s", entry.intent.client_order_id, err)
            self._publish(entry.intent, "unknown")
            return reconcile.Found.NOTHING
        outcome = self._outcome(entry.intent, finding)
        if outcome is not None:
            self._journal.finish(entry, EntryState.RESOLVED, outcome_to_result(outcome), now)
            self._publish(entry.intent, finding.found.value)
            return outcome
        if finding.found is reconcile.Found.NOT_EXECUTED:
            self._not_executed = finding.detail
            self._journal.release(entry)
        elif finding.found is reconcile.Found.MISMATCH:
            _log.warning("order %s: %s", entry.intent.client_order_id, finding.detail)
            self._journal.mark_unknown(entry, finding.detail)
        self._publish(entry.intent, finding.found.value if finding.found in (
            reconcile.Found.NOT_EXECUTED, reconcile.Found.MISMATCH) else "unknown")
        return finding.found

    def _first_sight(self, intent: OrderIntent) -> OrderOutcome | None:
        """Look an id the journal does not know up in the terminal before sending it."""
        now = self._clock.now()
        find = self.finders.get(intent.kind, reconcile.find)
        finding = find(intent, self.lookups, now - timedelta(seconds=self._config.lookback),
                       now + _CLOCK_SKEW)
        if finding.found is reconcile.Found.MISMATCH:
            self._publish(intent, finding.found.value)
            raise MT5IdempotencyConflict(operation=_operation(intent),
                                         client_order_id=intent.client_order_id,
                                         detail=f"{finding.detail}; choose another client_order_id")
        outcome = self._outcome(intent, finding)
        if outcome is not None:
            self._journal.record_found(intent, outcome_to_result(outcome), now)
            self._publish(intent, finding.found.value)
        return outcome

    def _doubt(self, entry: JournalEntry, why: str) -> OrderOutcome:
        self._journal.mark_unknown(entry, why)
        found = self.reconcile_entry(entry)
        if isinstance(found, OrderOutcome):
            return found
        if found is reconcile.Found.NOT_EXECUTED:
            if entry.intent.kind == "cancel_order":  # nothing left to cancel: a fact, final
                raise MT5StateError(operation=_operation(entry.intent), retryable=False,
                                    detail=f"{why}; {self._not_executed}")
            raise MT5StateError(operation=_operation(entry.intent), retryable=True, detail=(
                f"{why}; the terminal's history shows it was not executed ({self._not_executed});"
                f" the id {entry.intent.client_order_id!r} is free to retry"))
        raise self._unknown(entry, str((entry.result or {}).get("unknown", why)))

    def _unknown(self, entry: JournalEntry, why: str) -> MT5OrderOutcomeUnknown:
        retry_at = self._clock.now() + timedelta(seconds=self._config.recheck_after)
        return MT5OrderOutcomeUnknown(
            operation=_operation(entry.intent), client_order_id=entry.intent.client_order_id,
            retry_at=retry_at, detail=f"{why}; the order was NOT re-sent")

    @staticmethod
    def _outcome(intent: OrderIntent, finding: reconcile.Finding) -> OrderOutcome | None:
        if finding.found is reconcile.Found.EXECUTED:
            retcode = 10009 if finding.volume >= intent.volume - 1e-9 else _PARTIAL
        elif finding.found is reconcile.Found.PENDING:
            retcode = 10008
        else:
            return None
        return OrderOutcome(intent.client_order_id, retcode, finding.order, finding.deal,
                            finding.volume, finding.price,
                            f"{finding.found.value} ({finding.detail})", True)

    def _publish(self, intent: OrderIntent, found: str) -> None:
        self._bus.publish(OrderReconciled(self._account, intent.client_order_id, found,
                                          self._clock.now()))

    def _prune_if_due(self) -> None:
        now = self._clock.now()
        if self._pruned_at is None or now - self._pruned_at >= _PRUNE_EVERY:
            self._pruned_at = now
            self._journal.prune(now - timedelta(seconds=self._config.retention))


def _operation_of(kind: str) -> str:
    return "place_order" if kind == "place" else kind


def _operation(intent: OrderIntent) -> str:
    return "place_order" if intent.kind == "place" else intent.kind
