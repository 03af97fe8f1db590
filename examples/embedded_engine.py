#!/usr/bin/env python3
"""A host trading engine that embeds mt5guard: ``python examples/embedded_engine.py``.

The engine is an ordinary pykka actor. It starts the mt5guard tree in its
``on_start`` (the tree's actors are mt5guard's own, never children of the
engine's registry entries), trades through a :class:`mt5guard.Session`
and stops the tree in ``on_stop``. Nothing process-wide is touched: mt5guard
installs no signal handler, configures no logging and starts no HTTP endpoint
(only ``run.py`` does those things).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import attrs
import pykka

from mt5guard import Config, EventBus, Guard, OrderOutcome, start
from mt5guard.config import HttpConfig, ObservabilityConfig
from mt5guard.session.messages import SessionConnected

READY_TIMEOUT = 5.0
"""Real seconds the engine waits for its account to connect."""


class Engine(pykka.ThreadingActor):
    """Trades one account through mt5guard; call it through a proxy."""

    def __init__(self, config: Config, account: str) -> None:
        super().__init__()
        self._config = config
        self._account = account
        self._guard: Guard | None = None

    def on_start(self) -> None:
        # start() returns at once; the session connects on its own actor
        # thread. Subscribe before starting so the connect is never missed.
        connected = threading.Event()

        def on_event(event: object) -> None:  # runs on an mt5guard actor thread
            if isinstance(event, SessionConnected) and event.account == self._account:
                connected.set()

        bus = EventBus()
        bus.subscribe(on_event)
        self._guard = start(self._config, bus=bus)
        if not connected.wait(READY_TIMEOUT):
            raise RuntimeError(f"account {self._account} did not connect in {READY_TIMEOUT} s")

    def on_stop(self) -> None:
        if self._guard is not None:
            self._guard.stop()  # stops mt5guard's actors only, never this one

    def on_failure(self, *_exc_info: Any) -> None:
        self.on_stop()

    def buy(self, symbol: str, lots: float) -> tuple[Any, OrderOutcome]:
        """Read the price, then buy ``lots`` at market. Errors arrive typed (MT5Error)."""
        assert self._guard is not None
        session = self._guard.session(self._account)
        tick = session.get_price(symbol)
        outcome = session.place_order(symbol, "buy", lots, comment="embedded example")
        return tick, outcome

    def open_positions(self) -> int:
        assert self._guard is not None
        return len(self._guard.session(self._account).positions())


def main() -> int:
    logging.basicConfig(level=logging.WARNING)  # the host owns logging, not mt5guard
    config = attrs.evolve(
        Config.default(),
        observability=ObservabilityConfig(http=HttpConfig(enabled=False), status_interval=0.0),
    )
    engine = Engine.start(config, "demo").proxy()
    try:
        tick, outcome = engine.buy("EURUSD", 0.1).get(timeout=10)
        print(f"EURUSD bid={tick.bid} ask={tick.ask}")
        print(f"bought 0.1 lots: retcode={outcome.retcode} deal={outcome.deal} "
              f"price={outcome.price} client_order_id={outcome.client_order_id}")
        print(f"open positions: {engine.open_positions().get(timeout=10)}")
    finally:
        engine.actor_ref.stop(block=True, timeout=10)
    print("engine stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
