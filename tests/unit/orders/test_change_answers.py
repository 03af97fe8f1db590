"""A known change id: same change answered, another change a conflict naming it; the price
comparison's float tolerance (orders/changes.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mt5guard.errors import MT5IdempotencyConflict
from mt5guard.orders.changes import _same_change, same_price
from mt5guard.orders.journal import EntryState, JournalEntry, OrderIntent
from mt5guard.orders.messages import ChangeKind, TradeChange

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ASKED = {"sl": 1.05, "tp": None, "volume": None, "deviation": 20}


def known(kind: str = "modify_position", **payload: object) -> JournalEntry:
    body = {"ticket": 5, "sl": 1.05, "tp": 1.2, "asked": ASKED, **payload}
    return JournalEntry(OrderIntent("K1", kind, "EURUSD", "buy", 0.1, body),
                        EntryState.FILLED, T0)


def test_the_same_change_again_is_no_conflict() -> None:
    _same_change(known(), TradeChange("K1", ChangeKind.MODIFY, 5, sl=1.05))
    # an entry from before `asked` was kept is compared on kind and ticket only
    _same_change(known(asked=None), TradeChange("K1", ChangeKind.MODIFY, 5, sl=1.07))
    close = JournalEntry(OrderIntent("K1", "close_position", "EURUSD", "sell", 0.1,
                                     {"position": 5}), EntryState.FILLED, T0)
    _same_change(close, TradeChange("K1", ChangeKind.CLOSE, 5))


@pytest.mark.parametrize("change", [
    TradeChange("K1", ChangeKind.MODIFY, 5, sl=1.06),
    TradeChange("K1", ChangeKind.MODIFY, 5, sl=1.05, tp=1.3),
    TradeChange("K1", ChangeKind.MODIFY, 6, sl=1.05),
    TradeChange("K1", ChangeKind.CANCEL, 5),
])
def test_another_change_with_a_known_id_is_a_conflict_naming_what_it_was_used_for(
        change: TradeChange) -> None:
    with pytest.raises(MT5IdempotencyConflict) as caught:
        _same_change(known(), change)
    err = caught.value
    assert (err.client_order_id, err.operation) == ("K1", change.kind.value)
    assert err.detail == ("'K1' was already used for modify_position of ticket 5 (EURUSD buy "
                          "0.1 lots, sl=1.05, deviation=20); choose another client_order_id")


def test_a_close_conflict_names_the_position_and_an_old_entry_shows_no_values() -> None:
    close = JournalEntry(OrderIntent("K2", "close_position", "EURUSD", "sell", 0.1,
                                     {"position": 7}), EntryState.FILLED, T0)
    with pytest.raises(MT5IdempotencyConflict) as caught:
        _same_change(close, TradeChange("K2", ChangeKind.CLOSE, 8))
    assert caught.value.detail == ("'K2' was already used for close_position of ticket 7 "
                                   "(EURUSD sell 0.1 lots); choose another client_order_id")


@pytest.mark.parametrize(("a", "b", "point", "same"), [
    (0.0, 0.5 + 1e-12, 1.0, True),  # exactly at the bound: equal
    (0.0, 0.5 + 8e-13, 1.0, True),  # within the 1e-12 slack, which is never below 1e-12
    (0.0, 0.5 + 1.5e-12, 1.0, False),  # beyond it
    (1e6, 1e6 + 0.5 + 5e-7, 1.0, True),  # the slack grows with the price (1e-12 of it)
    (1e6 + 5e-7, 0.0, 2e6, True),  # ... of the larger of the two, whichever it is
    (0.0, 1e6 + 5e-7, 2e6, True),
    (1e6, 1e6 + 0.5 + 5e-6, 1.0, False),
])
def test_prices_are_equal_within_half_a_point_and_a_relative_float_slack(
        a: float, b: float, point: float, same: bool) -> None:
    assert same_price(a, b, point) is same
