"""The MT5Error hierarchy: every failure mt5guard reports, as data.

Each error carries a ``kind``, the MT5 ``code``, what the terminal said, the
operation, ``retryable`` and ``counts_for_breaker``; the table that maps MT5
codes to these classes is ``errors/_codes.py``. Import both from
:mod:`mt5guard.errors`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Required, TypedDict, Unpack

__all__ = [
    "MT5AuthError",
    "MT5CircuitBreakerOpen",
    "MT5ConnectionError",
    "MT5DataError",
    "MT5Error",
    "MT5IdempotencyConflict",
    "MT5InitError",
    "MT5JournalError",
    "MT5OrderOutcomeUnknown",
    "MT5RateLimited",
    "MT5StateError",
    "MT5TimeoutError",
    "MT5TradingDisabled",
    "MT5Unavailable",
    "MT5ValidationError",
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
    attributes (``default_retryable``, ``default_counts_for_breaker``, set by the
    keywords of its class line); an instance may override either. ``detail`` is our own
    explanation and must never contain a secret.
    """

    kind: ClassVar[str] = "error"
    summary: ClassVar[str] = "failed"
    default_retryable: ClassVar[bool] = False
    default_counts_for_breaker: ClassVar[bool] = False

    def __init_subclass__(cls, *, kind: str | None = None, summary: str | None = None,
                          retryable: bool | None = None,
                          counts_for_breaker: bool | None = None) -> None:
        """A subclass states its policy on its class line; what it leaves out it inherits.

        Class keywords rather than attribute assignments: a misspelt one fails at
        import (and under mypy) instead of quietly adding an attribute nobody reads.
        """
        super().__init_subclass__()
        if kind is not None:
            cls.kind = kind
        if summary is not None:
            cls.summary = summary
        if retryable is not None:
            cls.default_retryable = retryable
        if counts_for_breaker is not None:
            cls.default_counts_for_breaker = counts_for_breaker

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


class MT5InitError(MT5Error, kind="init", summary="terminal initialization failed", retryable=True,
                   counts_for_breaker=True):
    """The terminal could not be started or attached to (``initialize``)."""


class MT5AuthError(MT5Error, kind="auth", summary="authorization failed", retryable=False,
                   counts_for_breaker=True):
    """The trade server refused the account (wrong or revoked credentials).

    Not retryable by the caller: reconnecting with backoff is the session's job.
    """


class MT5CircuitBreakerOpen(_RetryAt, kind="circuit_open", summary="circuit breaker open",
                            retryable=True, counts_for_breaker=False):
    """Rejected at once, without calling the terminal, because the breaker is open.

    ``retry_at`` is when the breaker will next admit a trial call.
    """


class MT5TimeoutError(MT5Error, kind="timeout", summary="timed out", retryable=True,
                      counts_for_breaker=True):
    """The call did not complete in time (IPC timeout, trade request timeout)."""


class MT5DataError(MT5Error, kind="data", summary="no data", retryable=False,
                   counts_for_breaker=False):
    """The terminal answered but had no usable data (unknown symbol, no tick)."""


class MT5ConnectionError(MT5Error, kind="connection", summary="connection lost", retryable=True,
                         counts_for_breaker=True):
    """The IPC link to the terminal, or the terminal's link to the server, is down."""


class MT5ValidationError(MT5Error, kind="validation", summary="invalid request", retryable=False,
                         counts_for_breaker=False):
    """The request itself is wrong; ``field`` names the bad argument when known."""

    def __init__(self, *, field: str | None = None, **kwargs: Unpack[_ErrorArgs]) -> None:
        self.field = field
        super().__init__(**kwargs)

    def _extra_fields(self) -> dict[str, Any]:
        return {"field": self.field}


class MT5IdempotencyConflict(MT5ValidationError,
                             summary="client order id already used for a different request"):
    """A client order id reused for a different request (as a payment API answers a reused
    idempotency key): nothing was sent. The same request again returns the first answer."""

    def __init__(self, *, client_order_id: str, field: str | None = "client_order_id",
                 **kwargs: Unpack[_ErrorArgs]) -> None:
        self.client_order_id = client_order_id
        super().__init__(field=field or "client_order_id", **kwargs)

    def _extra_fields(self) -> dict[str, Any]:
        return {"field": self.field, "client_order_id": self.client_order_id}

    def _suffix(self) -> str:
        return f"; client order id {self.client_order_id!r}"


class MT5StateError(MT5Error, kind="state", summary="refused in the current state", retryable=False,
                    counts_for_breaker=False):
    """Not possible in the current market, account or session state."""


class MT5TradingDisabled(MT5StateError, kind="trading_disabled", summary="trading is disabled"):
    """Trading is switched off for this account: AutoTrading off in the terminal (or the
    Python API disabled there), trading refused by the server, or an investor (read-only)
    login. Retrying cannot help until a person changes it; reads keep working."""


class MT5OrderOutcomeUnknown(_RetryAt, MT5StateError, summary="order outcome unknown, not re-sent"):
    """The order may or may not have executed; it was NOT re-sent.

    The session reconciles it against the terminal's orders, positions and
    history by ``client_order_id`` (the start of the order's comment) after
    every reconnect and whenever the same id is requested again. Ask again
    with the same id at or after ``retry_at``: the answer is the outcome read
    back, or this error again while the terminal shows nothing.
    """

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


class MT5JournalError(MT5Error, kind="journal", summary="order journal unavailable", retryable=True,
                      counts_for_breaker=False):
    """The account's order journal could not be read or written (disk full, I/O error).

    Not a terminal fault (neutral for the breaker). Raised before anything is
    sent: nothing was sent, so it is retryable once the journal writes again;
    ``path`` is the journal's file. New orders are refused until then.
    """

    def __init__(self, *, path: str = "", **kwargs: Unpack[_ErrorArgs]) -> None:
        self.path = path
        super().__init__(**kwargs)

    def _extra_fields(self) -> dict[str, Any]:
        return {"path": self.path}


class MT5Unavailable(_RetryAt, MT5StateError, summary="session unavailable", retryable=True,
                     counts_for_breaker=False):
    """The session is down; ``retry_at`` is when the next attempt is due."""


class MT5RateLimited(_RetryAt, kind="rate_limited", summary="rate limit reached", retryable=True,
                     counts_for_breaker=False):
    """Refused before sending: the account's request or order rate limit is used up.

    ``retry_at`` is when a token will be free; nothing reached the terminal.
    """


# Tracebacks and docs should name the public module, as trio does for its own.
for _name in __all__:
    globals()[_name].__module__ = "mt5guard.errors"
