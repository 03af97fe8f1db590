"""The compact worker wire (protocol 3): records as positional lists, named once per connection."""

from __future__ import annotations

import json
import socket
import time
from collections import namedtuple
from typing import Any

import pytest

from mt5guard.errors import MT5DataError
from mt5guard.terminal.bridge import _channel, _gate, _processes, _shapes, server
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
    assert server.PROTOCOL == _processes.PROTOCOL == _gate.PROTOCOL == links._PROTOCOL == 3
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

        with pytest.raises(ConnectionError, match="wire protocol 2, this client 3"):
            _processes._greeting(Proc(), conn, time.monotonic() + 2)  # type: ignore[arg-type]
    finally:
        ours.close()
        theirs.close()
