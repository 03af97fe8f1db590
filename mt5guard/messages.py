"""The protocol: every message the actors exchange, grouped by receiver.

All messages are frozen attrs classes with slots, compared by value. A reply
channel (``reply_to``) is a :class:`concurrent.futures.Future` that the
receiver completes with the result or a typed :class:`~mt5guard.errors.MT5Error`;
it is excluded from equality. Times are the clock's wall time (UTC);
``deadline`` values are the clock's monotonic seconds; latencies are in
milliseconds.

Reading order: requests to the SessionActor, outcomes to the BreakerActor,
probe traffic for the HealthProbeActor, then the events everybody may
subscribe to (breaker, health, session, supervision).
"""

from __future__ import annotations

import enum
from concurrent.futures import Future
from datetime import datetime
from typing import Any

import attrs

from mt5guard.plain import PlainData
from mt5guard.supervision.events import (
    ChildAbandoned,
    ChildExited,
    ChildFailed,
    ChildStarted,
    RestartScheduled,
    SupervisorGaveUp,
    SupervisorStopped,
)

__all__ = [
    "BreakerSnapshot",
    "BreakerState",
    "BreakerStateChanged",
    "CallFailed",
    "CallRejected",
    "CallSucceeded",
    "ChangeKind",
    "ChangeTrade",
    "ChildAbandoned",
    "ChildExited",
    "ChildFailed",
    "ChildStarted",
    "Connect",
    "Disconnect",
    "ForceOpen",
    "GetAccountInfo",
    "GetBreakerSnapshot",
    "GetHealth",
    "GetOrders",
    "GetPositions",
    "GetPrice",
    "HealthChanged",
    "HealthReport",
    "HealthStatus",
    "OrderCancelled",
    "OrderFilled",
    "OrderOutcome",
    "OrderPlaced",
    "OrderReconciled",
    "OrderRequest",
    "PlaceOrder",
    "PollQuotes",
    "PollTrades",
    "PositionClosed",
    "PositionModified",
    "PositionOpened",
    "ProbeRecorded",
    "ProbeResult",
    "ReadMarketData",
    "Reconnect",
    "RequestCompleted",
    "ResetBreaker",
    "RestartScheduled",
    "RunProbe",
    "SessionConnected",
    "SessionDisconnected",
    "SetBreakerEnabled",
    "Side",
    "StaleQuote",
    "SubscribeBreaker",
    "SubscribeHealth",
    "SubscribeQuotes",
    "SupervisorGaveUp",
    "SupervisorStopped",
    "Tick",
    "TradeChange",
    "TradeEvent",
    "TrialsGranted",
    "WebhookBreakerChanged",
    "WebhookDelivered",
    "WebhookDropped",
    "WebhookFailed",
]

def _reply() -> Any:
    return attrs.field(eq=False, repr=False, kw_only=True)


# --- to the SessionActor: requests (from the Session facade) ---------------


@attrs.frozen
class Connect(PlainData):
    """Connect now if not connected (initialize + login)."""

    reply_to: Future[Any] = _reply()
    deadline: float | None = None


@attrs.frozen
class Disconnect(PlainData):
    """Shut the terminal connection down; the session stays up, disconnected."""

    reply_to: Future[Any] = _reply()
    deadline: float | None = None


@attrs.frozen
class Reconnect(PlainData):
    """Shut down and connect again in place."""

    reply_to: Future[Any] = _reply()
    deadline: float | None = None


@attrs.frozen
class GetAccountInfo(PlainData):
    reply_to: Future[Any] = _reply()
    deadline: float | None = None


@attrs.frozen
class GetPrice(PlainData):
    """The latest tick for ``symbol`` (selected in Market Watch on demand)."""

    symbol: str
    reply_to: Future[Any] = _reply()
    deadline: float | None = None


@attrs.frozen
class GetPositions(PlainData):
    symbol: str | None = None
    reply_to: Future[Any] = _reply()
    deadline: float | None = None


