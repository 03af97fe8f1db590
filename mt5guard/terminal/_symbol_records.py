"""``symbol_info()`` and ``market_book_get()`` records, with the real fields in the real order.

The field lists were read from the record tables of the ``MetaTrader5``
5.0.6231 wheel's compiled core (tests/data/metatrader5_5.0.6231.json keeps
them, and a test compares). ``spread``, ``trade_stops_level`` and
``trade_freeze_level`` are in points; ``point`` and ``trade_tick_size`` are
prices; ``trade_tick_value`` is account money per tick per lot; ``time``,
``start_time`` and ``expiration_time`` are seconds since the epoch;
``filling_mode`` holds ``SYMBOL_FILLING_*`` flags and ``trade_exemode`` one
``SYMBOL_TRADE_EXECUTION_*`` value.
"""

from __future__ import annotations

from typing import Any, NamedTuple, get_type_hints

__all__ = ["BookInfo", "SymbolInfo", "symbol_info_with"]


class SymbolInfo(NamedTuple):
    """``symbol_info()``: 96 fields in the real order (read them by name)."""

    custom: bool
    chart_mode: int
    select: bool
    visible: bool
    session_deals: int
    session_buy_orders: int
    session_sell_orders: int
    volume: int
    volumehigh: int
    volumelow: int
    time: int
    digits: int
    spread: int
    spread_float: bool
    ticks_bookdepth: int
    trade_calc_mode: int
    trade_mode: int
    start_time: int
    expiration_time: int
    trade_stops_level: int
    trade_freeze_level: int
    trade_exemode: int
    swap_mode: int
    swap_rollover3days: int
    margin_hedged_use_leg: bool
    expiration_mode: int
    filling_mode: int
    order_mode: int
    order_gtc_mode: int
    option_mode: int
    option_right: int
    bid: float
    bidhigh: float
    bidlow: float
    ask: float
    askhigh: float
    asklow: float
    last: float
    lasthigh: float
    lastlow: float
    volume_real: float
    volumehigh_real: float
    volumelow_real: float
    option_strike: float
    point: float
    trade_tick_value: float
    trade_tick_value_profit: float
    trade_tick_value_loss: float
    trade_tick_size: float
    trade_contract_size: float
    trade_accrued_interest: float
    trade_face_value: float
    trade_liquidity_rate: float
    volume_min: float
    volume_max: float
    volume_step: float
    volume_limit: float
    swap_long: float
    swap_short: float
    margin_initial: float
    margin_maintenance: float
    session_volume: float
    session_turnover: float
    session_interest: float
    session_buy_orders_volume: float
    session_sell_orders_volume: float
    session_open: float
    session_close: float
    session_aw: float
    session_price_settlement: float
    session_price_limit_min: float
    session_price_limit_max: float
    margin_hedged: float
    price_change: float
    price_volatility: float
    price_theoretical: float
    price_greeks_delta: float
    price_greeks_theta: float
    price_greeks_gamma: float
    price_greeks_vega: float
    price_greeks_rho: float
    price_greeks_omega: float
    price_sensitivity: float
    basis: str
    category: str
    currency_base: str
    currency_profit: str
    currency_margin: str
    bank: str
    description: str
    exchange: str
    formula: str
    isin: str
    name: str
    page: str
    path: str

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data ``json.dumps`` accepts."""
        return _plain_fields(self)


class BookInfo(NamedTuple):
    """One ``market_book_get()`` level: ``type`` is a ``BOOK_TYPE_*``; ``volume`` in whole lots,
    ``volume_dbl`` with its fraction."""

    type: int
    price: float
    volume: int
    volume_dbl: float

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data ``json.dumps`` accepts."""
        return _plain_fields(self)


_ZERO: dict[type, Any] = {bool: False, int: 0, float: 0.0, str: ""}


def symbol_info_with(**fields: Any) -> SymbolInfo:
    """A :class:`SymbolInfo` with ``fields`` set and every other field zero, False or empty.

    Raises TypeError for a name that is not a field.
    """
    unknown = set(fields) - set(SymbolInfo._fields)
    if unknown:
        raise TypeError(f"SymbolInfo has no field(s) {sorted(unknown)}")
    return SymbolInfo(**{**_EMPTY, **fields})


_EMPTY: dict[str, Any] = {name: _ZERO[kind] for name, kind in get_type_hints(SymbolInfo).items()}


def _plain_fields(record: Any) -> dict[str, Any]:
    from mt5guard.plain import plain

    data: dict[str, Any] = plain(record)
    return data
