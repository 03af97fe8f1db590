"""numpy (~80 ms, ~15 MB) is loaded only by what needs it: bars, ticks and simulated quotes.

And a simulated worker imports nothing else it does not use: every one of N
workers starting together pays its imports in CPU (docs/performance.md).

An engine that embeds mt5guard, and every terminal worker process, would
otherwise pay for it at start. A fresh interpreter per check: this test
process imported numpy long ago.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from worker_kit import SIM

from mt5guard.clock import SystemClock
from mt5guard.terminal.bridge import _processes
from mt5guard.terminal.worker import WorkerTerminal, local_opener

pytestmark = pytest.mark.subprocess

REPO = Path(__file__).resolve().parents[2]

_TREE = textwrap.dedent(
    """
    import sys, time
    from mt5guard import MT5Unavailable, SystemClock, start
    from mt5guard.config import (AccountConfig, Config, HttpConfig, ObservabilityConfig,
                                 TerminalConfig)
    from mt5guard.config.orders import MEMORY, OrdersConfig

    terminal = TerminalConfig(login=5001, server="MetaQuotes-Demo", isolation="process")
    config = Config(accounts=(AccountConfig(name="acc", terminal=terminal, symbols=("EURUSD",)),),
                    orders=OrdersConfig(state_dir=MEMORY),
                    observability=ObservabilityConfig(http=HttpConfig(enabled=False),
                                                      status_interval=0.0))
    clock = SystemClock()
    guard = start(config, clock=clock)
    deadline = time.monotonic() + 10
    while True:
        try:
            price = guard.session("acc").get_price("EURUSD")
            break
        except MT5Unavailable:
            assert time.monotonic() < deadline, "the session never served"
            time.sleep(0.01)
    print("numpy" in sys.modules, price.bid > 0)
    guard.stop()
    clock.close()
    """
)


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_mt5guard_does_not_import_numpy() -> None:
    assert _python("import mt5guard, sys; print('numpy' in sys.modules)") == "False"


def test_a_tree_with_worker_terminals_serves_prices_without_numpy_in_our_process() -> None:
    assert _python(_TREE) == "False True"


_WORKER_IMPORTS = textwrap.dedent(
    """
    import runpy, sys
    server = runpy.run_path(sys.argv[1], run_name="worker")  # as the worker runs it: a file
    for name in ("_child", "_channel", "_shapes", "_watch", "_requests"):
        server["_sibling"](name)
    server["_backend"]({"backend": "simulated", "login": 5001, "server": "MetaQuotes-Demo"})
    print(sorted(m for m in ("argparse", "logging", "multiprocessing", "numpy", "pykka", "yaml")
                 if m in sys.modules))
    """
)


def test_a_simulated_worker_starts_without_argparse_logging_pykka_multiprocessing_or_yaml() -> None:
    server = REPO / "mt5guard" / "terminal" / "bridge" / "server.py"
    done = subprocess.run([sys.executable, "-c", _WORKER_IMPORTS, str(server)], cwd=REPO,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _numpy_loaded(pid: int) -> bool:
    return "_multiarray_umath" in Path(f"/proc/{pid}/maps").read_text()


def test_a_spawned_simulated_worker_loads_numpy_with_its_first_quote_not_at_start(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A spawned worker (other systems, a custom command, or a zygote that failed). On
    Linux a worker is forked by the zygote with numpy already loaded, in pages it shares
    with the zygote and every other forked worker (``bridge/_forked.py``)."""
    monkeypatch.setattr(_processes, "FORK", False)
    clock = SystemClock()
    terminal = WorkerTerminal(local_opener(dict(SIM)), clock, name="lazy", call_timeout=10.0)
    try:
        terminal.start()
        assert terminal.initialize(login=5001, password="pw", server="MetaQuotes-Demo")
        assert terminal.symbol_select("EURUSD", True)
        assert terminal.account_info() is not None
        assert terminal.pid is not None and not _numpy_loaded(terminal.pid)
        tick = terminal.symbol_info_tick("EURUSD")
        assert tick is not None and tick.bid > 0
        assert _numpy_loaded(terminal.pid)
    finally:
        terminal.close()
        clock.close()
