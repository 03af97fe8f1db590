"""MetaTrader5Terminal: the Terminal protocol over the real ``MetaTrader5`` module.

The module is imported lazily, in the constructor, so importing mt5guard
never needs it. It ships Windows wheels only.

The real module is one process-wide terminal connection with one global
``last_error``: create at most one MetaTrader5Terminal per process, and call
it from one thread. Overlapping calls raise :class:`ConcurrentCallError`
(the guard is shared by every instance, like the module itself).

Results are copied field by field, by name, into our records (which have
the 5.0.6231 wheel's fields), so a newer module with extra fields still fits.
"""

from __future__ import annotations

from typing import Any

from mt5guard.terminal._call_guard import CallGuard, ConcurrentCallError
from mt5guard.terminal.adapters._base import (
    ModuleTerminal,
    Record,
    TerminalUnavailableError,
    import_or_explain,
)
from mt5guard.terminal.records import OrderCheckResult, OrderSendResult, TradeRequest

__all__ = ["ConcurrentCallError", "MetaTrader5Terminal", "TerminalUnavailableError"]

_GUARD = CallGuard()


def _request(raw: Any) -> TradeRequest:
    if isinstance(raw, dict):
        return TradeRequest(**{name: raw.get(name, 0) for name in TradeRequest._fields})
    return TradeRequest(**{name: getattr(raw, name) for name in TradeRequest._fields})


class MetaTrader5Terminal(ModuleTerminal):
    """The real terminal. ``path`` is the terminal64.exe to start or attach to.

    Raises :class:`TerminalUnavailableError` when the ``MetaTrader5``
    package is not installed (it exists for Windows only).
    """

    def __init__(self, path: str | None = None) -> None:
        self._mt5 = import_or_explain(
            "MetaTrader5", "the MetaTrader5 package is not installed; it ships Windows wheels "
            "only: install mt5guard[mt5] on Windows, or use the simulated terminal "
            "(mt5guard.terminal.SimulatedTerminal)")
        self._path = path

    def __repr__(self) -> str:
        return f"MetaTrader5Terminal(path={self._path!r})"

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with _GUARD.call(name):
            return getattr(self._mt5, name)(*args, **kwargs)

    def _record(self, kind: type[Record], raw: Any) -> Record:
        fields = {name: getattr(raw, name) for name in kind._fields}
        if kind is OrderCheckResult or kind is OrderSendResult:
            fields["request"] = _request(fields["request"])
        return kind(**fields)

    def shutdown(self) -> bool:
        """Close the connection to the terminal (the module always answers True)."""
        return bool(self._call("shutdown"))