@attrs.frozen
class GetOrders(PlainData):
    symbol: str | None = None
    reply_to: Future[Any] = _reply()
    deadline: float | None = None


@attrs.frozen
class ReadMarketData(PlainData):
    """A market-data read: ``operation`` is the terminal function
    (``copy_rates_from``, ``copy_ticks_range``, ``symbols_get``, ``symbol_info``,
    ``symbol_select``, ...) and ``args`` its arguments, already validated
    (see :mod:`mt5guard.actors.market_data`).
    """

    operation: str
    args: tuple[Any, ...]
    reply_to: Future[Any] = _reply()
    deadline: float | None = None


class Side(enum.Enum):
    BUY = "buy"
    SELL = "sell"


@attrs.frozen
class OrderRequest(PlainData):
    """A validated market order. ``client_order_id`` makes it idempotent:
    the session never sends two orders with the same id."""

    client_order_id: str
    symbol: str
    side: Side
    volume: float
    """Lots."""
    sl: float = 0.0
    tp: float = 0.0
    deviation: int = 20
    """Points of slippage accepted."""
    magic: int = 0
    comment: str = ""
    position: int = 0
    """Ticket of the position this order closes, 0 to open a new one."""


@attrs.frozen
class PlaceOrder(PlainData):
    order: OrderRequest
    reply_to: Future[Any] = _reply()
    deadline: float | None = None


class ChangeKind(enum.Enum):
    MODIFY = "modify_position"
    CLOSE = "close_position"
    CANCEL = "cancel_order"


@attrs.frozen
class TradeChange(PlainData):
    """A validated change to an open position or a pending order, idempotent by
    ``client_order_id`` like an :class:`OrderRequest`.

    ``ticket`` is the position (MODIFY, CLOSE) or the order (CANCEL). ``sl`` /
    ``tp`` are prices, None keeps the current one, 0 removes it (MODIFY).
    ``volume`` is the lots to close, None for all of it (CLOSE).
    """

    client_order_id: str
    kind: ChangeKind
    ticket: int
    sl: float | None = None
    tp: float | None = None
    volume: float | None = None
    deviation: int = 20


@attrs.frozen
class SubscribeQuotes(PlainData):
    """Quote or trade subscriptions changed: (re)arm the session's polls (no reply)."""


@attrs.frozen
class PollQuotes(PlainData):
    """Timer message: read every subscribed symbol once and publish what changed."""

    reply_to: Future[Any] = _reply()
    deadline: float | None = None


@attrs.frozen
class ChangeTrade(PlainData):
    change: TradeChange
    reply_to: Future[Any] = _reply()
    deadline: float | None = None


@attrs.frozen
class OrderOutcome(PlainData):
    """What happened to an order, as the terminal reports it."""

    client_order_id: str
    retcode: int
    order: int
    deal: int
    volume: float
    price: float
    comment: str
    reconciled: bool = False
    """True when the reply was lost and this was read back from orders/deals."""


# --- to the SessionActor: from the HealthProbeActor -----------------------


@attrs.frozen
class RunProbe(PlainData):
    """Probe the terminal: terminal_info, account_info, one tick of ``symbol``.

    The session replies by telling ``ProbeResult`` to ``reply_to`` (an actor
    ref), tagged with ``seq``.
    """

    symbol: str
    seq: int
    reply_to: Any = _reply()


@attrs.frozen
class ProbeResult(PlainData):
    """One health probe. ``latency_ms`` covers the three terminal calls."""

    seq: int
    connection_ok: bool
    auth_ok: bool
    data_feed_ok: bool
    latency_ms: float
    at: datetime
    error: str | None = None
    skipped: bool = False
    """The session did not probe (breaker OPEN or trial in use): not a result."""


# --- to the HealthProbeActor ---------------------------------------------


@attrs.frozen
class GetHealth(PlainData):
    """Reply with a :class:`HealthReport`."""

    reply_to: Future[Any] = _reply()


