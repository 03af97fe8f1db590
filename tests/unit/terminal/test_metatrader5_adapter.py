"""MetaTrader5Terminal over a fake ``MetaTrader5`` module injected into sys.modules."""

from __future__ import annotations

import subprocess
import sys
import threading
import types
from collections import namedtuple
from datetime import UTC, datetime
from typing import Any

import pytest

from mt5guard.terminal import (
    AccountInfo,
    ConcurrentCallError,
    MetaTrader5Terminal,
    SymbolInfo,
    Terminal,
    TerminalUnavailableError,
    Tick,
    TradeDeal,
    TradePosition,
    TradeRequest,
)


def _real_like(
    name: str, fields: tuple[str, ...], extra: tuple[str, ...] = ("future_field",)
) -> Any:
    """A namedtuple like the module's: our fields plus some we do not know."""
    return namedtuple(name, (*fields, *extra))  # type: ignore[misc]


def _make(kind: Any, **overrides: Any) -> Any:
    """An instance with every field 0 (or "?" for the unknown ones) except ``overrides``."""
    return kind(**{f: overrides.get(f, 0 if f in KNOWN else "?") for f in kind._fields})


KNOWN = {
    *(f for r in (Tick, AccountInfo, TradePosition, TradeDeal, TradeRequest, SymbolInfo)
      for f in r._fields),
    *("retcode", "deal", "request_id", "retcode_external", "request"),
}
RawTick = _real_like("Tick", Tick._fields)
RawAccount = _real_like("AccountInfo", AccountInfo._fields)
RawPosition = _real_like("TradePosition", TradePosition._fields)
RawDeal = _real_like("TradeDeal", TradeDeal._fields)
RawRequest = _real_like("TradeRequest", TradeRequest._fields)
RawSymbol = _real_like("SymbolInfo", SymbolInfo._fields, ("sector", "industry"))
RawSend = _real_like("OrderSendResult", ("retcode", "deal", "order", "volume", "price", "bid",
                                         "ask", "comment", "request_id", "retcode_external",
                                         "request"))


class FakeMT5(types.ModuleType):
    """Records every call; answers are set per test in ``answers``."""

    def __init__(self) -> None:
        super().__init__("MetaTrader5")
        self.log: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.answers: dict[str, Any] = {"last_error": (1, "Success")}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.log.append((name, args, kwargs))
            answer = self.answers.get(name)
            return answer(*args, **kwargs) if callable(answer) else answer

        return call


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeMT5:
    module = FakeMT5()
    monkeypatch.setitem(sys.modules, "MetaTrader5", module)
    return module


def test_missing_package_raises_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "MetaTrader5", None)  # makes the import fail
    with pytest.raises(TerminalUnavailableError) as info:
        MetaTrader5Terminal()
    text = str(info.value)
    assert "Windows" in text and "mt5guard[mt5]" in text and "simulated" in text
    assert isinstance(info.value, RuntimeError)


def test_importing_mt5guard_terminal_never_imports_metatrader5_nor_rpyc() -> None:
    code = "import sys, mt5guard.terminal; print('MetaTrader5' in sys.modules, 'rpyc' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_it_is_a_terminal(fake: FakeMT5) -> None:
    assert isinstance(MetaTrader5Terminal(), Terminal)


def test_initialize_passes_path_and_credentials_through(fake: FakeMT5) -> None:
    fake.answers["initialize"] = True
    term = MetaTrader5Terminal(r"C:\MT5\terminal64.exe")
    assert term.initialize(login=5001, password="pw", server="Demo", timeout=5000) is True
    name, args, kwargs = fake.log[-1]
    assert (name, args) == ("initialize", (r"C:\MT5\terminal64.exe",))
    assert kwargs == {"login": 5001, "password": "pw", "server": "Demo", "timeout": 5000,
                      "portable": False}
    MetaTrader5Terminal().initialize(login=1, password="pw", server="S")
    assert fake.log[-1][1] == ()
    assert "pw" not in repr(term)


def test_failures_pass_through_with_last_error(fake: FakeMT5) -> None:
    fake.answers.update(initialize=False, last_error=(-6, "Terminal: Authorization failed"))
    term = MetaTrader5Terminal()
    assert term.initialize(login=1, password="x", server="S") is False
    assert term.last_error() == (-6, "Terminal: Authorization failed")
    fake.answers["last_error"] = (-10004, "No IPC connection")
    assert term.account_info() is None and term.symbol_info_tick("EURUSD") is None
    assert term.positions_get() is None and term.order_send({}) is None
    assert term.history_deals_get(ticket=1) is None and term.version() is None
    assert term.last_error() == (-10004, "No IPC connection")


