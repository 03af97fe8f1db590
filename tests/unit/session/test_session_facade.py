"""The Session facade: thread-safe, awaitable, always a typed error."""

from __future__ import annotations

import asyncio
import gc
import threading

import pytest
from storykit import Story, story_config

from mt5guard.errors import (
    MT5CircuitBreakerOpen,
    MT5TimeoutError,
    MT5Unavailable,
    MT5ValidationError,
)


@pytest.fixture
def story(clock, bus, recorder):  # type: ignore[no-untyped-def]
    story = Story(clock, bus, recorder, story_config(request_timeout=0.2))
    yield story
    story.close()


def test_many_threads_share_one_session_without_touching_the_terminal_concurrently(
        clock, bus, recorder) -> None:  # type: ignore[no-untyped-def]
    # Its own story: a caller waits for its reply in real seconds, and eight callers
    # on a loaded 2-core machine (two test runs at once) once waited past the
    # fixture's 0.2 s. What this test checks is that no call overlaps another.
    story = Story(clock, bus, recorder, story_config(request_timeout=10.0))
    errors: list[BaseException] = []

    def trade() -> None:
        try:
            for _ in range(25):
                assert story.session.get_price("EURUSD").bid > 0
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=trade) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    story.close()
    assert errors == []  # the simulated terminal raises on any concurrent call
    assert story.terminal.calls["symbol_info_tick"] >= 200


def test_asyncio_callers_await_without_blocking_the_loop(story) -> None:
    async def main() -> list[float]:
        ticker = asyncio.create_task(asyncio.sleep(0))
        ticks = await asyncio.gather(*(story.session.aio.get_price("EURUSD") for _ in range(20)))
        await ticker
        info = await story.session.aio.get_account_info()
        assert info.login == 5001
        return [t.bid for t in ticks]

    assert all(bid > 0 for bid in asyncio.run(main()))


def test_async_errors_are_the_same_typed_errors(story) -> None:
    async def main() -> None:
        await story.session.aio.place_order("EURUSD", "buy", -1)

    with pytest.raises(MT5ValidationError) as bad:
        asyncio.run(main())
    assert bad.value.field == "volume"


def test_a_reply_that_never_comes_is_a_timeout_not_a_hang(story) -> None:
    story.terminal.hang_next("symbol_info_tick", seconds=3600)
    stuck = story.in_background(story.session.get_price, "EURUSD", hangs=True)
    with pytest.raises(MT5TimeoutError, match=r"no reply within 0\.2 s"):
        story.session.get_price("GBPUSD")
    story.clock.advance(3600)
    with pytest.raises(MT5TimeoutError):
        stuck.result(timeout=5)


def test_while_the_session_is_down_calls_fail_at_once_with_the_next_attempt(story) -> None:
    story.terminal.set_down(True)
    story.clock.advance(30)  # the probe finds the terminal gone: restart in 60 s
    with pytest.raises(MT5Unavailable) as down:
        story.session.get_account_info()
    assert down.value.retryable and not down.value.counts_for_breaker
    assert (down.value.retry_at - story.t0).total_seconds() == 90
    assert "next attempt at" in str(down.value)


def test_guard_rejects_unknown_accounts_with_the_known_names(story) -> None:
    with pytest.raises(KeyError, match="configured: demo"):
        story.guard.session("live")


def test_disconnect_reconnect_and_connect_on_demand(story) -> None:
    from mt5guard.session.messages import SessionConnected, SessionDisconnected

    story.session.disconnect()
    assert not story.terminal.connected
    assert story.session.get_price("EURUSD").bid > 0  # the next request connects again
    story.session.reconnect()
    story.session.disconnect()
    story.session.connect()
    assert story.terminal.connected
    disconnects = [(e.reason, e.expected) for e in story.events(SessionDisconnected)]
    assert disconnects == [("disconnect requested", True), ("reconnect requested", True),
                           ("disconnect requested", True)]
    assert len(story.events(SessionConnected)) == 4


def test_asyncio_callers_have_the_connection_and_breaker_calls_too(story) -> None:
    from mt5guard.breaker.messages import BreakerState
    from mt5guard.errors import MT5CircuitBreakerOpen

    aio = story.session.aio

    async def main() -> None:
        await aio.disconnect()
        assert not story.terminal.connected
        await aio.connect()
        assert story.terminal.connected
        await aio.reconnect()
        await aio.force_open("maintenance")
        story.clock.settle()
        assert (await aio.breaker_state()).state is BreakerState.OPEN
        with pytest.raises(MT5CircuitBreakerOpen):
            await aio.get_price("EURUSD")
        await aio.reset_breaker()
        story.clock.settle()
        assert (await aio.breaker_state()).state is BreakerState.CLOSED
        assert (await aio.get_price("EURUSD")).bid > 0

    asyncio.run(main())


def test_rejections_while_open_leave_no_reference_cycles_for_the_collector(story) -> None:
    # A rejected call's traceback must not hold the reply that holds the error:
    # such cycles wait for a GC pass, which shows up as the fast-fail tail latency.
    story.session.force_open("maintenance")
    story.clock.settle()
    with pytest.raises(MT5CircuitBreakerOpen):
        story.session.get_price("EURUSD")
    gc.collect()
    gc.disable()
    try:
        for _ in range(500):
            with pytest.raises(MT5CircuitBreakerOpen):
                story.session.get_price("EURUSD")
        left = gc.collect()
    finally:
        gc.enable()
    assert left < 100  # was 25 objects per rejection (12,500 here)


def test_refusals_while_open_never_reach_the_terminal_and_the_breaker_counts_them(story) -> None:
    # Refused on the caller's thread from the breaker's snapshot: no hop, no terminal call.
    story.session.force_open("maintenance")
    story.clock.settle()
    calls = dict(story.terminal.calls)
    for _ in range(130):
        with pytest.raises(MT5CircuitBreakerOpen):
            story.session.get_price("EURUSD")
    story.clock.settle()
    assert dict(story.terminal.calls) == calls
    # batched on the callers' threads; what is still counted is told before the snapshot
    assert story.session.breaker_state().rejections == 130
