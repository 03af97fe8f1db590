"""``mt5guard demo`` (``make demo``): the whole mechanism in about 25 s.

The standalone process's pieces (the packaged default config's tree, the event log
lines of ``run.py``) on simulated terminals, with time running 45 times
faster than real time and a scripted story for account ``demo``. First the
broker refuses its credentials: probes fail, the breaker opens, half-opens for
a trial that fails, opens again, and closes after the broker relents. Then its
terminal process dies: the session fails, restarts at 60, 120 and 240 s fail
while the terminal is down, and once it is back the next restart connects.
Account ``demo2`` stays healthy throughout. Times in the log are
simulated seconds since the start.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import attrs

from mt5guard.clock import Clock, SystemClock, Timer
from mt5guard.config import MEMORY, OrdersConfig, default_config_path, load_config
from mt5guard.events.bus import EventBus
from mt5guard.observability import EventLogger, configure_logging, status_line
from mt5guard.session.guard import start
from mt5guard.terminal import SimulatedTerminal

_log = logging.getLogger("mt5guard.cli.demo")
#: Named speeds for ``--speed`` (simulated seconds per real second): high runs the story in ~3 s.
SPEEDS = {"normal": 45.0, "high": 450.0}


def _speed(text: str) -> float:
    try:
        value = SPEEDS[text] if text in SPEEDS else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give normal, high or a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the speed must be above 0")
    return value


class AcceleratedClock(SystemClock):
    """Real threads and timers, with time running ``speed`` times faster.

    ``monotonic()`` is simulated seconds since the clock was made; ``now()``
    starts at the real wall time then. Delays (seconds) are divided by ``speed``.
    """

    def __init__(self, speed: float) -> None:
        super().__init__()
        self.speed = speed
        self._real0 = time.monotonic()
        self._wall0 = datetime.now(UTC)

    def monotonic(self) -> float:
        return (time.monotonic() - self._real0) * self.speed

    def now(self) -> datetime:
        return self._wall0 + timedelta(seconds=self.monotonic())

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds / self.speed)

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer:
        return super().call_later(delay / self.speed, callback)


def _story(terminal: SimulatedTerminal) -> list[tuple[float, str, Callable[[], None]]]:
    """(simulated second, what the operator is told, the fault) for account demo."""
    return [
        (45.0, "the broker refuses account demo's credentials (for 5 minutes)",
         terminal.revoke_auth),
        (345.0, "the broker accepts account demo again", terminal.restore_auth),
        (500.0, "the terminal process of account demo dies (it stays down for 7 minutes)",
         lambda: terminal.set_down(True)),
        (920.0, "the terminal of account demo is running again",
         lambda: terminal.set_down(False)),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mt5guard demo", description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=_speed, default=SPEEDS["normal"],
                        help="simulated seconds per real second: normal (45), high (450) or a number")
    parser.add_argument("--until", type=float, default=1140.0, help="simulated seconds to run")
    parser.add_argument("--simulated", action="store_true",
                        help="run the story on the deterministic runtime (the test kit's "
                             "simulated time, needs mt5guard[test]): the same log in well under "
                             "a second, whatever the machine's load; --speed is ignored")
    args = parser.parse_args(argv)
    configure_logging(fmt="text", level="INFO")
    logging.getLogger("pykka").setLevel(logging.CRITICAL)  # crashes are reported as events
    if args.simulated:
        from mt5guard.testing import DeterministicRuntime

        with DeterministicRuntime() as runtime:
            _log.info("demo: simulated time; the story runs %g simulated seconds", args.until)
            return _run(runtime.clock, args.until)
    clock = AcceleratedClock(args.speed)
    try:
        _log.info("demo: time x%g; the story runs %g simulated seconds (~%.0f s real)",
                  args.speed, args.until, args.until / args.speed)
        return _run(clock, args.until)
    finally:
        clock.close()


def _run(clock: Clock, until: float) -> int:
    """The story on ``clock`` until ``until`` simulated seconds; 0 if account demo recovered."""
    config = load_config(default_config_path())
    exact = attrs.evolve(config.supervision.backoff, jitter=0.0)  # restarts at exactly 60, 120, 240 s
    config = attrs.evolve(config, supervision=attrs.evolve(config.supervision, backoff=exact),
                          observability=attrs.evolve(config.observability,
                                                     http=attrs.evolve(config.observability.http,
                                                                       enabled=False)),
                          orders=OrdersConfig(state_dir=MEMORY))  # fresh terminals, fresh journals
    bus = EventBus()
    bus.subscribe(EventLogger())
    terminals = {a.name: SimulatedTerminal(clock, login=a.terminal.login, server=a.terminal.server)
                 for a in config.accounts}
    _log.info("demo: %s accounts", len(config.accounts))
    guard = start(config, clock=clock, bus=bus, terminals=terminals)
    # The faults ride on the tree's own clock, so they keep their order with its timers
    # (restarts, probes) however busy the machine is; the loop below only prints status,
    # sleeping on the same clock (on the simulated one, its sleep runs the tree).
    for at, text, fault in _story(terminals["demo"]):
        clock.call_later(at - clock.monotonic(), _announced(at, text, fault))
    try:
        while (now := clock.monotonic()) < until:
            for name, row in guard.status.snapshot().items():
                _log.info("demo t=%.0fs: %s", now, status_line(name, row))
            clock.sleep(min(60.0, until - now))
        final = guard.status.snapshot()["demo"]
    finally:
        guard.stop()
    if final["status"] != "SERVING" or final["breaker"] != "closed":
        _log.error("demo over: account demo has not recovered (%s, breaker %s); the story "
                   "ran too slowly for this machine: try a lower --speed", final["status"],
                   final["breaker"])
        return 1
    _log.info("demo over: account demo recovered by itself; see docs/supervision.md")
    return 0


def _announced(at: float, text: str, fault: Callable[[], None]) -> Callable[[], None]:
    def strike() -> None:
        _log.warning("demo t=%.0fs: %s", at, text)
        fault()

    return strike

if __name__ == "__main__":
    sys.exit(main())