def test_results_become_our_records_by_field_name(fake: FakeMT5) -> None:
    fake.answers.update(
        version=(500, 5120, "20 Jun 2025"),
        symbol_info_tick=lambda s: _make(RawTick, bid=1.1, ask=1.2, time_msc=5),
        account_info=_make(RawAccount, login=5001, currency="USD"),
        symbol_info=_make(RawSymbol, name="EURUSD", digits=5),
    )
    term = MetaTrader5Terminal()
    assert term.version() == (500, 5120, "20 Jun 2025")
    tick = term.symbol_info_tick("EURUSD")
    assert type(tick) is Tick and (tick.bid, tick.ask, tick.time_msc) == (1.1, 1.2, 5)
    account = term.account_info()
    assert type(account) is AccountInfo and (account.login, account.currency) == (5001, "USD")
    info = term.symbol_info("EURUSD")
    assert type(info) is SymbolInfo and (info.name, info.digits) == ("EURUSD", 5)


def test_order_send_converts_the_echoed_request(fake: FakeMT5) -> None:
    request = {"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0, "comment": "mg-1"}
    echoed = _make(RawRequest, **request)
    fake.answers["order_send"] = _make(
        RawSend, retcode=10009, deal=7, order=8, comment="Request executed", request=echoed
    )
    result = MetaTrader5Terminal().order_send(request)
    assert result is not None and (result.retcode, result.deal, result.order) == (10009, 7, 8)
    assert type(result.request) is TradeRequest and result.request.comment == "mg-1"
    assert fake.log[-1] == ("order_send", (request,), {})


def test_only_given_filters_are_passed_on(fake: FakeMT5) -> None:
    fake.answers.update(
        positions_get=(_make(RawPosition, ticket=1, symbol="EURUSD"),),
        orders_get=(),
        history_deals_get=(_make(RawDeal, ticket=3, order=2),),
    )
    term = MetaTrader5Terminal()
    (position,) = term.positions_get(symbol="EURUSD") or ()
    assert type(position) is TradePosition and position.ticket == 1
    assert fake.log[-1] == ("positions_get", (), {"symbol": "EURUSD"})
    assert term.orders_get() == () and fake.log[-1] == ("orders_get", (), {})
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC)
    (deal,) = term.history_deals_get(start, end, group="*USD*") or ()
    assert type(deal) is TradeDeal and deal.order == 2
    assert fake.log[-1] == ("history_deals_get", (start, end), {"group": "*USD*"})
    term.history_deals_get(position=9)
    assert fake.log[-1] == ("history_deals_get", (), {"position": 9})


def test_concurrent_calls_are_refused(fake: FakeMT5) -> None:
    inside, release = threading.Event(), threading.Event()

    def slow_info() -> None:
        inside.set()
        release.wait(5.0)

    fake.answers["terminal_info"] = slow_info
    term = MetaTrader5Terminal()
    worker = threading.Thread(target=term.terminal_info)
    worker.start()
    assert inside.wait(5.0)
    with pytest.raises(ConcurrentCallError, match="terminal_info"):
        MetaTrader5Terminal().account_info()  # the module is process-wide: so is the guard
    release.set()
    worker.join(5.0)
    fake.answers["account_info"] = None
    assert term.account_info() is None


def test_market_data_passes_through_in_the_modules_argument_order(fake: FakeMT5) -> None:
    import numpy as np

    from mt5guard.terminal.rates import RATE_DTYPE

    bars = np.zeros(2, RATE_DTYPE)
    fake.answers["copy_rates_from_pos"] = bars
    term = MetaTrader5Terminal()
    assert term.copy_rates_from_pos("EURUSD", 16385, 0, 2) is bars
    assert fake.log[-1] == ("copy_rates_from_pos", ("EURUSD", 16385, 0, 2), {})
    term.copy_ticks_range("EURUSD", 1, 2, -1)
    assert fake.log[-1] == ("copy_ticks_range", ("EURUSD", 1, 2, -1), {})
    fake.answers["symbols_get"] = None
    assert term.symbols_get("*USD*") is None
    assert fake.log[-1] == ("symbols_get", (), {"group": "*USD*"})
