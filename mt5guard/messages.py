"""Every message of every concept, re-exported for code written before the messages
moved beside their concepts (``mt5guard.<concept>.messages``). New code imports from
the concept's own module; nothing inside mt5guard imports this one."""

from __future__ import annotations

from mt5guard.breaker import messages as _breaker
from mt5guard.breaker.messages import *  # noqa: F403
from mt5guard.events import messages as _events
from mt5guard.events.messages import *  # noqa: F403
from mt5guard.health import messages as _health
from mt5guard.health.messages import *  # noqa: F403
from mt5guard.market import messages as _market
from mt5guard.market.messages import *  # noqa: F403
from mt5guard.observability import messages as _observability
from mt5guard.observability.messages import *  # noqa: F403
from mt5guard.orders import messages as _orders
from mt5guard.orders.messages import *  # noqa: F403
from mt5guard.session import messages as _session
from mt5guard.session.messages import *  # noqa: F403
from mt5guard.supervision import events as _supervision
from mt5guard.supervision.events import *  # noqa: F403

__all__ = sorted({  # every concept's own public names
    *_breaker.__all__, *_events.__all__, *_health.__all__, *_market.__all__,
    *_observability.__all__, *_orders.__all__, *_session.__all__, *_supervision.__all__,
})
