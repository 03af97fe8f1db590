"""The MT5Error hierarchy and the code table, as the session and operators see them."""

from __future__ import annotations

import pickle
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mt5guard.errors import (
    CODE_TABLE,
    MT5AuthError,
    MT5CircuitBreakerOpen,
    MT5ConnectionError,
    MT5DataError,
    MT5Error,
    MT5InitError,
    MT5OrderOutcomeUnknown,
    MT5StateError,
    MT5TimeoutError,
    MT5TradingDisabled,
    MT5Unavailable,
    MT5ValidationError,
    describe_code,
    error_from_last_error,
    error_from_retcode,
    is_trade_success,
)

REFERENCE = Path("/work/shared/MT5_REFERENCE.md")
LAST_ERROR_CODES = [1, -1, -2, -3, -4, -5, -6, -7, -8, -10000, -10001, -10002, -10003, -10004,
                    -10005]
RETCODES = [c for c in range(10004, 10046) if c not in (10005, 10037)]
SUCCESS = {0, 1, 10008, 10009, 10010}
KINDS = {
    MT5InitError: "init", MT5AuthError: "auth", MT5CircuitBreakerOpen: "circuit_open",
    MT5TimeoutError: "timeout", MT5DataError: "data", MT5ConnectionError: "connection",
    MT5ValidationError: "validation", MT5StateError: "state", MT5TradingDisabled: "trading_disabled",
}


def test_the_table_covers_every_code_in_the_reference() -> None:
    assert set(LAST_ERROR_CODES) | set(RETCODES) | {0} == set(CODE_TABLE)
    if REFERENCE.exists():
        text = REFERENCE.read_text()
        listed = {int(m) for m in re.findall(r"^\| (-?\d+) \|", text, re.MULTILINE)}
        listed |= {int(m) for m in re.findall(r"(?<![-\d])(100[0-4]\d) [A-Z_]+", text)}  # not "-10005 IPC"
        assert len(listed) == 55 and listed <= set(CODE_TABLE)


@pytest.mark.parametrize("code", sorted(CODE_TABLE))
def test_every_failure_code_becomes_a_typed_error(code: int) -> None:
    info = CODE_TABLE[code]
    if code in SUCCESS:
        assert info.error_class is None
        assert is_trade_success(code) or code == 1
        return
    err = (
        error_from_retcode(code, "comment", "op")
        if code > 0
        else error_from_last_error(code, "message", "op")
    )
    assert err is not None
    assert type(err) is info.error_class
    assert err.code == code
    assert (err.retryable, err.counts_for_breaker) == (info.retryable, info.counts_for_breaker)
    assert describe_code(code) == info.name


def test_names_follow_the_mt5_spelling() -> None:
    assert describe_code(-6) == "RES_E_AUTH_FAILED"
    assert describe_code(-10004) == "RES_E_INTERNAL_FAIL_CONNECT"
    assert describe_code(10019) == "TRADE_RETCODE_NO_MONEY"
    assert describe_code(10031) == "TRADE_RETCODE_CONNECTION"
    assert describe_code(12345) == "UNKNOWN(12345)"


@pytest.mark.parametrize(
    ("code", "cls"),
    [(-10000, MT5ConnectionError), (-10001, MT5ConnectionError), (-10002, MT5ConnectionError),
     (-10003, MT5InitError), (-10004, MT5ConnectionError), (-10005, MT5TimeoutError),
     (-6, MT5AuthError), (-2, MT5ValidationError), (-4, MT5DataError), (-8, MT5TradingDisabled)],
)
def test_last_error_codes_map_to_the_suggested_kinds(code: int, cls: type[MT5Error]) -> None:
    assert type(error_from_last_error(code, "m", "op")) is cls


def test_counting_rule_infrastructure_counts_business_outcomes_do_not() -> None:
    for code, info in CODE_TABLE.items():
        if info.error_class in (MT5ConnectionError, MT5InitError, MT5AuthError, MT5TimeoutError):
            assert info.counts_for_breaker, describe_code(code)
        if info.error_class in (MT5ValidationError, MT5DataError):
            assert not info.counts_for_breaker, describe_code(code)
    for neutral in (10004, 10014, 10016, 10018, 10019, 10024, -2, -4, -8):
        assert not CODE_TABLE[neutral].counts_for_breaker, describe_code(neutral)


@pytest.mark.parametrize(
    ("retcode", "cls", "retryable", "counts"),
    [(10012, MT5TimeoutError, False, True), (10031, MT5ConnectionError, True, True),
     (10024, MT5StateError, True, False), (10004, MT5StateError, True, False),
     (10020, MT5StateError, True, False), (10021, MT5StateError, True, False),
     (10018, MT5StateError, False, False), (10019, MT5StateError, False, False),
     (10014, MT5ValidationError, False, False), (10030, MT5ValidationError, False, False)],
)
def test_trade_retcodes(retcode: int, cls: type[MT5Error], retryable: bool, counts: bool) -> None:
    err = error_from_retcode(retcode, "text", "order_send")
    assert type(err) is cls
    assert err is not None and (err.retryable, err.counts_for_breaker) == (retryable, counts)


