"""One chaos run: a tree on the deterministic runtime, faults, a trading caller, invariants."""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Sequence
from typing import Any

import attrs

from mt5guard.breaker.messages import BreakerState, BreakerStateChanged
from mt5guard.config import (
    MEMORY,
    AccountConfig,
    Config,
    HttpConfig,
    ObservabilityConfig,
    OrdersConfig,
    TerminalConfig,
)
from mt5guard.errors import MT5Error
from mt5guard.events.bus import EventBus
from mt5guard.session.guard import start
from mt5guard.testing._log import MessageLog
from mt5guard.testing._runtime import DeterministicRuntime
from mt5guard.testing.chaos._schedule import LAZY, Fault, apply, draw_schedule
from mt5guard.testing.chaos._terminal import ChaosTerminal

__all__ = ["ChaosResult", "passes", "run"]

REQUEST_TIMEOUT = 10.0  # seconds: shorter than a hung call, longer than an IPC timeout
_REQUESTS = frozenset({"GetPrice", "GetAccountInfo", "GetPositions", "GetOrders", "PlaceOrder",
                       "RunProbe"})
_LEGAL = frozenset({(BreakerState.CLOSED, BreakerState.OPEN),
                    (BreakerState.OPEN, BreakerState.HALF_OPEN),
                    (BreakerState.HALF_OPEN, BreakerState.CLOSED),
                    (BreakerState.HALF_OPEN, BreakerState.OPEN)})


@attrs.frozen
class ChaosResult:
    seed: int
    schedule: tuple[Fault, ...]
    violations: tuple[str, ...]
    _log: MessageLog = attrs.field(repr=False, eq=False)
    """The runtime's log, put together only if read (:attr:`log`)."""
    steps: int
    wall: float
    """Real seconds the run took."""
    quiet_from: float = 0.0
    """When (simulated seconds) the last fault ended, as the recovery check measured it."""

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def log(self) -> tuple[str, ...]:
        """One line per message handled, as :attr:`DeterministicRuntime.log` has them."""
        return tuple(self._log.lines())


class _Watch:
    """The invariants, checked as events happen and after every step."""

    def __init__(self, runtime: DeterministicRuntime, names: Sequence[str]) -> None:
        self.runtime = runtime
        self.violations: list[str] = []
        self.state = {name: BreakerState.CLOSED for name in names}
        self.open_since: dict[str, float | None] = {name: None for name in names}
        self.terminals: dict[str, ChaosTerminal] = {}

    def watch_calls(self, name: str, terminal: ChaosTerminal) -> None:
        """Check ``terminal``'s calls (``name``'s) while its breaker is OPEN: :meth:`on_call`
        is its hook only then (it looks at nothing else), so the other calls, nearly all
        of them, are not reported at all."""
        self.terminals[name] = terminal
        terminal.on_call = self._hook(name)

    def _hook(self, name: str) -> Any:
        if self.open_since[name] is None:
            return None
        return functools.partial(self.on_call, name)  # on every call: no lambda

    def fail(self, text: str) -> None:
        if len(self.violations) < 20:
            self.violations.append(f"t={self.runtime.monotonic():.3f}s {text}")

    def on_event(self, event: Any) -> None:
        if not isinstance(event, BreakerStateChanged):
            return
        name, now = event.account, self.runtime.monotonic()
        if event.old is not None:
            if event.old is not self.state[name]:
                self.fail(f"{name}: breaker went {event.old.value}->{event.new.value} "
                          f"but was {self.state[name].value} (a transition without a message)")
            elif (event.old, event.new) not in _LEGAL:
                self.fail(f"{name}: illegal breaker transition {event.old.value}->{event.new.value}")
        self.state[name] = event.new
        self.open_since[name] = now if event.new is BreakerState.OPEN else None
        terminal = self.terminals.get(name)
        if terminal is not None:
            terminal.on_call = self._hook(name)

    def on_call(self, name: str, call: str) -> None:
        since = self.open_since[name]
        if since is None:  # the breaker is not OPEN: nothing to check
            return
        handling = self.runtime.handling
        if since < self.runtime.handling_since and handling in _REQUESTS:
            self.fail(f"{name}: {call} reached the terminal for {handling} while the "
                      f"breaker has been OPEN since t={since:.3f}s")


