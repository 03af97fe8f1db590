"""Our records and constants against the facts read from the MetaTrader5 5.0.6231 wheel.

tests/data/metatrader5_5.0.6231.json holds the constants of the wheel's
``__init__.py`` and the field tables of the records in its compiled core
(read with ``pip download --no-deps --only-binary=:all: --platform win_amd64
--python-version 3.11 MetaTrader5``; the wheel does not install on Linux).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mt5guard.terminal import constants, records

WHEEL: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "data" / "metatrader5_5.0.6231.json").read_text())


@pytest.mark.parametrize("record", sorted(WHEEL["records"]))
def test_every_record_has_the_real_fields_in_the_real_order(record: str) -> None:
    ours = getattr(records, record)
    assert list(ours._fields) == WHEEL["records"][record]


def test_symbol_info_has_all_96_fields() -> None:
    assert len(records.SymbolInfo._fields) == 96
    info = records.symbol_info_with(name="EURUSD", filling_mode=1)
    assert (info.name, info.filling_mode, info.path, info.custom) == ("EURUSD", 1, "", False)
    with pytest.raises(TypeError, match="no field"):
        records.symbol_info_with(nmae="EURUSD")


@pytest.mark.parametrize("name", sorted(WHEEL["constants"]))
def test_every_constant_of_the_module_has_its_value(name: str) -> None:
    assert getattr(constants, name) == WHEEL["constants"][name]
