"""The MT5Error hierarchy and the one table that classifies MetaTrader 5 codes.

Every failure mt5guard reports is an :class:`MT5Error` carrying data, not prose
to parse: a ``kind``, the MT5 ``code``, what the terminal said, the operation,
whether retrying may help (``retryable``) and whether it is evidence that the
terminal is unhealthy (``counts_for_breaker``).

Counting rule: connection, init, auth and timeout errors count against the
circuit breaker; business outcomes (market closed, no money, invalid volume,
unknown symbol, ...) are neutral, because a healthy terminal produces them too.

Errors never hold credentials: no constructor takes one, and callers must not
put a password or any other secret into ``detail``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, NamedTuple, Required, TypedDict, Unpack

__all__ = [
    "CODE_TABLE",
    "ORDER_OUTCOME_UNKNOWN_CODES",
    "CodeInfo",
    "MT5AuthError",
    "MT5CircuitBreakerOpen",
    "MT5ConnectionError",
    "MT5DataError",
    "MT5Error",
    "MT5InitError",
    "MT5OrderOutcomeUnknown",
    "MT5RateLimited",
    "MT5StateError",
    "MT5TimeoutError",
    "MT5TradingDisabled",
    "MT5Unavailable",
    "MT5ValidationError",
    "describe_code",
    "error_from_last_error",
    "error_from_retcode",
    "is_trade_success",
]



class _ErrorArgs(TypedDict, total=False):
    """The keyword arguments every MT5Error takes (see :class:`MT5Error`)."""

    operation: Required[str]
    code: int | None
    terminal_message: str
    detail: str
    retryable: bool | None
    counts_for_breaker: bool | None


class MT5Error(Exception):
    """Base of every error mt5guard reports about a MetaTrader 5 call.

    ``retryable`` and ``counts_for_breaker`` default to the subclass's class
    attributes; an instance may override either. ``detail`` is our own
    explanation and must never contain a secret.
    """

    kind: ClassVar[str] = "error"
    summary: ClassVar[str] = "failed"
    default_retryable: ClassVar[bool] = False
    default_counts_for_breaker: ClassVar[bool] = False

    def __init__(
        self,
        *,
        operation: str,
        code: int | None = None,
        terminal_message: str = "",
        detail: str = "",
        retryable: bool | None = None,
        counts_for_breaker: bool | None = None,
    ) -> None:
        self.operation = operation
        self.code = code
        self.terminal_message = terminal_message
        self.detail = detail
        self.retryable = self.default_retryable if retryable is None else retryable
        self.counts_for_breaker = (
            self.default_counts_for_breaker if counts_for_breaker is None else counts_for_breaker
        )
        super().__init__(self._one_line())

    def to_dict(self) -> dict[str, Any]:
        """The error as plain data ``json.dumps`` accepts (never a secret: ``detail`` has none)."""
        from mt5guard.plain import plain

        fields = {"error": type(self).__name__, "kind": self.kind, "operation": self.operation,
                  "code": self.code, "terminal_message": self.terminal_message,
                  "detail": self.detail, "retryable": self.retryable,
                  "counts_for_breaker": self.counts_for_breaker, **self._extra_fields()}
        data: dict[str, Any] = plain(fields)
        return data

    def _extra_fields(self) -> dict[str, Any]:
        return {}

    def _suffix(self) -> str:
        return ""

    def _one_line(self) -> str:
        text = f"{self.operation} failed: {self.summary}"
        if self.detail:
            text += f": {self.detail}"
        if self.code is not None:
            text += f" (code {self.code} {self.terminal_message!r})"
        elif self.terminal_message:
            text += f" ({self.terminal_message!r})"
        text += "; retryable" if self.retryable else "; not retryable"
        return text + self._suffix()

    def __str__(self) -> str:
        return self._one_line()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._one_line()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        state = {
            "operation": self.operation,
            "code": self.code,
            "terminal_message": self.terminal_message,
            "detail": self.detail,
            "retryable": self.retryable,
            "counts_for_breaker": self.counts_for_breaker,
            **self._extra_fields(),
        }
        return (_rebuild, (type(self), state))


def _rebuild(cls: type[MT5Error], state: dict[str, Any]) -> MT5Error:
    return cls(**state)


class _RetryAt(MT5Error):
    """Adds ``retry_at``: the wall time (UTC) of the next attempt, if known."""

    def __init__(self, *, retry_at: datetime | None = None, **kwargs: Unpack[_ErrorArgs]) -> None:
        self.retry_at = retry_at
        super().__init__(**kwargs)

    def _extra_fields(self) -> dict[str, Any]:
        return {"retry_at": self.retry_at}

    def _suffix(self) -> str:
        return _at(self.retry_at)


def _at(moment: datetime | None) -> str:
    return "" if moment is None else f"; next attempt at {moment.isoformat()}"


class MT5InitError(MT5Error):
    """The terminal could not be started or attached to (``initialize``)."""

    kind = "init"
    summary = "terminal initialization failed"
    default_retryable = True
    default_counts_for_breaker = True


class MT5AuthError(MT5Error):
    """The trade server refused the account (wrong or revoked credentials).

    Not retryable by the caller: reconnecting with backoff is the session's job.
    """

    kind = "auth"
    summary = "authorization failed"
    default_retryable = False
    default_counts_for_breaker = True


class MT5CircuitBreakerOpen(_RetryAt):
    """Rejected at once, without calling the terminal, because the breaker is open.

    ``retry_at`` is when the breaker will next admit a trial call.
    """

    kind = "circuit_open"
    summary = "circuit breaker open"
    default_retryable = True
    default_counts_for_breaker = False


class MT5TimeoutError(MT5Error):
    """The call did not complete in time (IPC timeout, trade request timeout)."""

    kind = "timeout"
    summary = "timed out"
    default_retryable = True
    default_counts_for_breaker = True


class MT5DataError(MT5Error):
    """The terminal answered but had no usable data (unknown symbol, no tick)."""

    kind = "data"
    summary = "no data"
    default_retryable = False
    default_counts_for_breaker = False


class MT5ConnectionError(MT5Error):
    """The IPC link to the terminal, or the terminal's link to the server, is down."""

    kind = "connection"
    summary = "connection lost"
    default_retryable = True
    default_counts_for_breaker = True