def _config(names: Sequence[str]) -> Config:
    accounts = tuple(
        AccountConfig(name=name, terminal=TerminalConfig(login=7000 + i, server="MetaQuotes-Demo"),
                      symbols=("EURUSD",), request_timeout=REQUEST_TIMEOUT)
        for i, name in enumerate(names)
    )
    # Journals in memory: each seed's simulated terminals start empty, so must its journals.
    return attrs.evolve(Config.default(), accounts=accounts,
                        observability=ObservabilityConfig(http=HttpConfig(enabled=False)),
                        orders=OrdersConfig(state_dir=MEMORY))


def run(seed: int, *, days: float = 2.0, accounts: int = 3,
        schedule: Sequence[Fault] | None = None) -> ChaosResult:
    """Run one seed; ``schedule`` replaces the one drawn from the seed (for shrinking)."""
    started = time.perf_counter()
    names = [f"acct{i}" for i in range(accounts)]
    faults = tuple(schedule) if schedule is not None else draw_schedule(seed, names, days)
    threads = threading.active_count()
    with DeterministicRuntime(seed) as runtime:
        watch = _Watch(runtime, names)
        config = _config(names)
        bus = EventBus()
        bus.subscribe(watch.on_event)
        terminals: dict[str, ChaosTerminal] = {}
        for name, account in zip(names, config.accounts, strict=True):
            terminal = ChaosTerminal(runtime.clock, login=account.terminal.login,
                                     server=account.terminal.server, seed=seed)
            watch.watch_calls(name, terminal)
            terminal.runtime = runtime
            terminals[name] = terminal
        guard = start(config, clock=runtime.clock, bus=bus, terminals=terminals)
        caller = _Caller(seed, guard, names, watch, runtime)
        actors_max = 4 * accounts + 1
        recovery = _Recovery(runtime, guard, names, watch, faults, terminals,
                             _recovery_bound(config))
        end = days * 86_400.0
        events = sorted([(f.at, 0, i) for i, f in enumerate(faults)]
                        + [(t, 1, i) for i, t in enumerate(caller.times(end))])
        for at, what, index in events:
            recovery.check_before(at)
            _advance_to(runtime, at)
            if what == 0:
                fault = faults[index]
                apply(fault, terminals[fault.account], _later(runtime))
            else:
                caller.act(index)
            caller.check_deals(terminals)
            if threading.active_count() > threads:
                watch.fail(f"{threading.active_count() - threads} thread(s) started")
            if len(runtime._entries) > actors_max or len(runtime.pending_timers()) > 64 * accounts:
                watch.fail(f"{len(runtime._entries)} actors and {len(runtime.pending_timers())} "
                           f"timers alive: growing without bound")
            if len(watch.violations) >= 20:
                break
        recovery.check_before(float("inf"))
        guard.stop()
        log = runtime._log  # its lines are put together if the result's log is read
        steps = runtime.steps
    return ChaosResult(seed, faults, tuple(watch.violations), log, steps,
                       time.perf_counter() - started, recovery.checked_from)


def passes(seed: int, days: float, accounts: int) -> bool:
    """Whether ``seed`` runs without a violation (what a process pool sends back)."""
    return run(seed, days=days, accounts=accounts).ok


def _later(runtime: DeterministicRuntime) -> Any:
    def later(delay: float, undo: Any) -> None:
        runtime.call_later(delay, undo)
    return later


def _advance_to(runtime: DeterministicRuntime, at: float) -> None:
    if at > runtime.monotonic():
        runtime.advance(at - runtime.monotonic())


def _recovery_bound(config: Config) -> float:
    """The longest backoff (restart or breaker) plus one probe interval, in seconds."""
    longest = max(config.supervision.backoff.maximum, config.breaker.max_open_duration)
    return longest + config.health.interval


