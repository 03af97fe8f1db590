"""The compact worker wire (protocol 4): records as positional lists, named once per connection;
the usual reply of a record of ints and floats as a binary frame."""

from __future__ import annotations

import enum
import json
import socket
import struct
import time
from collections import namedtuple
from datetime import UTC, datetime
from typing import Any

import pytest

from mt5guard.errors import MT5DataError
from mt5guard.terminal.bridge import _channel, _gate, _processes, _requests, _shapes, server
from mt5guard.terminal.records import BookInfo, OrderSendResult, Tick, TradeRequest
from mt5guard.terminal.worker import links
from mt5guard.terminal.worker.wire import Polled, ShapeTable, decode_frame, decode_result

TICK = Tick(time=1_700_000_000, bid=1.1, ask=1.1002, last=0.0, volume=0,
            time_msc=1_700_000_000_123, flags=6, volume_real=0.0)


def roundtrip(frame: list[Any], name: str, worker: _shapes.Shapes, client: ShapeTable) -> Any:
    reply = decode_frame(worker.frame(frame), name, client)
    assert not isinstance(reply, Polled)
    return decode_result(name, reply.value, client)


def test_records_travel_without_their_field_names_after_the_first_frame() -> None:
    worker, client = _shapes.Shapes(), ShapeTable()
    first, second = worker.frame(["ok", 1, TICK, None]), worker.frame(["ok", 2, TICK, None])
    assert b'"bid"' in first and b'"bid"' not in second
    assert len(second) < 80  # a dict of its fields was ~140 bytes
    for frame in (first, second):
        reply = decode_frame(frame, "symbol_info_tick", client)
        assert decode_result("symbol_info_tick", reply.value, client) == TICK  # type: ignore[union-attr]
    assert roundtrip(["ok", 3, TICK, None], "symbol_info_tick", worker, client) == TICK


def test_a_backend_whose_fields_come_in_another_order_is_rebuilt_by_name() -> None:
    reordered = namedtuple("Tick", list(reversed(Tick._fields)))  # type: ignore[misc]
    theirs = reordered(*reversed(TICK))
    assert roundtrip(["ok", 1, theirs, None], "symbol_info_tick", _shapes.Shapes(),
                     ShapeTable()) == TICK


def test_nested_request_records_and_lists_of_records_come_back_as_our_types() -> None:
    request = TradeRequest(*([0] * len(TradeRequest._fields)))._replace(symbol="EURUSD",
                                                                         comment="x")
    result = OrderSendResult(*([0] * len(OrderSendResult._fields)))._replace(
        retcode=10009, comment="done", request=request)
    worker, client = _shapes.Shapes(), ShapeTable()
    assert roundtrip(["ok", 1, result, None], "order_send", worker, client) == result
    book = (BookInfo(type=1, price=1.1, volume=3, volume_dbl=3.0),
            BookInfo(type=2, price=1.0, volume=1, volume_dbl=1.0))
    assert roundtrip(["ok", 2, book, None], "market_book_get", worker, client) == book


def test_a_record_of_an_undeclared_shape_or_the_wrong_width_is_a_data_error() -> None:
    with pytest.raises(MT5DataError, match="undeclared shape 7"):
        decode_result("symbol_info_tick", [7, 1, 2], ShapeTable())
    client = ShapeTable()
    decode_frame(_shapes.Shapes().frame(["ok", 1, TICK, None]), "symbol_info_tick", client)
    with pytest.raises(MT5DataError, match="values for its 8 fields"):
        decode_result("symbol_info_tick", [0, 1.0, 2.0], client)
    with pytest.raises(MT5DataError, match=r"Tick\.bid is a list"):
        decode_result("symbol_info_tick", [0, 1, [1], 2, 0, 0, 0, 0, 0], client)


def test_a_record_missing_one_of_our_fields_is_a_data_error() -> None:
    short = namedtuple("Tick", Tick._fields[:-1])  # type: ignore[misc]
    worker, client = _shapes.Shapes(), ShapeTable()
    with pytest.raises(MT5DataError, match="without field 'volume_real'"):
        roundtrip(["ok", 1, short(*TICK[:-1]), None], "symbol_info_tick", worker, client)


