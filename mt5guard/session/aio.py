"""AsyncSession: the Session facade's calls as coroutines, call for call.

It binds the very calls :class:`~mt5guard.session.facade.Session` binds, over
the same :class:`~mt5guard.session._core.SessionCore`: the same arguments,
the same messages, the replies typed alike. Only the wait differs: the reply
future is awaited, so nothing blocks the event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from mt5guard.events.messages import TradeEvent
from mt5guard.market.messages import Tick
from mt5guard.market.quotes import Subscription
from mt5guard.session import _account, _account_reads, _market, _quotes, _trading, _views
from mt5guard.session._core import SessionCore, awaitable

__all__ = ["AsyncSession"]


class AsyncSession:
    """The same calls as :class:`Session`, as coroutines (``await session.aio.get_price(s)``).

    Nothing blocks the event loop: the reply future is bridged with
    :func:`asyncio.wrap_future`. ``ticks`` and ``trade_events`` are its own:
    async iterators over what ``subscribe`` and ``watch_trades`` deliver.
    """

    def __init__(self, core: SessionCore) -> None:
        self._core = core

    def __repr__(self) -> str:
        return f"<AsyncSession {self._core.account}>"

    # connection and reads
    connect = awaitable(_account.connect)
    disconnect = awaitable(_account.disconnect)
    reconnect = awaitable(_account.reconnect)
    get_account_info = awaitable(_account.get_account_info)
    get_price = awaitable(_account.get_price)
    positions = awaitable(_account.positions)
    orders = awaitable(_account.orders)

    # trading
    place_order = awaitable(_trading.place_order)
    place_pending_order = awaitable(_trading.place_pending_order)
    order_check = awaitable(_trading.order_check)
    modify_order = awaitable(_trading.modify_order)
    modify_position = awaitable(_trading.modify_position)
    close_position = awaitable(_trading.close_position)
    cancel_order = awaitable(_trading.cancel_order)
    history_orders = awaitable(_trading.history_orders)
    history_deals = awaitable(_trading.history_deals)

    # market data
    copy_rates_from = awaitable(_market.copy_rates_from)
    copy_rates_from_pos = awaitable(_market.copy_rates_from_pos)
    copy_rates_range = awaitable(_market.copy_rates_range)
    copy_ticks_from = awaitable(_market.copy_ticks_from)
    copy_ticks_range = awaitable(_market.copy_ticks_range)
    symbols_get = awaitable(_market.symbols_get)
    symbol_info = awaitable(_market.symbol_info)
    symbol_select = awaitable(_market.symbol_select)

    # terminal and account reads
    terminal_info = awaitable(_account_reads.terminal_info)
    version = awaitable(_account_reads.version)
    positions_total = awaitable(_account_reads.positions_total)
    orders_total = awaitable(_account_reads.orders_total)
    history_orders_total = awaitable(_account_reads.history_orders_total)
    history_deals_total = awaitable(_account_reads.history_deals_total)
    order_calc_margin = awaitable(_account_reads.order_calc_margin)
    order_calc_profit = awaitable(_account_reads.order_calc_profit)
    market_book_add = awaitable(_account_reads.market_book_add)
    market_book_get = awaitable(_account_reads.market_book_get)
    market_book_release = awaitable(_account_reads.market_book_release)

    # streams
    subscribe = awaitable(_quotes.subscribe)
    watch_trades = awaitable(_quotes.watch_trades)

    async def trade_events(self, *, buffer: int = 1000) -> AsyncIterator[TradeEvent]:
        """``async for event in session.aio.trade_events()``: trade events as they come.

        At most ``buffer`` events wait for a slow consumer (oldest dropped).
        """
        def start(push: Callable[[TradeEvent], None]) -> Subscription:
            return _quotes.watch_trades(self._core, push).value

        async for event in _quotes.stream(start, buffer):
            yield event

    async def ticks(self, *symbols: str, buffer: int = 1000) -> AsyncIterator[Tick]:
        """``async for tick in session.aio.ticks("EURUSD")``: changed quotes as they come.

        At most ``buffer`` ticks wait for a slow consumer; past that the
        oldest are dropped. Leaving the loop ends the subscription.
        """
        def start(push: Callable[[Tick], None]) -> Subscription:
            return _quotes.subscribe(self._core, symbols, push).value

        async for tick in _quotes.stream(start, buffer):
            yield tick

    # supervision views
    health = awaitable(_views.health)
    breaker_state = awaitable(_views.breaker_state)
    force_open = awaitable(_views.force_open)
    reset_breaker = awaitable(_views.reset_breaker)
    set_breaker_enabled = awaitable(_views.set_breaker_enabled)
