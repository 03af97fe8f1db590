"""Quotes and market data: the price requests, the quote feed's messages, ticks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from mt5guard.plain import PlainData, Request

__all__ = [
    "GetPrice",
    "PollQuotes",
    "ReadMarketData",
    "StaleQuote",
    "SubscribeQuotes",
    "Tick",
]


@attrs.frozen
class GetPrice(Request):
    """The latest tick for ``symbol`` (selected in Market Watch on demand)."""

    symbol: str


@attrs.frozen
class ReadMarketData(Request):
    """A market-data read: ``operation`` is the terminal function
    (``copy_rates_from``, ``copy_ticks_range``, ``symbols_get``, ``symbol_info``,
    ``symbol_select``, ...) and ``args`` its arguments, already validated
    (see :mod:`mt5guard.market.data`).
    """

    operation: str
    args: tuple[Any, ...]


@attrs.frozen
class SubscribeQuotes(PlainData):
    """Quote or trade subscriptions changed: (re)arm the session's polls (no reply)."""


@attrs.frozen
class PollQuotes(Request):
    """Timer message: read every subscribed symbol once and publish what changed."""



@attrs.frozen
class Tick(PlainData):
    """A quote that changed, published to quote subscribers by the session's poll.

    ``time`` is seconds and ``time_msc`` milliseconds since the epoch (the
    terminal's); ``received_at`` is the clock's wall time of the poll.
    """

    account: str
    symbol: str
    bid: float
    ask: float
    last: float
    volume: int
    time: int
    time_msc: int
    flags: int
    volume_real: float
    received_at: datetime


@attrs.frozen
class StaleQuote(PlainData):
    """The last tick seen while the breaker is OPEN: never live. ``age`` in seconds
    since a poll last confirmed it; ``tick`` is the terminal's Tick record."""

    symbol: str
    tick: Any
    age: float
    reason: str
