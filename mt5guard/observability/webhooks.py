"""Webhooks: events as signed JSON POSTs, never in the way of the tree or a trade.

:class:`WebhookOutbox` is an EventBus subscriber: it only appends the event
to the bounded queue of each URL that wants its kind (``breaker``,
``health``, ``supervisor``, ``trade``) and wakes the :class:`WebhookActor`;
a full queue drops the event and publishes ``WebhookDropped`` (counted in
/metrics). The outbox outlives actor restarts, so a crashed sender loses
nothing queued.

The supervised :class:`WebhookActor` POSTs one event at a time per URL with
``urllib`` (``timeout`` real seconds per POST) on a sender thread of its
own, so the actor itself is never busy for long and stopping it never waits
for a slow server. A failure (connection error,
timeout, 408, 429 or 5xx) is retried after ``retry_backoff * 2**n`` seconds
of clock time, up to ``max_attempts``; other 4xx give up at once, and so
does a 3xx: redirects are never followed (a 3xx to anywhere is no delivery).
``failure_threshold`` consecutive failures open the URL's own breaker for
``open_for`` seconds; then one trial POST decides. No actor sleeps: waits
are clock timers.

Body: ``{"id", "kind", "event", "account", "data", "sent_at"}`` with
``data`` the event's plain data (:func:`mt5guard.plain.plain`, secrets
masked). Headers: ``X-Mt5guard-Event``, ``X-Mt5guard-Delivery`` and, with a
secret, ``X-Mt5guard-Signature: sha256=<hex HMAC-SHA256 of the body>``.
"""

from __future__ import annotations

import collections
import concurrent.futures
import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
import uuid
from typing import Any

import attrs

from mt5guard.breaker.messages import BreakerStateChanged
from mt5guard.clock import Clock
from mt5guard.config.trading import WebhookConfig
from mt5guard.events.bus import EventBus
from mt5guard.events.messages import TradeEvent
from mt5guard.health.messages import HealthChanged
from mt5guard.observability.messages import (
    WebhookBreakerChanged,
    WebhookDelivered,
    WebhookDropped,
    WebhookFailed,
)
from mt5guard.orders.messages import OrderReconciled
from mt5guard.plain import plain
from mt5guard.session.messages import RequestCompleted
from mt5guard.supervision import GuardedActor
from mt5guard.supervision.events import (
    ChildFailed,
    RestartScheduled,
    SupervisorGaveUp,
    SupervisorStopped,
)

__all__ = ["SIGNATURE_HEADER", "WebhookActor", "WebhookOutbox", "kind_of", "sign"]

SIGNATURE_HEADER = "X-Mt5guard-Signature"
_RETRYABLE_STATUS = frozenset({408, 429})


def kind_of(event: object) -> str | None:
    """The webhook kind of a bus event, or None when no webhook sends it."""
    if isinstance(event, BreakerStateChanged):
        return None if event.old is None else "breaker"  # a snapshot is no transition
    if isinstance(event, HealthChanged):
        return "health"
    if isinstance(event, (ChildFailed, RestartScheduled, SupervisorGaveUp, SupervisorStopped)):
        return "supervisor"
    if isinstance(event, (TradeEvent, OrderReconciled)):
        return "trade"
    return None


