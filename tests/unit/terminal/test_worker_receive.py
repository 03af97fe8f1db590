"""How a worker's reply is waited for: one read a slice, the deadline's clock between slices."""

from __future__ import annotations

import socket
import struct
import sys
from collections.abc import Iterator

import pytest

from mt5guard.errors import MT5DataError
from mt5guard.terminal.bridge import _channel
from mt5guard.terminal.worker import links
from mt5guard.terminal.worker.wire import ShapeTable, decode_frame, encode_request

SLICE = 0.02  # seconds: short, so a wait that finds nothing ends quickly


@pytest.fixture
def pair() -> Iterator[tuple[_channel.Framed, socket.socket]]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    conn = _channel.Framed(ours, _channel.REPLY_CAP)
    yield conn, theirs
    conn.close()
    theirs.close()


def framed(body: bytes) -> bytes:
    return struct.pack("!i", len(body)) + body


def test_a_reply_is_read_whole_and_nothing_is_none_after_the_slice(pair) -> None:  # type: ignore[no-untyped-def]
    conn, theirs = pair
    receive = links.receiver(conn, SLICE)
    assert receive(SLICE) is None and receive(0.0) is None  # the slice, then a near deadline
    theirs.sendall(framed(b'["ok",1,null,null]'))
    assert receive(SLICE) == b'["ok",1,null,null]'


def test_a_reply_cut_in_two_by_a_slow_worker_arrives_whole_later(pair) -> None:  # type: ignore[no-untyped-def]
    conn, theirs = pair
    receive = links.receiver(conn, SLICE)
    frame = framed(b'["ok",7,[1,2,3],null]')
    theirs.sendall(frame[:9])
    assert receive(SLICE) is None  # the rest did not come within the slice: kept, not lost
    assert receive(0.0) is None  # nor within a near deadline's poll
    theirs.sendall(frame[9:])
    assert receive(SLICE) == b'["ok",7,[1,2,3],null]'


def test_a_worker_gone_mid_wait_ends_the_wait_at_once(pair) -> None:  # type: ignore[no-untyped-def]
    conn, theirs = pair
    receive = links.receiver(conn, 60.0)  # a slice far longer than the test's timeout
    theirs.close()  # what killing the worker by its PID does to our end
    with pytest.raises(EOFError):
        receive(60.0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_RCVTIMEO is used on Linux")
def test_on_linux_the_kernel_bounds_each_read_by_the_slice(pair) -> None:  # type: ignore[no-untyped-def]
    conn, _theirs = pair
    links.receiver(conn, 1.25)
    seconds, micros = struct.unpack("ll", conn.socket.getsockopt(
        socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.calcsize("ll")))
    assert 1.25 <= seconds + micros / 1e6 < 1.27  # the kernel rounds up to its tick


def test_the_request_of_one_symbol_is_the_same_bytes_as_of_several() -> None:
    one = encode_request(3, 12.5, 60.0, "symbol_info_tick", ("EURUSD",), {})
    assert one == b'["call",3,12.5,60.0,"symbol_info_tick",["EURUSD"],{}]'
    two = encode_request(4, 12.5, 60.0, "copy", ("EURUSD", "GBPUSD"), {})
    assert two == b'["call",4,12.5,60.0,"copy",["EURUSD","GBPUSD"],{}]'


def test_a_reply_with_whitespace_decodes_and_one_with_trailing_garbage_does_not() -> None:
    assert decode_frame(b' ["ok",1,null,null] \n', "ping", ShapeTable()) == ("ok", 1, None, None)
    with pytest.raises(MT5DataError, match="not JSON"):
        decode_frame(b'["ok",1,null,null]]', "ping", ShapeTable())
    with pytest.raises(MT5DataError, match="not JSON"):
        decode_frame(b'', "ping", ShapeTable())
