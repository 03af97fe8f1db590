"""The named tuples MetaTrader 5 returns, with the real field names and order.

Times named ``time*`` are seconds since the epoch and ``time*_msc`` are
milliseconds since the epoch (the terminal's server time; UTC here). Prices
are in the symbol's quote currency; money is in the account currency.

:class:`SymbolInfo` (96 fields) and :class:`BookInfo` live in
``_symbol_records`` and are re-exported here. Read records by field name,
never by index.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mt5guard.terminal._symbol_records import BookInfo, SymbolInfo, symbol_info_with

__all__ = [
    "AccountInfo",
    "BookInfo",
    "OrderCheckResult",
    "OrderSendResult",
    "SymbolInfo",
    "TerminalInfo",
    "Tick",
    "TradeDeal",
    "TradeOrder",
    "TradePosition",
    "TradeRequest",
    "symbol_info_with",
]


class AccountInfo(NamedTuple):
    """``account_info()``: 28 fields, in the real order."""

    login: int
    trade_mode: int
    leverage: int
    limit_orders: int
    margin_so_mode: int
    trade_allowed: bool
    trade_expert: bool
    margin_mode: int
    currency_digits: int
    fifo_close: bool
    balance: float
    credit: float
    profit: float
    equity: float
    margin: float
    margin_free: float
    margin_level: float
    margin_so_call: float
    margin_so_so: float
    margin_initial: float
    margin_maintenance: float
    assets: float
    liabilities: float
    commission_blocked: float
    name: str
    server: str
    currency: str
    company: str

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data ``json.dumps`` accepts."""
        return _plain_fields(self)


class TerminalInfo(NamedTuple):
    """``terminal_info()``: 22 fields; ``ping_last`` is in microseconds."""

    community_account: bool
    community_connection: bool
    connected: bool
    dlls_allowed: bool
    trade_allowed: bool
    tradeapi_disabled: bool
    email_enabled: bool
    ftp_enabled: bool
    notifications_enabled: bool
    mqid: bool
    build: int
    maxbars: int
    codepage: int
    ping_last: int
    community_balance: float
    retransmission: float
    company: str
    name: str
    language: str
    path: str
    data_path: str
    commondata_path: str

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data ``json.dumps`` accepts."""
        return _plain_fields(self)


class Tick(NamedTuple):
    """``symbol_info_tick()``: ``time`` in seconds, ``time_msc`` in milliseconds."""

    time: int
    bid: float
    ask: float
    last: float
    volume: int
    time_msc: int
    flags: int
    volume_real: float

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data ``json.dumps`` accepts."""
        return _plain_fields(self)


class TradeRequest(NamedTuple):
    """The request echoed in trade results (``order_send`` takes it as a dict).

    ``expiration`` is in seconds since the epoch (0 = none).
    """

    action: int
    magic: int
    order: int
    symbol: str
    volume: float
    price: float
    stoplimit: float
    sl: float
    tp: float
    deviation: int
    type: int
    type_filling: int
    type_time: int
    expiration: int
    comment: str
    position: int
    position_by: int

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data ``json.dumps`` accepts."""
        return _plain_fields(self)


class OrderSendResult(NamedTuple):
    """``order_send()``: success is retcode 10009 (market) or 10008 (pending)."""

    retcode: int
    deal: int
    order: int
    volume: float
    price: float
    bid: float
    ask: float
    comment: str
    request_id: int
    retcode_external: int
    request: TradeRequest

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data ``json.dumps`` accepts."""
        return _plain_fields(self)


class OrderCheckResult(NamedTuple):
    """``order_check()``: a passing check has retcode 0 and comment "Done".

    The money fields describe the account as it would be after the trade.
    """

    retcode: int
    balance: float
    equity: float
    profit: float
    margin: float
    margin_free: float
    margin_level: float
    comment: str
    request: TradeRequest

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data ``json.dumps`` accepts."""
        return _plain_fields(self)


class TradePosition(NamedTuple):
    """``positions_get()``: one open position, in the real field order."""

    ticket: int
    time: int
    time_msc: int
    time_update: int
    time_update_msc: int
    type: int
    magic: int
    identifier: int
    reason: int
    volume: float
    price_open: float
    sl: float
    tp: float
    price_current: float
    swap: float
    profit: float
    symbol: str
    comment: str
    external_id: str

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data ``json.dumps`` accepts."""
        return _plain_fields(self)


class TradeOrder(NamedTuple):
    """``orders_get()``: one active (pending) order, in the real field order."""

    ticket: int
    time_setup: int
    time_setup_msc: int
    time_done: int
    time_done_msc: int
    time_expiration: int
    type: int
    type_time: int
    type_filling: int
    state: int
    magic: int
    position_id: int
    position_by_id: int
    reason: int
    volume_initial: float
    volume_current: float
    price_open: float
    sl: float
    tp: float
    price_current: float
    price_stoplimit: float
    symbol: str
    comment: str
    external_id: str

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data ``json.dumps`` accepts."""
        return _plain_fields(self)


class TradeDeal(NamedTuple):
    """``history_deals_get()``: one deal; ``profit`` is realised, account money."""

    ticket: int
    order: int
    time: int
    time_msc: int
    type: int
    entry: int
    magic: int
    position_id: int
    reason: int
    volume: float
    price: float
    commission: float
    swap: float
    profit: float
    fee: float
    symbol: str
    comment: str
    external_id: str

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data ``json.dumps`` accepts."""
        return _plain_fields(self)


def _plain_fields(record: Any) -> dict[str, Any]:
    from mt5guard.plain import plain

    data: dict[str, Any] = plain(record)
    return data