class MT5ValidationError(MT5Error):
    """The request itself is wrong; ``field`` names the bad argument when known."""

    kind = "validation"
    summary = "invalid request"
    default_retryable = False
    default_counts_for_breaker = False

    def __init__(self, *, field: str | None = None, **kwargs: Unpack[_ErrorArgs]) -> None:
        self.field = field
        super().__init__(**kwargs)

    def _extra_fields(self) -> dict[str, Any]:
        return {"field": self.field}


class MT5StateError(MT5Error):
    """Not possible in the current market, account or session state."""

    kind = "state"
    summary = "refused in the current state"
    default_retryable = False
    default_counts_for_breaker = False


class MT5TradingDisabled(MT5StateError):
    """Trading is switched off for this account: AutoTrading off in the terminal (or the
    Python API disabled there), trading refused by the server, or an investor (read-only)
    login. Retrying cannot help until a person changes it; reads keep working."""

    kind = "trading_disabled"
    summary = "trading is disabled"


class MT5OrderOutcomeUnknown(_RetryAt, MT5StateError):
    """The order may or may not have executed; it was NOT re-sent.

    The session reconciles it against the terminal's orders, positions and
    history by ``client_order_id`` (the start of the order's comment) after
    every reconnect and whenever the same id is requested again. Ask again
    with the same id at or after ``retry_at``: the answer is the outcome read
    back, or this error again while the terminal shows nothing.
    """

    summary = "order outcome unknown, not re-sent"

    def __init__(
        self,
        *,
        client_order_id: str,
        retry_at: datetime | None = None,
        **kwargs: Unpack[_ErrorArgs],
    ) -> None:
        self.client_order_id = client_order_id
        super().__init__(retry_at=retry_at, **kwargs)

    def _extra_fields(self) -> dict[str, Any]:
        return {"client_order_id": self.client_order_id, **super()._extra_fields()}

    def _suffix(self) -> str:
        return f"; client order id {self.client_order_id!r}{super()._suffix()}"


class MT5Unavailable(_RetryAt, MT5StateError):
    """The session is down; ``retry_at`` is when the next attempt is due."""

    summary = "session unavailable"
    default_retryable = True
    default_counts_for_breaker = False


class MT5RateLimited(_RetryAt):
    """Refused before sending: the account's request or order rate limit is used up.

    ``retry_at`` is when a token will be free; nothing reached the terminal.
    """

    kind = "rate_limited"
    summary = "rate limit reached"
    default_retryable = True
    default_counts_for_breaker = False


# Tracebacks and docs should name the public module, as trio does for its own.
for _cls in (
    MT5Error,
    MT5InitError,
    MT5AuthError,
    MT5CircuitBreakerOpen,
    MT5TimeoutError,
    MT5DataError,
    MT5ConnectionError,
    MT5ValidationError,
    MT5StateError,
    MT5TradingDisabled,
    MT5OrderOutcomeUnknown,
    MT5Unavailable,
    MT5RateLimited,
):
    _cls.__module__ = "mt5guard.errors"


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
    if operation in _SEND_OPERATIONS and code in ORDER_OUTCOME_UNKNOWN_CODES:
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
    retryable data error. For ``order_send``/``place_order``, codes in
    :data:`ORDER_OUTCOME_UNKNOWN_CODES` are never retryable.
    """
    info = CODE_TABLE.get(code)
    if info is not None and info.error_class is not None:
        return _from_info(info.error_class, info, code, message, operation, detail)
    if info is not None:
        return MT5DataError(
            operation=operation,
            code=code,
            terminal_message=message,
            detail=detail or "the call returned nothing although the terminal reported success",
            retryable=True,
        )
    if -10999 <= code <= -10000:
        return MT5ConnectionError(
            operation=operation, code=code, terminal_message=message, detail=detail
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
