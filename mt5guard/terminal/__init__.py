"""MetaTrader 5 terminals: the protocol, the simulated one and the real adapter.

Importing this package never imports the ``MetaTrader5`` module: only
constructing :class:`MetaTrader5Terminal` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mt5guard.terminal import constants
from mt5guard.terminal._guard import ConcurrentCallError
from mt5guard.terminal.metatrader5 import MetaTrader5Terminal, TerminalUnavailableError
from mt5guard.terminal.protocol import DateArg, Terminal
from mt5guard.terminal.records import (
    AccountInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
)
from mt5guard.terminal.simulated import SimulatedTerminal
from mt5guard.terminal.symbols import DEFAULT_SYMBOLS, SymbolSpec

if TYPE_CHECKING:
    from mt5guard.terminal.factory import make_terminal

__all__ = [
    "DEFAULT_SYMBOLS",
    "AccountInfo",
    "ConcurrentCallError",
    "DateArg",
    "MetaTrader5Terminal",
    "OrderCheckResult",
    "OrderSendResult",
    "SimulatedTerminal",
    "SymbolInfo",
    "SymbolSpec",
    "Terminal",
    "TerminalInfo",
    "TerminalUnavailableError",
    "Tick",
    "TradeDeal",
    "TradeOrder",
    "TradePosition",
    "TradeRequest",
    "constants",
    "make_terminal",
]


def __getattr__(name: str) -> Any:
    # make_terminal needs mt5guard.config, which may import this package:
    # load it on first use instead of at import time.
    if name == "make_terminal":
        from mt5guard.terminal.factory import make_terminal

        return make_terminal
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
