"""The one table that classifies MetaTrader 5 codes, and the functions that read it.

``last_error()`` codes and trade retcodes map to an :class:`~mt5guard.errors.MT5Error`
class, ``retryable`` and ``counts_for_breaker`` (:data:`CODE_TABLE`); a code
after which an order may have executed unseen is never retryable
(:data:`ORDER_OUTCOME_UNKNOWN_CODES`).
"""

from __future__ import annotations

from typing import NamedTuple

from mt5guard.errors._hierarchy import (
    MT5AuthError,
    MT5ConnectionError,
    MT5DataError,
    MT5Error,
    MT5InitError,
    MT5StateError,
    MT5TimeoutError,
    MT5TradingDisabled,
    MT5ValidationError,
)

__all__ = [
    "CODE_TABLE",
    "ORDER_NOT_SENT_CODES",
    "ORDER_OUTCOME_UNKNOWN_CODES",
    "CodeInfo",
    "describe_code",
    "error_from_last_error",
    "error_from_retcode",
    "is_trade_success",
]


class CodeInfo(NamedTuple):
    """How one MT5 code is classified. ``error_class`` is None for success codes."""

    name: str
    error_class: type[MT5Error] | None
    retryable: bool
    counts_for_breaker: bool


def _ok(name: str) -> CodeInfo:
    return CodeInfo(name, None, False, False)


_C, _T, _I, _A = MT5ConnectionError, MT5TimeoutError, MT5InitError, MT5AuthError
_V, _D, _S, _TD = MT5ValidationError, MT5DataError, MT5StateError, MT5TradingDisabled

#: last_error codes (1, -1..-8, -10000..-10005) and trade retcodes (10004..10045),
#: plus order_check's passing 0. Columns: name, class, retryable, counts_for_breaker.
#: Judgement calls: -1 "Call failed" is a generic refusal (retry may help, neutral);
#: -3 out of memory and -5 wrong terminal version mean an unhealthy terminal and
#: count; 10012 TIMEOUT counts but is not retryable, since the order may have
#: executed (reconcile first); requotes, price changes and "too many requests"
#: are retryable business outcomes, neutral for the breaker.
CODE_TABLE: dict[int, CodeInfo] = {
    1: _ok("RES_S_OK"),
    -1: CodeInfo("RES_E_FAIL", _S, True, False),
    -2: CodeInfo("RES_E_INVALID_PARAMS", _V, False, False),
    -3: CodeInfo("RES_E_NO_MEMORY", _S, True, True),
    -4: CodeInfo("RES_E_NOT_FOUND", _D, False, False),
    -5: CodeInfo("RES_E_INVALID_VERSION", _I, False, True),
    -6: CodeInfo("RES_E_AUTH_FAILED", _A, False, True),
    -7: CodeInfo("RES_E_UNSUPPORTED", _S, False, False),
    -8: CodeInfo("RES_E_AUTO_TRADING_DISABLED", _TD, False, False),
    -10000: CodeInfo("RES_E_INTERNAL_FAIL", _C, True, True),
    -10001: CodeInfo("RES_E_INTERNAL_FAIL_SEND", _C, True, True),
    -10002: CodeInfo("RES_E_INTERNAL_FAIL_RECEIVE", _C, True, True),
    -10003: CodeInfo("RES_E_INTERNAL_FAIL_INIT", _I, True, True),
    -10004: CodeInfo("RES_E_INTERNAL_FAIL_CONNECT", _C, True, True),
    -10005: CodeInfo("RES_E_INTERNAL_FAIL_TIMEOUT", _T, True, True),
    0: _ok("ORDER_CHECK_OK"),
    10004: CodeInfo("TRADE_RETCODE_REQUOTE", _S, True, False),
    10006: CodeInfo("TRADE_RETCODE_REJECT", _S, False, False),
    10007: CodeInfo("TRADE_RETCODE_CANCEL", _S, False, False),
    10008: _ok("TRADE_RETCODE_PLACED"),
    10009: _ok("TRADE_RETCODE_DONE"),
    10010: _ok("TRADE_RETCODE_DONE_PARTIAL"),
    10011: CodeInfo("TRADE_RETCODE_ERROR", _S, False, False),
    10012: CodeInfo("TRADE_RETCODE_TIMEOUT", _T, False, True),
    10013: CodeInfo("TRADE_RETCODE_INVALID", _V, False, False),
    10014: CodeInfo("TRADE_RETCODE_INVALID_VOLUME", _V, False, False),
    10015: CodeInfo("TRADE_RETCODE_INVALID_PRICE", _V, False, False),
    10016: CodeInfo("TRADE_RETCODE_INVALID_STOPS", _V, False, False),
    10017: CodeInfo("TRADE_RETCODE_TRADE_DISABLED", _S, False, False),
    10018: CodeInfo("TRADE_RETCODE_MARKET_CLOSED", _S, False, False),
    10019: CodeInfo("TRADE_RETCODE_NO_MONEY", _S, False, False),
    10020: CodeInfo("TRADE_RETCODE_PRICE_CHANGED", _S, True, False),
    10021: CodeInfo("TRADE_RETCODE_PRICE_OFF", _S, True, False),
    10022: CodeInfo("TRADE_RETCODE_INVALID_EXPIRATION", _V, False, False),
    10023: CodeInfo("TRADE_RETCODE_ORDER_CHANGED", _S, False, False),
    10024: CodeInfo("TRADE_RETCODE_TOO_MANY_REQUESTS", _S, True, False),
    10025: CodeInfo("TRADE_RETCODE_NO_CHANGES", _S, False, False),
    10026: CodeInfo("TRADE_RETCODE_SERVER_DISABLES_AT", _TD, False, False),
    10027: CodeInfo("TRADE_RETCODE_CLIENT_DISABLES_AT", _TD, False, False),
    10028: CodeInfo("TRADE_RETCODE_LOCKED", _S, False, False),
    10029: CodeInfo("TRADE_RETCODE_FROZEN", _S, False, False),
    10030: CodeInfo("TRADE_RETCODE_INVALID_FILL", _V, False, False),
    10031: CodeInfo("TRADE_RETCODE_CONNECTION", _C, True, True),
    10032: CodeInfo("TRADE_RETCODE_ONLY_REAL", _S, False, False),
    10033: CodeInfo("TRADE_RETCODE_LIMIT_ORDERS", _S, False, False),
    10034: CodeInfo("TRADE_RETCODE_LIMIT_VOLUME", _S, False, False),
    10035: CodeInfo("TRADE_RETCODE_INVALID_ORDER", _V, False, False),
    10036: CodeInfo("TRADE_RETCODE_POSITION_CLOSED", _S, False, False),
    10038: CodeInfo("TRADE_RETCODE_INVALID_CLOSE_VOLUME", _V, False, False),
    10039: CodeInfo("TRADE_RETCODE_CLOSE_ORDER_EXIST", _S, False, False),
    10040: CodeInfo("TRADE_RETCODE_LIMIT_POSITIONS", _S, False, False),
    10041: CodeInfo("TRADE_RETCODE_REJECT_CANCEL", _S, False, False),
    10042: CodeInfo("TRADE_RETCODE_LONG_ONLY", _S, False, False),
    10043: CodeInfo("TRADE_RETCODE_SHORT_ONLY", _S, False, False),
    10044: CodeInfo("TRADE_RETCODE_CLOSE_ONLY", _S, False, False),
    10045: CodeInfo("TRADE_RETCODE_FIFO_CLOSE", _S, False, False),
}