@pytest.mark.parametrize("retcode", [0, 10008, 10009, 10010])
def test_success_retcodes_are_not_errors(retcode: int) -> None:
    assert is_trade_success(retcode)
    assert error_from_retcode(retcode, "Request executed", "order_send") is None


def test_an_order_whose_reply_was_lost_is_never_retryable() -> None:
    assert error_from_last_error(-10005, "IPC timeout", "get_price").retryable
    for op in ("order_send", "place_order"):
        err = error_from_last_error(-10005, "IPC timeout", op)
        assert isinstance(err, MT5TimeoutError) and not err.retryable and err.counts_for_breaker


@pytest.mark.parametrize("code", [-10017, -10999, -99, 7, 0, 2**31, -(2**31)])
def test_unknown_last_error_codes_never_crash(code: int) -> None:
    err = error_from_last_error(code, "???", "op")
    expected = MT5ConnectionError if -10999 <= code <= -10000 else MT5StateError
    if code == 0:
        expected = MT5DataError  # a failed call that left a success code behind
    assert type(err) is expected
    assert str(err)


def test_none_with_success_left_behind_is_a_retryable_data_error() -> None:
    err = error_from_last_error(1, "Success", "get_price")
    assert isinstance(err, MT5DataError) and err.retryable and not err.counts_for_breaker


@pytest.mark.parametrize("retcode", [10005, 10037, 10100, -1, 99999])
def test_unknown_retcodes_are_neutral_state_errors(retcode: int) -> None:
    err = error_from_retcode(retcode, "odd", "order_send")
    assert isinstance(err, MT5Error) and not err.counts_for_breaker


def test_str_is_one_readable_line() -> None:
    err = error_from_last_error(-10004, "No IPC connection", "get_price")
    assert (
        str(err) == "get_price failed: connection lost (code -10004 'No IPC connection'); retryable"
    )
    msg = str(MT5ValidationError(operation="place_order", field="volume", detail="0 lots"))
    assert msg == "place_order failed: invalid request: 0 lots; not retryable"
    assert "\n" not in str(error_from_retcode(10019, "No money", "order_send"))


def test_retry_at_and_client_order_id_are_shown() -> None:
    at = datetime(2025, 1, 6, 9, 1, tzinfo=UTC)
    opened = MT5CircuitBreakerOpen(operation="get_price", retry_at=at)
    assert opened.kind == "circuit_open" and opened.retryable and not opened.counts_for_breaker
    assert "next attempt at 2025-01-06T09:01:00+00:00" in str(opened)
    down = MT5Unavailable(operation="get_price", retry_at=at)
    assert isinstance(down, MT5StateError) and down.retryable and not down.counts_for_breaker
    unknown = MT5OrderOutcomeUnknown(operation="place_order", client_order_id="c-42")
    assert isinstance(unknown, MT5StateError) and not unknown.retryable
    assert "c-42" in str(unknown) and unknown.client_order_id == "c-42"


def test_kinds_and_class_defaults() -> None:
    for cls, kind in KINDS.items():
        assert cls.kind == kind and issubclass(cls, MT5Error)
    flags = {cls: (cls.default_retryable, cls.default_counts_for_breaker) for cls in KINDS}
    assert flags[MT5ConnectionError] == (True, True)
    assert flags[MT5ValidationError] == (False, False)
    assert MT5OrderOutcomeUnknown.kind == MT5Unavailable.kind == "state"


def test_instances_may_override_the_flags() -> None:
    err = MT5DataError(
        operation="get_price", detail="stale", retryable=True, counts_for_breaker=True
    )
    assert err.retryable and err.counts_for_breaker
    assert MT5DataError(operation="x").retryable is False


def test_errors_pickle_with_all_their_fields() -> None:
    at = datetime(2025, 1, 6, tzinfo=UTC)
    for err in (
        error_from_last_error(-6, "Terminal: Authorization failed", "initialize", "login 5001"),
        MT5ValidationError(operation="place_order", field="volume", retryable=True),
        MT5Unavailable(operation="get_price", retry_at=at),
        MT5OrderOutcomeUnknown(operation="place_order", client_order_id="c-1", code=-10005),
    ):
        copy = pickle.loads(pickle.dumps(err))
        assert type(copy) is type(err) and vars(copy) == vars(err) and str(copy) == str(err)


def test_errors_name_the_public_module() -> None:
    assert MT5Error.__module__ == "mt5guard.errors"
    assert MT5OrderOutcomeUnknown.__module__ == "mt5guard.errors"


def test_no_credential_can_enter_an_error() -> None:
    with pytest.raises(TypeError):
        MT5AuthError(operation="initialize", password="hunter2")  # type: ignore[call-arg]
    err = error_from_last_error(-6, "Terminal: Authorization failed", "initialize")
    assert "password" not in repr(err).lower()
