"""The Session facade: the thread-safe entry point to one account.

A Session is a :class:`~mt5guard.session._core.SessionCore` (handles, clock,
request timeout, rate limits) and the calls of the call families
(``_account``, ``_account_reads``, ``_trading``, ``_market``, ``_quotes``,
``_views``), each
written once and bound here as a blocking method; ``session.aio``
(:class:`~mt5guard.session.aio.AsyncSession`) binds the same calls as
coroutines over the same core.
"""

from __future__ import annotations

from mt5guard.breaker.view import BreakerView
from mt5guard.clock import Clock
from mt5guard.config.trading import RateLimitConfig
from mt5guard.events.bus import EventBus
from mt5guard.events.trade import TradeWatch
from mt5guard.market.quotes import QuoteHub
from mt5guard.market.rate_limit import RateLimits
from mt5guard.session import _account, _account_reads, _market, _quotes, _trading, _views
from mt5guard.session._core import SessionCore, WhenBreakerOpen, blocking
from mt5guard.session._direct import DirectLane
from mt5guard.session.aio import AsyncSession
from mt5guard.supervision import ChildHandle

__all__ = ["AsyncSession", "Session"]


class Session:
    """One account, from any thread.

    Every method sends one message to the account's SessionActor and waits
    for its reply at most ``request_timeout`` real seconds (a read of a
    terminal in a worker process is handled on the calling thread instead,
    as the actor would handle it: see ``session._direct``). Failures are
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
        lane: DirectLane | None = None,
    ) -> None:
        self.account = account
        self._core = SessionCore(
            account=account, session=session, breaker=breaker, health=health, clock=clock,
            bus=bus, timeout=request_timeout, quotes=quotes or QuoteHub(account),
            trades=trades or TradeWatch(account, clock), breaker_view=breaker_view,
            when_breaker_open=when_breaker_open, lane=lane,
            limits=RateLimits.configured(rate_limits, clock.monotonic()))
        self.aio = AsyncSession(self._core)

    def __repr__(self) -> str:
        return f"<Session {self.account}>"

    # connection and reads
    connect = blocking(_account.connect)
    disconnect = blocking(_account.disconnect)
    reconnect = blocking(_account.reconnect)
    get_account_info = blocking(_account.get_account_info)
    get_price = blocking(_account.get_price, now=_account.get_price_now)
    positions = blocking(_account.positions)
    orders = blocking(_account.orders)

    # trading
    place_order = blocking(_trading.place_order)
    place_pending_order = blocking(_trading.place_pending_order)
    order_check = blocking(_trading.order_check)
    modify_order = blocking(_trading.modify_order)
    modify_position = blocking(_trading.modify_position)
    close_position = blocking(_trading.close_position)
    cancel_order = blocking(_trading.cancel_order)
    history_orders = blocking(_trading.history_orders)
    history_deals = blocking(_trading.history_deals)

    # market data
    copy_rates_from = blocking(_market.copy_rates_from)
    copy_rates_from_pos = blocking(_market.copy_rates_from_pos)
    copy_rates_range = blocking(_market.copy_rates_range)
    copy_ticks_from = blocking(_market.copy_ticks_from)
    copy_ticks_range = blocking(_market.copy_ticks_range)
    symbols_get = blocking(_market.symbols_get)
    symbol_info = blocking(_market.symbol_info)
    symbol_select = blocking(_market.symbol_select)

    # terminal and account reads
    terminal_info = blocking(_account_reads.terminal_info)
    version = blocking(_account_reads.version)
    positions_total = blocking(_account_reads.positions_total)
    orders_total = blocking(_account_reads.orders_total)
    history_orders_total = blocking(_account_reads.history_orders_total)
    history_deals_total = blocking(_account_reads.history_deals_total)
    order_calc_margin = blocking(_account_reads.order_calc_margin)
    order_calc_profit = blocking(_account_reads.order_calc_profit)
    market_book_add = blocking(_account_reads.market_book_add)
    market_book_get = blocking(_account_reads.market_book_get)
    market_book_release = blocking(_account_reads.market_book_release)

    # streams
    subscribe = blocking(_quotes.subscribe)
    watch_trades = blocking(_quotes.watch_trades)

    # supervision views
    health = blocking(_views.health)
    breaker_state = blocking(_views.breaker_state)
    force_open = blocking(_views.force_open)
    reset_breaker = blocking(_views.reset_breaker)
    set_breaker_enabled = blocking(_views.set_breaker_enabled)
