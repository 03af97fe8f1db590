"""An authenticated peer still cannot kill a worker or the bridge with what it sends.

Before: a deeply nested payload (RecursionError), a header announcing 2^63
bytes (OverflowError) or 2^31-1 bytes (a hang holding 2 GiB), an infinite
watch interval (the quote thread died silently), an Infinity or NaN budget.
Each is now refused with a typed error; payload-level refusals leave the
worker serving, a header over the cap ends only that connection.
"""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest
from bridge_kit import KEY, PASSWORD, WORKER_SPEC, Bridge, bridge_terminal

from mt5guard.clock import SystemClock
from mt5guard.terminal.bridge._processes import WorkerProcess, spawn_worker
from mt5guard.terminal.worker import WorkerCallError, WorkerTerminal, local_opener
from mt5guard.terminal.worker.links import BridgeLink

pytestmark = pytest.mark.subprocess


def _worker() -> Iterator[WorkerProcess]:
    running = spawn_worker(dict(WORKER_SPEC))
    yield running
    running.kill()
    running.reap()
    running.conn.close()


worker = pytest.fixture(_worker)
#: One worker for all the hostile requests: each must leave it serving the next one.
serving_worker = pytest.fixture(_worker, scope="module")


def _ask(conn: Any, raw: bytes) -> list[Any]:
    conn.send_bytes(raw)
    reply: list[Any] = json.loads(conn.recv_bytes())
    return reply


def _still_serves(conn: Any) -> None:
    assert _ask(conn, b'["call",99,0,5,"ping",["alive"],{}]') == ["ok", 99, ["alive"], None]


HOSTILE = {
    "nested 100000 deep": b'["call",1,0,5,"ping",' + b"[" * 100_000 + b"]" * 100_000 + b",{}]",
    "nested 40 deep": b'["call",1,0,5,"ping",' + b"[" * 40 + b"]" * 40 + b",{}]",
    "a NaN budget": b'["call",1,0,NaN,"ping",[],{}]',
    "an Infinity budget": b'["call",1,0,Infinity,"ping",[],{}]',
    "a budget that overflows to inf": b'["call",1,0,1e999,"ping",[],{}]',
    "a negative budget": b'["call",1,0,-1,"ping",[],{}]',
    "Infinity in the arguments": b'["call",1,0,5,"symbol_select",["EURUSD",-Infinity],{}]',
    "an integer of 5000 digits": b'["call",1,0,5,"ping",[' + b"7" * 5000 + b"],{}]",
    "a request id of 2^64": b'["call",18446744073709551616,0,5,"ping",[],{}]',
    "not a call": b'["exec",1,0,5,"ping",[],{}]',
    "not JSON": b"\x80\x04pickle, perhaps",
}


@pytest.mark.parametrize("payload", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_hostile_request_is_refused_by_type_and_the_worker_serves_on(
        serving_worker: WorkerProcess, payload: bytes) -> None:
    reply = _ask(serving_worker.conn, payload)
    assert reply[0] == "error" and reply[2].startswith("RequestRefused: ")
    assert reply[1] in (1, None)
    _still_serves(serving_worker.conn)


@pytest.mark.parametrize("interval", [float("inf"), 1e308, -1.0, "soon"])
def test_an_unbounded_watch_interval_is_refused_and_the_quote_thread_keeps_working(
        interval: Any) -> None:
    terminal = WorkerTerminal(local_opener(dict(WORKER_SPEC)), SystemClock(), name="watch",
                              call_timeout=5.0)
    terminal.start()
    try:
        assert terminal.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo")
        with pytest.raises(WorkerCallError, match=r"RequestRefused|watch interval"):
            terminal._call("watch", ["EURUSD"], interval)  # past the client's own float()
        assert terminal.watch(["EURUSD"], 0.01) is not None
        rounds: list[Any] = []
        deadline = time.monotonic() + 5.0
        while not rounds and time.monotonic() < deadline:
            terminal.ping()  # a round trip; pushes that came meanwhile are kept
            rounds += terminal.take_pushed()
        assert rounds  # the watch thread is alive and pushing
    finally:
        terminal.close()


@pytest.mark.parametrize("header", [struct.pack("!i", -1) + struct.pack("!Q", 2**63),
                                    struct.pack("!i", 2**31 - 1), struct.pack("!i", -7)],
                         ids=["2^63", "2^31-1", "negative"])
def test_a_frame_header_over_the_cap_is_refused_at_once_and_ends_only_that_connection(
        worker: WorkerProcess, header: bytes) -> None:
    worker.conn.socket.sendall(header)
    reply = json.loads(worker.conn.recv_bytes())  # at once: no 2 GiB read, no waiting for it
    assert reply[0] == "error" and reply[2].startswith("FrameTooLarge: ")
    assert worker.reap(timeout=5.0) == 0  # it ended that connection cleanly: exit 0


@pytest.fixture
def bridge() -> Iterator[Bridge]:
    running = Bridge()
    yield running
    assert "Traceback" not in running.stop()


def test_through_the_bridge_hostile_frames_end_one_session_and_the_bridge_serves_on(
        bridge: Bridge) -> None:
    link = BridgeLink("127.0.0.1", bridge.port, KEY.encode(), 5.0)
    try:
        reply = _ask(link.conn, HOSTILE["a NaN budget"])
        assert reply[0] == "error" and reply[2].startswith("RequestRefused: ")
        reply = _ask(link.conn, HOSTILE["nested 100000 deep"])
        assert reply[0] == "error" and "RequestRefused" in reply[2]
        _still_serves(link.conn)
        link.conn.socket.sendall(struct.pack("!i", -1) + struct.pack("!Q", 2**63))
        reply = json.loads(link.conn.recv_bytes())
        assert reply[0] == "error" and reply[2].startswith("FrameTooLarge: ")
    finally:
        link.close()
    terminal = bridge_terminal(bridge.port)
    try:
        terminal.start()
        assert terminal.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo")
    finally:
        terminal.close()


def test_a_reply_nested_too_deep_is_a_typed_data_error_on_our_side() -> None:
    from mt5guard.errors import MT5DataError
    from mt5guard.terminal.worker.wire import decode_frame

    deep = b'["ok",1,' + b"[" * 100_000 + b"]" * 100_000 + b",null]"
    with pytest.raises(MT5DataError, match="nested too deep"):
        decode_frame(deep, "account_info")
