"""A strict test double of the ``MetaTrader5`` module, importable under that name.

Built from the module's calling rules (docs/testing.md, "The real module's
rules"; read from the 5.0.6231 wheel), not from our simulator: it shares no
code with :mod:`mt5guard.terminal.sim`, so the contract tests that run the
same cases against both catch either one drifting from the rules. Its
constants and record field lists are the wheel's own
(tests/data/metatrader5_5.0.6231.json).

It is a trade server only as far as the contract needs: fixed quotes, market
orders that fill whole at the ask or bid, closes, SL/TP changes, pending
orders placed, modified and removed (never triggered), deals and history. Time comes from :func:`configure`'s ``now`` (epoch seconds), so a
test on a VirtualClock sees consistent times.

Like the real module it is one terminal per process, with one global
``last_error``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

_WHEEL = json.loads((Path(__file__).resolve().parents[2] / "data" /
                     "metatrader5_5.0.6231.json").read_text())
globals().update(_WHEEL["constants"])
__version__ = "5.0.6231"

# -- records: tuple types with attribute access and _asdict(), no _fields ------------


def _record_type(name: str, fields: list[str]) -> type:
    def asdict(self: tuple[Any, ...]) -> dict[str, Any]:
        return dict(zip(fields, self, strict=True))

    namespace: dict[str, Any] = {"__slots__": (), "_asdict": asdict,
                                 "__repr__": lambda self: f"{name}{tuple.__repr__(self)}"}
    for index, field in enumerate(fields):
        namespace[field] = property(lambda self, i=index: tuple.__getitem__(self, i))
    return type(name, (tuple,), namespace)


_RECORDS = {name: _record_type(name, fields) for name, fields in _WHEEL["records"].items()}
_FIELDS: dict[str, list[str]] = _WHEEL["records"]


def _make(kind: str, **values: Any) -> Any:
    return _RECORDS[kind](tuple(values.get(f, 0) for f in _FIELDS[kind]))


# -- the rules -------------------------------------------------------------------------

_SHORT = 29  # comment, symbol: length + terminating zero must be below 31
_LONG = {"path": 258, "server": 254, "password": 254, "group": 1998}
_FLOATS = {"volume", "price", "stoplimit", "sl", "tp"}
_UNSIGNED = {"magic", "order", "deviation", "position", "position_by"}
_TEXTS = {1: "Success", -1: "Terminal: Call failed", -2: "Invalid arguments",
          -4: "Terminal: Not found", -6: "Terminal: Authorization failed",
          -10004: "No IPC connection"}
_COMMENTS = {0: "Done", 10008: "Order placed", 10009: "Request executed",
             10013: "Invalid request", 10015: "Invalid price", 10022: "Invalid expiration",
             10014: "Invalid volume", 10016: "Invalid stops", 10030: "Unsupported filling mode",
             10035: "Invalid order type", 10036: "Position already closed",
             10038: "Invalid close volume"}


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Refused(Exception):
    def __init__(self, code: int, text: str | None = None) -> None:
        super().__init__(code, text or _TEXTS[code])
        self.code, self.text = code, text or _TEXTS[code]


def _crash(name: str) -> SystemError:
    return SystemError(f"<built-in function {name}> returned a result with an exception set")


def _field(name: str, value: Any, call: str) -> Any:
    bad = _Refused(-2, f'Invalid "{name}" argument')
    if name in _FLOATS:
        if type(value) is not float:
            raise bad
        return value
    if name in ("symbol", "comment"):
        if not isinstance(value, str) or _units(value) > _SHORT:
            raise bad
        return value
    if not isinstance(value, int):  # bool is an int and passes
        raise bad
    if name in _UNSIGNED and not 0 <= value < 2**64:
        raise _crash(call)
    if not -(2**63) <= value < 2**64:
        raise _crash(call)
    return int(value)


def _trade_request(args: tuple[Any, ...], kwargs: dict[str, Any], call: str) -> Any:
    if args and kwargs:
        raise _Refused(-2, "Unnamed arguments not allowed")
    if kwargs:
        raw = kwargs
    elif len(args) != 1:
        raise _Refused(-2, "Invalid number of arguments")
    elif not isinstance(args[0], dict):
        raise _Refused(-2)
    else:
        raw = args[0]
    defaults = {f: ("" if f in ("symbol", "comment") else 0.0 if f in _FLOATS else 0)
                for f in _FIELDS["TradeRequest"]}
    values = {f: _field(f, raw[f], call) if f in raw else defaults[f]
              for f in _FIELDS["TradeRequest"]}
    return _make("TradeRequest", **values)


def _epoch(value: Any) -> float:
    if isinstance(value, bool):
        raise _Refused(-2)
    if isinstance(value, int):
        if not -(2**31) <= value < 2**31:
            raise _crash("history_deals_get")
        return float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, datetime):
        return value.timestamp()  # a naive datetime is local time, as in the module
    raise _Refused(-2)


def _no_args(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if args or kwargs:
        raise TypeError(f"{name}() takes no arguments")


def _symbol_positional(name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                       count: int = 1) -> str:
    if kwargs:
        raise TypeError(f"{name}() takes no keyword arguments")
    if len(args) < 1 or len(args) > count:
        raise _Refused(-2, "Invalid number of arguments")
    symbol = args[0]
    if not isinstance(symbol, str) or _units(symbol) > _SHORT:
        raise _Refused(-2, "Invalid 1st unnamed argument")
    return symbol


# -- state ---------------------------------------------------------------------------


class _Terminal:
    def __init__(self, *, login: int, password: str, server: str, symbols: list[dict[str, Any]],
                 now: Callable[[], float], balance: float) -> None:
        self.login, self.password, self.server = login, password, server
        self.symbols = {s["name"]: s for s in symbols}
        self.now = now
        self.balance = balance
        self.linked = self.authorized = False
        self.selected: set[str] = set()
        self.positions: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.deals: list[Any] = []
        self.history_orders: list[Any] = []
        self.next_ticket = 7_000_001
        self.next_request = 1
        self.error: tuple[int, str] = (1, "Success")

    def ticket(self) -> int:
        self.next_ticket += 1
        return self.next_ticket


_T: _Terminal | None = None
calls: list[str] = []


def configure(*, login: int, password: str, server: str, symbols: list[dict[str, Any]],
              now: Callable[[], float], balance: float = 10_000.0) -> None:
    """A fresh terminal: its account, its symbols (dicts: name, digits, bid, ask, filling_mode,
    trade_exemode, volume_min, volume_max, volume_step, contract_size) and its clock."""
    global _T
    _T = _Terminal(login=login, password=password, server=server, symbols=symbols, now=now,
                   balance=balance)
    calls.clear()
    _BOOKS.clear()


def _api(name: str, needs: str = "link") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Every call resets the error, then fails like the module: None/False plus last_error."""

    def wrap(body: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            assert _T is not None, "call MetaTrader5.configure() first"
            _T.error = (1, "Success")
            failed = False if name in ("initialize", "login", "symbol_select") else None
            try:
                if needs != "none" and not _T.linked:
                    raise _Refused(-10004)
                if needs == "auth" and not _T.authorized:
                    raise _Refused(-6)
                return body(*args, **kwargs)
            except _Refused as refused:
                _T.error = (refused.code, refused.text)
                return failed

        call.__name__ = name
        return call

    return wrap


# -- connection ------------------------------------------------------------------------


def _credentials(login: Any, password: Any, server: Any, timeout: Any) -> None:
    assert _T is not None
    for field, value, kind, limit in (("login", login, int, None), ("password", password, str,
                                       _LONG["password"]), ("server", server, str, _LONG["server"]),
                                      ("timeout", timeout, int, None)):
        if value is None and field != "timeout":
            continue
        if not isinstance(value, kind) or (limit is not None and len(value) >= limit):
            raise _Refused(-2, f'Invalid "{field}" argument')
    if login is not None or password is not None or server is not None:
        _T.authorized = (login, password, server) == (_T.login, _T.password, _T.server)
        if not _T.authorized:
            raise _Refused(-6)


@_api("initialize", needs="none")
def initialize(*args: Any, login: Any = None, password: Any = None, server: Any = None,
               timeout: Any = 60000, portable: Any = False) -> bool:
    assert _T is not None
    if len(args) > 1:
        raise _Refused(-2, "Invalid number of arguments")
    if args and (not isinstance(args[0], str) or len(args[0]) >= _LONG["path"]):
        raise _Refused(-2, 'Invalid "path" argument')
    _T.linked = _T.authorized = False
    _T.selected.clear()
    _T.linked = True
    _credentials(login, password, server, timeout)
    return True


@_api("login")
def login(*args: Any, password: Any = None, server: Any = None, timeout: Any = 60000) -> bool:
    if len(args) != 1:
        raise _Refused(-2, "Invalid number of arguments")
    _credentials(args[0], password, server, timeout)
    return True


def shutdown(*args: Any, **kwargs: Any) -> bool:
    _no_args("shutdown", args, kwargs)
    calls.append("shutdown")
    assert _T is not None
    _T.linked = _T.authorized = False
    _T.error = (1, "Success")
    return True


def last_error(*args: Any, **kwargs: Any) -> tuple[int, str]:
    _no_args("last_error", args, kwargs)
    assert _T is not None
    return _T.error


@_api("version")
def version(*args: Any, **kwargs: Any) -> tuple[int, int, str]:
    _no_args("version", args, kwargs)
    return (500, 5120, "20 Jun 2025")


@_api("terminal_info")
def terminal_info(*args: Any, **kwargs: Any) -> Any:
    _no_args("terminal_info", args, kwargs)
    return _make("TerminalInfo", connected=True, trade_allowed=True, build=5120, name="Strict",
                 company="contract double", language="English", path="C:\\MT5",
                 data_path="C:\\MT5", commondata_path="C:\\MT5\\Common", ping_last=1000,
                 maxbars=100000, community_balance=0.0, retransmission=0.0)


@_api("account_info", needs="auth")
def account_info(*args: Any, **kwargs: Any) -> Any:
    _no_args("account_info", args, kwargs)
    assert _T is not None
    return _make("AccountInfo", login=_T.login, leverage=100, trade_allowed=True,
                 trade_expert=True, margin_mode=2, currency_digits=2, balance=_T.balance,
                 equity=_T.balance, margin_free=_T.balance, name="Strict", server=_T.server,
                 currency="USD", company="contract double", credit=0.0, profit=0.0, margin=0.0,
                 margin_level=0.0, margin_so_call=50.0, margin_so_so=30.0)


# -- symbols ---------------------------------------------------------------------------


@_api("symbol_select")
def symbol_select(*args: Any, **kwargs: Any) -> bool:
    assert _T is not None
    symbol = _symbol_positional("symbol_select", args, kwargs, count=2)
    enable = args[1] if len(args) > 1 else True
    if not isinstance(enable, bool):
        raise _Refused(-2, "Invalid 2nd unnamed argument")
    if symbol not in _T.symbols:
        raise _Refused(-4)
    (_T.selected.add if enable else _T.selected.discard)(symbol)
    return True


def _spec(symbol: str) -> dict[str, Any]:
    assert _T is not None
    if symbol not in _T.selected:
        raise _Refused(-4)
    return _T.symbols[symbol]


@_api("symbol_info")
def symbol_info(*args: Any, **kwargs: Any) -> Any:
    s = _spec(_symbol_positional("symbol_info", args, kwargs))
    point = 10.0 ** -s["digits"]
    texts = {f: "" for f in _FIELDS["SymbolInfo"][-13:]}  # basis .. path are strings
    return _make("SymbolInfo", **{**texts, "name": s["name"]}, select=True,
                 visible=True, digits=s["digits"], point=point,
                 bid=s["bid"], ask=s["ask"], filling_mode=s["filling_mode"],
                 trade_exemode=s["trade_exemode"], trade_mode=4, volume_min=s["volume_min"],
                 volume_max=s["volume_max"], volume_step=s["volume_step"],
                 trade_contract_size=s["contract_size"], trade_tick_size=point,
                 spread=round((s["ask"] - s["bid"]) / point))


@_api("symbol_info_tick")
def symbol_info_tick(*args: Any, **kwargs: Any) -> Any:
    assert _T is not None
    s = _spec(_symbol_positional("symbol_info_tick", args, kwargs))
    now = _T.now()
    return _make("Tick", time=int(now), bid=s["bid"], ask=s["ask"], last=0.0,
                 time_msc=int(now * 1000), flags=6, volume_real=0.0)


# -- trading -----------------------------------------------------------------------------


def _filling_ok(spec: dict[str, Any], filling: int) -> bool:
    if filling in (0, 1):  # FOK, IOC: the symbol's flag 1 << filling
        return bool(spec["filling_mode"] & (1 << filling))
    return filling == 2 and spec["trade_exemode"] != 2  # RETURN, not under market execution


def _pending_verdict(spec: dict[str, Any], kind: int, req: Any) -> int:
    assert _T is not None
    below = kind in (2, 5, 7)  # buy limit under the ask; sell stop (-limit) under the bid
    market = spec["ask"] if kind in (2, 4, 6) else spec["bid"]
    if req.price <= 0 or (req.price >= market if below else req.price <= market):
        return 10015
    if not 0 <= req.type_time <= 3:
        return 10022
    if req.type_time == 2 and req.expiration <= _T.now():
        return 10022
    return 0


def _verdict(req: Any) -> int:
    assert _T is not None
    if req.action == 6:  # SLTP
        return 0 if req.position in _T.positions else 10036
    if req.action in (7, 8):  # MODIFY, REMOVE
        order = _T.orders.get(req.order)
        if order is None:
            return 10013
        return 0 if req.action == 8 else _pending_verdict(_T.symbols[order["symbol"]],
                                                          order["type"], req)
    if req.action not in (1, 5) or req.symbol not in _T.symbols:
        return 10013
    spec = _T.symbols[req.symbol]
    steps = req.volume / spec["volume_step"]
    if not spec["volume_min"] <= req.volume <= spec["volume_max"] or abs(steps - round(steps)) > 1e-6:
        return 10014
    if req.action == 5:
        return 10035 if req.type not in range(2, 8) else _pending_verdict(spec, req.type, req)
    if req.type not in (0, 1):
        return 10035
    if not _filling_ok(spec, req.type_filling):
        return 10030
    if req.position:
        pos = _T.positions.get(req.position)
        if pos is None or pos["symbol"] != req.symbol:
            return 10036
        if req.type == pos["type"]:
            return 10013
        if req.volume > pos["volume"] + 1e-9:
            return 10038
    if any(math.isnan(x) or x < 0 for x in (req.sl, req.tp)):
        return 10016
    return 0


def _result(retcode: int, req: Any, **values: Any) -> Any:
    assert _T is not None
    _T.next_request += 1
    return _make("OrderSendResult", retcode=retcode, comment=_COMMENTS.get(retcode, "Error"),
                 request_id=_T.next_request, request=req, **{
                     "volume": 0.0, "price": 0.0, "bid": 0.0, "ask": 0.0, **values})


@_api("order_check", needs="auth")
def order_check(*args: Any, **kwargs: Any) -> Any:
    assert _T is not None
    req = _trade_request(args, kwargs, "order_check")
    retcode = _verdict(req)
    return _make("OrderCheckResult", retcode=retcode, balance=_T.balance, equity=_T.balance,
                 profit=0.0, margin=0.0, margin_free=_T.balance, margin_level=0.0,
                 comment=_COMMENTS.get(retcode, "Error"), request=req)


@_api("order_send", needs="auth")
def order_send(*args: Any, **kwargs: Any) -> Any:
    assert _T is not None
    req = _trade_request(args, kwargs, "order_send")
    retcode = _verdict(req)
    if retcode:
        return _result(retcode, req)
    now = _T.now()
    if req.action == 6:
        _T.positions[req.position].update(sl=req.sl, tp=req.tp)
        return _result(10009, req)
    if req.action in (5, 7, 8):
        return _pending(req, now)
    spec = _T.symbols[req.symbol]
    price = spec["ask"] if req.type == 0 else spec["bid"]
    order, deal = _T.ticket(), _T.ticket()
    profit = 0.0
    if req.position:
        pos = _T.positions[req.position]
        sign = 1.0 if pos["type"] == 0 else -1.0
        profit = round(sign * (price - pos["price"]) * req.volume * spec["contract_size"], 2)
        _T.balance = round(_T.balance + profit, 2)
        pos["volume"] = round(pos["volume"] - req.volume, 8)
        if pos["volume"] <= 1e-9:
            del _T.positions[req.position]
        position_id, entry = req.position, 1
    else:
        _T.positions[order] = {"ticket": order, "time": now, "type": req.type,
                               "magic": req.magic, "volume": req.volume, "price": price,
                               "sl": req.sl, "tp": req.tp, "symbol": req.symbol,
                               "comment": req.comment}
        position_id, entry = order, 0
    _T.deals.append(_make("TradeDeal", ticket=deal, order=order, time=int(now),
                          time_msc=int(now * 1000), type=req.type, entry=entry, magic=req.magic,
                          position_id=position_id, reason=3, volume=req.volume, price=price,
                          commission=0.0, swap=0.0, profit=profit, fee=0.0, symbol=req.symbol,
                          comment=req.comment, external_id=""))
    _T.history_orders.append(_make(
        "TradeOrder", ticket=order, time_setup=int(now), time_setup_msc=int(now * 1000),
        time_done=int(now), time_done_msc=int(now * 1000), type=req.type,
        type_filling=req.type_filling, state=4, magic=req.magic, position_id=position_id,
        reason=3, volume_initial=req.volume, volume_current=0.0, price_open=price, sl=req.sl,
        tp=req.tp, price_current=price, price_stoplimit=0.0, symbol=req.symbol,
        comment=req.comment, external_id=""))
    return _result(10009, req, deal=deal, order=order, volume=req.volume, price=price,
                   bid=spec["bid"], ask=spec["ask"])


def _order_record(o: dict[str, Any], state: int, done: float = 0.0) -> Any:
    ms = int(o["time"] * 1000)
    return _make("TradeOrder", ticket=o["ticket"], time_setup=int(o["time"]), time_setup_msc=ms,
                 time_done=int(done), time_done_msc=int(done * 1000),
                 time_expiration=o["expiration"], type=o["type"], type_time=o["type_time"],
                 type_filling=o["type_filling"], state=state, magic=o["magic"], reason=3,
                 volume_initial=o["volume"], volume_current=o["volume"], price_open=o["price"],
                 sl=o["sl"], tp=o["tp"], price_current=0.0, price_stoplimit=o["stoplimit"],
                 symbol=o["symbol"], comment=o["comment"], external_id="")


def _pending(req: Any, now: float) -> Any:
    assert _T is not None
    if req.action == 8:
        gone = _T.orders.pop(req.order)
        _T.history_orders.append(_order_record(gone, 2, now))  # ORDER_STATE_CANCELED
        return _result(10009, req, order=req.order)
    if req.action == 7:
        _T.orders[req.order].update(price=req.price, sl=req.sl, tp=req.tp,
                                    stoplimit=req.stoplimit, type_time=req.type_time,
                                    expiration=req.expiration)
        return _result(10009, req, order=req.order)
    ticket = _T.ticket()
    _T.orders[ticket] = {"ticket": ticket, "time": now, "type": req.type, "magic": req.magic,
                         "volume": req.volume, "price": req.price, "stoplimit": req.stoplimit,
                         "sl": req.sl, "tp": req.tp, "symbol": req.symbol,
                         "comment": req.comment, "type_time": req.type_time,
                         "expiration": req.expiration, "type_filling": req.type_filling}
    spec = _T.symbols[req.symbol]
    return _result(10008, req, order=ticket, volume=req.volume, price=req.price,
                   bid=spec["bid"], ask=spec["ask"])


# -- book and history ---------------------------------------------------------------------


def _filters(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    if args:
        raise _Refused(-2, "Unnamed arguments not allowed")
    for key, value in kwargs.items():
        if key == "ticket":
            if not isinstance(value, int) or value < 0:
                raise _Refused(-2, 'Invalid "ticket" argument')
        elif key in ("symbol", "group"):
            limit = _SHORT if key == "symbol" else _LONG["group"]
            if not isinstance(value, str) or _units(value) > limit:
                raise _Refused(-2, f'Invalid "{key}" argument')
        else:
            raise _Refused(-2)
    return kwargs


def _position_record(p: dict[str, Any]) -> Any:
    assert _T is not None
    spec = _T.symbols[p["symbol"]]
    current = spec["bid"] if p["type"] == 0 else spec["ask"]
    return _make("TradePosition", ticket=p["ticket"], time=int(p["time"]),
                 time_msc=int(p["time"] * 1000), time_update=int(p["time"]),
                 time_update_msc=int(p["time"] * 1000), type=p["type"], magic=p["magic"],
                 identifier=p["ticket"], reason=3, volume=p["volume"], price_open=p["price"],
                 sl=p["sl"], tp=p["tp"], price_current=current, swap=0.0, profit=0.0,
                 symbol=p["symbol"], comment=p["comment"], external_id="")


@_api("positions_get")
def positions_get(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
    assert _T is not None
    f = _filters("positions_get", args, kwargs)
    return tuple(_position_record(p) for p in _T.positions.values()
                 if f.get("symbol", p["symbol"]) == p["symbol"]
                 and f.get("ticket", p["ticket"]) == p["ticket"])


@_api("orders_get")
def orders_get(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
    assert _T is not None
    f = _filters("orders_get", args, kwargs)
    return tuple(_order_record(o, 1) for o in _T.orders.values()  # ORDER_STATE_PLACED
                 if f.get("symbol", o["symbol"]) == o["symbol"]
                 and f.get("ticket", o["ticket"]) == o["ticket"])


def _history(name: str, records: list[Any], key: str, args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> tuple[Any, ...]:
    if "ticket" in kwargs or "position" in kwargs:
        if args or len(kwargs) != 1:
            raise _Refused(-2)
        field, wanted = ("order" if key == "deal" else "ticket", kwargs["ticket"]) \
            if "ticket" in kwargs else ("position_id", kwargs["position"])
        return tuple(r for r in records if getattr(r, field) == wanted)
    if len(args) != 2 or set(kwargs) - {"group"}:
        raise _Refused(-2)
    low, high = _epoch(args[0]), _epoch(args[1])
    stamp = "time" if key == "deal" else "time_setup"
    return tuple(r for r in records if low <= getattr(r, stamp) <= high)


@_api("history_deals_get")
def history_deals_get(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
    assert _T is not None
    return _history("history_deals_get", _T.deals, "deal", args, kwargs)


@_api("history_orders_get")
def history_orders_get(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
    assert _T is not None
    return _history("history_orders_get", _T.history_orders, "order", args, kwargs)


# -- counts and the Depth of Market ---------------------------------------------------------


@_api("positions_total")
def positions_total(*args: Any, **kwargs: Any) -> int:
    _no_args("positions_total", args, kwargs)
    assert _T is not None
    return len(_T.positions)


@_api("orders_total")
def orders_total(*args: Any, **kwargs: Any) -> int:
    _no_args("orders_total", args, kwargs)
    assert _T is not None
    return len(_T.orders)


_BOOKS: set[str] = set()


@_api("market_book_add")
def market_book_add(*args: Any, **kwargs: Any) -> bool:
    _spec(_symbol_positional("market_book_add", args, kwargs))
    _BOOKS.add(args[0])
    return True


@_api("market_book_release")
def market_book_release(*args: Any, **kwargs: Any) -> bool:
    symbol = _symbol_positional("market_book_release", args, kwargs)
    if symbol not in _BOOKS:
        raise _Refused(-4)
    _BOOKS.discard(symbol)
    return True


@_api("market_book_get")
def market_book_get(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
    symbol = _symbol_positional("market_book_get", args, kwargs)
    if symbol not in _BOOKS:
        raise _Refused(-4)
    s = _spec(symbol)
    return (_make("BookInfo", type=1, price=s["ask"], volume=5, volume_dbl=5.0),
            _make("BookInfo", type=2, price=s["bid"], volume=7, volume_dbl=7.0))
