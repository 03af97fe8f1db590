"""One account's subtree: its supervisor, the three actors under it and the facade.

::

    Supervisor "account:<name>" (rest_for_one)
    ├── BreakerActor      its state survives session restarts
    ├── SessionActor      the only owner of the terminal
    └── HealthProbeActor  probes through the session

The objects shared across restarts of these actors (breaker view, quote hub,
trade watch, order journal, restart history) are built here once per account,
outside the factories, so a rebuilt actor finds them as they were.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from mt5guard.breaker.actor import BreakerActor
from mt5guard.breaker.view import BreakerView
from mt5guard.clock import Clock
from mt5guard.config import AccountConfig, Config
from mt5guard.events.bus import EventBus
from mt5guard.events.trade import TradeWatch
from mt5guard.health.actor import HealthProbeActor
from mt5guard.market.quotes import QuoteHub
from mt5guard.orders.journal import OrderJournal, journal_path
from mt5guard.session._direct import DirectLane
from mt5guard.session.actor import SessionActor
from mt5guard.session.facade import Session
from mt5guard.supervision import Backoff, ChildSpec, RestartHistory, Strategy, Supervisor
from mt5guard.terminal import Terminal
from mt5guard.terminal.adapters.rpyc import RpycTerminal
from mt5guard.terminal.worker import WorkerTerminal

__all__ = ["account_tree", "open_journals", "supervision_backoff"]


def account_tree(
    account: AccountConfig, config: Config, clock: Clock, bus: EventBus, terminal: Terminal,
    journal: OrderJournal | None = None,
) -> tuple[ChildSpec, Session]:
    """The account supervisor's spec and the facade that reaches into it.

    ``journal`` defaults to one in memory (it then dies with the process).
    """
    name = account.name
    journal = journal or OrderJournal.open(":memory:")
    view = BreakerView()  # so a restarted session knows the breaker's state before its first call
    quotes = QuoteHub(name)  # subscriptions and the quote cache outlive session restarts
    trades = TradeWatch(name, clock, config.trade_events.poll_interval)
    lane = DirectLane()  # callers' reads reach whichever session incarnation serves now
    supervisor_name = f"account:{name}"
    history = RestartHistory()  # a rebuilt account supervisor goes on counting, never from 60 s
    build = _Builders(account, config, clock, bus, terminal, journal, view, quotes, trades, lane,
                      history)
    breaker = build.breaker_spec = ChildSpec("breaker", build.breaker)
    session = build.session_spec = ChildSpec("session", build.session,
                                             on_abandon=_killer(terminal))
    health = build.health_spec = ChildSpec("health", build.health)
    spec = ChildSpec(supervisor_name, build.supervisor)
    for child in (breaker, session, health):
        child.handle.parent = spec.handle
    facade = Session(name, session=session.handle, breaker=breaker.handle, health=health.handle,
                     clock=clock, bus=bus, request_timeout=account.request_timeout,
                     quotes=quotes, breaker_view=view, trades=trades,
                     rate_limits=config.rate_limits, lane=lane,
                     when_breaker_open="age" if config.quotes.when_breaker_open == "age" else "raise")
    return spec, facade


#: Threads that open the journals of a tree at once. SQLite works without the GIL, so
#: a new FULL journal's fsyncs overlap (100 of them: 0.22-0.40 -> 0.11-0.17 s); NORMAL
#: ones gain only where a core is idle (1,000 on a busy 2-core machine: 0.59-0.86 s on
#: one thread, 0.67-0.78 s on four).
OPENERS = 4


def open_journals(config: Config, meanwhile: Callable[[], object] | None = None,
                  ) -> dict[str, OrderJournal]:
    """Every account's journal, or none at all (the ones opened are closed again).

    Opened on up to :data:`OPENERS` threads at once. If any is refused, every
    one is still tried, all opened are closed, and the refusal of the first
    account in the config's order is raised (the same one whatever the timing).
    ``meanwhile`` runs on the calling thread while the journals open (on
    threads of their own then): what it raises is raised once every journal is
    closed again, unless a journal was refused.
    """
    state_dir, synchronous = config.orders.state_dir, config.orders.synchronous
    paths = [journal_path(state_dir, account.name) for account in config.accounts]
    got: list[OrderJournal | Exception | None] = [None] * len(paths)
    halt = threading.Event()

    def open_every(first: int, step: int) -> None:
        for i in range(first, len(paths), step):
            if halt.is_set():
                return
            try:
                got[i] = OrderJournal.open(paths[i], synchronous=synchronous)
            except Exception as exc:  # raised below, on the caller's thread
                got[i] = exc

    openers = max(1, min(OPENERS, len(paths)))
    helpers = [threading.Thread(target=open_every, args=(k, openers), daemon=True,
                                name=f"mt5guard-journal-{k}")
               for k in range(0 if meanwhile is not None else 1, openers)]
    failed: Exception | None = None
    try:
        try:
            for helper in helpers:
                helper.start()
            if meanwhile is None:
                open_every(0, openers)
            else:
                try:
                    meanwhile()
                except Exception as exc:  # raised below, once the journals are closed
                    failed = exc
        except BaseException:
            halt.set()  # e.g. Ctrl-C: the helpers stop after the journal each is opening
            raise
        finally:
            for helper in helpers:
                if helper.ident is not None:
                    helper.join()
        refused = next((j for j in got if isinstance(j, Exception)), None)
        if refused is not None:
            raise refused
        if failed is not None:
            raise failed
    except BaseException:
        for journal in got:
            if isinstance(journal, OrderJournal):
                journal.close()
        raise
    return {a.name: j for a, j in zip(config.accounts, got, strict=True)
            if isinstance(j, OrderJournal)}


class _Builders:
    """The factories of one account's actors, as methods of one object: the lambdas they
    were held 17 closure cells and 8 more objects per account for the garbage collector
    to walk through while 1,000 accounts start (issue 21)."""

    __slots__ = ("account", "breaker_spec", "bus", "clock", "config", "health_spec",
                 "history", "journal", "lane", "quotes", "session_spec", "terminal",
                 "trades", "view")

    breaker_spec: ChildSpec
    session_spec: ChildSpec
    health_spec: ChildSpec

    def __init__(self, account: AccountConfig, config: Config, clock: Clock, bus: EventBus,
                 terminal: Terminal, journal: OrderJournal, view: BreakerView, quotes: QuoteHub,
                 trades: TradeWatch, lane: DirectLane, history: RestartHistory) -> None:
        self.account, self.config, self.clock, self.bus = account, config, clock, bus
        self.terminal, self.journal, self.view = terminal, journal, view
        self.quotes, self.trades, self.lane, self.history = quotes, trades, lane, history

    def breaker(self) -> BreakerActor:
        return BreakerActor(self.account.name, self.config.breaker, self.clock, self.bus,
                            self.view)

    def session(self) -> SessionActor:
        config = self.config
        return SessionActor(self.account, self.terminal, self.clock, self.bus,
                            self.breaker_spec.handle, self.journal,
                            max_tick_age=config.health.max_tick_age, breaker_view=self.view,
                            quotes=self.quotes, poll_interval=config.quotes.poll_interval,
                            trades=self.trades, probe_timeout=config.health.timeout,
                            orders=config.orders, lane=self.lane)

    def health(self) -> HealthProbeActor:
        account = self.account
        return HealthProbeActor(account.name, account.probe_symbol, self.config.health,
                                self.clock, self.bus, self.session_spec.handle,
                                self.breaker_spec.handle, breaker_view=self.view)

    def supervisor(self) -> Supervisor:
        config, sup = self.config, self.config.supervision
        return Supervisor(
            f"account:{self.account.name}", [self.breaker_spec, self.session_spec, self.health_spec],
            clock=self.clock, strategy=Strategy.REST_FOR_ONE, backoff=supervision_backoff(config),
            bus=self.bus, max_restarts=sup.max_restarts, period=sup.period, history=self.history,
            shutdown_timeout=sup.shutdown_timeout,
        )


def supervision_backoff(config: Config) -> Backoff:
    """The :class:`Backoff` of ``supervision.backoff`` (every supervisor of the tree uses it)."""
    b = config.supervision.backoff
    return Backoff(initial=b.initial, maximum=b.maximum, multiplier=b.multiplier,
                   jitter=b.jitter, reset_after=b.reset_after)


def _killer(terminal: Terminal) -> Callable[[], None] | None:
    """How to end a terminal's connection from another thread (workers, rpyc), if it has one."""
    if isinstance(terminal, WorkerTerminal | RpycTerminal):
        return terminal.kill
    return None
