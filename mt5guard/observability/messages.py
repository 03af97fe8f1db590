"""Webhook delivery events."""

from __future__ import annotations

from datetime import datetime

import attrs

from mt5guard.plain import PlainData

__all__ = [
    "WebhookBreakerChanged",
    "WebhookDelivered",
    "WebhookDropped",
    "WebhookFailed",
]


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