#: Codes after which an order_send may have executed although no fill was
#: reported (reply lost in transit or request timed out): never re-send blindly.
ORDER_OUTCOME_UNKNOWN_CODES: frozenset[int] = frozenset({-10002, -10005, 10012})

#: last_error codes after which an order_send surely did not leave the terminal:
#: the module refused the arguments (-2), or the terminal cannot trade at all
#: (wrong version, not authorized, unsupported, AutoTrading disabled). After
#: any other code (1 "Success" with None, -1 call failed, -3 out of memory,
#: IPC codes, codes MT5 does not document) the order may have executed.
ORDER_NOT_SENT_CODES: frozenset[int] = frozenset({-2, -5, -6, -7, -8})

_SEND_OPERATIONS = frozenset({"order_send", "place_order"})


def describe_code(code: int) -> str:
    """The MT5 name of ``code`` (``"RES_E_AUTH_FAILED"``), or ``"UNKNOWN(<code>)"``."""
    info = CODE_TABLE.get(code)
    return info.name if info is not None else f"UNKNOWN({code})"


def is_trade_success(retcode: int) -> bool:
    """True for order_check's 0 and for PLACED, DONE and DONE_PARTIAL (10008-10010)."""
    return retcode in (0, 10008, 10009, 10010)


def _from_info(
    error_class: type[MT5Error],
    info: CodeInfo,
    code: int,
    message: str,
    operation: str,
    detail: str,
) -> MT5Error:
    retryable = info.retryable
    if operation in _SEND_OPERATIONS and (code in ORDER_OUTCOME_UNKNOWN_CODES or (
            code < 10000 and code not in ORDER_NOT_SENT_CODES)):
        retryable = False
    return error_class(
        operation=operation,
        code=code,
        terminal_message=message,
        detail=detail,
        retryable=retryable,
        counts_for_breaker=info.counts_for_breaker,
    )


def error_from_last_error(code: int, message: str, operation: str, detail: str = "") -> MT5Error:
    """Classify a ``last_error()`` pair after a call returned None or False.

    Never raises. An unknown code in -10999..-10000 is treated as a connection
    error, any other unknown code as a neutral state error. Code 1 (a failed
    call that left "Success" behind, which the real module does) becomes a
    retryable data error. For ``order_send``/``place_order`` only the codes in
    :data:`ORDER_NOT_SENT_CODES` may be retryable: after any other the order
    may have left.
    """
    sending = operation in _SEND_OPERATIONS
    info = CODE_TABLE.get(code)
    if info is not None and info.error_class is not None:
        return _from_info(info.error_class, info, code, message, operation, detail)
    if info is not None:
        return MT5DataError(
            operation=operation,
            code=code,
            terminal_message=message,
            detail=detail or "the call returned nothing although the terminal reported success",
            retryable=not sending,
        )
    if -10999 <= code <= -10000:
        return MT5ConnectionError(
            operation=operation, code=code, terminal_message=message, detail=detail,
            retryable=not sending,
        )
    return MT5StateError(operation=operation, code=code, terminal_message=message, detail=detail)


def error_from_retcode(retcode: int, comment: str, operation: str) -> MT5Error | None:
    """Classify a trade result's ``retcode``; None when it reports success.

    Never raises: an unknown retcode becomes a neutral, non-retryable
    :class:`MT5StateError`.
    """
    if is_trade_success(retcode):
        return None
    info = CODE_TABLE.get(retcode)
    if info is not None and info.error_class is not None:
        return _from_info(info.error_class, info, retcode, comment, operation, "")
    return MT5StateError(operation=operation, code=retcode, terminal_message=comment)
