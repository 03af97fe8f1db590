"""Quote polling inside a terminal worker: the worker watches symbols itself.

Standard library only, like :mod:`mt5guard.terminal.bridge.server` (which loads this
file by path when it runs as a plain file). The session sends one ``watch``
request (symbols and an interval in seconds); from then on a thread of the
worker calls ``symbol_info_tick`` for each symbol every interval, on the
worker's own real clock, and pushes one unsolicited frame per completed
round on the same connection::

    ["push", "polled", {symbol: tick_fields, ...}, {symbol: [code, text], ...}]

The first map holds only the ticks that changed since the previous round
(often none: the frame then just says the round completed, which lets the
session confirm its cached quotes as live); the second the symbols whose
``symbol_info_tick`` failed in this round, with ``last_error()``. A push carries no
request id, so it is never taken for a reply. ``watch`` with no symbols stops
polling (the session does so while its breaker is not CLOSED).

Terminal calls of the watch thread and of requests are serialized by one
lock: the MetaTrader5 module is not documented thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Watcher", "changed_key"]

_MIN_INTERVAL = 0.005  # seconds; a watch asks for at least this
_MAX_INTERVAL = 3600.0  # seconds; a longer (or infinite) interval is refused
_MAX_SYMBOLS = 1000


def changed_key(tick: Any) -> tuple[Any, ...]:
    """The fields whose change makes a tick new (as mt5guard.market.quotes decides)."""
    return tick.time_msc, tick.bid, tick.ask, tick.last, tick.volume


class Watcher:
    """The worker's quote poll; ``send`` ships one frame (a plain list), thread-safe."""

    def __init__(self, backend: Any, lock: threading.Lock, send: Callable[[list[Any]], None],
                 plain: Callable[[Any], Any]) -> None:
        self._backend, self._lock, self._send, self._plain = backend, lock, send, plain
        self._symbols: tuple[str, ...] = ()
        self._interval = 0.25
        self._seen: dict[str, tuple[Any, ...]] = {}
        self._wake = threading.Condition()
        self._generation = 0
        self._closed = False
        self._thread: threading.Thread | None = None
        self.rounds = 0  # completed poll rounds
        self.pushed = 0  # ticks pushed

    def configure(self, symbols: list[Any], interval: Any) -> dict[str, Any]:
        """Watch ``symbols`` every ``interval`` seconds (no symbols: stop polling)."""
        if not isinstance(symbols, list) or len(symbols) > _MAX_SYMBOLS or not all(
                isinstance(s, str) and len(s) < 64 for s in symbols):
            raise ValueError(f"watch takes a list of at most {_MAX_SYMBOLS} symbol names")
        if isinstance(interval, bool) or not isinstance(interval, int | float) or not (
                0 <= interval <= _MAX_INTERVAL):
            raise ValueError(f"the watch interval must be a number of seconds in "
                             f"0..{_MAX_INTERVAL:g}, not {str(interval)[:20]}")
        names = tuple(dict.fromkeys(symbols))
        seconds = max(_MIN_INTERVAL, float(interval))
        for name in names:
            if name not in self._symbols:
                with self._lock:
                    self._backend.symbol_select(name, True)
        with self._wake:
            self._symbols, self._interval = names, seconds
            self._seen = {k: v for k, v in self._seen.items() if k in names}
            self._generation += 1
            self._wake.notify_all()
        if names and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="quote-watch", daemon=True)
            self._thread.start()
        return {"symbols": list(names), "interval": seconds, "rounds": self.rounds,
                "pushed": self.pushed}

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify_all()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._closed and not self._symbols:
                    self._wake.wait()
                if self._closed:
                    return
                generation = self._generation
                self._wake.wait(self._interval)  # woken early by a new watch or close
                if self._closed:
                    return
                if generation != self._generation:
                    continue  # reconfigured while waiting: start the interval anew
                symbols = self._symbols
            try:
                self._round(symbols, generation)
            except (OSError, EOFError, ValueError):
                return  # the connection is gone: the worker is ending

    def _round(self, symbols: tuple[str, ...], generation: int) -> None:
        changed: dict[str, Any] = {}
        failed: dict[str, list[Any]] = {}
        for symbol in symbols:
            with self._lock:
                tick = self._backend.symbol_info_tick(symbol)
                error = None if tick is not None else self._backend.last_error()
            if tick is None:
                failed[symbol] = [int(error[0]), str(error[1])] if error else [-1, "no tick"]
                self._seen.pop(symbol, None)  # pushed again once it is back
                continue
            key = changed_key(tick)
            if self._seen.get(symbol) != key:
                self._seen[symbol] = key
                changed[symbol] = self._plain(tick)
        with self._wake:
            if generation != self._generation or self._closed:
                return  # unwatched (or stopped) during the round: push nothing
            self.rounds += 1
            self.pushed += len(changed)
            self._send(["push", "polled", changed, failed])