@attrs.frozen
class SubscribeHealth(PlainData):
    """Receive ``HealthChanged``: current statuses first, then only changes."""

    subscriber: Any = attrs.field(eq=False)


# --- to the BreakerActor -------------------------------------------------


@attrs.frozen
class CallSucceeded(PlainData):
    """Terminal calls answered (a business rejection also proves liveness).

    While CLOSED the session does not tell every success: it counts them and
    sends one message standing for ``count`` successes in a row (before the
    next failure, on a breaker state change, or every 64 calls), so the hot path
    costs no message to the breaker.
    """

    epoch: int | None
    operation: str
    latency_ms: float
    count: int = 1


@attrs.frozen
class CallFailed(PlainData):
    """A terminal call failed in a way that counts against the breaker."""

    epoch: int | None
    operation: str
    error_kind: str
    code: int | None
    latency_ms: float
    successes_before: int = 0
    """Successes not told yet, which happened before this failure."""


@attrs.frozen
class CallRejected(PlainData):
    """The session rejected ``count`` calls locally because the breaker is open.

    Told in batches (every 64, and before the session applies a new breaker
    state), so fast-fail wakes no other actor.
    """

    count: int = 1


@attrs.frozen
class SubscribeBreaker(PlainData):
    """Receive ``BreakerStateChanged`` (current state first) and ``TrialsGranted``.

    ``subscriber`` is an actor ref (told) or a callable (called on the
    breaker's thread).
    """

    subscriber: Any = attrs.field(eq=False)


@attrs.frozen
class ForceOpen(PlainData):
    reason: str = "forced open by operator"


@attrs.frozen
class ResetBreaker(PlainData):
    """Back to CLOSED with counters of the current window cleared."""


@attrs.frozen
class SetBreakerEnabled(PlainData):
    """``enabled=False`` lets every call through (state shown as DISABLED)."""

    enabled: bool


@attrs.frozen
class GetBreakerSnapshot(PlainData):
    reply_to: Future[Any] = _reply()


# --- events (published on the bus; some also told to the SessionActor) ---


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"
    DISABLED = "disabled"


@attrs.frozen
class BreakerStateChanged(PlainData):
    """A breaker transition. ``old is None`` for the snapshot a new subscriber gets."""

    account: str
    old: BreakerState | None
    new: BreakerState
    reason: str
    at: datetime
    epoch: int
    """Bumped on every transition; outcomes carry it so stale ones are ignored."""
    retry_at: datetime | None = None
    """While OPEN: when HALF_OPEN begins."""
    trials: int = 0
    """While HALF_OPEN: how many trial calls the session may let through."""


@attrs.frozen
class TrialsGranted(PlainData):
    """HALF_OPEN needs more successes: the session may let ``trials`` more through."""

    epoch: int
    trials: int


@attrs.frozen
class BreakerSnapshot(PlainData):
    account: str
    state: BreakerState
    epoch: int
    consecutive_failures: int
    calls: int
    """Outcomes received; successes arrive in batches, so it may lag by up to 64."""
    failures: int
    rejections: int
    """Calls refused while OPEN; told in batches, so it may lag by up to 64."""
    transitions: int
    open_duration: float
    """Seconds the next (or current) OPEN lasts."""
    retry_at: datetime | None


class HealthStatus(enum.Enum):
    UNKNOWN = "UNKNOWN"
    SERVING = "SERVING"
    NOT_SERVING = "NOT_SERVING"
    OUT_OF_SERVICE = "OUT_OF_SERVICE"


@attrs.frozen
class HealthChanged(PlainData):
    """A component's status changed (``old is None``: snapshot for a new subscriber).

    ``component`` is ``overall``, ``connection``, ``auth`` or ``data_feed``.
    """

    account: str
    component: str
    old: HealthStatus | None
    new: HealthStatus
    reason: str
    at: datetime


