"""Every record, event and error has to_dict() that json.dumps accepts, secrets masked."""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime

import attrs
import numpy as np
import pytest

import mt5guard.messages as messages
import mt5guard.supervision.events as supervision_events
import mt5guard.terminal.records as records
from mt5guard.errors import MT5CircuitBreakerOpen, MT5RateLimited
from mt5guard.plain import plain
from mt5guard.secret import Secret
from mt5guard.terminal import SimulatedTerminal
from mt5guard.terminal import constants as c
from mt5guard.terminal.rates import RATE_DTYPE
from mt5guard.testing import VirtualClock


def classes(module) -> list[type]:
    return [cls for _, cls in inspect.getmembers(module, inspect.isclass)
            if cls.__module__ == module.__name__]


@pytest.mark.parametrize("cls", [c for m in (messages, supervision_events) for c in classes(m)
                                 if attrs.has(c)], ids=lambda c: c.__name__)
def test_every_message_and_event_class_has_to_dict(cls) -> None:
    assert callable(getattr(cls, "to_dict", None)), cls


@pytest.mark.parametrize("cls", [c for c in classes(records) if hasattr(c, "_fields")],
                         ids=lambda c: c.__name__)
def test_every_terminal_record_has_to_dict(cls) -> None:
    assert callable(getattr(cls, "to_dict", None)), cls


def test_records_from_a_trading_terminal_serialize() -> None:
    term = SimulatedTerminal(VirtualClock(), password="pw-never")
    assert term.initialize(login=5001, password="pw-never", server="MetaQuotes-Demo")
    term.symbol_select("EURUSD", True)
    tick = term.symbol_info_tick("EURUSD")
    sent = term.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1,
                            "type": c.ORDER_TYPE_BUY, "price": tick.ask,
                            "type_filling": c.ORDER_FILLING_IOC, "comment": "mg-abc"})
    found = [term.account_info(), term.terminal_info(), term.symbol_info("EURUSD"), tick, sent,
             *term.positions_get(), *term.history_deals_get(0, 2**40),
             *term.history_orders_get(0, 2**40)]
    for record in found:
        data = record.to_dict()
        assert json.loads(json.dumps(data)) == data
    assert sent.to_dict()["request"]["comment"] == "mg-abc"  # nested records become dicts too


def test_events_errors_and_arrays_become_plain_data() -> None:
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    event = messages.BreakerStateChanged("demo", messages.BreakerState.CLOSED,
                                         messages.BreakerState.OPEN, "3 failures", at, 2, retry_at=at)
    assert event.to_dict()["new"] == "open" and event.to_dict()["retry_at"] == at.isoformat()
    error = MT5RateLimited(operation="place_order", retry_at=at, detail="slow down")
    assert json.loads(json.dumps(error.to_dict()))["retry_at"] == at.isoformat()
    assert MT5CircuitBreakerOpen(operation="x").to_dict()["kind"] == "circuit_open"
    bars = np.zeros(2, RATE_DTYPE)
    assert json.dumps(plain(bars)) and plain(bars)[0]["tick_volume"] == 0
    assert plain({"password": Secret("pw-never")}) == {"password": "******"}
    assert plain(float("nan")) is None


def test_a_request_message_drops_its_reply_channel() -> None:
    from concurrent.futures import Future

    request = messages.GetPrice("EURUSD", reply_to=Future(), deadline=1.0)
    assert request.to_dict() == {"symbol": "EURUSD", "deadline": 1.0}
