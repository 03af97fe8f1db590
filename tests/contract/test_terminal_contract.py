"""One contract, two terminals: the real adapter over a strict MetaTrader5 double, and the simulator.

Every case runs against both:

- ``double``: :class:`MetaTrader5Terminal` (the code path a Windows user
  runs) importing ``tests/contract/strict_mt5/MetaTrader5.py``, a double built
  from the real module's calling rules that shares no code with the
  simulator;
- ``simulator``: :class:`SimulatedTerminal` with the same symbols.

If the simulator drifts from the real module's rules, or the adapter stops
passing what the module needs, a case fails for one of them. Symbols of
every filling kind: FOK only, IOC only, both, and exchange execution.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mt5guard.config import AccountConfig, Config, TerminalConfig
from mt5guard.errors import MT5Error
from mt5guard.events.bus import EventBus
from mt5guard.secret import Secret
from mt5guard.session.guard import start
from mt5guard.terminal import MetaTrader5Terminal, SimulatedTerminal, SymbolSpec, Terminal
from mt5guard.terminal import constants as c
from mt5guard.testing import VirtualClock

DOUBLE_DIR = Path(__file__).resolve().parent / "strict_mt5"
LOGIN, PASSWORD, SERVER = 5001, "contract-pw", "Contract-Server"
TWENTY = "breakout-long-H1-v02"  # a user comment of 20 characters

#: name, digits, bid, ask, filling flags, execution mode, lots (min, step), contract size
SYMBOLS: tuple[tuple[str, int, float, float, int, int, float, float], ...] = (
    ("EURUSD", 5, 1.08500, 1.08510, c.SYMBOL_FILLING_FOK, c.SYMBOL_TRADE_EXECUTION_MARKET,
     0.01, 100_000.0),
    ("GBPUSD", 5, 1.26500, 1.26514, c.SYMBOL_FILLING_IOC, c.SYMBOL_TRADE_EXECUTION_MARKET,
     0.01, 100_000.0),
    ("USDJPY", 3, 151.500, 151.512, c.SYMBOL_FILLING_FOK | c.SYMBOL_FILLING_IOC,
     c.SYMBOL_TRADE_EXECUTION_MARKET, 0.01, 100_000.0),
    ("AAPL.NAS", 2, 190.00, 190.02, 0, c.SYMBOL_TRADE_EXECUTION_EXCHANGE, 1.0, 1.0),
)
#: The type_filling each symbol takes, and one it refuses with 10030.
FILLING = {"EURUSD": (c.ORDER_FILLING_FOK, c.ORDER_FILLING_IOC),
           "GBPUSD": (c.ORDER_FILLING_IOC, c.ORDER_FILLING_FOK),
           "USDJPY": (c.ORDER_FILLING_IOC, c.ORDER_FILLING_RETURN),
           "AAPL.NAS": (c.ORDER_FILLING_RETURN, c.ORDER_FILLING_IOC)}
LOT = {name: step for name, *_, step, _size in SYMBOLS}
#: Pending kinds with their price (and stop-limit price) as a factor of the bid.
PENDING_KINDS = (("buy_limit", 0.99, None), ("sell_limit", 1.01, None), ("buy_stop", 1.01, None),
                 ("sell_stop", 0.99, None), ("buy_stop_limit", 1.01, 1.005),
                 ("sell_stop_limit", 0.99, 0.995))


def _double_symbols() -> list[dict[str, Any]]:
    return [{"name": n, "digits": d, "bid": bid, "ask": ask, "filling_mode": f,
             "trade_exemode": x, "volume_min": step, "volume_max": 1000.0, "volume_step": step,
             "contract_size": size} for n, d, bid, ask, f, x, step, size in SYMBOLS]


def _sim_symbols() -> dict[str, SymbolSpec]:
    specs = {}
    for name, digits, bid, ask, flags, exemode, step, size in SYMBOLS:
        spread = round((ask - bid) * 10**digits)
        specs[name] = SymbolSpec(
            name, digits, (bid + ask) / 2, spread=spread, contract_size=size, volume_min=step,
            volume_max=1000.0, volume_step=step, volatility=0.0, filling_mode=flags,
            trade_exemode=exemode, currency_base="USD" if "." in name else name[:3],
            currency_profit="USD" if "." in name else name[3:6])
    return specs


@pytest.fixture(params=["double", "simulator"])
def terminal(request: pytest.FixtureRequest, clock: VirtualClock,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Terminal]:
    if request.param == "simulator":
        yield SimulatedTerminal(clock, login=LOGIN, password=PASSWORD, server=SERVER,
                                symbols=_sim_symbols())
        return
    monkeypatch.syspath_prepend(str(DOUBLE_DIR))
    sys.modules.pop("MetaTrader5", None)
    double = importlib.import_module("MetaTrader5")
    double.configure(login=LOGIN, password=PASSWORD, server=SERVER, symbols=_double_symbols(),
                     now=lambda: clock.now().timestamp())
    try:
        yield MetaTrader5Terminal()
    finally:
        sys.modules.pop("MetaTrader5", None)  # later tests must not find the double


def connected(t: Terminal) -> Terminal:
    assert t.initialize(login=LOGIN, password=PASSWORD, server=SERVER) is True
    for name, *_ in SYMBOLS:
        assert t.symbol_select(name, True) is True
    return t


def market(symbol: str, filling: int, **extra: Any) -> dict[str, Any]:
    return {"action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": LOT[symbol],
            "type": c.ORDER_TYPE_BUY, "type_filling": filling, "type_time": c.ORDER_TIME_GTC,
            "deviation": 20, "comment": "mg-contract;", **extra}


# -- the module's calling rules -------------------------------------------------------


def test_calls_before_initialize_fail_with_no_ipc_connection(terminal: Terminal) -> None:
    assert terminal.account_info() is None
    assert terminal.last_error() == (-10004, "No IPC connection")


def test_a_wrong_password_is_an_authorization_failure(terminal: Terminal) -> None:
    assert terminal.initialize(login=LOGIN, password="wrong", server=SERVER) is False
    assert terminal.last_error() == (-6, "Terminal: Authorization failed")


def test_connect_read_and_shutdown(terminal: Terminal) -> None:
    t = connected(terminal)
    assert t.last_error() == (1, "Success")
    account = t.account_info()
    assert account is not None and account.login == LOGIN
    info = t.symbol_info("EURUSD")
    assert info is not None and (info.filling_mode, info.trade_exemode) == (
        c.SYMBOL_FILLING_FOK, c.SYMBOL_TRADE_EXECUTION_MARKET)
    assert len(info) == 96
    tick = t.symbol_info_tick("AAPL.NAS")
    assert tick is not None and 0 < tick.bid < tick.ask
    assert t.shutdown() is True
    assert t.symbol_info_tick("EURUSD") is None
    assert t.last_error() == (-10004, "No IPC connection")


def test_an_unselected_symbol_is_not_found(terminal: Terminal) -> None:
    assert terminal.initialize(login=LOGIN, password=PASSWORD, server=SERVER)
    assert terminal.symbol_info_tick("EURUSD") is None
    assert terminal.last_error() == (-4, "Terminal: Not found")


@pytest.mark.parametrize(("change", "field"), [
    ({"comment": "mg-contract;" + "x" * 18}, "comment"),  # 30 characters
    ({"symbol": "EURUSD" + "." * 24}, "symbol"),
    ({"volume": 1}, "volume"), ({"price": 1}, "price"), ({"sl": 0}, "sl"),
    ({"expiration": datetime(2030, 1, 1, tzinfo=UTC)}, "expiration"),
    ({"type": 0.0}, "type"), ({"magic": "7"}, "magic")])
def test_arguments_the_module_refuses(terminal: Terminal, change: dict[str, Any],
                                      field: str) -> None:
    t = connected(terminal)
    request = {**market("EURUSD", c.ORDER_FILLING_FOK), **change}
    assert t.order_check(request) is None
    assert t.last_error() == (-2, f'Invalid "{field}" argument')
    assert t.order_send(request) is None
    assert t.positions_get() == ()


def test_what_the_module_accepts(terminal: Terminal) -> None:
    t = connected(terminal)
    request = market("EURUSD", False, comment="mg-contract;" + "x" * 17,  # a bool; 29 characters
                     **{"unknown_key": 1.0, "expiration": 0})
    result = t.order_send(request)
    assert result is not None and result.retcode == c.TRADE_RETCODE_DONE
    assert result.request.comment == "mg-contract;" + "x" * 17


def test_a_negative_unsigned_field_raises_system_error(terminal: Terminal) -> None:
    t = connected(terminal)
    with pytest.raises(SystemError):
        t.order_send(market("EURUSD", c.ORDER_FILLING_FOK, magic=-1))
    assert t.positions_get() == ()


@pytest.mark.parametrize("symbol", sorted(FILLING))
def test_each_symbol_takes_its_filling_and_refuses_another(terminal: Terminal,
                                                           symbol: str) -> None:
    t = connected(terminal)
    allowed, refused = FILLING[symbol]
    check = t.order_check(market(symbol, refused))
    assert check is not None and check.retcode == c.TRADE_RETCODE_INVALID_FILL
    sent = t.order_send(market(symbol, refused))
    assert sent is not None and (sent.retcode, sent.comment) == (10030, "Unsupported filling mode")
    done = t.order_send(market(symbol, allowed))
    assert done is not None and done.retcode == c.TRADE_RETCODE_DONE
    assert [p.symbol for p in (t.positions_get(symbol=symbol) or ())] == [symbol]


def test_history_by_dates_by_order_and_by_position(terminal: Terminal, clock: VirtualClock) -> None:
    t = connected(terminal)
    opened = t.order_send(market("USDJPY", c.ORDER_FILLING_IOC))
    assert opened is not None and opened.retcode == c.TRADE_RETCODE_DONE
    now = clock.now()
    deals = t.history_deals_get(now - timedelta(hours=1), now + timedelta(hours=1))
    assert deals is not None and [d.order for d in deals] == [opened.order]
    assert [d.ticket for d in t.history_deals_get(ticket=opened.order) or ()] == [opened.deal]
    by_position = t.history_deals_get(position=deals[0].position_id)
    assert [d.ticket for d in by_position or ()] == [opened.deal]
    orders = t.history_orders_get(now - timedelta(hours=1), now + timedelta(hours=1))
    assert orders is not None and [o.type_filling for o in orders] == [c.ORDER_FILLING_IOC]


# -- end to end through a Session ----------------------------------------------------


def test_a_session_trades_every_symbol_kind_with_a_20_character_comment(
        terminal: Terminal, clock: VirtualClock, bus: EventBus) -> None:
    account = AccountConfig(
        name="contract", symbols=tuple(name for name, *_ in SYMBOLS),
        terminal=TerminalConfig(login=LOGIN, server=SERVER, password=Secret(PASSWORD)))
    guard = start(Config(accounts=(account,)), clock=clock, bus=bus,
                  terminals={"contract": terminal})
    try:
        session = guard.session("contract")
        clock.settle()
        t0 = clock.now()
        for name, *_ in SYMBOLS:
            assert session.get_price(name).ask > 0
            outcome = session.place_order(name, "buy", LOT[name], comment=TWENTY)
            assert outcome.retcode == c.TRADE_RETCODE_DONE, (name, outcome)
            closed = session.close_position(outcome.order)
            assert closed.retcode == c.TRADE_RETCODE_DONE, (name, closed)
        window = (t0 - timedelta(minutes=5), clock.now() + timedelta(minutes=5))
        orders = session.history_orders(*window)
        fillings = {o.symbol: o.type_filling for o in orders}
        assert fillings == {name: FILLING[name][0] for name, *_ in SYMBOLS}
        deals = session.history_deals(*window)
        assert len(deals) == 2 * len(SYMBOLS)
        opening = [d for d in deals if d.entry == c.DEAL_ENTRY_IN]
        assert len(opening) == len(SYMBOLS)
        for deal in opening:  # the id whole, then as much of the comment as fits
            assert deal.comment.startswith("mg-") and len(deal.comment) == 29
            assert TWENTY.startswith(deal.comment.split(";", 1)[1])
    except MT5Error as err:  # pragma: no cover - shows the typed error on failure
        pytest.fail(f"{type(err).__name__}: {err}")
    finally:
        guard.stop()
    if isinstance(terminal, SimulatedTerminal):
        assert terminal.calls["shutdown"] >= 1
    else:
        assert "shutdown" in sys.modules["MetaTrader5"].calls


def test_a_session_places_modifies_and_cancels_pending_orders_on_every_symbol_kind(
        terminal: Terminal, clock: VirtualClock, bus: EventBus) -> None:
    account = AccountConfig(
        name="contract", symbols=tuple(name for name, *_ in SYMBOLS),
        terminal=TerminalConfig(login=LOGIN, server=SERVER, password=Secret(PASSWORD)))
    guard = start(Config(accounts=(account,)), clock=clock, bus=bus,
                  terminals={"contract": terminal})
    try:
        session = guard.session("contract")
        clock.settle()
        for name, digits, bid, *_ in SYMBOLS:
            price = round(bid * 0.99, digits)
            placed = session.place_pending_order(name, "buy_limit", LOT[name], price,
                                                 comment=TWENTY, expiry="day")
            assert placed.retcode == c.TRADE_RETCODE_PLACED, (name, placed)
            (order,) = session.orders(name)
            assert (order.type, order.type_time, order.type_filling) == (
                c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TIME_DAY, FILLING[name][0])
            assert len(order.comment) == 29 and order.comment.startswith("mg-")
            lower = round(bid * 0.98, digits)
            moved = session.modify_order(placed.order, price=lower)
            assert moved.retcode == c.TRADE_RETCODE_DONE, (name, moved)
            assert session.orders(name)[0].price_open == lower
            cancelled = session.cancel_order(placed.order)
            assert cancelled.retcode == c.TRADE_RETCODE_DONE, (name, cancelled)
            assert session.orders(name) == ()
            for kind, factor, limit in PENDING_KINDS:  # every kind, 1 % away, good till cancelled
                extra = {} if limit is None else {"stoplimit": round(bid * limit, digits)}
                placed = session.place_pending_order(name, kind, LOT[name],
                                                     round(bid * factor, digits), comment=TWENTY,
                                                     **extra)
                assert placed.retcode == c.TRADE_RETCODE_PLACED, (name, kind, placed)
                assert session.cancel_order(placed.order).retcode == c.TRADE_RETCODE_DONE
            assert session.orders(name) == ()
    finally:
        guard.stop()


def test_pending_order_rules(terminal: Terminal) -> None:
    t = connected(terminal)
    base = {"action": c.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.01,
            "type": c.ORDER_TYPE_BUY_LIMIT, "type_filling": c.ORDER_FILLING_FOK}
    above = t.order_send({**base, "price": 1.2})  # a buy limit above the market
    assert above is not None and above.retcode == c.TRADE_RETCODE_INVALID_PRICE
    placed = t.order_send({**base, "price": 1.0})
    assert placed is not None and placed.retcode == c.TRADE_RETCODE_PLACED
    assert [o.ticket for o in t.orders_get() or ()] == [placed.order]
    assert t.order_send({**base, "price": 1.0, "expiration": 1.5}) is None  # a float expiration
    assert t.last_error() == (-2, 'Invalid "expiration" argument')
    removed = t.order_send({"action": c.TRADE_ACTION_REMOVE, "order": placed.order})
    assert removed is not None and removed.retcode == c.TRADE_RETCODE_DONE
    again = t.order_send({"action": c.TRADE_ACTION_REMOVE, "order": placed.order})
    assert again is not None and again.retcode == c.TRADE_RETCODE_INVALID
    assert t.orders_get() == ()


def test_counts_and_the_depth_of_market(terminal: Terminal) -> None:
    t: Any = connected(terminal)
    assert (t.positions_total(), t.orders_total()) == (0, 0)
    sent = t.order_send(market("EURUSD", c.ORDER_FILLING_FOK))
    assert sent is not None and sent.retcode == c.TRADE_RETCODE_DONE
    assert t.positions_total() == 1
    assert t.market_book_get("EURUSD") is None  # not subscribed
    assert t.last_error() == (-4, "Terminal: Not found")
    assert t.market_book_add("EURUSD") is True
    book = t.market_book_get("EURUSD")
    assert book and {level.type for level in book} == {c.BOOK_TYPE_SELL, c.BOOK_TYPE_BUY}
    assert min(lv.price for lv in book if lv.type == c.BOOK_TYPE_SELL) > \
        max(lv.price for lv in book if lv.type == c.BOOK_TYPE_BUY)
    assert all(lv.volume_dbl == float(lv.volume) for lv in book)
    assert t.market_book_release("EURUSD") is True
    assert t.market_book_release("EURUSD") is False
