"""The error a terminal adapter raises when a call of its own went unanswered.

The MetaTrader5 module reports its own IPC timeout as a code (-10005), and
the session carries on. An adapter that reaches the terminal over a
connection (rpyc, a worker process) has a second deadline of its own: past
it the call is abandoned, the connection is closed, and nothing is known
about the terminal any more. :class:`TerminalHung` says exactly that. It is
an :class:`~mt5guard.errors.MT5TimeoutError`, so callers and the breaker see
a timeout; the SessionActor also fails on it, so its supervisor restarts it
(after the backoff delay) and unresolved orders are reconciled first.
"""

from __future__ import annotations

from mt5guard.errors import MT5Error, MT5TimeoutError

__all__ = ["TerminalHung", "caused_by_hang"]


class TerminalHung(MT5TimeoutError):
    """A terminal call got no reply within the adapter's deadline; its connection is gone."""


def caused_by_hang(error: BaseException) -> bool:
    """Whether ``error`` is a :class:`TerminalHung` or was raised ``from`` one.

    An order whose send hung is answered as ``MT5OrderOutcomeUnknown`` raised
    from the hang: the session must still restart.
    """
    return isinstance(error, TerminalHung) or (
        isinstance(error, MT5Error) and isinstance(error.__cause__, TerminalHung)
    )
