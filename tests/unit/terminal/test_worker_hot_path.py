"""The usual call's short paths on both sides of the worker wire: the same bytes and the
same checks as the general path, for every frame either side can meet."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from typing import Any

import pytest

from mt5guard.clock import SystemClock
from mt5guard.errors import MT5DataError
from mt5guard.terminal.bridge import _requests, _shapes, server
from mt5guard.terminal.records import Tick
from mt5guard.terminal.worker.client import WorkerCallError, WorkerTerminal
from mt5guard.terminal.worker.wire import (
    Polled,
    Reply,
    ShapeTable,
    decode_answer,
    decode_frame,
    decode_result,
)

TICK = Tick(time=1_700_000_000, bid=1.1, ask=1.1002, last=0.0, volume=0,
            time_msc=1_700_000_000_123, flags=6, volume_real=0.0)
TICK_LIST = b"[0,1700000000,1.1,1.1002,0.0,0,1700000000123,6,0.0]"


def binary_tick(ident: int, tick: Tick = TICK) -> bytes:
    """The usual reply of protocol 4: byte 2, 8 values, floats at 1, 2, 3 and 7, then
    id, shape 0 and the values, big-endian."""
    return bytes([2, 8, 0b10001110]) + struct.pack("!qHqdddqqqd", ident, 0, *tick)

#: Usual requests, near-usual ones and refused ones (each line: why it is there).
REQUESTS = [
    b'["call",1,12.5,60.0,"symbol_info_tick",["EURUSD"],{}]',  # usual, first: declares Tick
    b'["call",2,12.5,60.0,"symbol_info_tick",["EURUSD"],{}]',  # usual, Tick known
    b'["call",3,12.5,60.0,"symbol_info_tick",["NOPE"],{}]',  # None: last_error goes with it
    b'["call",4,12.5,60.0,"symbol_select",["EURUSD",true],{}]',  # a bool, not a record
    b'["call",4,12.5,60.0,"symbol_select",["EURUSD",false],{}]',  # False: with last_error
    b'["call",5,12.5,60.0,"order_send",["boom"],{}]',  # the backend raises
    b'["call",6,12.5,60.0,"ping",["x"],{}]',  # the worker's own: the general path
    b'["call",7,12.5,60.0,"symbol_info_tick",["EURUSD"],{"x":1}]',  # kwargs: general path
    b'["call",8,12.5,60,"symbol_info_tick",["EURUSD"],{}]',  # an int budget: general path
    b'["call",9,12.5,60.0,"symbol_info",["EURUSD"],{}]',  # a value the wire cannot carry
    b'["call",10,12.5,60.0,"rm_rf",[],{}]',  # not a call this worker serves
    b'["call",11,12.5,1e999,"symbol_info_tick",["EURUSD"],{}]',  # refused: not finite
    b'["call",12,12.5,60.0,"symbol_info_tick",["EURUSD"],{}]',  # usual again, after all that
]


class Backend:
    def __init__(self) -> None:
        self.error = (1, "Success")

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        if symbol == "EURUSD":
            return TICK
        self.error = (-1, "unknown symbol")
        return None

    def symbol_select(self, symbol: str, enable: bool) -> bool:
        return enable

    def symbol_info(self, symbol: str) -> object:
        return object()

    def order_send(self, request: Any) -> None:
        raise RuntimeError(request)

    def last_error(self) -> tuple[int, str]:
        return self.error


class Feed:
    """A worker's connection that delivers ``frames`` and keeps what the worker sends."""

    def __init__(self, frames: list[bytes]) -> None:
        self._frames = iter(frames)
        self.sent: list[bytes] = []

    def pending(self) -> bool:
        return False

    def recv_bytes(self) -> bytes:
        for frame in self._frames:
            return frame
        raise EOFError

    def send_bytes(self, data: bytes) -> None:
        self.sent.append(data)


