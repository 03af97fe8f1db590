"""Stories: a whole mt5guard tree on a VirtualClock and a simulated terminal."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

import attrs

from mt5guard.config import (
    MEMORY,
    AccountConfig,
    BackoffConfig,
    BreakerConfig,
    Config,
    HealthConfig,
    OrdersConfig,
    SupervisionConfig,
    TerminalConfig,
)
from mt5guard.events.bus import EventBus
from mt5guard.secret import Secret
from mt5guard.session.guard import Guard, start
from mt5guard.terminal import SimulatedTerminal
from mt5guard.testing import DeterministicRuntime, VirtualClock

PASSWORD = "Tr0ub4dor&3-never-print-me"


def story_config(request_timeout: float = 70.0, **sections: Any) -> Config:
    """One account ``demo`` (EURUSD, GBPUSD), no jitter, so times are exact."""
    account = AccountConfig(
        name="demo",
        terminal=TerminalConfig(login=5001, server="MetaQuotes-Demo", password=Secret(PASSWORD)),
        symbols=("EURUSD", "GBPUSD"),
        request_timeout=request_timeout,
    )
    base = Config(
        accounts=(account,),
        supervision=SupervisionConfig(backoff=BackoffConfig(jitter=0.0)),
        breaker=BreakerConfig(),
        health=HealthConfig(),
    )
    return attrs.evolve(base, **sections)


def deterministic_tree(runtime: DeterministicRuntime, bus: EventBus | None = None
                       ) -> tuple[Guard, SimulatedTerminal]:
    """:func:`story_config`'s tree on ``runtime`` with its journal in memory (each run
    starts from nothing), and its simulated terminal."""
    config = story_config(orders=OrdersConfig(state_dir=MEMORY))
    term = config.accounts[0].terminal
    assert term.password is not None
    terminal = SimulatedTerminal(runtime.clock, login=term.login,
                                 password=term.password.reveal(), server=term.server)
    return start(config, clock=runtime.clock, bus=bus, terminals={"demo": terminal}), terminal


class Story:
    """A running tree plus the handles a story needs."""

    def __init__(
        self,
        clock: VirtualClock,
        bus: EventBus,
        recorder: Any,
        config: Config,
        prepare: Callable[[Any], None] | None = None,
        terminal_class: type = SimulatedTerminal,
    ) -> None:
        self.clock, self.recorder, self.config = clock, recorder, config
        self.t0 = clock.now()
        term = config.accounts[0].terminal
        terminal = terminal_class(clock, login=term.login, password=term.password.reveal(),
                                  server=term.server)
        if prepare is not None:
            prepare(terminal)  # faults in place before the session's first call
        self.guard: Guard = start(config, clock=clock, bus=bus, terminals={"demo": terminal})
        self.session = self.guard.session("demo")
        self.terminal: Any = self.guard.terminals["demo"]
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="caller")
        clock.settle()

    def elapsed(self) -> float:
        return (self.clock.now() - self.t0).total_seconds()

    def at(self, event: Any) -> float:
        """Seconds from the story's start to ``event``."""
        return float((event.at - self.t0).total_seconds())

    def in_background(self, call: Callable[..., Any], *args: Any, hangs: bool = False,
                      **kw: Any) -> concurrent.futures.Future[Any]:
        """A caller on another thread, for calls that only finish when time moves.

        ``hangs=True``: return once the call is hanging on simulated time.
        """
        asleep = self.clock.sleepers()
        future = self._pool.submit(call, *args, **kw)
        if hangs:
            self.clock.wait_for_sleepers(asleep + 1)
        return future

    def webhooks_pending(self, index: int = 0) -> int:
        outbox = self.guard.webhooks
        return 0 if outbox is None else outbox.pending(index)

    def events(self, *types: type) -> list[Any]:
        return list(self.recorder.of(*types))

    def close(self) -> None:
        self.clock.close()  # a call still hanging on simulated time returns now
        self.guard.stop()
        self._pool.shutdown(wait=True)
