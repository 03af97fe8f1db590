"""The ``mt5guard`` command (also ``python -m mt5guard`` and ``run.py``).

Subcommands: ``run`` (the default when none is given: ``mt5guard --config
x.yaml`` still runs), ``check``, ``demo``, ``bridge`` and ``chaos``. Without
``--config``, ``run`` and ``check`` use the default config packaged inside
mt5guard (two simulated accounts; see :func:`mt5guard.config.default_config_path`).

``run`` is the one place that owns the process: it configures logging, installs
SIGINT/SIGTERM handlers and decides the exit status (0 after a requested
stop, 1 when run.py itself failed (logged, after stopping the tree), 2 for a
bad config, a command line, a port in use or an order journal it must not
use (locked by another process, corrupt, unreadable, newer schema), 3 when
the root supervisor gives up, so that systemd or Kubernetes restarts the
process). The health endpoint binds before any account connects; a signal
during start-up stops the accounts still starting instead of waiting for them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from mt5guard.cli._signals import StopSignals
from mt5guard.cli.preflight import preflight, with_env_token
from mt5guard.clock import SystemClock
from mt5guard.config import Config, ConfigError, default_config_path, load_config, render_config
from mt5guard.events.bus import EventBus
from mt5guard.observability import (
    EventLogger,
    HealthServer,
    Metrics,
    configure_logging,
    status_line,
)
from mt5guard.orders.journal import JournalUnavailable
from mt5guard.session.guard import Guard, start
from mt5guard.terminal.adapters.metatrader5 import TerminalUnavailableError

__all__ = ["EXIT_BAD_CONFIG", "EXIT_CRASHED", "EXIT_GAVE_UP", "EXIT_OK", "main"]

EXIT_OK, EXIT_CRASHED, EXIT_BAD_CONFIG, EXIT_GAVE_UP = 0, 1, 2, 3


class ApiServerLike(Protocol):
    def start(self, *, announce: bool = True) -> None: ...
    def announce(self) -> None: ...
    def stop(self) -> None: ...
_log = logging.getLogger("mt5guard.run")


_USAGE = """mt5guard [run] [--config PATH] [--port N] [--state-dir PATH] [--log-format text|json]
                    [--log-level LEVEL]
       mt5guard check [--config PATH] [--port N] [--state-dir PATH]
       mt5guard demo [--speed normal|high|N | --simulated] [--until SECONDS]
       mt5guard bridge --listen HOST:PORT [...]   (the terminal server; see docs/operations.md)
       mt5guard chaos [--seeds N] [--replay SEED] [...]"""
_SUBCOMMANDS = ("run", "check", "demo", "bridge", "chaos")


def _arguments(argv: Sequence[str], command: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"mt5guard {command}", usage=_USAGE,
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None,
                        help="YAML config file (default: the packaged simulated demo config)")
    parser.add_argument("--port", type=int, default=None,
                        help="serve health, metrics and the api on this port instead of "
                             "observability.http.port (0 picks a free one)")
    parser.add_argument("--state-dir", default=None, metavar="PATH",
                        help="keep the order journals here instead of orders.state_dir "
                             "(systemd: --state-dir %%S/mt5guard with StateDirectory=mt5guard)")
    parser.add_argument("--check", action="store_true",
                        help="validate the config, print it resolved (secrets masked) and exit")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    parser.add_argument("--log-level", default="INFO",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"), type=str.upper)
    args = parser.parse_args(argv)
    args.check = args.check or command == "check"
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """The ``mt5guard`` command; returns the exit status."""
    rest = list(sys.argv[1:] if argv is None else argv)
    command = rest.pop(0) if rest and rest[0] in _SUBCOMMANDS else "run"
    if command == "demo":
        from mt5guard.cli.demo import main as demo

        return demo(rest)
    if command == "bridge":  # the terminal server owns its own command line
        from mt5guard.terminal.bridge.server import main as bridge

        return bridge(rest)
    if command == "chaos":
        from mt5guard.testing.chaos.__main__ import main as chaos

        return chaos(rest)
    return _run(_arguments(rest, command))


def _run(args: argparse.Namespace) -> int:
    source = args.config or str(default_config_path())
    try:
        config = load_config(source)
        if args.config is None:
            config = with_env_token(config, os.environ)
        if args.state_dir is not None:
            orders = attrs.evolve(config.orders, state_dir=args.state_dir)
            config = attrs.evolve(config, orders=orders)
        if args.port is not None:
            moved = attrs.evolve(config.observability.http, port=args.port)
            config = attrs.evolve(config, observability=attrs.evolve(config.observability, http=moved))
    except ConfigError as err:
        print(f"mt5guard: bad config: {err}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    problems = preflight(config)
    if problems:
        for problem in problems:
            print(f"mt5guard: bad config: {problem}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if args.check:
        print(f"# {source}: OK\n{render_config(config)}", end="")
        return EXIT_OK
    configure_logging(fmt=args.log_format, level=args.log_level)
    logging.getLogger("pykka").setLevel(logging.CRITICAL)  # crashes are reported as events

    stop = threading.Event()
    signals = StopSignals(stop, _log)  # never stop.set() in a handler: see _signals
    signals.install()
    try:
        return _run_tree(config, stop)
    finally:
        signals.close()


def _run_tree(config: Config, stop: threading.Event) -> int:
    clock, bus = SystemClock(), EventBus()
    metrics = Metrics(clock=clock)
    for account in config.accounts:  # every series at zero from the first scrape
        metrics.expect(account.name)
    bus.subscribe(EventLogger())
    bus.subscribe(metrics)
    guard: Guard | None = None
    http = _health_server(config, lambda: guard, metrics, clock)
    if http is not None:
        try:  # bound before any account connects: a port in use fails at once
            http.start(announce=False)
        except OSError as err:
            _log.error("%s", err)
            clock.close()
            return EXIT_BAD_CONFIG
    try:
        guard = start(config, clock=clock, bus=bus, on_give_up=lambda _event: stop.set(),
                      cancel=stop)
        metrics.track(guard)  # unknown order outcomes pending, read from the journals
        if http is not None:
            http.announce()
        status = _serve(config, guard, stop)
        guard.stop()  # "stopped cleanly" only once the tree has (hung children abandoned)
        if status == EXIT_OK:
            _log.info("stopped cleanly")
        return status
    except (TerminalUnavailableError, JournalUnavailable) as err:
        print(f"mt5guard: {err}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    except Exception:  # anything: the tree still stops and the exit status says so
        _log.exception("mt5guard crashed: stopping the tree; exiting with status %d", EXIT_CRASHED)
        return EXIT_CRASHED
    finally:
        if http is not None:
            http.stop()
        if guard is not None:
            guard.stop()
        clock.close()


def _health_server(
    config: Config, guard: Callable[[], Guard | None], metrics: Metrics, clock: SystemClock
) -> HealthServer | ApiServerLike | None:
    if not config.observability.http.enabled:
        return None
    if config.api.enabled:  # the trading API, with /healthz, /readyz and /metrics beside it
        from mt5guard.api import ApiServer, create_app

        app = create_app(config.api, guard, monotonic=clock.monotonic, metrics=metrics,
                         now=clock.now)
        return ApiServer(app, host=config.observability.http.host,
                         port=config.observability.http.port,
                         certfile=config.api.tls_certfile, keyfile=config.api.tls_keyfile)

    def readiness() -> Mapping[str, Any]:
        running = guard()
        return running.status.snapshot() if running is not None else {}  # starting: not ready

    return HealthServer(host=config.observability.http.host, port=config.observability.http.port,
                        readiness=readiness, metrics=metrics)


def _serve(config: Config, guard: Guard, stop: threading.Event) -> int:
    """Status lines until a signal or a give-up; the exit status."""
    accounts = ", ".join(a.name for a in config.accounts)
    if not stop.is_set():
        _log.info("mt5guard started: %d account(s): %s; Ctrl-C stops", len(config.accounts),
                  accounts)
    interval = config.observability.status_interval or None
    wait = min(1.0, interval) if interval else None  # a first status line right away
    while not stop.wait(wait):
        for name, row in guard.status.snapshot().items():
            _log.info("%s", status_line(name, row))
        wait = interval
    gave_up = guard.gave_up_event
    if gave_up is not None:
        _log.error("root supervisor gave up (%s): exiting with status %d", gave_up.reason,
                   EXIT_GAVE_UP)
        return EXIT_GAVE_UP
    return EXIT_OK
