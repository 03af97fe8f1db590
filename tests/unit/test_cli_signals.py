"""run.py's SIGTERM/SIGINT: a signal that lands anywhere in the main thread still stops the run.

Seen in a 20-run loop: run.py wrote its first status line, got SIGTERM a millisecond later and
never stopped. Its handler called ``stop.set()``; Python ran that handler in the main thread
while the thread sat inside ``stop.wait()`` holding the event's own lock (not re-entrant), so
``set()`` waited for a lock its own thread held. Holding that lock here puts the signal exactly
there, every time.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

import pytest

from mt5guard.cli._signals import StopSignals

pytestmark = pytest.mark.timeout(20)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_arriving_while_the_main_thread_holds_the_stop_events_lock_still_stops(
    signum: signal.Signals, caplog: pytest.LogCaptureFixture
) -> None:
    stop = threading.Event()
    signals = StopSignals(stop, logging.getLogger("mt5guard.run"))
    signals.install()
    try:
        with caplog.at_level(logging.INFO, logger="mt5guard.run"):
            # What Event.wait holds between entering and parking (CPython's Event keeps it
            # in _cond); the handler runs at the next bytecode, inside this block.
            with stop._cond:  # type: ignore[attr-defined]
                os.kill(os.getpid(), signum)
                for _ in range(1000):  # bytecodes for the pending handler to run on
                    pass
            assert stop.wait(5.0), "the signal never set the stop event"
            deadline = threading.Event()
            for _ in range(500):  # the relay logs before it sets; the record is there already
                if any(f"received {signum.name}: stopping" in r.getMessage()
                       for r in caplog.records):
                    break
                deadline.wait(0.01)
        assert any(f"received {signum.name}: stopping" in r.getMessage() for r in caplog.records)
    finally:
        signals.close()


def test_closing_puts_the_previous_handlers_back_and_leaves_no_thread() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    previous_fd = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(previous_fd)
    signals = StopSignals(threading.Event(), logging.getLogger("mt5guard.run"))
    signals.install()
    assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
    signals.close()
    assert {s: signal.getsignal(s) for s in before} == before
    assert signal.set_wakeup_fd(previous_fd) == previous_fd
    assert not [t for t in threading.enumerate() if t.name == "mt5guard-signals"]
