"""A stand-in for the ``MetaTrader5`` module, served by ``serve.py`` over rpyc.

Every function of the real module that mt5guard calls delegates to one
SimulatedTerminal on the real clock, configured from the environment
(``FAKE_MT5_LOGIN``, ``FAKE_MT5_PASSWORD``, ``FAKE_MT5_SERVER``). Like the
real module it is one terminal per process. ``hang()`` makes every later
call (``hang("order_send")``: every later call of those names) block until
``release()``, the way a stuck IPC call does; the call then goes through.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from mt5guard.clock import SystemClock
from mt5guard.terminal.sim import SimulatedTerminal

_terminal = SimulatedTerminal(
    SystemClock(),
    login=int(os.environ.get("FAKE_MT5_LOGIN", "5001")),
    password=os.environ.get("FAKE_MT5_PASSWORD"),
    server=os.environ.get("FAKE_MT5_SERVER", "Fake-Server"),
)
_hung = threading.Event()
_released = threading.Event()
_hanging: set[str] = set()  # names that hang; empty: all of them
calls: list[str] = []  # names of the calls made, in order (read by tests)


def hang(*names: str) -> None:
    """Block every call (of ``names``, if given) from now on until :func:`release`."""
    _hanging.clear()
    _hanging.update(names)
    _released.clear()
    _hung.set()


def release() -> None:
    _hung.clear()
    _released.set()


def _delegate(name: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        if _hung.is_set() and (not _hanging or name in _hanging):
            _released.wait()
        return getattr(_terminal, name)(*args, **kwargs)

    call.__name__ = name
    return call


initialize = _delegate("initialize")
login = _delegate("login")
shutdown = _delegate("shutdown")
version = _delegate("version")
last_error = _delegate("last_error")
terminal_info = _delegate("terminal_info")
account_info = _delegate("account_info")
symbol_select = _delegate("symbol_select")
symbol_info = _delegate("symbol_info")
symbol_info_tick = _delegate("symbol_info_tick")
order_check = _delegate("order_check")
order_send = _delegate("order_send")
positions_get = _delegate("positions_get")
orders_get = _delegate("orders_get")
history_deals_get = _delegate("history_deals_get")
history_orders_get = _delegate("history_orders_get")
copy_rates_from = _delegate("copy_rates_from")
copy_rates_from_pos = _delegate("copy_rates_from_pos")
copy_rates_range = _delegate("copy_rates_range")
copy_ticks_from = _delegate("copy_ticks_from")
copy_ticks_range = _delegate("copy_ticks_range")
symbols_get = _delegate("symbols_get")
positions_total = _delegate("positions_total")
orders_total = _delegate("orders_total")
history_orders_total = _delegate("history_orders_total")
history_deals_total = _delegate("history_deals_total")
order_calc_margin = _delegate("order_calc_margin")
order_calc_profit = _delegate("order_calc_profit")
market_book_add = _delegate("market_book_add")
market_book_get = _delegate("market_book_get")
market_book_release = _delegate("market_book_release")
