"""Modify, close and cancel are validated in the caller's thread before anything is sent.

A refusal is a :class:`MT5ValidationError` naming the operation, the field and
the fix; a valid change comes back normalised. Pure function, no session.
"""

from __future__ import annotations

from typing import Any

import pytest

from mt5guard.errors import MT5ValidationError
from mt5guard.orders.changes import check_change
from mt5guard.orders.messages import ChangeKind, TradeChange

MODIFY, CLOSE, CANCEL = ChangeKind.MODIFY, ChangeKind.CLOSE, ChangeKind.CANCEL


def test_a_valid_change_comes_back_normalised() -> None:
    assert check_change(MODIFY, 5, sl=1, client_order_id="C1") == \
        TradeChange("C1", MODIFY, 5, 1.0, None, None, 20)
    got = check_change(MODIFY, 5, sl=0, tp=2, deviation=0, client_order_id="C1")
    assert (got.sl, got.tp, got.deviation) == (0.0, 2.0, 0)
    assert type(got.sl) is float and type(got.tp) is float
    assert check_change(MODIFY, 5, tp=1.1, client_order_id="C1").sl is None
    close = check_change(CLOSE, 7, volume=1, client_order_id="C2")
    assert close == TradeChange("C2", CLOSE, 7, None, None, 1.0, 20)
    assert type(close.volume) is float
    assert check_change(CLOSE, 7, client_order_id="C2").volume is None  # the whole position
    assert check_change(CANCEL, 8, client_order_id="C3") == TradeChange("C3", CANCEL, 8)
    made = check_change(CANCEL, 8).client_order_id
    assert made != check_change(CANCEL, 8).client_order_id and 1 <= len(made) <= 20


@pytest.mark.parametrize(("kind", "ticket", "over", "field", "words"), [
    (CLOSE, 0, {}, "ticket",
     "ticket must be the position's or order's ticket (an int > 0), got 0"),
    (CLOSE, -3, {}, "ticket", "got -3"),
    (CLOSE, True, {}, "ticket", "got True"),
    (CANCEL, "8", {}, "ticket", "got '8'"),
    (MODIFY, 5, {"sl": -1.0}, "sl",
     "sl must be a price >= 0 (0 removes it, None keeps it), got -1.0"),
    (MODIFY, 5, {"tp": float("nan")}, "tp",
     "tp must be a price >= 0 (0 removes it, None keeps it), got nan"),
    (MODIFY, 5, {"tp": True}, "tp", "got True"),
    (MODIFY, 5, {"sl": "1.1"}, "sl", "got '1.1'"),
    (CLOSE, 5, {"volume": 0}, "volume",
     "volume must be lots > 0, or None for the whole position, got 0"),
    (CLOSE, 5, {"volume": float("inf")}, "volume", "got inf"),
    (CLOSE, 5, {"volume": -0.1}, "volume", "got -0.1"),
    (MODIFY, 5, {}, "sl", "give sl, tp or both: a modification without either changes nothing"),
    (CLOSE, 5, {"deviation": -1}, "deviation",
     "deviation must be a whole number of points >= 0, got -1"),
    (CLOSE, 5, {"deviation": 2.0}, "deviation", "got 2.0"),
    (CLOSE, 5, {"deviation": False}, "deviation", "got False"),
    (CLOSE, 5, {"client_order_id": "a;b"}, "client_order_id", "1-20 characters"),
])
def test_a_bad_change_is_refused_naming_the_field_and_the_fix(
        kind: ChangeKind, ticket: object, over: dict[str, Any], field: str, words: str) -> None:
    over.setdefault("client_order_id", "C1")
    with pytest.raises(MT5ValidationError) as caught:
        check_change(kind, ticket, **over)
    err = caught.value
    assert (err.operation, err.field, err.retryable) == (kind.value, field, False)
    assert words in err.detail
    if not words.startswith(("got", "1-20")):
        assert str(err) == f"{kind.value} failed: invalid request: {words}; not retryable"


def test_a_volume_of_zero_is_a_bad_volume_but_a_stop_of_zero_removes_it() -> None:
    assert check_change(MODIFY, 5, sl=0, tp=0, client_order_id="C1").sl == 0.0
    with pytest.raises(MT5ValidationError, match="volume must be lots > 0"):
        check_change(CLOSE, 5, volume=0.0, client_order_id="C1")


def test_ticket_one_is_a_ticket() -> None:
    assert check_change(CANCEL, 1, client_order_id="C1").ticket == 1
