"""Building and starting the whole tree from a :class:`~mt5guard.config.Config`.

::

    Supervisor "root" (one_for_one)
    └── Supervisor "account:<name>" (rest_for_one)
        ├── BreakerActor      its state survives session restarts
        ├── SessionActor      the only owner of the terminal
        └── HealthProbeActor  probes through the session

Each account's subtree (and what outlives its restarts) is built in
``session/_account_tree.py``; this module starts the root and stops the tree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pykka

from mt5guard.clock import Clock, SystemClock
from mt5guard.config import Config
from mt5guard.events.bus import EventBus
from mt5guard.observability.status import StatusBoard
from mt5guard.observability.webhooks import WebhookActor, WebhookOutbox
from mt5guard.orders.journal import OrderJournal
from mt5guard.session._account_tree import account_tree, open_journals, supervision_backoff
from mt5guard.session.facade import Session
from mt5guard.supervision import (
    ChildSpec,
    Strategy,
    Supervisor,
    SupervisorGaveUp,
)
from mt5guard.supervision._hosting import on_actor_thread
from mt5guard.supervision._pykka import start_actor
from mt5guard.terminal import Terminal, make_terminal
from mt5guard.terminal.adapters.rpyc import RpycTerminal
from mt5guard.terminal.sim import SimulatedTerminal
from mt5guard.terminal.worker import WorkerTerminal

__all__ = ["Guard", "start"]

_log = logging.getLogger("mt5guard")


class Guard:
    """A running mt5guard tree.

    ``sessions`` maps account names to their :class:`Session` facades.
    :meth:`stop` stops the tree's own actors only (children in reverse
    order, terminals shut down); a host's actors are never touched.
    """

    def __init__(
        self,
        config: Config,
        clock: Clock,
        bus: EventBus,
        sessions: dict[str, Session],
        terminals: dict[str, Terminal],
        board: StatusBoard,
        owns_clock: bool,
        journals: dict[str, OrderJournal] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.bus = bus
        self.sessions: Mapping[str, Session] = sessions
        self.terminals: Mapping[str, Terminal] = terminals
        self.status = board
        self._owns_clock = owns_clock
        self.journals: Mapping[str, OrderJournal] = journals or {}
        self._root: pykka.ActorRef[Any] | None = None
        self.webhooks: WebhookOutbox | None = None  # set when the config has webhooks
        self._root_actor: Supervisor | None = None
        self._stopped = threading.Event()
        self._gave_up = threading.Event()
        self.gave_up_event: SupervisorGaveUp | None = None

    def __repr__(self) -> str:
        return f"<Guard accounts={sorted(self.sessions)}>"

    def session(self, account: str) -> Session:
        try:
            return self.sessions[account]
        except KeyError:
            known = ", ".join(sorted(self.sessions))
            raise KeyError(f"no account named {account!r}; configured: {known}") from None

    @property
    def running(self) -> bool:
        return self._root is not None and self._root.is_alive()

    def wait_gave_up(self, timeout: float | None = None) -> bool:
        """Block until the root supervisor gives up (real seconds); True if it did."""
        return self._gave_up.wait(timeout)

    def stop(self) -> None:
        """Stop every actor of this tree, in reverse start order. Idempotent.

        Returns within about ``supervision.shutdown_timeout`` + 1 s even when a
        terminal hangs: a child that does not stop in time is abandoned
        (ChildAbandoned), and every terminal worker of the tree is killed. A
        tree still starting its accounts starts no more. Called on one of the
        tree's own threads (an ``on_give_up`` callback, a bus subscriber) it
        only begins the stop, on a thread of its own, and returns at once:
        waiting there would wait for itself. :meth:`wait_stopped` waits.
        """
        root, self._root = self._root, None
        actor, self._root_actor = self._root_actor, None
        if actor is not None:
            actor.halt()
        if on_actor_thread():
            threading.Thread(target=self._stop_tree, args=(root,), name="mt5guard-stop").start()
            return
        self._stop_tree(root)

    def wait_stopped(self, timeout: float | None = None) -> bool:
        """Block until a :meth:`stop` has finished (real seconds); True if it has."""
        return self._stopped.wait(timeout)

    def _stop_tree(self, root: pykka.ActorRef[Any] | None) -> None:
        try:
            if root is not None:
                try:
                    root.stop(block=True, timeout=self.config.supervision.shutdown_timeout + 1.0)
                except pykka.ActorDeadError:
                    pass
                except pykka.Timeout:
                    _log.warning("the supervision tree did not stop within %g s; abandoned",
                                 self.config.supervision.shutdown_timeout + 1.0)
            for terminal in self.terminals.values():
                if isinstance(terminal, WorkerTerminal | RpycTerminal):
                    terminal.kill("the tree stopped")  # a call blocked in it returns
            for journal in self.journals.values():
                journal.close()  # releases the file lock: another process may take over
            if self._owns_clock and isinstance(self.clock, SystemClock):
                self.clock.close()
        finally:
            self._stopped.set()

    def _on_give_up(self, event: SupervisorGaveUp) -> None:
        self.gave_up_event = event
        self._gave_up.set()


def start(
    config: Config,
    *,
    clock: Clock | None = None,
    bus: EventBus | None = None,
    terminals: Mapping[str, Terminal] | None = None,
    on_give_up: Callable[[SupervisorGaveUp], None] | None = None,
    start_timeout: float = 10.0,
    cancel: threading.Event | None = None,
) -> Guard:
    """Start the supervision tree for every account in ``config``.

    Safe to call from inside a host pykka actor: it starts only its own
    actors, installs no signal handler and configures no logging.
    ``terminals`` overrides the terminal per account name (tests pass
    scripted simulated terminals); the rest are built from the config.
    ``on_give_up`` runs (on a supervisor thread) when the root supervisor
    gives up: once every account has given up (an account that exceeds its
    restart intensity gives up alone; the others run on), or as soon as an
    account marked ``vital`` gives up. The tree is stopped by then.

    It returns once every account's actors have been started (at most
    ``start_timeout`` real seconds in all, or as soon as ``cancel`` is set,
    e.g. on a SIGTERM by a thread the signal wakes; not inside the signal
    handler itself, which may run while the main thread holds the event's
    own lock: see ``mt5guard/cli/_signals.py``): requests sent then queue behind the
    session's connect instead of failing with "not started yet". If it
    fails after the tree began to start, the tree is stopped first.

    Each account's order journal is opened first (``orders.state_dir``);
    :class:`~mt5guard.orders.journal.JournalUnavailable` is raised, and nothing
    is started, when one is locked by another process, corrupt, unreadable or
    of a newer schema.
    """
    owns_clock = clock is None
    clock = clock or SystemClock()
    bus = bus or EventBus()
    board = StatusBoard(clock)
    bus.subscribe(board)
    built = dict(terminals or {})
    specs: list[ChildSpec] = []
    sessions: dict[str, Session] = {}

    def build_terminals() -> None:  # while the journals open: SQLite works without the GIL
        for account in config.accounts:
            terminal = built.get(account.name) or make_terminal(account.terminal, clock)
            built[account.name] = terminal
            if isinstance(terminal, SimulatedTerminal):  # here, where no actor waits for the GIL
                terminal.prepare_quotes(account.probe_symbol)  # its first probe reads it

    journals = open_journals(config, meanwhile=build_terminals)
    try:
        for account in config.accounts:
            terminal = built[account.name]
            spec, facade = account_tree(account, config, clock, bus, terminal,
                                        journals[account.name])
            specs.append(spec)
            sessions[account.name] = facade
            board.expect(account.name)
    except BaseException:
        for journal in journals.values():
            journal.close()
        raise
    guard = Guard(config, clock, bus, sessions, built, board, owns_clock, journals)
    if config.webhooks:  # a supervised sender behind a bounded outbox on the bus
        outbox = WebhookOutbox(config.webhooks, bus, clock)
        bus.subscribe(outbox)
        specs.append(ChildSpec("webhooks", lambda: WebhookActor(outbox, clock, bus)))
        guard.webhooks = outbox
        if any("trade" in w.events for w in config.webhooks):
            for facade in sessions.values():
                facade._core.trades.watch()  # trade events are polled for as long as the tree runs

    def gave_up(event: SupervisorGaveUp) -> None:
        guard._on_give_up(event)
        if on_give_up is not None:
            on_give_up(event)

    sup = config.supervision
    root = guard._root_actor = Supervisor(
        "root", specs, clock=clock, strategy=Strategy.ONE_FOR_ONE, backoff=supervision_backoff(config),
        max_restarts=sup.max_restarts, period=sup.period, bus=bus, on_give_up=gave_up,
        escalate=True,  # every account gave up, or a vital one did: the tree ends (exit 3)
        independent=[f"account:{a.name}" for a in config.accounts],  # others give up alone
        vital=[f"account:{a.name}" for a in config.accounts if a.vital],
        shutdown_timeout=sup.shutdown_timeout,
        stop_together=True,  # accounts are independent: hung ones cost one timeout in all
    )
    guard._root = start_actor(root, clock, None)
    try:
        _wait_started(sessions.values(), start_timeout, cancel)
    except BaseException:
        guard.stop()
        raise
    return guard


def _wait_started(facades: Iterable[Session], timeout: float, cancel: threading.Event | None) -> None:
    """Until every account's actors run, about ``timeout`` real seconds of waiting pass
    (counted without reading a clock: freezegun may have frozen it), or ``cancel`` is set."""
    step, left = (0.05 if cancel is not None else timeout), timeout
    # so the first request never meets "not started yet"; the last started first: the
    # others are started by then, and this thread is not woken once per actor (issue 21)
    for facade in reversed(list(facades)):
        for handle in (facade._core.health, facade._core.session, facade._core.breaker):
            while not handle.wait_started(timeout=min(step, left)):
                left -= min(step, left)
                if left <= 0 or (cancel is not None and cancel.is_set()):
                    return
