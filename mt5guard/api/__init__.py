"""The authenticated HTTP trading API (``api:`` in the config; ``pip install 'mt5guard[api]'``).

Starlette routes over the awaitable facade, served by uvicorn next to
/healthz, /readyz and /metrics on ``observability.http``. Bearer tokens from
the environment, each with scopes (read, trade) and accounts; the
Idempotency-Key header is the client order id; refusals are RFC 9457
problem documents. With ``api.alert_secret``, ``POST /v1/alerts/{account}``
turns a signed TradingView-style alert into one order (``alerts.py``).
See docs/operations.md ("The trading API", "Inbound alerts").
"""

from mt5guard.api.app import create_app
from mt5guard.api.server import ApiServer

__all__ = ["ApiServer", "create_app"]