@attrs.frozen
class HealthReport(PlainData):
    """An account's health as its HealthProbeActor sees it now."""

    account: str
    overall: HealthStatus
    components: tuple[tuple[str, HealthStatus], ...]
    breaker: BreakerState
    last_probe: ProbeResult | None
    at: datetime


@attrs.frozen
class SessionConnected(PlainData):
    account: str
    login: int
    server: str
    at: datetime


@attrs.frozen
class SessionDisconnected(PlainData):
    account: str
    reason: str
    at: datetime
    expected: bool = False
    """True when asked for (stop, disconnect, reconnect), False when lost."""


@attrs.frozen
class OrderReconciled(PlainData):
    """An order id looked up in the terminal (a lost reply, a reconnect, a first sight)."""

    account: str
    client_order_id: str
    outcome: str
    """``executed``, ``pending``, ``not_executed`` (history shows it cancelled or
    rejected: the id is free), ``mismatch`` (a record with the id disagrees on
    symbol, side or volume) or ``unknown`` (nothing found, or no answer)."""
    at: datetime


@attrs.frozen
class ProbeRecorded(PlainData):
    """A probe result, as the HealthProbeActor counted it."""

    account: str
    result: ProbeResult


@attrs.frozen
class RequestCompleted(PlainData):
    """A facade request finished. ``outcome`` is ``ok`` or the error kind."""

    account: str
    operation: str
    outcome: str
    latency_ms: float


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


# --- trade events: the session's book poll saw a change (``external``: not made by mt5guard) ---


@attrs.frozen
class TradeEvent(PlainData):
    """Base of the trade events; ``at`` is the clock's wall time of the poll that saw it."""

    account: str
    ticket: int
    symbol: str
    external: bool
    at: datetime


@attrs.frozen
class PositionOpened(TradeEvent):
    side: str
    volume: float
    price_open: float
    sl: float
    tp: float
    comment: str


@attrs.frozen
class PositionModified(TradeEvent):
    """Stops moved or volume reduced (a partial close); ``*_before`` are the old values."""

    sl_before: float
    sl: float
    tp_before: float
    tp: float
    volume_before: float
    volume: float


@attrs.frozen
class PositionClosed(TradeEvent):
    """``reason`` of the closing deal: client, mobile, web, expert, sl, tp, so (or unknown)."""

    volume: float
    price: float
    profit: float
    reason: str
    deal: int


@attrs.frozen
class OrderPlaced(TradeEvent):
    type: int
    volume: float
    price_open: float
    comment: str


@attrs.frozen
class OrderFilled(TradeEvent):
    """A deal: ``ticket`` is the order, ``entry`` is in, out, inout or out_by."""

    deal: int
    position: int
    side: str
    entry: str
    volume: float
    price: float
    profit: float
    reason: str
    comment: str


@attrs.frozen
class OrderCancelled(TradeEvent):
    """A pending order left the book without a deal (cancelled or expired)."""

    volume: float


@attrs.frozen
class PollTrades(PlainData):
    """Timer message: read positions, orders and new deals and publish the differences."""

    reply_to: Future[Any] = _reply()
    deadline: float | None = None


# --- webhooks (observability) ---------------------------------------------


@attrs.frozen
class WebhookDelivered(PlainData):
    """An event reached ``url`` (``attempts`` POSTs, the last one answered 2xx)."""

    url: str
    event: str
    attempts: int


@attrs.frozen
class WebhookFailed(PlainData):
    """An event was given up for ``url`` after ``attempts`` POSTs; ``reason`` of the last."""

    url: str
    event: str
    attempts: int
    reason: str


@attrs.frozen
class WebhookDropped(PlainData):
    """The queue of ``url`` was full: an event was dropped (``dropped`` so far)."""

    url: str
    event: str
    dropped: int


@attrs.frozen
class WebhookBreakerChanged(PlainData):
    """The circuit breaker of ``url`` opened (``open``) or closed again."""

    url: str
    open: bool
    at: datetime