def general(frames: list[bytes]) -> list[bytes]:
    """What the worker's general path (parse_request, _answer, Shapes.frame) sends."""
    shapes, backend, out = _shapes.Shapes(), Backend(), []
    for raw in frames:
        try:
            frame = server._answer(backend, _requests.parse_request(raw))
        except _requests.RequestRefused as exc:
            frame = ["error", _requests.ident_of(raw), f"RequestRefused: {exc}"]
        try:
            out.append(shapes.frame(frame))
        except (TypeError, ValueError) as exc:
            out.append(shapes.frame(["error", frame[1], f"{type(exc).__name__}: {exc}"]))
    return out


@pytest.mark.parametrize("c_scanner", [True, False], ids=["C scanner", "no C scanner"])
def test_the_worker_loop_sends_for_each_request_what_the_general_path_sends(
        monkeypatch: pytest.MonkeyPatch, c_scanner: bool) -> None:
    if not c_scanner:  # another interpreter: every frame takes the full check
        monkeypatch.setattr(_requests, "_SCAN", None)
    conn = Feed(REQUESTS)
    server.serve(conn, Backend())
    assert conn.sent == general(REQUESTS)
    assert conn.sent[1] == binary_tick(2)
    assert conn.sent[2] == b'["ok",3,null,[-1,"unknown symbol"]]'
    assert conn.sent[4] == b'["ok",4,false,[-1,"unknown symbol"]]'


def test_a_record_shape_is_declared_before_the_short_path_encodes_it() -> None:
    shapes = _shapes.Shapes()
    assert shapes.ok(1, TICK) is None  # not declared yet: the frame declares it
    first = shapes.frame(["ok", 1, TICK, None])
    assert first.endswith(b',null,[[0,["time","bid","ask","last","volume","time_msc","flags",'
                          b'"volume_real"]]]]')
    assert shapes.ok(2, TICK) == shapes.frame(["ok", 2, TICK, None])
    assert shapes.ok(3, TICK._replace(bid=[1])) is None  # not a value of one pass
    assert shapes.ok(4, (1, 2)) is None  # a tuple is not a record


EDGES = [
    b'["call",7,12.5,60.0,"symbol_info_tick",["EURUSD"],{}]',
    b'["call",9223372036854775808,12.5,1.0,"x",[],{}]', b'["call",7,12.5,-0.0,"x",[],{}]',
    b'["call",7,12.5,-1e-9,"x",[],{}]', b'["call",7,12.5,1e999,"x",[],{}]',
    b'["call",7,-1e999,1.0,"x",[],{}]', b'["call",7,12.5,1.0,"x",[-1e999],{}]',
    b'["call",7,12.5,1.0,"x",[NaN],{}]', b'["call",7,12.5,60,"x",[],{}]',
    b'["call",7.0,12.5,1.0,"x",[],{}]', b'["call",false,12.5,1.0,"x",[],{}]',
    b' ["call",7,12.5,1.0,"x",[],{}]', b'["call",7,12.5,1.0,"x",[],{"a":1}]',
    b'["call",7,12.5,1.0,"x",[[1]],{}]', b'["call",7,12.5,1.0,"x",["\xff"],{}]',
    b'["call",7,12.5,1.0,"x",' + b"[" * 10_000 + b"]" * 10_000 + b",{}]", b"", b"[",
]


@pytest.mark.parametrize("raw", EDGES, ids=range(len(EDGES)))
def test_the_usual_request_is_only_what_the_full_check_accepts_with_the_same_values(
        monkeypatch: pytest.MonkeyPatch, raw: bytes) -> None:
    usual = _requests.usual_request(raw)
    monkeypatch.setattr(_requests, "_SCAN", None)  # no C scanner: the full check alone
    assert _requests.usual_request(raw) is None
    if usual is None:
        return
    full = _requests.parse_request(raw)
    assert usual == full and [type(item) for item in usual] == [type(item) for item in full]


