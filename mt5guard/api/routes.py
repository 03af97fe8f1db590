"""The /v1 endpoints: each one a small coroutine over the awaitable facade (``session.aio``).

:func:`endpoint` wraps them all the same way: the bearer token (401), the
token's rate limit (429), its scope (403), its accounts (403), the account
(404), then the call; an :class:`~mt5guard.errors.MT5Error` or a refusal of
the API's own becomes a problem document.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mt5guard.api._request import idempotency_key, json_body, query_time
from mt5guard.api.access import Caller, Gate
from mt5guard.api.problems import ApiProblem, problem_response
from mt5guard.api.stream import tick_stream
from mt5guard.errors import MT5Error
from mt5guard.plain import plain
from mt5guard.session.facade import Session
from mt5guard.session.guard import Guard

__all__ = ["Handler", "Routes", "json_response"]

Handler = Callable[[Request, Session], Awaitable[Any]]
_ORDER_FIELDS = ("symbol", "side", "volume", "sl", "tp", "deviation", "magic", "comment")


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(plain(data), sort_keys=True), status_code=status,
                    media_type="application/json", headers={"Cache-Control": "no-store"})


def _prices(body: dict[str, Any], *names: str) -> dict[str, Any]:
    """JSON has one number type; MT5 wants floats for volumes and prices."""
    return {k: float(v) if k in names and isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in body.items()}


class Routes:
    """The handlers, bound to the running tree (``guard()`` is None while it starts)."""

    def __init__(self, guard: Callable[[], Guard | None], gate: Gate, max_body: int) -> None:
        self._guard, self._gate, self._max_body = guard, gate, max_body

    def endpoint(self, scope: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                caller = self._gate.caller(request.headers.get("authorization"))
                session = self._session(request, caller, scope)
                result = await handler(request, session)
                return result if isinstance(result, Response) else json_response(result)
            except (ApiProblem, MT5Error) as problem:
                return problem_response(problem, request.url.path)

        return run

    async def accounts(self, request: Request) -> Response:
        try:
            caller = self._gate.caller(request.headers.get("authorization"))
            self._scope(caller, "read")
            guard = self._running()
            rows = guard.status.snapshot()
            listed = [{"name": name, **rows.get(name, {})} for name in guard.sessions
                      if caller.may_touch(name)]
            return json_response({"accounts": listed})
        except ApiProblem as problem:
            return problem_response(problem, request.url.path)

    def _scope(self, caller: Caller, scope: str) -> None:
        if scope not in caller.scopes:
            raise ApiProblem(403, "forbidden", "Forbidden",
                             f"token {caller.name!r} lacks the {scope!r} scope")

    def _running(self) -> Guard:
        guard = self._guard()
        if guard is None:
            raise ApiProblem(503, "starting", "Service Unavailable",
                             "mt5guard is still starting its accounts", retryable=True,
                             headers={"Retry-After": "1"})
        return guard

    def _session(self, request: Request, caller: Caller, scope: str) -> Session:
        self._scope(caller, scope)
        name = str(request.path_params["account"])
        if not caller.may_touch(name):
            raise ApiProblem(403, "forbidden", "Forbidden",
                             f"token {caller.name!r} may not touch account {name!r}")
        session = self._running().sessions.get(name)
        if session is None:
            raise ApiProblem(404, "no_account", "Not Found", f"no account named {name!r}")
        return session

    # read -----------------------------------------------------------------------

    async def account(self, request: Request, session: Session) -> Any:
        guard = self._running()
        return {"name": session.account, "state": guard.status.snapshot().get(session.account),
                "health": await session.aio.health(),
                "breaker": await session.aio.breaker_state()}

    async def account_info(self, request: Request, session: Session) -> Any:
        return await session.aio.get_account_info()

    async def price(self, request: Request, session: Session) -> Any:
        return await session.aio.get_price(str(request.path_params["symbol"]))

    async def ticks(self, request: Request, session: Session) -> Any:
        raw = request.query_params.get("symbols", "")
        symbols = tuple(s for s in raw.split(",") if s)
        if not symbols:
            raise ApiProblem(422, "validation", "Unprocessable Content",
                             "give ?symbols=EURUSD,GBPUSD", field="symbols")
        return tick_stream(session, symbols)

    async def positions(self, request: Request, session: Session) -> Any:
        return {"positions": await session.aio.positions(request.query_params.get("symbol"))}

    async def orders(self, request: Request, session: Session) -> Any:
        return {"orders": await session.aio.orders(request.query_params.get("symbol"))}

    async def history_deals(self, request: Request, session: Session) -> Any:
        deals = await session.aio.history_deals(query_time(request, "from"), query_time(request, "to"))
        return {"deals": deals}

    async def history_orders(self, request: Request, session: Session) -> Any:
        done = await session.aio.history_orders(query_time(request, "from"), query_time(request, "to"))
        return {"orders": done}

    async def breaker(self, request: Request, session: Session) -> Any:
        return await session.aio.breaker_state()

    # trade ------------------------------------------------------------------------

    async def place(self, request: Request, session: Session) -> Any:
        key = idempotency_key(request)
        body = _prices(await json_body(request, self._max_body, _ORDER_FIELDS), "volume", "sl", "tp")
        for required in ("symbol", "side", "volume"):
            if required not in body:
                raise ApiProblem(422, "validation", "Unprocessable Content",
                                 f"field {required!r} is required", field=required)
        symbol, side, volume = body.pop("symbol"), body.pop("side"), body.pop("volume")
        outcome = await session.aio.place_order(symbol, side, volume, client_order_id=key, **body)
        return json_response(outcome, 201)

    async def modify(self, request: Request, session: Session) -> Any:
        key = idempotency_key(request)
        body = _prices(await json_body(request, self._max_body, ("sl", "tp")), "sl", "tp")
        return await session.aio.modify_position(int(request.path_params["ticket"]),
                                                 client_order_id=key, **body)

    async def close(self, request: Request, session: Session) -> Any:
        key = idempotency_key(request)
        body = _prices(await json_body(request, self._max_body, ("volume", "deviation")), "volume")
        return await session.aio.close_position(int(request.path_params["ticket"]),
                                                client_order_id=key, **body)

    async def cancel(self, request: Request, session: Session) -> Any:
        key = idempotency_key(request)
        return await session.aio.cancel_order(int(request.path_params["ticket"]), client_order_id=key)