def test_every_side_speaks_the_same_protocol_version() -> None:
    assert server.PROTOCOL == _processes.PROTOCOL == _gate.PROTOCOL == links._PROTOCOL == 4
    assert b"MT5G" + bytes([server.PROTOCOL]) == _channel.MAGIC


def test_a_worker_greeting_with_another_protocol_is_refused_by_name() -> None:
    ours, theirs = socket.socketpair()
    try:
        conn = _channel.Framed(ours, _channel.REPLY_CAP)
        _channel.Framed(theirs, _channel.REQUEST_CAP).send_bytes(
            json.dumps(["hello", {"pid": 1, "protocol": 2}]).encode())

        class Proc:
            pid = 4242

            def poll(self) -> None:
                return None

        with pytest.raises(ConnectionError, match="wire protocol 2, this client 4"):
            _processes._greeting(Proc(), conn, time.monotonic() + 2)  # type: ignore[arg-type]
    finally:
        ours.close()
        theirs.close()


class Side(enum.IntEnum):
    BUY = 0


@pytest.mark.parametrize("c_encoder", [True, False], ids=["C encoder built once", "no C encoder"])
def test_a_frame_is_the_json_of_its_records_whichever_encoder_the_worker_has(
        monkeypatch: pytest.MonkeyPatch, c_encoder: bool) -> None:
    if not c_encoder:  # another interpreter: JSONEncoder.encode, as before
        monkeypatch.setattr(json.encoder, "c_make_encoder", None)
    odd = TICK._replace(bid=float("nan"), flags=Side.BUY)  # not finite; an int subclass
    frames = [["ok", 1, TICK, None], ["ok", 2, odd, [1, "Success \u00e9"]],
              ["ok", 3, {"when": datetime(2024, 1, 2, tzinfo=UTC)}, None], ["ok", 4, TICK, None],
              ["ok", 5, odd, None]]
    worker = _shapes.Shapes()
    got = [worker.frame(frame) for frame in frames]
    assert got == [
        b'["ok",1,[0,1700000000,1.1,1.1002,0.0,0,1700000000123,6,0.0],null,'
        b'[[0,["time","bid","ask","last","volume","time_msc","flags","volume_real"]]]]',
        b'["ok",2,[0,1700000000,NaN,1.1002,0.0,0,1700000000123,0,0.0],[1,"Success \\u00e9"]]',
        b'["ok",3,{"when":{"$datetime":1704153600.0}},null]',
        bytes([2, 8, 0b10001110]) + struct.pack("!qHqdddqqqd", 4, 0, *TICK),  # known: binary
        b'["ok",5,[0,1700000000,NaN,1.1002,0.0,0,1700000000123,0,0.0],null]',  # the enum as int
    ]
    with pytest.raises(TypeError, match="cannot send a object"):
        worker.frame(["ok", 4, object(), None])


def test_a_flat_request_is_checked_as_strictly_as_a_nested_one() -> None:
    flat = b'["call",7,12.5,60.0,"symbol_info_tick",["EURUSD"],{}]'
    assert _requests.parse_request(flat) == ["call", 7, 12.5, 60.0, "symbol_info_tick",
                                             ["EURUSD"], {}]
    for refused, why in ((b'["call",7,12.5,60.0,"symbol_select",["EURUSD",1e999],{}]', "finite"),
                         (b'["call",7,12.5,-1,"symbol_info_tick",["EURUSD"],{}]', "budget_s"),
                         (b'["call",true,12.5,1,"symbol_info_tick",["EURUSD"],{}]', "64-bit"),
                         (b'["call",7,12.5,1,"x",' + b"[" * 17 + b"]" * 17 + b",{}]", "deeper")):
        with pytest.raises(_requests.RequestRefused, match=why):
            _requests.parse_request(refused)


