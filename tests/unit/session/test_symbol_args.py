"""The facade's symbol check: what the MetaTrader5 module accepts, refused in the caller's thread."""

from __future__ import annotations

import pytest

from mt5guard.errors import MT5ValidationError
from mt5guard.session._args import require_symbol


@pytest.mark.parametrize("symbol", ["EURUSD", "X", "X" * 29, "\N{GRINNING FACE}" * 14,
                                    "EUR USD.m", "\N{EURO SIGN}" * 29])
def test_names_the_module_takes_pass(symbol: str) -> None:
    require_symbol(symbol)


@pytest.mark.parametrize("symbol", ["", " ", "\u3000\t ", "X" * 30,
                                    "\N{GRINNING FACE}" * 15,  # 30 UTF-16 units in 15 characters
                                    7, None, b"EURUSD"])
def test_anything_else_is_a_validation_error_naming_the_symbol(symbol: object) -> None:
    with pytest.raises(MT5ValidationError) as bad:
        require_symbol(symbol)
    assert bad.value.field == "symbol"
