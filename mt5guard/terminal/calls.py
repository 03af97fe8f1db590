"""The terminal calls behind each session request, with MT5's failure conventions.

Runs only on the SessionActor's thread. A call that returns None (or False)
becomes the typed error its ``last_error()`` code maps to; a reply that lacks
the fields we rely on becomes an :class:`MT5DataError`.
"""

from __future__ import annotations

import math
from typing import Any

from mt5guard.clock import Clock
from mt5guard.config import AccountConfig
from mt5guard.config.values import did_you_mean
from mt5guard.errors import (
    MT5DataError,
    MT5Error,
    MT5TradingDisabled,
    MT5ValidationError,
    error_from_last_error,
)
from mt5guard.terminal import Terminal
from mt5guard.terminal.filling import choose_filling
from mt5guard.terminal.hung import TerminalHung

__all__ = ["TerminalOps"]


class TerminalOps:
    def __init__(self, terminal: Terminal, clock: Clock, account: AccountConfig) -> None:
        self._t = terminal
        self._clock = clock
        self._account = account
        self._selected: set[str] = set()
        self._fillings: dict[str, Any] = {}
        self._initialized = False  # the first initialize may take longer (first_timeout)
        self.trading_off: str | None = None
        """Why trading was found disabled at connect (or at the last order); None: allowed."""

    # plumbing -------------------------------------------------------------

    def call(self, operation: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """One terminal call; None or False becomes the typed error of ``last_error()``."""
        result = fn(*args, **kwargs)
        if result is None or result is False:
            raise self.failure(operation)
        return result

    def failure(self, operation: str) -> MT5Error:
        """The typed error of ``last_error()``, for a call that returned None or False."""
        code, message = self._t.last_error()
        return error_from_last_error(code, message, operation)

    @staticmethod
    def field(reply: Any, name: str, operation: str) -> Any:
        """``reply.name``, or MT5DataError when the terminal's reply lacks it."""
        try:
            return getattr(reply, name)
        except AttributeError:
            raise MT5DataError(
                operation=operation, detail=f"terminal reply has no field {name!r}: {reply!r}"
            ) from None

    # connection -------------------------------------------------------------

    def connect(self) -> None:
        term = self._account.terminal
        password = term.password.reveal() if term.password is not None else ""
        self._selected.clear()
        self._fillings.clear()
        seconds = term.timeout if self._initialized else term.first_initialize_timeout
        self.call(
            "initialize", self._t.initialize, term.path, login=term.login, password=password,
            server=term.server, timeout=int(seconds * 1000), portable=term.portable,
        )
        self._initialized = True
        for symbol in self._account.symbols:
            self.select(symbol)
        try:
            self.trading_off = self.preflight()
        except TerminalHung:
            raise  # the worker was ended: the connection is gone, not merely unread
        except MT5Error:  # unknown for now: an order will find out
            self.trading_off = None

    def preflight(self) -> str | None:
        """Why this account cannot trade now (terminal_info and account_info); None if it can."""
        terminal = self.call("preflight", self._t.terminal_info)
        account = self.call("preflight", self._t.account_info)
        if not self.field(terminal, "trade_allowed", "preflight"):
            return ("AutoTrading is off in the terminal (terminal_info().trade_allowed is False): "
                    "turn Algo Trading on")
        if self.field(terminal, "tradeapi_disabled", "preflight"):
            return ("the terminal disables trading through the Python API "
                    "(Tools > Options > Expert Advisors)")
        if not self.field(account, "trade_allowed", "preflight"):
            return ("this login may not trade (account_info().trade_allowed is False: an "
                    "investor, read-only password?)")
        if not self.field(account, "trade_expert", "preflight"):
            return ("the server does not allow automated trading for this account "
                    "(account_info().trade_expert is False)")
        return None

    def require_trading(self, operation: str) -> None:
        """Raise MT5TradingDisabled while the last check found trading off (checked again
        first: a person may have turned it on since)."""
        if self.trading_off is None:
            return
        self.trading_off = self.preflight()
        if self.trading_off is not None:
            raise MT5TradingDisabled(operation=operation, detail=self.trading_off)

    def login(self) -> None:
        """Log the open connection in again with the configured account."""
        term = self._account.terminal
        password = term.password.reveal() if term.password is not None else ""
        self.call("login", self._t.login, term.login, password=password, server=term.server,
                   timeout=int(term.timeout * 1000))

    def check_symbol(self, symbol: object, operation: str) -> str:
        """``symbol`` if the account lists it (exactly); MT5ValidationError before any call."""
        symbols = self._account.symbols
        if isinstance(symbol, str) and symbol in symbols:
            return symbol
        hint = did_you_mean(symbol, symbols) if isinstance(symbol, str) else ", ".join(symbols)
        raise MT5ValidationError(
            operation=operation, field="symbol",
            detail=f"{symbol!r} is not a symbol of account {self._account.name!r} ({hint}); "
                   "add it to the account's symbols in the config to trade it")

    def select(self, symbol: str) -> None:
        if symbol not in self._selected:
            self.call("symbol_select", self._t.symbol_select, symbol, True)
            self._selected.add(symbol)

    def forget(self, symbol: str) -> None:
        """The symbol was removed from Market Watch: select it again before use."""
        self._selected.discard(symbol)
        self._fillings.pop(symbol, None)

    def filling(self, symbol: str, preferred: str | None, operation: str = "place_order") -> int:
        """The ``type_filling`` for an order on ``symbol``: ``preferred``, else the account's
        ``filling``, else chosen from the symbol's ``symbol_info()`` (read once per connection)."""
        choice = preferred if preferred is not None else self._account.filling
        if choice != "auto":
            return choose_filling(None, choice, symbol=symbol, operation=operation)
        info = self._fillings.get(symbol)
        if info is None:
            self.select(symbol)
            info = self.call(operation, self._t.symbol_info, symbol)
            self.field(info, "filling_mode", operation)
            self.field(info, "trade_exemode", operation)
            self._fillings[symbol] = info
        return choose_filling(info, None, symbol=symbol, operation=operation)

    # reads ------------------------------------------------------------------

    def price(self, symbol: str) -> Any:
        """The symbol's tick, its quote plausible: finite, 0 < bid <= ask."""
        if type(symbol) is not str or symbol not in self._account.symbols \
                or symbol not in self._selected:  # what check_symbol and select would pass
            self.check_symbol(symbol, "get_price")
            self.select(symbol)
        tick: Any = self._t.symbol_info_tick(symbol)  # self.call, inlined: the hot path
        if tick is None or tick is False:
            raise self.failure("get_price")
        try:
            bid, ask = tick.bid, tick.ask
        except AttributeError:  # self.field names the missing one
            bid = self.field(tick, "bid", "get_price")
            ask = self.field(tick, "ask", "get_price")
        if type(bid) is float and type(ask) is float and 0.0 < bid <= ask < math.inf:
            return tick  # what MT5 sends (NaN fails every comparison); ints are checked below
        if not (_finite(bid) and _finite(ask)) or bid <= 0 or ask < bid:
            raise MT5DataError(operation="get_price",
                               detail=f"implausible quote for {symbol}: bid={bid!r} ask={ask!r}")
        return tick

    def account_info(self) -> Any:
        info = self.call("get_account_info", self._t.account_info)
        self.field(info, "login", "get_account_info")
        return info

    def positions(self, symbol: str | None) -> tuple[Any, ...]:
        if symbol is None:
            return tuple(self.call("positions", self._t.positions_get))
        self.check_symbol(symbol, "positions")
        return tuple(self.call("positions", self._t.positions_get, symbol=symbol))

    def orders(self, symbol: str | None) -> tuple[Any, ...]:
        if symbol is None:
            return tuple(self.call("orders", self._t.orders_get))
        self.check_symbol(symbol, "orders")
        return tuple(self.call("orders", self._t.orders_get, symbol=symbol))


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)

