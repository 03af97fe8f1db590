"""What the simulated terminal trades: one :class:`SymbolSpec` per symbol."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from attrs import Factory, field, frozen

from mt5guard.terminal.constants import (
    SYMBOL_FILLING_FOK,
    SYMBOL_FILLING_IOC,
    SYMBOL_NAME_MAX_LENGTH,
    SYMBOL_TRADE_EXECUTION_EXCHANGE,
    SYMBOL_TRADE_EXECUTION_MARKET,
    SYMBOL_TRADE_EXECUTION_REQUEST,
    SYMBOL_TRADE_MODE_FULL,
)

__all__ = ["DEFAULT_SYMBOLS", "TICK_MS", "SymbolSpec"]

#: Milliseconds between two ticks of a symbol; tick ``k`` is at ``k * TICK_MS`` ms.
TICK_MS: Final = 250


def _positive(instance: object, attribute: object, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{getattr(attribute, 'name', 'value')} must be > 0, got {value!r}")


@frozen
class SymbolSpec:
    """A symbol of the simulated terminal and the random walk of its quotes.

    Prices are in the profit (quote) currency. ``spread`` and ``stops_level``
    are in points (``point`` = 10 ** -digits). ``volatility`` is the standard
    deviation of the relative change of the mid price per tick, and a tick
    comes every 0.25 s of clock time. ``currency_base`` and
    ``currency_profit`` default to the two halves of a six-letter name.
    ``filling_mode`` (``SYMBOL_FILLING_*`` flags) and ``trade_exemode``
    decide which ``type_filling`` the server accepts, as a real one does:
    FOK and IOC only where their flag is set, RETURN only outside market
    execution (always for exchange execution); any other is 10030.
    """

    name: str
    digits: int
    start_price: float = field(validator=_positive)
    spread: int = field(default=10, validator=_positive)
    contract_size: float = field(default=100_000.0, validator=_positive)
    volume_min: float = field(default=0.01, validator=_positive)
    volume_max: float = field(default=100.0, validator=_positive)
    volume_step: float = field(default=0.01, validator=_positive)
    stops_level: int = 0
    volatility: float = 0.00001
    description: str = ""
    currency_base: str = field(default=Factory(lambda self: self.name[:3], takes_self=True))
    currency_profit: str = field(default=Factory(lambda self: self.name[3:6], takes_self=True))
    trade_mode: int = SYMBOL_TRADE_MODE_FULL
    filling_mode: int = SYMBOL_FILLING_FOK | SYMBOL_FILLING_IOC
    trade_exemode: int = SYMBOL_TRADE_EXECUTION_MARKET

    def __attrs_post_init__(self) -> None:
        if not 0 < len(self.name) <= SYMBOL_NAME_MAX_LENGTH:
            raise ValueError(f"name must be 1..{SYMBOL_NAME_MAX_LENGTH} characters (the MetaTrader5 "
                             f"module refuses longer ones), got {self.name!r}")
        if not SYMBOL_TRADE_EXECUTION_REQUEST <= self.trade_exemode <= SYMBOL_TRADE_EXECUTION_EXCHANGE:
            raise ValueError(f"trade_exemode must be a SYMBOL_TRADE_EXECUTION_* value (0..3), "
                             f"got {self.trade_exemode}")
        if not 0 <= self.digits <= 8:
            raise ValueError(f"digits must be within 0..8, got {self.digits}")
        if self.volume_min > self.volume_max:
            raise ValueError("volume_min must not exceed volume_max")
        if self.stops_level < 0 or self.volatility < 0:
            raise ValueError("stops_level and volatility must be >= 0")

    @property
    def point(self) -> float:
        """The smallest price change, 10 ** -digits."""
        return float(10.0**-self.digits)


#: EURUSD, GBPUSD, USDJPY and XAUUSD with typical demo-account specifications
#: (market execution; FOK and IOC allowed, XAUUSD FOK only).
DEFAULT_SYMBOLS: Mapping[str, SymbolSpec] = MappingProxyType(
    {
        "EURUSD": SymbolSpec(
            "EURUSD", 5, 1.08500, spread=10, stops_level=10, description="Euro vs US Dollar"
        ),
        "GBPUSD": SymbolSpec(
            "GBPUSD",
            5,
            1.26500,
            spread=14,
            stops_level=10,
            description="Great Britain Pound vs US Dollar",
        ),
        "USDJPY": SymbolSpec(
            "USDJPY",
            3,
            151.500,
            spread=12,
            stops_level=10,
            description="US Dollar vs Japanese Yen",
        ),
        "XAUUSD": SymbolSpec(
            "XAUUSD",
            2,
            2350.00,
            spread=25,
            contract_size=100.0,
            stops_level=50,
            volatility=0.00002,
            description="Gold vs US Dollar",
            filling_mode=SYMBOL_FILLING_FOK,  # FOK only, as many brokers quote gold
        ),
    }
)
