"""SimulatedTerminal: the faithful test double of the MetaTrader5 module.

It reproduces the module's codes, messages and field orders (see
docs/testing.md) and can script the faults real terminals show: disconnects,
IPC timeouts, revoked logins, hung calls, lost order replies.
"""

from __future__ import annotations

from mt5guard.terminal.sim._terminal import SimulatedTerminal
from mt5guard.terminal.sim.symbols import DEFAULT_SYMBOLS, SymbolSpec

__all__ = ["DEFAULT_SYMBOLS", "SimulatedTerminal", "SymbolSpec"]
