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

import logging
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from typing import Any

from mt5guard.actors import _session_ops as ops
from mt5guard.actors import market_data, trade_changes
from mt5guard.actors.breaker_view import BreakerView
from mt5guard.actors.journal import OrderJournal
from mt5guard.actors.order_desk import OrderDesk
from mt5guard.actors.quote_feed import WorkerQuoteFeed
from mt5guard.actors.quotes import QuoteHub, QuotePoller
from mt5guard.actors.trade_events import TradeWatch
from mt5guard.bus import EventBus, deliver
from mt5guard.clock import Clock
from mt5guard.config import AccountConfig, OrdersConfig
from mt5guard.errors import (
    MT5AuthError,
    MT5CircuitBreakerOpen,
    MT5ConnectionError,
    MT5DataError,
    MT5Error,
    MT5StateError,
    MT5TimeoutError,
    MT5Unavailable,
)
from mt5guard.messages import (
    BreakerState,
    BreakerStateChanged,
    CallFailed,
    CallRejected,
    CallSucceeded,
    ChangeTrade,
    Connect,
    Disconnect,
    GetAccountInfo,
    GetOrders,
    GetPositions,
    GetPrice,
    PlaceOrder,
    PollQuotes,
    PollTrades,
    ProbeResult,
    ReadMarketData,
    Reconnect,
    RunProbe,
    SessionConnected,
    SessionDisconnected,
    SubscribeBreaker,
    SubscribeQuotes,
    TrialsGranted,
)
from mt5guard.supervision import ChildHandle, ChildUnavailable, GuardedActor
from mt5guard.terminal import Terminal
from mt5guard.terminal.hung import caused_by_hang
from mt5guard.terminal.worker import WorkerTerminal

__all__ = ["SessionActor"]

_log = logging.getLogger("mt5guard.session")

_REQUESTED = ("session stopped", "disconnect requested", "reconnect requested")
_BATCH_SUCCESSES = 63  # plain successes counted before one CallSucceeded(count=64) is told
# the caller decides; a retry with its id is safe
_NEVER_RETRIED = frozenset({"place_order", "modify_position", "close_position", "cancel_order"})
_BATCHABLE = frozenset({"get_price", "get_account_info", "positions", "orders", "place_order",
                        "probe", "modify_position", "close_position", "cancel_order",
                        "poll_quotes", "poll_trades"}) \
    | market_data.MARKET_DATA_OPERATIONS

class SessionLost(Exception):
    """The connection is gone and could not be mended in place: restart me."""

