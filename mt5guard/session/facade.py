"""The Session facade: the thread-safe, awaitable entry point to one account.

Beside it: ``session/aio.py`` (AsyncSession, the same calls as coroutines),
``session/_args.py`` (argument checks), ``session/_market.py``, ``session/_trading.py``
and ``session/_quotes.py`` (the call groups both share).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

from mt5guard.breaker.messages import (
    BreakerSnapshot,
    ForceOpen,
    GetBreakerSnapshot,
    ResetBreaker,
    SetBreakerEnabled,
)
from mt5guard.breaker.view import BreakerView
from mt5guard.clock import Clock
from mt5guard.config.trading import RateLimitConfig
from mt5guard.errors import (
    MT5Error,
    MT5RateLimited,
    MT5StateError,
    MT5TimeoutError,
    MT5Unavailable,
)
from mt5guard.events.bus import EventBus
from mt5guard.events.trade import TradeWatch
from mt5guard.health.messages import GetHealth, HealthReport
from mt5guard.market.messages import GetPrice
from mt5guard.market.quotes import QuoteHub
from mt5guard.market.rate_limit import RateLimits
from mt5guard.orders.messages import OrderOutcome, OrderRequest, PlaceOrder, Side
from mt5guard.session._args import (
    MAX_REQUEST_TIMEOUT,
    build_order,
    finite_number,
    require_symbol,
    shown,
)
from mt5guard.session._market import MarketDataCalls
from mt5guard.session._quotes import QuoteCalls, WhenBreakerOpen
from mt5guard.session._trading import TradingCalls
from mt5guard.session.aio import AsyncSession
from mt5guard.session.messages import (
    Connect,
    Disconnect,
    GetAccountInfo,
    GetOrders,
    GetPositions,
    Reconnect,
    RequestCompleted,
)
from mt5guard.supervision import ChildHandle, ChildUnavailable
from mt5guard.supervision._hosting import drive_until

__all__ = ["AsyncSession", "Session"]

Future = concurrent.futures.Future


class Session(MarketDataCalls, TradingCalls, QuoteCalls):
    """One account, from any thread.

    Every method sends one message to the account's SessionActor and waits
    for its reply at most ``request_timeout`` real seconds. Failures are
    always an :class:`~mt5guard.errors.MT5Error`: while the session is being
    restarted the call fails at once with :class:`MT5Unavailable`, which
    says when the next attempt is. ``session.aio`` offers the same calls as
    coroutines for asyncio code.
    """

    def __init__(
        self,
        account: str,
        *,
        session: ChildHandle,
        breaker: ChildHandle,
        health: ChildHandle,
        clock: Clock,
        bus: EventBus,
        request_timeout: float = 70.0,
        quotes: QuoteHub | None = None,
        breaker_view: BreakerView | None = None,
        when_breaker_open: WhenBreakerOpen = "raise",
        trades: TradeWatch | None = None,
        rate_limits: RateLimitConfig | None = None,
    ) -> None:
        self.account = account
        self._limits = None if rate_limits is None else RateLimits(rate_limits, clock.monotonic())
        self._trades = trades or TradeWatch(account, clock)
        self._quotes = quotes or QuoteHub(account)
        self._breaker_view = breaker_view  # a request timeout counts for the breaker; quote cache
        self._when_breaker_open = when_breaker_open
        self._session = session
        self._breaker = breaker
        self._health = health
        self._clock = clock
        self._bus = bus
        if not (finite_number(request_timeout) and 0 < request_timeout <= MAX_REQUEST_TIMEOUT):
            raise ValueError(f"Session request_timeout must be seconds in (0, {MAX_REQUEST_TIMEOUT:g}],"
                             f" got {shown(request_timeout)} (longer waits overflow and fail at once)")
        self._timeout = request_timeout
        self.aio = AsyncSession(self)

    def __repr__(self) -> str:
        return f"<Session {self.account}>"

    # connection -------------------------------------------------------------

    def connect(self) -> None:
        """Connect now if the session is up but disconnected."""
        self._wait(*self._submit("connect", lambda r, d: Connect(reply_to=r, deadline=d)))

    def disconnect(self) -> None:
        """Shut the terminal connection; the next request reconnects."""
        self._wait(*self._submit("disconnect", lambda r, d: Disconnect(reply_to=r, deadline=d)))

    def reconnect(self) -> None:
        """Shut down and connect again in place."""
        self._wait(*self._submit("reconnect", lambda r, d: Reconnect(reply_to=r, deadline=d)))

    # reads ------------------------------------------------------------------

    def get_account_info(self) -> Any:
        """The terminal's ``AccountInfo`` named tuple."""
        return self._wait(*self._account_info())

    def get_price(self, symbol: str, max_age: float | None = None) -> Any:
        """The latest ``Tick`` for ``symbol`` (time in s, time_msc in ms).

        With ``max_age`` (seconds) a subscribed symbol is answered from the
        quote cache without an actor hop when fresh enough (see ``subscribe``).
        """
        if max_age is not None and (cached := self._cached_price(symbol, max_age)) is not None:
            return cached
        return self._wait(*self._price(symbol))

    def positions(self, symbol: str | None = None) -> tuple[Any, ...]:
        """Open positions, optionally of one symbol; empty when there are none."""
        result: tuple[Any, ...] = self._wait(*self._positions(symbol))
        return result

    def orders(self, symbol: str | None = None) -> tuple[Any, ...]:
        """Pending orders, optionally of one symbol."""
        result: tuple[Any, ...] = self._wait(*self._orders(symbol))
        return result

    # trading ----------------------------------------------------------------

    def place_order(
        self,
        symbol: str,
        side: str | Side,
        volume: float,
        *,
        sl: float = 0.0,
        tp: float = 0.0,
        deviation: int = 20,
        magic: int = 0,
        comment: str = "",
        position: int = 0,
        client_order_id: str | None = None,
        filling: str | None = None,
        comment_overflow: str = "truncate",
    ) -> OrderOutcome:
        """Send a market order; ``volume`` in lots, ``deviation`` in points.

        The MT5 comment is ``mg-<client_order_id>;`` then ``comment``, 29
        characters in all (the module's limit): ``comment_overflow="truncate"``
        cuts the text to fit, ``"refuse"`` raises MT5ValidationError instead.
        ``filling`` (``fok``, ``ioc``, ``return``) forces ``type_filling``;
        None takes the account's ``filling`` (default: chosen per symbol).

        Pass your own ``client_order_id`` to make retries safe: an id the
        session has seen is never sent again; the earlier outcome is returned
        (read back from the terminal if its reply was lost), or
        :class:`~mt5guard.errors.MT5OrderOutcomeUnknown`.
        """
        order = build_order(symbol, side, volume, sl=sl, tp=tp, deviation=deviation,
                            magic=magic, comment=comment, position=position,
                            client_order_id=client_order_id, filling=filling,
                            comment_overflow=comment_overflow)
        result: OrderOutcome = self._wait(*self._place(order))
        return result

    # supervision views --------------------------------------------------------

    def health(self) -> HealthReport:
        """The account's health as the HealthProbeActor sees it."""
        report: HealthReport = self._wait(
            *self._ask(self._health, "health", lambda r: GetHealth(reply_to=r))
        )
        return report

    def breaker_state(self) -> BreakerSnapshot:
        """The breaker's state and counters."""
        snapshot: BreakerSnapshot = self._wait(
            *self._ask(self._breaker, "breaker_state", lambda r: GetBreakerSnapshot(reply_to=r))
        )
        return snapshot

    def force_open(self, reason: str = "forced open by operator") -> None:
        """Open the breaker until :meth:`reset_breaker`."""
        self._tell(self._breaker, "force_open", ForceOpen(reason))

    def reset_breaker(self) -> None:
        """Close the breaker and clear its counters."""
        self._tell(self._breaker, "reset_breaker", ResetBreaker())

    def set_breaker_enabled(self, enabled: bool) -> None:
        """``False`` lets every call through whatever happens."""
        self._tell(self._breaker, "set_breaker_enabled", SetBreakerEnabled(enabled))

    # plumbing shared with AsyncSession -------------------------------------------

    def _account_info(self) -> tuple[str, Future[Any], float]:
        return self._submit("get_account_info", lambda r, d: GetAccountInfo(reply_to=r, deadline=d))

    def _price(self, symbol: str) -> tuple[str, Future[Any], float]:
        require_symbol(symbol)
        return self._submit("get_price", lambda r, d: GetPrice(symbol, reply_to=r, deadline=d))

    def _positions(self, symbol: str | None) -> tuple[str, Future[Any], float]:
        if symbol is not None:
            require_symbol(symbol)
        return self._submit("positions", lambda r, d: GetPositions(symbol, reply_to=r, deadline=d))

    def _orders(self, symbol: str | None) -> tuple[str, Future[Any], float]:
        if symbol is not None:
            require_symbol(symbol)
        return self._submit("orders", lambda r, d: GetOrders(symbol, reply_to=r, deadline=d))

    def _place(self, order: OrderRequest) -> tuple[str, Future[Any], float]:
        return self._submit("place_order", lambda r, d: PlaceOrder(order, reply_to=r, deadline=d))

    def _submit(
        self, operation: str, make: Callable[[Future[Any], float], Any]
    ) -> tuple[str, Future[Any], float]:
        started = self._clock.monotonic()
        reply: Future[Any] = Future()
        try:
            delay = 0.0 if self._limits is None else \
                self._limits.admit(operation, started, self._clock.now())
            message = make(reply, started + self._timeout)
            if delay > 0:  # over the rate: told to the session when a token frees up
                self._clock.call_later(delay, lambda: self._tell_later(operation, message, reply))
            else:
                self._session.tell(message)
        except ChildUnavailable as exc:
            reply.set_exception(_unavailable(operation, exc))
        except MT5RateLimited as exc:
            reply.set_exception(exc)
        return operation, reply, started

    def _tell_later(self, operation: str, message: Any, reply: Future[Any]) -> None:
        try:
            self._session.tell(message)
        except ChildUnavailable as exc:
            if not reply.done():
                reply.set_exception(_unavailable(operation, exc))

    def _ask(
        self, handle: ChildHandle, operation: str, make: Callable[[Future[Any]], Any]
    ) -> tuple[str, Future[Any], float]:
        reply: Future[Any] = Future()
        try:
            handle.tell(make(reply))
        except ChildUnavailable as exc:
            reply.set_exception(_unavailable(operation, exc))
        return operation, reply, self._clock.monotonic()

    def _tell(self, handle: ChildHandle, operation: str, message: Any) -> None:
        try:
            handle.tell(message)
        except ChildUnavailable as exc:
            raise _unavailable(operation, exc) from None

    def _wait(self, operation: str, reply: Future[Any], started: float) -> Any:
        timeout: float | None = self._timeout
        if drive_until(reply.done, self._timeout) is not None:
            timeout = 0  # a deterministic runtime ran the actors for up to the timeout
        try:
            result = reply.result(timeout=timeout)
        except Exception:  # typed (or turned into a timeout) by _outcome
            return self._outcome(operation, reply, started)
        self._record(operation, "ok", started)
        return result

    def _outcome(self, operation: str, reply: Future[Any], started: float) -> Any:
        """The reply's value or typed error; a reply still missing is a timeout."""
        if not reply.done():
            error: MT5Error = MT5TimeoutError(
                operation=operation, detail=f"no reply within {self._timeout:g} s"
            )
            self._record(operation, error.kind, started)
            if self._breaker_view is not None and operation not in _NOT_TERMINAL_CALLS:
                latency_ms = (self._clock.monotonic() - started) * 1000.0
                self._breaker_view.count_timeout(self._breaker, operation, latency_ms)
            raise error
        exc = reply.exception()
        if exc is None:
            self._record(operation, "ok", started)
            return reply.result()
        if isinstance(exc, MT5Error):
            self._record(operation, exc.kind, started)
            if self._limits is not None:
                self._limits.observe(exc, self._clock.monotonic())  # 10024 slows orders down
            raise exc
        self._record(operation, "state", started)  # an actor bug must still reach the caller typed
        raise MT5StateError(operation=operation, detail=f"internal error {exc!r}") from exc

    def _record(self, operation: str, outcome: str, started: float) -> None:
        latency_ms = (self._clock.monotonic() - started) * 1000.0
        self._bus.publish(RequestCompleted(self.account, operation, outcome, latency_ms))


_NOT_TERMINAL_CALLS = frozenset({"breaker_state", "health"})


def _unavailable(operation: str, exc: ChildUnavailable) -> MT5Unavailable:
    return MT5Unavailable(operation=operation, retry_at=exc.retry_at,
                          detail=f"session {exc.reason}")
