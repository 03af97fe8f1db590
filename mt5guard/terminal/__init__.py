"""MetaTrader 5 terminals: the protocol and records at the root, then four rooms.

Root: ``protocol`` (the Terminal protocol every terminal satisfies),
``records`` and ``constants`` (as the real module has them), ``calls``
(TerminalOps: a call and MT5's failure conventions), ``factory``
(make_terminal from config). Rooms: ``sim/`` (SimulatedTerminal), ``worker/``
(WorkerTerminal: a terminal in a worker process), ``bridge/`` (the worker
and TCP bridge server), ``adapters/`` (the real module and rpyc, one base).
Exports the protocol, the records, the terminals and ``make_terminal``.
Importing this package never imports the ``MetaTrader5`` module nor rpyc:
only constructing :class:`MetaTrader5Terminal` (or :class:`RpycTerminal`) does.
"""

from __future__ import annotations

from mt5guard.terminal import constants
from mt5guard.terminal._call_guard import ConcurrentCallError
from mt5guard.terminal.adapters.metatrader5 import MetaTrader5Terminal, TerminalUnavailableError
from mt5guard.terminal.adapters.rpyc import RpycTerminal
from mt5guard.terminal.factory import make_terminal
from mt5guard.terminal.hung import TerminalHung
from mt5guard.terminal.protocol import DateArg, Terminal
from mt5guard.terminal.records import (
    AccountInfo,
    BookInfo,
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
from mt5guard.terminal.sim import DEFAULT_SYMBOLS, SimulatedTerminal, SymbolSpec

__all__ = [
    "DEFAULT_SYMBOLS",
    "AccountInfo",
    "BookInfo",
    "ConcurrentCallError",
    "DateArg",
    "MetaTrader5Terminal",
    "OrderCheckResult",
    "OrderSendResult",
    "RpycTerminal",
    "SimulatedTerminal",
    "SymbolInfo",
    "SymbolSpec",
    "Terminal",
    "TerminalHung",
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

