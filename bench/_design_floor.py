"""The least probe flow: what any design of DESIGN.md's probe pays on the same runtime.

The chaos seed's and the story's rows time a whole tree (supervisors, breaker,
session, health actor, status board) probing simulated terminals every 30 s
on the deterministic runtime. Their floor here is the least that probe flow
can be while still being the flow DESIGN.md describes, written as plainly as
it can be:

- two pykka actors per account on the same ``DeterministicRuntime``: a
  session that owns the terminal and a health actor that probes through it
  (``GuardedActor`` subclasses as built, as ours are: a plain pykka actor is
  adopted at start, and swapping an instance's class makes CPython 3.11 look
  up its every ``self.x`` the slow way);
- per probe, the two messages of the design (``RunProbe`` to the session,
  ``ProbeResult`` back) and the two timers a probe must have (its slot on the
  30 s grid, its timeout: a stuck call is a failed probe when it is due);
- the three raw terminal calls (``terminal_info``, ``account_info``, one
  tick), the result built as the real ``ProbeResult``, recorded in the real
  ``HealthPolicy`` and published as the real ``ProbeRecorded`` on the real
  ``EventBus`` to the real ``StatusBoard`` (and, in the story, the story's
  own counting subscriber);
- a lost connection mended once in place (``initialize`` again), as the
  session does before it gives up.

What it leaves out, so that it stays below any design that keeps our
guarantees: the breaker (no ``CallFailed``, no OPEN pause or HALF_OPEN trial),
supervision and restarts, typed errors, checks of the terminal's replies,
deadlines of worker calls, requests other than probes, and the status of
anything but the probe. Same terminals, same outages or faults, same
simulated steps as the measured rows.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import pykka

from mt5guard.config import HealthConfig
from mt5guard.events.bus import EventBus
from mt5guard.health.messages import ProbeRecorded, ProbeResult, RunProbe
from mt5guard.health.policy import HealthPolicy
from mt5guard.observability.status import StatusBoard
from mt5guard.supervision import GuardedActor
from mt5guard.terminal import constants as c

__all__ = ["PlainActor", "seed_floor", "story_floor"]

SYMBOL = "EURUSD"
SEED_BUY_EVERY = 1000  # probes: as many open positions on average as a seed's caller keeps
_MENDABLE = frozenset({c.RES_E_INTERNAL_FAIL_CONNECT, c.RES_E_AUTH_FAILED})
_BUY = {"action": c.TRADE_ACTION_DEAL, "symbol": SYMBOL, "volume": 0.01,
        "type": c.ORDER_TYPE_BUY, "type_filling": c.ORDER_FILLING_IOC, "comment": "mg-floor"}


class _TimedOut:
    __slots__ = ("seq",)

    def __init__(self, seq: int) -> None:
        self.seq = seq


class PlainActor(GuardedActor):
    """Does nothing with what it is told: a restart's least (started, then stopped)."""

    def on_receive(self, message: Any) -> None:
        pass


class _Session(GuardedActor):
    """Owns one terminal; answers RunProbe with the three calls' ProbeResult."""

    def __init__(self, terminal: Any, clock: Any, login: int, server: str, buy_every: int) -> None:
        super().__init__()
        self._terminal, self._clock = terminal, clock
        self._login, self._server = login, server
        self._buy_every, self._probes = buy_every, 0

    def on_receive(self, message: Any) -> None:
        if self._buy_every and self._probes % self._buy_every == 0:
            self._terminal.order_send(_BUY)  # the positions a chaos seed's caller opens
        self._probes += 1
        result = self._probe(message.seq)
        if not (result.connection_ok and result.auth_ok) and self._mend():
            result = self._probe(message.seq)
        message.reply_to.tell(result)

    def _probe(self, seq: int) -> ProbeResult:
        terminal, clock = self._terminal, self._clock
        started = clock.monotonic()
        info = terminal.terminal_info()
        account = terminal.account_info() if info else None
        tick = terminal.symbol_info_tick(SYMBOL) if account else None
        at = clock.now()
        latency_ms = (clock.monotonic() - started) * 1000.0
        if tick:
            fresh = at.timestamp() - tick.time_msc / 1000.0 <= 60.0
            return ProbeResult(seq, info.connected, True, info.connected and fresh, latency_ms, at)
        code, why = terminal.last_error()
        return ProbeResult(seq, False, bool(account), False, latency_ms, at, f"{code} {why}")

    def _mend(self) -> bool:
        """Connect and log in again, once (a hang or a garbled reply is not mended)."""
        if self._terminal.last_error()[0] not in _MENDABLE:
            return False
        return bool(self._terminal.initialize(login=self._login, password="x",
                                              server=self._server))


