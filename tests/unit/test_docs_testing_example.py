"""The example in docs/testing.md, run as a test; the doc must quote it verbatim."""

# --- example: start
import concurrent.futures
from datetime import UTC, datetime

import pytest

from mt5guard import Config, MT5Error, MT5TimeoutError, MT5Unavailable, start
from mt5guard.terminal import SimulatedTerminal
from mt5guard.testing import VirtualClock, simulated_time


@pytest.fixture
def clock():
    return VirtualClock()  # starts on Monday 2026-01-05 09:00 UTC and stays there


@pytest.fixture
def demo(clock):
    """The tree of config/default.yaml, its "demo" account on a terminal the test scripts."""
    terminal = SimulatedTerminal(clock, login=5001, server="MetaQuotes-Demo")
    guard = start(Config.default(), clock=clock, terminals={"demo": terminal})
    clock.settle()  # every actor idle: connected, first probe done
    yield guard, terminal
    clock.close()  # wake any call still hanging on simulated time...
    guard.stop()  # ...so that stopping never waits for it


def test_the_session_comes_back_after_a_ten_minute_outage(clock, demo):
    guard, terminal = demo
    session = guard.session("demo")
    terminal.disconnect(for_seconds=600)

    with pytest.raises(MT5Error):  # typed, at once: connection lost
        session.get_price("EURUSD")
    clock.settle()  # let the supervisor handle the crash before asserting on it
    with pytest.raises(MT5Unavailable) as down:  # restarting; says when it tries next
        session.get_price("EURUSD")
    assert down.value.retry_at is not None

    clock.advance(30 * 60)  # half an hour of backoff and probes in milliseconds
    assert guard.status.snapshot()["demo"]["status"] == "SERVING"
    assert session.get_price("EURUSD").bid > 0


def test_a_hung_call_ends_with_a_typed_timeout(clock, demo):
    guard, terminal = demo
    terminal.hang_next("symbol_info_tick", seconds=20)  # then (-10005, 'IPC timeout')
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(guard.session("demo").get_price, "EURUSD")
        clock.wait_for_sleepers(1)  # the terminal call is now hanging
        clock.advance(20)
        with pytest.raises(MT5TimeoutError):
            pending.result(timeout=5)


def test_wall_clock_reads_follow_simulated_time():
    with simulated_time() as clock:  # freezegun's datetime.now() moves with the clock
        clock.advance(3600)
        assert datetime.now(UTC) == clock.now() == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
# --- example: end


def test_docs_testing_md_quotes_this_example_verbatim() -> None:
    import re
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
    source = Path(__file__).read_text(encoding="utf-8")
    example = source.split("# --- example: start\n")[1].split("# --- example: end\n")[0]
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), re.DOTALL)
    assert example in blocks, "docs/testing.md must contain the example of this file verbatim"


def test_docs_testing_md_lists_every_fault_of_the_simulated_terminal() -> None:
    from pathlib import Path

    from mt5guard.terminal.sim._faults import FaultScripting

    doc = (Path(__file__).resolve().parents[2] / "docs" / "testing.md").read_text("utf-8")
    faults = [name for name in vars(FaultScripting) if not name.startswith("_")]
    assert len(faults) >= 10
    missing = [name for name in faults if f"| `{name}(" not in doc]
    assert not missing, f"docs/testing.md does not document faults {missing}"