def frames_of(*replies: list[Any]) -> list[bytes]:
    shapes = _shapes.Shapes()
    return [shapes.frame(reply) for reply in replies]


def test_the_usual_reply_is_rebuilt_in_one_step_as_the_two_steps_rebuild_it() -> None:
    table = ShapeTable()
    first, usual = frames_of(["ok", 1, TICK, None], ["ok", 2, TICK, None])
    declaring = decode_answer(first, "symbol_info_tick", 1, table)  # the general path's
    assert type(declaring) is Reply and decode_result("symbol_info_tick", declaring.value,
                                                      table) == TICK
    got = decode_answer(usual, "symbol_info_tick", 2, table)
    assert type(got) is Tick and got == TICK
    assert decode_answer(b'["ok",3,null,null]', "symbol_info_tick", 3, table) is None
    assert decode_answer(b'["ok",3,true,null]', "symbol_select", 3, table) is True


@pytest.mark.parametrize(("raw", "expected"), [
    (b'["ok",1,[0,1,2,3,4,5,6,7,8],null]', Reply("ok", 1, [0, 1, 2, 3, 4, 5, 6, 7, 8], None)),
    (b'["ok",2,null,[-1,"gone"]]', Reply("ok", 2, None, (-1, "gone"))),
    (b'["error",2,"boom"]', Reply("error", 2, "boom", None)),
    (b'["timeout",2,"late"]', Reply("timeout", 2, "late", None)),
    (b'["push","polled",{},{}]', Polled({}, {})),
], ids=["another request's", "with last_error", "error", "timeout", "a push"])
def test_any_other_frame_comes_back_as_the_general_decoder_reads_it(raw: bytes,
                                                                    expected: Any) -> None:
    got = decode_answer(raw, "symbol_info_tick", 2, ShapeTable())
    assert type(got) is type(expected) and got == expected
    assert got == decode_frame(raw, "symbol_info_tick", ShapeTable())


@pytest.mark.parametrize("raw", [
    b"not json", b'["ok",true,null,null]', b'["ok",2.0,null,null]',
    b'["ok",2,[7,1,2],null]', b'["ok",2,[0,1,2],null,[[0,["time"]]]]',
])
def test_a_garbage_reply_is_a_data_error_on_the_short_path_too(raw: bytes) -> None:
    with pytest.raises(MT5DataError):
        got = decode_answer(raw, "symbol_info_tick", 2, ShapeTable())
        if type(got) is Reply:  # the general path's second step, as the client takes it
            decode_result("symbol_info_tick", got.value, ShapeTable())