def sign(secret: bytes, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


@attrs.define
class _Delivery:
    event: str
    body: bytes
    delivery_id: str
    attempts: int = 0


class _Endpoint:
    """One URL: its queue (any thread, under the lock) and its sender state (actor only)."""

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.queue: collections.deque[_Delivery] = collections.deque()
        self.dropped = 0
        self.failures = 0  # consecutive failed POSTs
        self.open = False
        self.timer: Any = None  # a retry or the breaker's re-close is scheduled
        self.in_flight = False


@attrs.frozen
class _Send:
    index: int


@attrs.frozen
class _Wake:
    index: int


@attrs.frozen
class _Posted:
    index: int
    outcome: tuple[bool, bool, str]


class WebhookOutbox:
    """The bounded queues of every configured URL; subscribe it to the EventBus."""

    skips = frozenset({RequestCompleted})  # no webhook sends one (see kind_of)

    def __init__(self, configs: tuple[WebhookConfig, ...], bus: EventBus, clock: Clock) -> None:
        self.endpoints = [_Endpoint(c) for c in configs]
        self._bus = bus
        self._clock = clock
        self._actor: Any = None

    def __call__(self, event: object) -> None:
        """The bus subscriber: queue ``event`` for the URLs that want it; never blocks."""
        kind = kind_of(event)
        if kind is None:
            return
        body: bytes | None = None
        for index, endpoint in enumerate(self.endpoints):
            if kind not in endpoint.config.events:
                continue
            if body is None:
                body = self._body(kind, event)
            delivery = _Delivery(type(event).__name__, body, uuid.uuid4().hex)
            with endpoint.lock:
                if len(endpoint.queue) >= endpoint.config.queue_size:
                    endpoint.dropped += 1
                    dropped = endpoint.dropped
                else:
                    endpoint.queue.append(delivery)
                    dropped = 0
                    first = len(endpoint.queue) == 1
            if dropped:
                self._bus.publish(WebhookDropped(endpoint.config.url, delivery.event, dropped))
            elif first:
                self._wake(index)

    def _body(self, kind: str, event: object) -> bytes:
        payload = {
            "kind": kind, "event": type(event).__name__, "account": getattr(event, "account", None),
            "data": plain(event), "sent_at": self._clock.now().isoformat(),
        }
        return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()

    def attach(self, actor_ref: Any) -> None:
        """The (re)started actor takes over; anything already queued is sent."""
        self._actor = actor_ref
        for index in range(len(self.endpoints)):
            self._wake(index)

    def _wake(self, index: int) -> None:
        actor = self._actor
        if actor is not None:
            try:
                actor.tell(_Wake(index))
            except Exception:
                pass  # a restarting actor drains the queues in on_start

    def pending(self, index: int = 0) -> int:
        with self.endpoints[index].lock:
            return len(self.endpoints[index].queue)


class WebhookActor(GuardedActor):
    """Sends what the outbox queued; one POST at a time, retries on the clock."""

    def __init__(self, outbox: WebhookOutbox, clock: Clock, bus: EventBus) -> None:
        super().__init__()
        self._outbox = outbox
        self._clock = clock
        self._bus = bus
        self._senders = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, len(outbox.endpoints)), thread_name_prefix="mt5guard-webhook")

    def on_start(self) -> None:
        self._outbox.attach(self.actor_ref)

    def on_failure(self, *_exc_info: Any) -> None:
        self._senders.shutdown(wait=False, cancel_futures=True)

    def on_stop(self) -> None:
        self._senders.shutdown(wait=False, cancel_futures=True)
        for endpoint in self._outbox.endpoints:
            if endpoint.timer is not None:
                endpoint.timer.cancel()
                endpoint.timer = None

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, _Posted):
            self._posted(message.index, message.outcome)
        elif isinstance(message, _Wake):
            if self._outbox.endpoints[message.index].timer is None:
                self._send_next(message.index)
        elif isinstance(message, _Send):
            self._outbox.endpoints[message.index].timer = None
            self._send_next(message.index)
        return None

    def _send_next(self, index: int) -> None:
        endpoint = self._outbox.endpoints[index]
        if endpoint.in_flight:
            return
        with endpoint.lock:
            delivery = endpoint.queue[0] if endpoint.queue else None
        if delivery is None:
            return
        delivery.attempts += 1
        endpoint.in_flight = True
        me = self.actor_ref

        def post() -> None:
            outcome = _post(endpoint.config, delivery)
            try:
                me.tell(_Posted(index, outcome))
            except Exception:
                pass  # the actor ended; its successor sends the head of the queue again

        try:
            self._senders.submit(post)
        except RuntimeError:  # shutting down
            endpoint.in_flight = False

    def _posted(self, index: int, outcome: tuple[bool, bool, str]) -> None:
        endpoint = self._outbox.endpoints[index]
        endpoint.in_flight = False
        with endpoint.lock:
            delivery = endpoint.queue[0] if endpoint.queue else None
        if delivery is None:
            return
        ok, retryable, reason = outcome
        if ok:
            endpoint.failures = 0
            self._set_open(endpoint, False)
            self._done(endpoint)
            self._bus.publish(WebhookDelivered(endpoint.config.url, delivery.event,
                                               delivery.attempts))
            self._actor_tell(_Wake(index))
            return
        endpoint.failures += 1
        config = endpoint.config
        if not retryable or delivery.attempts >= config.max_attempts:
            self._done(endpoint)
            self._bus.publish(WebhookFailed(config.url, delivery.event, delivery.attempts, reason))
        delay = config.retry_backoff * 2 ** (delivery.attempts - 1) if retryable else 0.0
        if endpoint.failures >= config.failure_threshold:
            self._set_open(endpoint, True)
            delay = max(delay, config.open_for)
        if delay > 0:
            me = self.actor_ref
            endpoint.timer = self._clock.call_later(delay, lambda: me.tell(_Send(index)))
        else:
            self._actor_tell(_Wake(index))

    def _done(self, endpoint: _Endpoint) -> None:
        with endpoint.lock:
            if endpoint.queue:
                endpoint.queue.popleft()

    def _set_open(self, endpoint: _Endpoint, open_: bool) -> None:
        if endpoint.open != open_:
            endpoint.open = open_
            self._bus.publish(WebhookBreakerChanged(endpoint.config.url, open_, self._clock.now()))

    def _actor_tell(self, message: object) -> None:
        self.actor_ref.tell(message)


def _post(config: WebhookConfig, delivery: _Delivery) -> tuple[bool, bool, str]:
    """One POST on a sender thread: (delivered, worth retrying, why not)."""
    headers = {"Content-Type": "application/json", "User-Agent": "mt5guard-webhook",
               "X-Mt5guard-Event": delivery.event, "X-Mt5guard-Delivery": delivery.delivery_id}
    if config.secret is not None:
        headers[SIGNATURE_HEADER] = sign(config.secret.reveal().encode(), delivery.body)
    request = urllib.request.Request(config.url, data=delivery.body, headers=headers,
                                     method="POST")
    try:
        with _OPENER.open(request, timeout=config.timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as err:
        status = int(err.code)
    except (OSError, ValueError) as err:  # refused, reset, timed out, unresolvable
        return False, True, f"{type(err).__name__}: {err}"
    if 200 <= status < 300:
        return True, False, ""
    if 300 <= status < 400:
        return False, False, f"HTTP {status}: a redirect, not followed (point the URL at its target)"
    return False, status >= 500 or status in _RETRYABLE_STATUS, f"HTTP {status}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is the answer: the signed event is never re-sent to wherever it points."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())
