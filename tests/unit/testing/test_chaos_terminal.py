"""The chaos terminal's probe calls skip its wrapper only while none of its faults apply."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pykka
import pytest

from mt5guard.terminal import SimulatedTerminal
from mt5guard.testing import DeterministicRuntime
from mt5guard.testing.chaos._terminal import ChaosTerminal

PROBE_CALLS = ("terminal_info", "account_info", "symbol_info_tick")


@pytest.fixture
def runtime() -> Iterator[DeterministicRuntime]:
    with DeterministicRuntime(1) as runtime:
        yield runtime


@pytest.fixture
def terminal(runtime: DeterministicRuntime) -> ChaosTerminal:
    terminal = ChaosTerminal(runtime.clock, login=7000, seed=1)
    terminal.runtime = runtime
    assert terminal.initialize(login=7000, password="x", server="MetaQuotes-Demo")
    assert terminal.symbol_select("EURUSD", True)
    return terminal


def _direct(terminal: ChaosTerminal) -> set[str]:
    """The probe calls bound straight to the simulated terminal's methods (asked without
    ``vars()``, which would build the instance's dict)."""
    return {name for name in PROBE_CALLS
            if getattr(getattr(terminal, name), "__func__", None) is getattr(SimulatedTerminal, name)}


def _fast_layout(terminal: ChaosTerminal) -> bool:
    """Whether CPython keeps the terminal's attributes in its fast layout: no dict of its
    attributes among its referents (a built one holds ``_clock`` among its keys)."""
    return not any(type(r) is dict and "_clock" in r for r in gc.get_referents(terminal))


def test_faults_coming_and_going_keep_the_terminal_in_cpythons_fast_layout(
        terminal: ChaosTerminal, runtime: DeterministicRuntime) -> None:
    # Past 30 attribute names of its own, or once its __dict__ is touched, CPython 3.11
    # builds the instance a real dict, and every self.x of each call is looked up the
    # slow way (the probe's three calls ~40% slower).
    assert _fast_layout(terminal)
    terminal.on_call = lambda _name: None
    terminal.garble = True
    assert terminal.account_info() == ("login", 0)
    terminal.garble = False
    terminal.on_call = None
    terminal.hang_next("terminal_info", 5.0)
    terminal.terminal_info()  # hangs its 5 s, and fails as a hung call does
    terminal.kill_worker()
    assert terminal.account_info() is not None  # armed: it strikes a session's call
    assert _direct(terminal) == set()
    assert _fast_layout(terminal)
    assert terminal.struck_until == runtime.monotonic() and not terminal.calling


def test_a_quiet_terminal_answers_the_probe_without_its_wrapper(terminal: ChaosTerminal) -> None:
    assert _direct(terminal) == set(PROBE_CALLS)
    assert terminal.account_info() is not None and terminal.last_error() == (1, "Success")


def test_a_hook_or_garbling_puts_the_wrapper_back_until_it_ends(terminal: ChaosTerminal) -> None:
    heard: list[str] = []
    terminal.on_call = heard.append
    assert _direct(terminal) == set()
    terminal.terminal_info()
    assert heard == ["terminal_info"]
    terminal.on_call = None
    terminal.garble = True
    assert terminal.account_info() == ("login", 0)
    terminal.garble = False
    assert _direct(terminal) == set(PROBE_CALLS)
    terminal.terminal_info()
    assert heard == ["terminal_info"], "no hook: not reported"


def test_a_hang_strikes_the_next_call_then_the_call_is_direct_again(
        runtime: DeterministicRuntime, terminal: ChaosTerminal) -> None:
    terminal.hang_next("account_info", 5.0)
    assert _direct(terminal) == {"terminal_info", "symbol_info_tick"}
    started = runtime.monotonic()
    assert terminal.account_info() is None
    assert terminal.last_error()[0] == -10005
    assert terminal.struck_until == runtime.monotonic() == started + 5.0
    assert _direct(terminal) == set(PROBE_CALLS)


def test_a_killed_worker_fails_every_call_until_the_session_is_replaced(
        terminal: ChaosTerminal) -> None:
    terminal.kill_worker()
    assert _direct(terminal) == set()
    # Called from test code (no session running), the kill waits for a session's call.
    assert terminal.account_info() is not None
    assert _direct(terminal) == set()


class _Caller(pykka.ThreadingActor):
    """Makes the calls it is told on its terminal, as a session does (the kill's owner)."""

    def __init__(self, terminal: ChaosTerminal) -> None:
        super().__init__()
        self._terminal = terminal

    def on_receive(self, message: Any) -> Any:
        name, args = message
        return getattr(self._terminal, name)(*args)


def test_a_kill_armed_for_an_order_leaves_the_probe_direct_and_strikes_the_order(
        runtime: DeterministicRuntime, terminal: ChaosTerminal) -> None:
    terminal.kill_worker(executed=False, call="order_send")
    assert _direct(terminal) == set(PROBE_CALLS)  # the probe's calls cannot meet this kill
    caller = runtime.start(_Caller, terminal)

    def call(name: str, *args: Any) -> Any:
        return caller.ask((name, args), timeout=5.0)

    assert call("terminal_info") is not None and call("account_info") is not None
    assert terminal.last_error() == (1, "Success")
    order = {"action": 1, "symbol": "EURUSD", "volume": 0.01, "type": 0, "type_filling": 1}
    assert call("order_send", order) is None  # the kill strikes the order, not a probe
    assert terminal.last_error()[0] == -10004
    assert _direct(terminal) == set()
    assert call("terminal_info") is None, "the dead worker fails every later call"
