"""The probe the SessionActor runs for its HealthProbeActor, on the session's thread.

Three terminal calls: ``terminal_info`` (is the terminal connected to its
trade server), ``account_info`` (is the login still accepted) and one tick of
the probe symbol (is the data feed live: the tick at most ``max_tick_age``
seconds old).
"""

from __future__ import annotations

from typing import Any

from mt5guard.clock import Clock
from mt5guard.errors import MT5DataError, MT5Error
from mt5guard.health.messages import ProbeResult
from mt5guard.terminal import Terminal
from mt5guard.terminal.calls import TerminalOps

__all__ = ["probe"]


def probe(ops: TerminalOps, terminal: Terminal, clock: Clock, symbol: str, seq: int,
          max_tick_age: float, started: float | None = None
          ) -> tuple[ProbeResult, MT5Error | None]:
    """The probe's result and the first error it met, if any (for the breaker).

    ``started``: the clock's monotonic seconds when the probe began (read here if None).
    Each call is ``ops.call`` and each field ``ops.field``, inlined (a probe every
    interval on every account): the same calls and the same errors.
    """
    if started is None:
        started = clock.monotonic()
    connection_ok = auth_ok = False
    error: MT5Error | None = None
    try:
        info: Any = terminal.terminal_info()  # None or False: last_error() says why
        if info is None or info is False:
            raise ops.failure("probe")
        try:
            connection_ok = bool(info.connected)
        except AttributeError:
            connection_ok = bool(ops.field(info, "connected", "probe"))
        account: Any = terminal.account_info()
        if account is None or account is False:
            raise ops.failure("probe")
        auth_ok = True
        tick = ops.price(symbol)
        at = clock.now()  # after the three calls: the result's time too
        try:
            time_msc = tick.time_msc
        except AttributeError:
            time_msc = ops.field(tick, "time_msc", "probe")
        age = at.timestamp() - time_msc / 1000.0
        latency_ms = (clock.monotonic() - started) * 1000.0
        return ProbeResult(seq, connection_ok, True, connection_ok and age <= max_tick_age,
                           latency_ms, at), None
    except MT5Error as err:
        error = err.with_traceback(None)  # returned: its frames (this one) would hold it
    except (TypeError, ValueError, AttributeError) as exc:  # a reply not shaped like MT5's
        error = MT5DataError(operation="probe", detail=f"malformed terminal reply: {exc}")
    latency_ms = (clock.monotonic() - started) * 1000.0
    return ProbeResult(seq, connection_ok, auth_ok, False, latency_ms, clock.now(), str(error)), error
