"""SessionActor: the only owner of one terminal connection.

Every MetaTrader 5 call of an account happens on this actor's thread: the
module is a process-wide singleton and not documented thread-safe. The actor
keeps a local view of the breaker (pushed by the BreakerActor), so a guarded
request costs one actor hop; it tells the breaker each outcome afterwards.

A connection loss it cannot mend in place (one shutdown + initialize) makes
the actor fail; its supervisor restarts it after the backoff delay and
``on_start`` connects again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from mt5guard.breaker.messages import (
    BreakerStateChanged,
    TrialsGranted,
)
from mt5guard.breaker.view import BreakerView
from mt5guard.clock import Clock
from mt5guard.config import AccountConfig, OrdersConfig
from mt5guard.errors import (
    MT5AuthError,
    MT5ConnectionError,
    MT5Error,
    MT5Unavailable,
)
from mt5guard.events.bus import EventBus, deliver
from mt5guard.events.messages import PollTrades
from mt5guard.events.trade import TradeWatch
from mt5guard.health.messages import ProbeResult, RunProbe
from mt5guard.health.probe import probe
from mt5guard.market import data as market_data
from mt5guard.market.feed import WorkerQuoteFeed
from mt5guard.market.messages import PollQuotes, SubscribeQuotes
from mt5guard.market.quotes import QuoteHub, QuotePoller
from mt5guard.orders import changes as trade_changes
from mt5guard.orders import pending
from mt5guard.orders.checks import check_market_order
from mt5guard.orders.desk import OrderDesk
from mt5guard.orders.journal import OrderJournal
from mt5guard.orders.messages import (
    ChangeKind,
    ChangeTrade,
    CheckOrder,
    PlaceOrder,
    PlacePendingOrder,
)
from mt5guard.session._breaker_link import BreakerLink
from mt5guard.session._calls import GuardedCalls, complete, operation_of
from mt5guard.session._connection import Connection, SessionLost
from mt5guard.session._direct import Answer, DirectLane, Door
from mt5guard.session._reads import Reads, fail_later
from mt5guard.session.messages import (
    Connect,
    Disconnect,
    Reconnect,
    SessionFailed,
)
from mt5guard.supervision import ChildHandle, GuardedActor
from mt5guard.supervision._hosting import runs_own_loop
from mt5guard.terminal import Terminal
from mt5guard.terminal import calls as ops
from mt5guard.terminal.hung import caused_by_hang

__all__ = ["SessionActor"]


class SessionActor(GuardedActor):
    """One account's terminal owner, built of three parts it holds.

    ``_link`` (:class:`~mt5guard.session._breaker_link.BreakerLink`): the
    local view of the breaker; ``_connection``
    (:class:`~mt5guard.session._connection.Connection`): the terminal
    connection and its worker process; ``_calls``
    (:class:`~mt5guard.session._calls.GuardedCalls`): one guarded call per
    request. The actor routes messages to them and to the order desk.
    """

    # The breaker's view first: requests queued behind a slow call must meet
    # the state the breaker is in now, not the one it was in when they queued.
    urgent_messages = (BreakerStateChanged, TrialsGranted)
    # A terminal call may never return: a session abandoned by its supervisor's
    # shutdown_timeout must not keep the process from exiting.
    use_daemon_thread = True

    def __init__(
        self,
        account: AccountConfig,
        terminal: Terminal,
        clock: Clock,
        bus: EventBus,
        breaker: ChildHandle,
        journal: OrderJournal,
        *,
        max_tick_age: float = 60.0,
        breaker_view: BreakerView | None = None,
        quotes: QuoteHub | None = None,
        poll_interval: float = 0.25,
        trades: TradeWatch | None = None,
        probe_timeout: float = 10.0,
        orders: OrdersConfig | None = None,
        lane: DirectLane | None = None,
    ) -> None:
        super().__init__()
        self._poller = QuotePoller(quotes or QuoteHub(account.name), clock, poll_interval)
        self._trades = trades or TradeWatch(account.name, clock)
        self.account = account
        self._terminal = terminal
        self._clock = clock
        self._bus = bus
        self._max_tick_age = max_tick_age
        self._probe_timeout = probe_timeout  # seconds; a worker's probe calls are killed past it
        self._ops = ops.TerminalOps(terminal, clock, account)
        self._desk = OrderDesk(self._ops, terminal, clock, account.name, journal, bus,
                               orders or OrdersConfig())
        self._desk.finders.update(trade_changes.FINDERS)
        self._desk.finders.update(pending.FINDERS)
        self._link = BreakerLink(clock, breaker, breaker_view)
        self._connection = Connection(account, terminal, self._ops, clock, bus, self._desk,
                                      self._link)
        self._calls = GuardedCalls(clock, self._link, self._connection)
        worker = self._connection.worker
        # its quotes are polled by the worker and pushed, not requested per poll
        self._feed = None if worker is None else WorkerQuoteFeed(worker, self._poller, clock)
        self._lane = lane
        self._reads = Reads(self._calls, self._ops, terminal, self._connection, self._link)
        self._door = Door(self._link, self._reads.handle, self._reads.ready,
                          functools.partial(fail_later, self.actor_ref),  # not self: no cycle
                          calls=worker is not None, price=self._reads.price)

    def __str__(self) -> str:
        return f"SessionActor {self.account.name}"

    # lifecycle -------------------------------------------------------------

    def on_start(self) -> None:
        self._link.follow(self.actor_ref)
        connection = self._connection
        try:
            connection.start_worker()
            connection.connect_or_fail()
            # after a restart (a killed worker included) the terminal's state is
            # unknown: orders without a known outcome are read back before new ones
            # (connect_or_fail catches up: OrderDesk.catch_up after every connect)
            connection.fail_if_worker_lost()
            self._poller.arm(self.actor_ref)
            self._trades.arm(self.actor_ref)
        except BaseException:
            connection.end_worker()  # neither on_stop nor on_failure runs after on_start fails
            raise
        if self._lane is not None and runs_own_loop(self):  # not on a deterministic runtime
            self._door.open()
            self._lane.door = self._door

    def on_stop(self) -> None:
        self._end("session stopped")

    def on_failure(self, *_exc_info: Any) -> None:
        self._end("session failed")

    def _end(self, reason: str) -> None:
        with self._door.lock:  # a caller's read in flight finishes (or is killed at its deadline)
            self._door.close()
            if self._lane is not None and self._lane.door is self._door:
                self._lane.door = None
            self._ending(reason)

    def _ending(self, reason: str) -> None:
        self._poller.cancel()
        self._trades.cancel()
        self._connection.shutdown(reason)
        self._connection.end_worker()

    @staticmethod
    def on_undelivered(message: Any) -> None:
        # Requests carry their own reply futures: answer those the session will
        # never handle (queued at its end, or sent after it) instead of leaving
        # callers waiting for their whole timeout. Static: an ended session's inbox
        # keeps no reference to it (no cycle: refcounting frees it at once).
        reply = getattr(message, "reply_to", None)
        if isinstance(reply, Future | Answer):
            complete(reply, MT5Unavailable(
                operation=operation_of(message),
                detail="the session ended before handling this request; it restarts "
                       "after its backoff delay",
            ))

    # messages --------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        lock = self._door.lock  # callers' reads wait while the actor handles a message
        lock.acquire()  # not ``with``: its two special-method lookups cost more (every message)
        try:
            if type(message) is RunProbe:  # one every probe interval: before the chain
                self._probe(message)
                return None
            guarded = self._calls.run
            if isinstance(message, BreakerStateChanged):
                self._link.changed(message)
            elif isinstance(message, TrialsGranted):
                self._link.granted(message)
            elif self._reads.handle(message, False):
                pass
            elif isinstance(message, SessionFailed):
                raise SessionLost(message.reason)
            elif isinstance(message, PlaceOrder):
                self._place_order(message)
            elif isinstance(message, PlacePendingOrder):
                self._place_pending(message)
            elif isinstance(message, CheckOrder):
                self._calls.run(message, message.operation, lambda: check_market_order(
                    message.order, self._ops, self._terminal))
            elif isinstance(message, PollQuotes):
                self._poll_quotes(message)
            elif isinstance(message, SubscribeQuotes):
                self._poller.arm(self.actor_ref)
                self._trades.arm(self.actor_ref)
            elif isinstance(message, PollTrades):
                self._poll_trades(message)
            elif isinstance(message, ChangeTrade):
                self._change_trade(message)
            elif isinstance(message, RunProbe):
                self._probe(message)
            elif isinstance(message, Connect):
                guarded(message, "connect", self._connection.ensure_connected, reconnect=False)
            elif isinstance(message, Reconnect):
                guarded(message, "reconnect", self._connection.reconnect, reconnect=False)
            elif isinstance(message, Disconnect):
                self._connection.shutdown("disconnect requested")
                complete(message.reply_to, None)
            else:
                return super().on_receive(message)
            return None
        finally:
            lock.release()

    # orders -----------------------------------------------------------------

    def _place_order(self, message: PlaceOrder) -> None:
        order = message.order
        self._send_once(message, "place_order", order.client_order_id,
                        lambda known: self._desk.cached(known, order),
                        lambda: self._desk.place(order))

    def _place_pending(self, message: PlacePendingOrder) -> None:
        order = message.order
        self._send_once(message, message.operation, order.client_order_id,
                        lambda known: pending.answer_known(self._desk, known, order),
                        lambda: pending.place_pending(order, self._desk, self._ops,
                                                      self._terminal))

    def _send_once(self, message: Any, operation: str, client_order_id: str,
                   answer_known: Callable[[Any], Any], send: Callable[[], Any]) -> None:
        """An order-changing request: answered from the journal alone when its id is
        final there, else sent (guarded, refused while trading is off)."""
        try:
            known = self._desk.journal.get(client_order_id)
        except MT5Error as err:  # the journal cannot be read: nothing is sent
            complete(message.reply_to, err)
            return
        if known is not None and known.state.final:
            complete(message.reply_to, answer_known(known))
            return
        self._calls.run(message, operation, self._trading(operation, send))

    def _poll_quotes(self, message: PollQuotes) -> None:
        """Poll while the breaker lets calls through freely; never spend HALF_OPEN trials."""
        self._poller.fired()
        live = self._link.live
        if self._feed is not None:  # the worker polls; a new failure is polled here once
            if self._feed.step(live) and live:
                self._calls.run(message, "poll_quotes", lambda: self._poller.poll(self._ops.price))
            self._connection.fail_if_worker_lost()
            self._poller.arm(self.actor_ref, force=self._feed.watching)
            return
        if live:
            self._calls.run(message, "poll_quotes", lambda: self._poller.poll(self._ops.price))
        self._poller.arm(self.actor_ref)

    def _poll_trades(self, message: PollTrades) -> None:
        self._trades.fired()
        if self._trades.watched() and self._link.live:
            self._calls.run(message, "poll_trades", self._publish_trades)
        self._trades.arm(self.actor_ref)

    def _publish_trades(self) -> None:
        t = self._terminal
        events = self._trades.poll(
            lambda: self._ops.positions(None), lambda: self._ops.orders(None),
            lambda a, b: tuple(market_data.checked(t, "history_deals_get", t.history_deals_get(a, b))),
        )
        for event in events:
            self._bus.publish(event)

    def _change_trade(self, message: ChangeTrade) -> None:
        change = message.change

        def send() -> Any:
            if change.kind is ChangeKind.MODIFY_ORDER:
                return pending.modify_order(change, self._desk, self._ops, self._terminal)
            return trade_changes.apply_change(change, self._desk, self._terminal,
                                              self._trades.note_stops)

        self._send_once(message, change.kind.value, change.client_order_id,
                        lambda known: trade_changes.answer_known(self._desk, known, change), send)

    def _trading(self, operation: str, send: Callable[[], Any]) -> Callable[[], Any]:
        """``send``, refused with MT5TradingDisabled first while trading is found off."""

        def checked() -> Any:
            self._ops.require_trading(operation)
            return send()

        return checked

    # health probe -----------------------------------------------------------

    def _probe(self, message: RunProbe) -> None:
        link = self._link
        if not link.live and link.admit("probe") is not None:  # admit() is None while live
            skipped = ProbeResult(message.seq, False, False, False, 0.0, self._clock.now(),
                                  "circuit breaker open", skipped=True)
            deliver(message.reply_to, skipped)
            return
        started = self._clock.monotonic()
        connection = self._connection
        if connection.worker is None:  # in process: no worker to kill at a deadline
            result, error = probe(self._ops, self._terminal, self._clock, message.symbol,
                                  message.seq, self._max_tick_age, started)  # _run_probe's
            if error is None:  # the usual probe
                link.report("probe", started, None)
                deliver(message.reply_to, result)
                return
            result, error = self._probe_again(message, result, error)
        else:
            connection.deadline(started + self._probe_timeout)  # the health probe's own timeout
            try:
                result, error = self._probe_again(message, *self._run_probe(message, started))
            finally:
                connection.deadline(None)
        link.report("probe", started, error)
        deliver(message.reply_to, result)
        if isinstance(error, MT5ConnectionError) or (error is not None and caused_by_hang(error)):
            raise SessionLost(str(error))
        connection.fail_if_worker_lost()

    def _probe_again(self, message: RunProbe, result: ProbeResult, error: MT5Error | None
                     ) -> tuple[ProbeResult, MT5Error | None]:
        """Once more after mending a lost connection or login in place; else as it was."""
        connection = self._connection
        if (isinstance(error, MT5ConnectionError) and connection.mend()) or (
            isinstance(error, MT5AuthError) and connection.mend_auth()
        ):
            return self._run_probe(message)
        return result, error

    def _run_probe(self, message: RunProbe, started: float | None = None
                   ) -> tuple[ProbeResult, MT5Error | None]:
        return probe(self._ops, self._terminal, self._clock, message.symbol, message.seq,
                     self._max_tick_age, started)