class _Recovery:
    """Checks, once, that every account recovered ``bound`` seconds after the faults ended.

    The faults end at the latest of: each fault's scheduled end, and, for the
    faults that strike a later call (hangs, lost replies, worker kills), when
    they actually struck and ended (:attr:`ChaosTerminal.struck_until`): a
    call hung for 900 s from t=147510 s ends at t=148410 s whenever it was armed.
    """

    def __init__(self, runtime: DeterministicRuntime, guard: Any, names: Sequence[str],
                 watch: _Watch, faults: Sequence[Fault], terminals: dict[str, ChaosTerminal],
                 bound: float) -> None:
        self.runtime, self.guard, self.names, self.watch = runtime, guard, names, watch
        self.terminals, self.bound = terminals, bound
        self.checked_from = -1.0
        self.scheduled_end = max((f.at + (0.0 if f.kind in LAZY else f.seconds) for f in faults),
                                 default=0.0)

    def quiet_from(self) -> float:
        now = self.runtime.monotonic()
        return max([self.scheduled_end] + [now if t.calling else t.struck_until
                                           for t in self.terminals.values()])

    def check_before(self, at: float) -> None:
        """Check each deadline that falls before ``at``.

        A fault striking while time moves to the deadline moves it; one that
        strikes after a check makes another check due after it ends.
        """
        while True:
            quiet_from = self.quiet_from()
            if quiet_from <= self.checked_from or at <= quiet_from + self.bound:
                return
            _advance_to(self.runtime, quiet_from + self.bound)
            if self.quiet_from() == quiet_from:
                self._check(quiet_from)
                self.checked_from = quiet_from

    def _check(self, quiet_from: float) -> None:
        bound = self.bound
        for name in self.names:
            try:
                report = self.guard.session(name).health()
            except MT5Error as exc:
                self.watch.fail(f"{name}: no health report {bound:g} s after the last fault "
                                f"ended (t={quiet_from:.0f}s): {exc}")
                continue
            if report.overall.value != "SERVING" or report.breaker is not BreakerState.CLOSED:
                self.watch.fail(f"{name}: {report.overall.value} with the breaker "
                                f"{report.breaker.value} {bound:g} s after the last fault ended "
                                f"(t={quiet_from:.0f}s)")


class _Caller:
    """A trading engine: reads prices and places orders with ids, retrying unknown outcomes."""

    def __init__(self, seed: int, guard: Any, names: Sequence[str], watch: _Watch,
                 runtime: DeterministicRuntime) -> None:
        self.rng = random.Random(f"caller:{seed}")
        self.guard, self.names, self.watch, self.runtime = guard, names, watch, runtime
        self.retry: dict[str, str | None] = {name: None for name in names}
        self.next_id = 0
        self.deals_seen: dict[str, int] = {name: 0 for name in names}
        self.executed: dict[str, set[str]] = {name: set() for name in names}

    def times(self, end: float) -> list[float]:
        times, at = [], self.rng.expovariate(1 / 600.0)
        while at < end:
            times.append(round(at, 3))
            at += self.rng.expovariate(1 / 600.0)
        return times

    def act(self, _index: int) -> None:
        name = self.names[self.rng.randrange(len(self.names))]
        session = self.guard.session(name)
        started = self.runtime.monotonic()
        order_id = self.retry[name]
        if order_id is None and self.rng.random() < 0.1:
            self.next_id += 1
            order_id = f"c{self.next_id}"
        try:
            if order_id is None:
                session.get_price("EURUSD")
            else:
                session.place_order("EURUSD", "buy", 0.01, client_order_id=order_id)
                self.retry[name] = None
        except MT5Error as exc:
            if order_id is not None:
                unknown = exc.kind in ("timeout", "unavailable", "state", "connection")
                self.retry[name] = order_id if unknown else None
        except Exception as exc:  # an untyped error is what we look for
            self.watch.fail(f"{name}: untyped error from the facade: {exc!r}")
        waited = self.runtime.monotonic() - started
        if waited > REQUEST_TIMEOUT + 1e-6:
            self.watch.fail(f"{name}: a request was answered after {waited:.3f} s "
                            f"(timeout {REQUEST_TIMEOUT:g} s)")

    def check_deals(self, terminals: dict[str, Any]) -> None:
        for name, terminal in terminals.items():
            deals = terminal._ledger.deals
            for deal in deals[self.deals_seen[name]:]:
                if deal.entry != 0 or not deal.comment.startswith("mg-"):
                    continue
                order_id = deal.comment[3:].split(" ")[0]
                if order_id in self.executed[name]:
                    self.watch.fail(f"{name}: client order id {order_id} executed twice")
                self.executed[name].add(order_id)
            self.deals_seen[name] = len(deals)
