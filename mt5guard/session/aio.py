"""AsyncSession: the Session facade's calls as coroutines, call for call.

It sends exactly what :class:`~mt5guard.session.facade.Session` sends (through the
session's own ``_submit``/``_ask``) and types the reply the same way
(``Session._outcome``); only the wait differs: the reply future is awaited,
so nothing blocks the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import TYPE_CHECKING, Any

from mt5guard.breaker.messages import BreakerSnapshot, GetBreakerSnapshot
from mt5guard.health.messages import GetHealth, HealthReport
from mt5guard.orders.messages import OrderOutcome, Side
from mt5guard.session._args import build_order
from mt5guard.session._market import AsyncMarketDataCalls
from mt5guard.session._quotes import AsyncQuoteCalls
from mt5guard.session._trading import AsyncTradingCalls
from mt5guard.session.messages import Connect, Disconnect, Reconnect

if TYPE_CHECKING:
    from mt5guard.session.facade import Session

__all__ = ["AsyncSession"]

Future = concurrent.futures.Future


class AsyncSession(AsyncMarketDataCalls, AsyncTradingCalls, AsyncQuoteCalls):
    """The same calls as :class:`Session`, as coroutines (``await session.aio.get_price(s)``).

    Nothing blocks the event loop: the reply future is bridged with
    :func:`asyncio.wrap_future`.
    """

    def __init__(self, session: Session) -> None:
        self._s = session

    async def _await(self, operation: str, reply: Future[Any], started: float) -> Any:
        waiter = asyncio.shield(asyncio.wrap_future(reply))
        try:
            await asyncio.wait_for(waiter, timeout=self._s._timeout)
        except TimeoutError:
            pass  # _outcome reports the missing reply as MT5TimeoutError
        except Exception:
            pass
        return self._s._outcome(operation, reply, started)

    # connection -------------------------------------------------------------

    async def connect(self) -> None:
        """Connect now if the session is up but disconnected."""
        await self._await(*self._s._submit("connect", lambda r, d: Connect(reply_to=r, deadline=d)))

    async def disconnect(self) -> None:
        """Shut the terminal connection; the next request reconnects."""
        await self._await(*self._s._submit("disconnect", lambda r, d: Disconnect(reply_to=r, deadline=d)))

    async def reconnect(self) -> None:
        """Shut down and connect again in place."""
        await self._await(*self._s._submit("reconnect", lambda r, d: Reconnect(reply_to=r, deadline=d)))

    # reads ------------------------------------------------------------------

    async def get_account_info(self) -> Any:
        """The terminal's ``AccountInfo`` named tuple."""
        return await self._await(*self._s._account_info())

    async def get_price(self, symbol: str, max_age: float | None = None) -> Any:
        """The latest ``Tick`` for ``symbol`` (time in s, time_msc in ms).

        With ``max_age`` (seconds) a subscribed symbol is answered from the
        quote cache without an actor hop when fresh enough (see ``subscribe``).
        """
        if max_age is not None and (cached := self._s._cached_price(symbol, max_age)) is not None:
            return cached
        return await self._await(*self._s._price(symbol))

    async def positions(self, symbol: str | None = None) -> tuple[Any, ...]:
        """Open positions, optionally of one symbol; empty when there are none."""
        result: tuple[Any, ...] = await self._await(*self._s._positions(symbol))
        return result

    async def orders(self, symbol: str | None = None) -> tuple[Any, ...]:
        """Pending orders, optionally of one symbol."""
        result: tuple[Any, ...] = await self._await(*self._s._orders(symbol))
        return result

    # trading ----------------------------------------------------------------

    async def place_order(
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
        """Send a market order; as :meth:`Session.place_order`."""
        order = build_order(symbol, side, volume, sl=sl, tp=tp, deviation=deviation,
                            magic=magic, comment=comment, position=position,
                            client_order_id=client_order_id, filling=filling,
                            comment_overflow=comment_overflow)
        result: OrderOutcome = await self._await(*self._s._place(order))
        return result

    # supervision views --------------------------------------------------------

    async def health(self) -> HealthReport:
        """The account's health as the HealthProbeActor sees it."""
        report: HealthReport = await self._await(
            *self._s._ask(self._s._health, "health", lambda r: GetHealth(reply_to=r))
        )
        return report

    async def breaker_state(self) -> BreakerSnapshot:
        """The breaker's state and counters."""
        snapshot: BreakerSnapshot = await self._await(
            *self._s._ask(self._s._breaker, "breaker_state", lambda r: GetBreakerSnapshot(reply_to=r))
        )
        return snapshot

    async def force_open(self, reason: str = "forced open by operator") -> None:
        """Open the breaker until :meth:`reset_breaker` (a tell: never waits)."""
        self._s.force_open(reason)

    async def reset_breaker(self) -> None:
        """Close the breaker and clear its counters (a tell: never waits)."""
        self._s.reset_breaker()

    async def set_breaker_enabled(self, enabled: bool) -> None:
        """``False`` lets every call through whatever happens (a tell: never waits)."""
        self._s.set_breaker_enabled(enabled)
