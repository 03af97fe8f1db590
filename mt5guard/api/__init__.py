"""The authenticated HTTP trading API (``api:`` in the config; ``pip install 'mt5guard[api]'``).

Starlette routes over the awaitable facade, served by uvicorn next to
/healthz, /readyz and /metrics on ``observability.http``. Bearer tokens from
the environment, each with scopes (read, trade) and accounts; the
Idempotency-Key header is the client order id; refusals are RFC 9457
problem documents. See docs/operations.md ("The trading API").
"""

from mt5guard.api.app import create_app
from mt5guard.api.server import ApiServer

__all__ = ["ApiServer", "create_app"]