class _Health(GuardedActor):
    """Probes through its session on a fixed 30 s grid; a probe unanswered at its
    timeout is a failure, and no probe is sent while one is still at the session."""

    def __init__(self, name: str, session: pykka.ActorRef[Any], clock: Any, bus: EventBus,
                 config: HealthConfig) -> None:
        super().__init__()
        self._name, self._session, self._clock, self._bus = name, session, clock, bus
        self._interval, self._timeout = config.interval, config.timeout
        self._policy = HealthPolicy(config, clock.monotonic())
        self._seq = 0
        self._out: int | None = None  # the probe being waited for
        self._at_session: int | None = None  # sent, not answered yet
        self._due = clock.monotonic()
        self._timer: Any = None

    def on_start(self) -> None:
        self._arm(0.0)

    def on_receive(self, message: Any) -> None:
        if type(message) is ProbeResult:
            if message.seq == self._at_session:
                self._at_session = None
            if message.seq == self._out:
                self._timer.cancel()
                self._finish(message)
        elif message.seq == self._out:  # _TimedOut
            self._finish(ProbeResult(message.seq, False, False, False, self._timeout * 1000.0,
                                     self._clock.now(), "probe timed out"))

    def _finish(self, result: ProbeResult) -> None:
        self._out = None
        self._bus.publish(ProbeRecorded(self._name, result))
        self._policy.record(result, self._clock.monotonic())
        now = self._clock.monotonic()
        due = self._due + self._interval
        if due <= now:
            due += self._interval * ((now - due) // self._interval + 1)
        self._arm(due - now)

    def _arm(self, delay: float) -> None:
        self._due = self._clock.monotonic() + delay
        self._seq += 1
        seq = self._out = self._seq
        clock = self._clock
        clock.call_later(delay, functools.partial(self._send, seq))
        self._timer = clock.call_later(delay + self._timeout,
                                       functools.partial(self.actor_ref.tell, _TimedOut(seq)))

    def _send(self, seq: int) -> None:  # on the clock: tells the session, as ours does
        if self._at_session is None:
            self._at_session = seq
            self._session.tell(RunProbe(SYMBOL, seq, reply_to=self.actor_ref))


def _tree(runtime: Any, terminals: dict[str, tuple[Any, int, str]], bus: EventBus,
          config: HealthConfig, buy_every: int = 0) -> None:
    board = StatusBoard(runtime.clock)
    bus.subscribe(board)
    for name, (terminal, login, server) in terminals.items():
        board.expect(name)
        assert terminal.initialize(login=login, password="x", server=server)
        assert terminal.symbol_select(SYMBOL, True)
        session = runtime.start(_Session, terminal, runtime.clock, login, server, buy_every)
        runtime.start(_Health, name, session, runtime.clock, bus, config)


def story_floor(subscriber: Any, *, outages: bool = True) -> dict[str, Any]:
    """The 24 h story of ``_deterministic.story`` (10 accounts, its outages every
    hour, 30 s steps) on the least probe flow; ``subscriber`` is the story's."""
    from _deterministic import story_day, story_terminals

    from mt5guard.testing import DeterministicRuntime

    started = time.perf_counter()
    with DeterministicRuntime(seed=1) as runtime:
        bus = EventBus()
        bus.subscribe(subscriber)
        config, sims = story_terminals(runtime)
        _tree(runtime, {a.name: (sims[a.name], a.terminal.login, a.terminal.server)
                        for a in config.accounts}, bus, config.health)
        story_day(runtime, sims, outages=outages)
        wall = time.perf_counter() - started
        steps = runtime.steps
    return {"wall_s": wall, "messages": steps}


def seed_floor(seed: int, days: float, accounts: int) -> dict[str, Any]:
    """A chaos seed's probes on the least probe flow: its chaos terminals (hooked to the
    seed's watch as its run hooks them, faults drawn from the seed's own schedule), a buy
    every 1,000 probes per account (the books then hold 2.7 positions on average when
    valued, a seed's caller's 2.8), one advance over the seed's days."""
    from mt5guard.testing import DeterministicRuntime
    from mt5guard.testing.chaos._run import _config, _Watch
    from mt5guard.testing.chaos._schedule import apply, draw_schedule
    from mt5guard.testing.chaos._terminal import ChaosTerminal

    names = [f"acct{i}" for i in range(accounts)]
    started = time.perf_counter()
    with DeterministicRuntime(seed) as runtime:
        watch = _Watch(runtime, names)
        bus = EventBus()
        bus.subscribe(watch.on_event)
        config = _config(names)
        terminals: dict[str, tuple[Any, int, str]] = {}
        for name, account in zip(names, config.accounts, strict=True):
            terminal = ChaosTerminal(runtime.clock, login=account.terminal.login,
                                     server=account.terminal.server, seed=seed)
            watch.watch_calls(name, terminal)  # as the seed's run hooks its terminals
            terminal.runtime = runtime
            terminals[name] = (terminal, account.terminal.login, account.terminal.server)
        _tree(runtime, terminals, bus, config.health, buy_every=SEED_BUY_EVERY)
        for fault in draw_schedule(seed, names, days):
            if fault.kind == "worker_kill":
                continue  # a session replaced by its supervisor: not in this flow
            runtime.clock.call_later(fault.at, functools.partial(
                apply, fault, terminals[fault.account][0], runtime.call_later))
        runtime.advance(days * 86_400)
        wall = time.perf_counter() - started
        steps = runtime.steps
    return {"wall_s": wall, "messages": steps}