#: Requests near the edges of the one-pass check (``_requests._well_formed``).
EDGES = [
    b'["call",7,12.5,60.0,"symbol_info_tick",["EURUSD"],{}]',
    b'["call",-9223372036854775807,1e308,0.0,"x",["a",1,2.5,true,null],{}]',
    b'["call",9223372036854775808,12.5,1.0,"x",[],{}]', b'["call",7,12.5,-0.0,"x",[],{}]',
    b'["call",7,12.5,-1e-9,"x",[],{}]', b'["call",7,12.5,1e999,"x",[],{}]',
    b'["call",7,-1e999,1.0,"x",[],{}]', b'["call",7,12.5,1.0,"x",[-1e999],{}]',
    b'["call",7,12.5,1.0,"x",[NaN],{}]', b'["call",7,12.5,1.0,"x",[Infinity],{}]',
    b'["call",7,12.5,60,"x",[],{}]', b'["call",7,12,1.0,"x",[],{}]',
    b'["call",7.0,12.5,1.0,"x",[],{}]', b'["call",false,12.5,1.0,"x",[],{}]',
    b' ["call",7,12.5,1.0,"x",[],{}]', b'["call",7,12.5,1.0,"x",[],{}] ',
    b'["call",7,12.5,1.0,"x",[],{}]]', b'["call",7,12.5,1.0,"x",[],{"a":1}]',
    b'["call",7,12.5,1.0,"x",[[1]],{}]', b'["call",7,12.5,1.0,"x",{},{}]',
    b'["call",7,12.5,1.0,"x",[],[]]', b'["call",7,12.5,1.0,["x"],[],{}]',
    b'["calls",7,12.5,1.0,"x",[],{}]', b'["call",7,12.5,1.0,"x",[]]',
    b'["call",7,12.5,1.0,"x",["\\u00e9\\n"],{}]', b'["call",7,12.5,1.0,"x",["\xc3\xa9"],{}]',
    b'["call",7,12.5,1.0,"x",[' + b"7" * 5000 + b'],{}]', b'["call",7,12.5,1.0,"x",["\xff"],{}]',
    b'["call",7,12.5,1.0,"x",' + b"[" * 100_000 + b"]" * 100_000 + b",{}]", b"", b"[",
]


@pytest.mark.parametrize("raw", EDGES, ids=range(len(EDGES)))
def test_the_one_pass_check_accepts_and_refuses_exactly_what_the_full_check_does(
        monkeypatch: pytest.MonkeyPatch, raw: bytes) -> None:
    def outcome() -> Any:
        try:
            return _requests.parse_request(raw)
        except _requests.RequestRefused as exc:
            return f"RequestRefused: {exc}"

    fast = outcome()
    monkeypatch.setattr(_requests, "_SCAN", None)  # no C scanner: the full check alone
    assert fast == outcome()
    assert type(fast) is str or [type(item) for item in fast] == [
        type(item) for item in outcome()]


def test_flat_arguments_reach_the_terminal_as_sent_and_dates_as_datetimes() -> None:
    seen: list[tuple[Any, ...]] = []

    class Backend:
        def history_deals_get(self, *args: Any, **kwargs: Any) -> tuple[()]:
            seen.append((args, kwargs))
            return ()

    start = {"$datetime": 1704153600.0}
    for request in (["call", 1, 0.0, 5.0, "history_deals_get", ["EURUSD", 3], {}],
                    ["call", 2, 0.0, 5.0, "history_deals_get", [start], {"group": "*"}]):
        assert server._answer(Backend(), request) == ["ok", request[1], (), None]
    assert seen == [(("EURUSD", 3), {}),
                    ((datetime(2024, 1, 2, tzinfo=UTC),), {"group": "*"})]


def test_a_reply_that_is_not_utf8_json_or_names_a_bool_request_is_a_data_error() -> None:
    with pytest.raises(MT5DataError, match="not JSON"):
        decode_frame('["ok",1,null,null]'.encode("utf-16"), "symbol_info_tick", ShapeTable())
    with pytest.raises(MT5DataError, match="bad request id True"):
        decode_frame(b'["ok",true,null,null]', "symbol_info_tick", ShapeTable())
    reply = decode_frame(b'["ok",5,null,[1,"Success"]]', "symbol_info_tick", ShapeTable())
    assert reply == ("ok", 5, None, (1, "Success"))