class SessionActor(GuardedActor):
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
    ) -> None:
        super().__init__()
        self._poller = QuotePoller(quotes or QuoteHub(account.name), clock, poll_interval)
        self._trades = trades or TradeWatch(account.name, clock)
        self.account = account
        self._breaker_view = breaker_view or BreakerView()
        self._terminal = terminal
        self._clock = clock
        self._bus = bus
        self._breaker = breaker
        self._journal = journal
        self._max_tick_age = max_tick_age
        self._probe_timeout = probe_timeout  # seconds; a worker's probe calls are killed past it
        self._state = BreakerState.CLOSED
        self._epoch: int | None = None
        self._retry_at: Any = None
        self._trials = 0
        self._connected = False
        self._quiet_successes = 0  # successes not told to the breaker yet
        self._quiet_rejections = 0  # local rejections not told yet
        self._failure_streak = False  # the breaker counts a failure streak we must end
        self._ops = ops.TerminalOps(terminal, clock, account)
        # A terminal in a worker process: ours from on_start to the session's end.
        self._worker = terminal if isinstance(terminal, WorkerTerminal) else None
        # its quotes are polled by the worker and pushed, not requested per poll
        self._feed = None if self._worker is None else WorkerQuoteFeed(self._worker, self._poller,
                                                                       clock)
        self._desk = OrderDesk(self._ops, terminal, clock, account.name, journal, bus,
                               orders or OrdersConfig())
        self._desk.finders.update(trade_changes.FINDERS)

    def __str__(self) -> str:
        return f"SessionActor {self.account.name}"

    # lifecycle -------------------------------------------------------------

    def on_start(self) -> None:
        known = self._breaker_view.get()  # the state before the first request, not CLOSED
        if known is not None:
            self._apply_breaker(known)
        try:
            self._breaker.tell(SubscribeBreaker(self.actor_ref))
        except ChildUnavailable:
            pass  # the breaker restarts first (rest_for_one) and so do we
        try:
            if self._worker is not None:
                self._start_worker()
            self._connect_or_fail()
            # after a restart (a killed worker included) the terminal's state is
            # unknown: orders without a known outcome are read back before new ones
            # (_connect_or_fail reconciles them: OrderDesk.reconcile_all after every connect)
            self._fail_if_worker_lost()
            self._poller.arm(self.actor_ref)
            self._trades.arm(self.actor_ref)
        except BaseException:
            self._end_worker()  # neither on_stop nor on_failure runs after on_start fails
            raise

    def on_stop(self) -> None:
        self._poller.cancel()
        self._trades.cancel()
        self._shutdown("session stopped")
        self._end_worker()

    def on_failure(self, *_exc_info: Any) -> None:
        self._poller.cancel()
        self._trades.cancel()
        self._shutdown("session failed")
        self._end_worker()

    def _start_worker(self) -> None:
        assert self._worker is not None
        started = self._clock.monotonic()
        try:
            self._worker.start()
        except MT5Error as err:
            self._report("connect", started, err)
            raise

    def _end_worker(self) -> None:
        if self._worker is not None:
            self._worker.close()

    def _fail_if_worker_lost(self) -> None:
        """A worker killed at a deadline (or dead) leaves the terminal unknown: restart."""
        lost = self._worker.lost if self._worker is not None else None
        if lost is not None:
            raise SessionLost(f"terminal worker {lost}")

    def _deadline(self, deadline: float | None) -> None:
        if self._worker is not None:
            self._worker.set_deadline(deadline)

    def on_undelivered(self, message: Any) -> None:
        # Requests carry their own reply futures: answer those the session will
        # never handle (queued at its end, or sent after it) instead of leaving
        # callers waiting for their whole timeout.
        reply = getattr(message, "reply_to", None)
        if isinstance(reply, Future):
            _complete(reply, MT5Unavailable(
                operation=_operation(message),
                detail="the session ended before handling this request; it restarts "
                       "after its backoff delay",
            ))

    # messages --------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, BreakerStateChanged):
            if self._epoch is not None and message.epoch < self._epoch:
                return None  # older than what the view told us at start
            if self._quiet_rejections:
                self._breaker_tell(CallRejected(self._quiet_rejections))
                self._quiet_rejections = 0
            if self._quiet_successes and message.epoch != self._epoch:
                self._breaker_tell(CallSucceeded(self._epoch, "batched", 0.0,
                                                 count=self._quiet_successes))
                self._quiet_successes = 0
            self._apply_breaker(message)
        elif isinstance(message, TrialsGranted):
            if message.epoch == self._epoch:
                self._trials += message.trials
        elif isinstance(message, GetPrice):
            self._guarded(message, "get_price", lambda: self._ops.price(message.symbol))
        elif isinstance(message, GetAccountInfo):
            self._guarded(message, "get_account_info", self._ops.account_info)
        elif isinstance(message, GetPositions):
            self._guarded(message, "positions", lambda: self._ops.positions(message.symbol))
        elif isinstance(message, GetOrders):
            self._guarded(message, "orders", lambda: self._ops.orders(message.symbol))
        elif isinstance(message, PlaceOrder):
            self._place_order(message)
        elif isinstance(message, PollQuotes):
            self._poll_quotes(message)
        elif isinstance(message, SubscribeQuotes):
            self._poller.arm(self.actor_ref)
            self._trades.arm(self.actor_ref)
        elif isinstance(message, PollTrades):
            self._poll_trades(message)
        elif isinstance(message, ChangeTrade):
            self._change_trade(message)
        elif isinstance(message, ReadMarketData):
            self._guarded(message, message.operation, lambda: market_data.read(
                self._terminal, self._ops.select, self._ops.forget, message.operation, message.args))
        elif isinstance(message, RunProbe):
            self._probe(message)
        elif isinstance(message, Connect):
            self._guarded(message, "connect", self._ensure_connected, reconnect=False)
        elif isinstance(message, Reconnect):
            self._guarded(message, "reconnect", self._reconnect, reconnect=False)
        elif isinstance(message, Disconnect):
            self._shutdown("disconnect requested")
            _complete(message.reply_to, None)
        else:
            return super().on_receive(message)
        return None

    def _apply_breaker(self, message: BreakerStateChanged) -> None:
        self._state, self._epoch = message.new, message.epoch
        self._retry_at, self._trials = message.retry_at, message.trials
        self._failure_streak = False

    # guarded calls ----------------------------------------------------------

    def _admit(self, operation: str) -> MT5Error | None:
        """The local breaker check: no terminal call and no extra hop while OPEN."""
        if self._state is BreakerState.OPEN or (
            self._state is BreakerState.HALF_OPEN and self._trials <= 0
        ):
            self._count_rejection()
            detail = "trial in progress" if self._state is BreakerState.HALF_OPEN else ""
            return MT5CircuitBreakerOpen(operation=operation, retry_at=self._retry_at,
                                         detail=detail)
        if self._state is BreakerState.HALF_OPEN:
            self._trials -= 1
        return None

    def _count_rejection(self) -> None:
        """Rejections reach the breaker's counters in batches, like successes."""
        self._quiet_rejections += 1
        if self._quiet_rejections >= _BATCH_SUCCESSES + 1:
            self._breaker_tell(CallRejected(self._quiet_rejections))
            self._quiet_rejections = 0

    def _guarded(
        self, message: Any, operation: str, call: Callable[[], Any], *, reconnect: bool = True
    ) -> None:
        self._deadline(message.deadline)  # a worker is killed past it
        try:
            self._guarded_call(message, operation, call, reconnect=reconnect)
        finally:
            self._deadline(None)
        self._fail_if_worker_lost()

    def _guarded_call(
        self, message: Any, operation: str, call: Callable[[], Any], *, reconnect: bool
    ) -> None:
        reply: Future[Any] = message.reply_to
        if message.deadline is not None and self._clock.monotonic() > message.deadline:
            _complete(reply, MT5TimeoutError(
                operation=operation, detail="the request waited past its deadline in the queue"
            ))
            return
        rejected = self._admit(operation)
        if rejected is not None:
            _complete(reply, rejected)
            return
        started = self._clock.monotonic()
        try:
            if not self._connected and reconnect:
                self._ensure_connected()
            result = call()
        except MT5ConnectionError as err:
            self._report(operation, started, err)
            if reconnect and self._mend():
                self._retry_once(reply, operation, call, err)
                return
            _complete(reply, err)
            if reconnect:
                raise SessionLost(str(err)) from err
            return
        except MT5AuthError as err:
            if reconnect and self._mend_auth():
                self._retry_once(reply, operation, call, err)
                return
            self._report(operation, started, err)
            _complete(reply, err)
            return
        except MT5Error as err:
            self._report(operation, started, err)
            _complete(reply, err)
            if caused_by_hang(err):  # the terminal's connection was abandoned mid-call
                raise SessionLost(str(err)) from err
            return
        except (TypeError, ValueError, AttributeError) as exc:  # a reply not shaped like MT5's
            malformed = MT5DataError(operation=operation, detail=f"malformed terminal reply: {exc}")
            self._report(operation, started, malformed)
            _complete(reply, malformed)
            return
        except Exception as exc:
            _complete(reply, MT5StateError(operation=operation, detail=f"terminal raised {exc!r}"))
            raise
        self._report(operation, started, None)
        _complete(reply, result)

    def _retry_once(self, reply: Future[Any], operation: str, call: Callable[[], Any],
                    error: MT5Error) -> None:
        """After an in-place reconnect, read-only calls are tried once more.

        An order is not: the caller gets ``error`` and decides.
        """
        if operation in _NEVER_RETRIED:
            _complete(reply, error)
            return
        started = self._clock.monotonic()
        try:
            result = call()
        except MT5Error as err:
            self._report(operation, started, err)
            _complete(reply, err)
            return
        self._report(operation, started, None)
        _complete(reply, result)

    def _report(self, operation: str, started: float, error: MT5Error | None) -> None:
        """Tell the breaker an outcome; plain successes while CLOSED are batched.

        A success is told at once when it matters to the breaker (HALF_OPEN
        trials, ending a failure streak, probes, connects); otherwise it is
        counted and rides along with the next message.
        """
        latency_ms = (self._clock.monotonic() - started) * 1000.0
        quiet, self._quiet_successes = self._quiet_successes, 0
        if error is not None and error.counts_for_breaker:
            self._failure_streak = True
            self._breaker_tell(CallFailed(self._epoch, operation, error.kind, error.code,
                                          latency_ms, successes_before=quiet))
            return
        if (self._state in (BreakerState.CLOSED, BreakerState.DISABLED)
                and not self._failure_streak and quiet < _BATCH_SUCCESSES
                and operation in _BATCHABLE):
            self._quiet_successes = quiet + 1
            return
        self._failure_streak = False
        self._breaker_tell(CallSucceeded(self._epoch, operation, latency_ms, count=quiet + 1))

    def _breaker_tell(self, message: Any) -> None:
        try:
            self._breaker.tell(message)
        except ChildUnavailable:
            pass  # a breaker restarting takes us down with it (rest_for_one)

    # orders -----------------------------------------------------------------

    def _place_order(self, message: PlaceOrder) -> None:
        order = message.order
        known = self._journal.get(order.client_order_id)
        if known is not None and known.state.final:  # answered from the journal alone
            _complete(message.reply_to, self._desk.cached(known, order))
            return
        self._guarded(message, "place_order", lambda: self._desk.place(order))

    def _poll_quotes(self, message: PollQuotes) -> None:
        """Poll while the breaker lets calls through freely; never spend HALF_OPEN trials."""
        self._poller.fired()
        live = self._state in (BreakerState.CLOSED, BreakerState.DISABLED)
        if self._feed is not None:  # the worker polls; a new failure is polled here once
            if self._feed.step(live) and live:
                self._guarded(message, "poll_quotes", lambda: self._poller.poll(self._ops.price))
            self._fail_if_worker_lost()
            self._poller.arm(self.actor_ref, force=self._feed.watching)
            return
        if live:
            self._guarded(message, "poll_quotes", lambda: self._poller.poll(self._ops.price))
        self._poller.arm(self.actor_ref)

    def _poll_trades(self, message: PollTrades) -> None:
        self._trades.fired()
        if self._trades.watched() and self._state in (BreakerState.CLOSED, BreakerState.DISABLED):
            self._guarded(message, "poll_trades", self._publish_trades)
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
        known = self._journal.get(change.client_order_id)
        if known is not None and known.state.final:  # answered from the journal alone
            _complete(message.reply_to, trade_changes.answer_known(self._desk, known, change))
            return
        self._guarded(message, change.kind.value, lambda: trade_changes.apply_change(
            change, self._desk, self._terminal, self._trades.note_stops))

    # health probe -----------------------------------------------------------

    def _probe(self, message: RunProbe) -> None:
        if self._admit("probe") is not None:
            skipped = ProbeResult(message.seq, False, False, False, 0.0, self._clock.now(),
                                  "circuit breaker open", skipped=True)
            deliver(message.reply_to, skipped)
            return
        started = self._clock.monotonic()
        self._deadline(started + self._probe_timeout)  # the health probe's own timeout
        try:
            result, error = self._ops.probe(message.symbol, message.seq, self._max_tick_age)
            if (isinstance(error, MT5ConnectionError) and self._mend()) or (
                isinstance(error, MT5AuthError) and self._mend_auth()
            ):
                result, error = self._ops.probe(message.symbol, message.seq, self._max_tick_age)
        finally:
            self._deadline(None)
        self._report("probe", started, error)
        deliver(message.reply_to, result)
        if isinstance(error, MT5ConnectionError) or (error is not None and caused_by_hang(error)):
            raise SessionLost(str(error))
        self._fail_if_worker_lost()

    # connection ---------------------------------------------------------------

    def _connect_or_fail(self) -> None:
        started = self._clock.monotonic()
        try:
            self._ensure_connected()
        except MT5Error as err:
            self._report("connect", started, err)
            self._shutdown(f"connect failed: {err}")
            raise
        self._report("connect", started, None)

    def _ensure_connected(self) -> None:
        if self._connected:
            return
        self._ops.connect()
        self._connected = True
        terminal_account = self.account.terminal
        self._bus.publish(SessionConnected(self.account.name, terminal_account.login,
                                           terminal_account.server, self._clock.now()))
        self._desk.reconcile_all()  # after every connect: start, restart or in-place mend

    def _reconnect(self) -> None:
        self._shutdown("reconnect requested")
        self._ensure_connected()

    def _mend(self) -> bool:
        """One in-place reconnect (shutdown + initialize); False if it failed."""
        self._shutdown("connection lost")
        try:
            self._ensure_connected()
        except MT5Error as err:
            _log.warning("session %s: reconnect in place failed: %s", self.account.name, err)
            return False
        return True

    def _mend_auth(self) -> bool:
        """One in-place login with the configured account; False if refused."""
        try:
            self._ops.login()
        except MT5Error as err:
            _log.warning("session %s: login in place failed: %s", self.account.name, err)
            return False
        return True

    def _shutdown(self, reason: str) -> None:
        was_connected, self._connected = self._connected, False
        try:
            self._terminal.shutdown()
        except Exception:
            _log.exception("session %s: terminal shutdown failed", self.account.name)
        if was_connected:
            expected = reason in _REQUESTED
            self._bus.publish(SessionDisconnected(self.account.name, reason, self._clock.now(), expected))

def _complete(reply: Future[Any], outcome: Any) -> None:
    """Answer a request; a caller that gave up (cancelled) is not an error here."""
    try:
        if isinstance(outcome, BaseException):
            reply.set_exception(outcome)
        else:
            reply.set_result(outcome)
    except InvalidStateError:
        pass

def _operation(message: Any) -> str:
    return {
        "GetPrice": "get_price", "GetAccountInfo": "get_account_info", "GetPositions": "positions",
        "GetOrders": "orders", "PlaceOrder": "place_order", "Connect": "connect",
        "Disconnect": "disconnect", "Reconnect": "reconnect",
    }.get(type(message).__name__, getattr(message, "operation", None) or _change_operation(message))


def _change_operation(message: Any) -> str:
    change = getattr(message, "change", None)
    return change.kind.value if change is not None else type(message).__name__