class ScriptedLink:
    """A link whose worker answers each request with the frames ``script`` gives for its id."""

    pid, reconnectable = 1, False

    def __init__(self, script: Any) -> None:
        self._script, self._queue, self.conn = script, iter(()), self

    def send_bytes(self, data: bytes) -> None:
        self._queue = iter(self._script(int(data[8:data.index(b",", 8)])))

    def recv_bytes(self) -> bytes:
        return next(self._queue)

    def poll(self, timeout: float) -> bool:
        return False  # every frame of a request is read by its call

    def fileno(self) -> int:
        return 0  # registered with a poll object that is never polled (receive is replaced)

    def describe(self) -> str:
        return "scripted worker"

    def kill(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def clock() -> Iterator[SystemClock]:
    clock = SystemClock()
    yield clock
    clock.close()


def scripted(clock: SystemClock, script: Any) -> WorkerTerminal:
    link = ScriptedLink(script)
    terminal = WorkerTerminal(lambda timeout: link, clock, name="scripted")
    terminal.start()
    terminal._receive = lambda timeout: link.recv_bytes()
    return terminal


def test_a_late_reply_is_never_taken_for_this_calls_and_a_push_on_the_way_is_kept(
        clock: SystemClock) -> None:
    shapes, changed = _shapes.Shapes(), TICK._replace(bid=1.2)

    def worker(ident: int) -> list[bytes]:
        frames = [] if ident == 1 else [  # the first call's reply declares the Tick shape
            shapes.frame(["ok", ident - 1, TICK._replace(bid=9.9), None]),
            shapes.frame(["push", "polled", {"GBPUSD": changed}, {}])]
        return [*frames, shapes.frame(["ok", ident, TICK, None])]

    terminal = scripted(clock, worker)
    assert terminal.symbol_info_tick("EURUSD") == TICK  # the first: shapes declared
    assert terminal.symbol_info_tick("EURUSD") == TICK  # a late 9.9 and a push before it
    assert terminal.last_error() == (1, "Success")
    assert terminal.take_pushed() == [Polled({"GBPUSD": changed}, {})]


def test_a_reply_with_its_last_error_and_a_failing_call_are_settled_as_before(
        clock: SystemClock) -> None:
    replies = {1: b'["ok",1,null,[-2,"no such symbol"]]', 2: b'["ok",2,[0,1],null]',
               3: b'["error",3,"RuntimeError: boom"]'}
    terminal = scripted(clock, lambda ident: [replies[ident]])
    assert terminal.symbol_info_tick("NOPE") is None
    assert terminal.last_error() == (-2, "no such symbol")
    with pytest.raises(MT5DataError, match="undeclared shape"):
        terminal.symbol_info_tick("EURUSD")
    with pytest.raises(WorkerCallError, match="boom"):
        terminal.symbol_info_tick("EURUSD")


# -- protocol 4: the usual reply as a binary frame -------------------------------------

EXTREME = Tick(time=2**63 - 1, bid=-0.0, ask=float("inf"), last=5e-324, volume=-(2**63),
               time_msc=0, flags=1, volume_real=1.7976931348623157e308)


def declared() -> tuple[_shapes.Shapes, ShapeTable]:
    """A worker's Shapes and a client's table after the first Tick reply declared the shape."""
    shapes, table = _shapes.Shapes(), ShapeTable()
    decode_frame(shapes.frame(["ok", 1, TICK, None]), "symbol_info_tick", table)
    return shapes, table


@pytest.mark.parametrize("tick", [TICK, EXTREME, TICK._replace(bid=float("nan"))],
                         ids=["usual", "64-bit ends and float edges", "NaN"])
def test_a_binary_reply_is_rebuilt_as_the_json_one_value_for_value_and_type_for_type(
        tick: Tick) -> None:
    shapes, table = declared()
    data = shapes.ok(7, tick)
    assert data is not None and data[0] == _shapes.BINARY_OK
    got = decode_answer(data, "symbol_info_tick", 7, table)
    as_json = decode_result("symbol_info_tick", json.loads(json.dumps([0, *tick])), table)
    assert type(got) is Tick and [type(v) for v in got] == [type(v) for v in as_json]
    assert repr(got) == repr(tick) == repr(as_json)  # NaN and -0.0 too
    framed = decode_frame(data, "symbol_info_tick", table)
    assert repr(framed) == repr(Reply("ok", 7, [0, *tick], None))


@pytest.mark.parametrize(("ident", "tick", "binary"), [
    (2**63, TICK, False), (8, TICK._replace(volume=2**63), False),
    (9, TICK._replace(flags=True), False), (10, TICK._replace(time=float(TICK.time)), True),
], ids=["an id past 64 bits", "an int past 64 bits", "a bool", "the same values, other types"])
def test_what_binary_cannot_carry_exactly_goes_as_json_and_comes_back_the_same(
        ident: int, tick: Tick, binary: bool) -> None:
    shapes, table = declared()
    data = shapes.ok(ident, tick)
    assert data is not None and (data[0] == _shapes.BINARY_OK) is binary
    got = decode_answer(data, "symbol_info_tick", ident, table)
    assert got == tick and [type(v) for v in got] == [type(v) for v in tick]


def test_a_binary_reply_to_another_request_is_a_late_reply_not_this_calls() -> None:
    shapes, table = declared()
    data = shapes.ok(5, TICK)
    assert data is not None
    late = decode_answer(data, "symbol_info_tick", 6, table)
    assert type(late) is Reply and late.ident == 5 and late.tag == "ok"
    assert _shapes.binary_ident(data) == 5  # what the bridge's relay reads of it
    assert _shapes.binary_ident(b'["ok",5,null,null]') is None
    assert _shapes.binary_ident(data[:10]) is None


def garbled() -> list[bytes]:
    shapes, _ = declared()
    good = shapes.ok(2, TICK)
    assert good is not None
    return [good[:-1], good + b"\0", good[:3], b"\x02", b"\x02\x08",
            bytes([2, 7, 0xFF]) + good[3:],  # a bit past the 7 values
            bytes([2, 9, 0x8E]) + good[3:],  # 9 values need a mask of 2 bytes
            bytes([2, 8, 0x8E]) + struct.pack("!qH", 2, 9) + good[13:]]  # undeclared shape


@pytest.mark.parametrize("raw", garbled(), ids=[
    "one byte short", "one byte more", "no body", "no header", "no mask", "mask bits past n",
    "a short mask", "an undeclared shape"])
def test_a_garbled_binary_reply_is_a_data_error_naming_the_fault(raw: bytes) -> None:
    _, table = declared()
    with pytest.raises(MT5DataError, match=r"binary reply|undeclared shape"):
        got = decode_answer(raw, "symbol_info_tick", 2, table)
        if type(got) is Reply:
            decode_result("symbol_info_tick", got.value, table)
    with pytest.raises(MT5DataError, match=r"binary reply|undeclared shape"):
        got = decode_frame(raw, "symbol_info_tick", table)
        decode_result("symbol_info_tick", got.value, table)  # type: ignore[union-attr]


def test_a_binary_record_where_the_call_returns_no_record_is_a_data_error() -> None:
    shapes, table = declared()
    data = shapes.ok(3, TICK)
    assert data is not None
    with pytest.raises(MT5DataError, match="expected true/false"):
        decode_answer(data, "symbol_select", 3, table)
    with pytest.raises(MT5DataError, match="expected a count"):
        decode_answer(data, "positions_total", 3, table)


def test_a_worker_call_over_the_binary_reply_returns_the_tick_and_reports_success(
        clock: SystemClock) -> None:
    shapes = _shapes.Shapes()
    sent: list[bytes] = []

    def worker(ident: int) -> list[bytes]:
        frame = shapes.frame(["ok", ident, TICK._replace(bid=1.0 + ident), None])
        sent.append(frame)
        return [frame]

    terminal = scripted(clock, worker)
    assert terminal.symbol_info_tick("EURUSD") == TICK._replace(bid=2.0)  # declares the shape
    assert terminal.symbol_info_tick("EURUSD") == TICK._replace(bid=3.0)
    assert sent[0].startswith(b'["ok",1,') and sent[1][0] == _shapes.BINARY_OK
    assert terminal.last_error() == (1, "Success")


def test_a_binary_reply_in_another_field_order_is_rebuilt_by_name() -> None:
    from collections import namedtuple

    reordered = namedtuple("Tick", list(reversed(Tick._fields)))  # type: ignore[misc]
    theirs = reordered(*reversed(TICK))
    shapes, table = _shapes.Shapes(), ShapeTable()
    decode_frame(shapes.frame(["ok", 1, theirs, None]), "symbol_info_tick", table)
    data = shapes.ok(2, theirs)
    assert data is not None and data[0] == _shapes.BINARY_OK
    got = decode_answer(data, "symbol_info_tick", 2, table)
    assert type(got) is Tick and got == TICK and [type(v) for v in got] == [type(v) for v in TICK]
