"""The awaitable facade mirrors the blocking one call for call, typed alike."""

from __future__ import annotations

import inspect

from mt5guard import AsyncSession, Session

# async iterators over what subscribe and watch_trades deliver: no blocking twin
ASYNC_ONLY = {"ticks", "trade_events"}


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(getattr(cls, name))
        for name in dir(cls)
        if not name.startswith("_") and callable(getattr(cls, name))
    }


def test_every_blocking_call_has_an_awaitable_twin_with_the_same_signature() -> None:
    blocking, awaitable = public_methods(Session), public_methods(AsyncSession)
    assert sorted(blocking) == sorted(set(awaitable) - ASYNC_ONLY)
    assert len(blocking) >= 28  # connect ... watch_trades: none lost on the way
    for name, signature in blocking.items():
        assert awaitable[name] == signature, name
        assert inspect.iscoroutinefunction(getattr(AsyncSession, name)), name
        assert not inspect.iscoroutinefunction(getattr(Session, name)), name
        assert getattr(Session, name).__doc__ == getattr(AsyncSession, name).__doc__, name


def test_the_signature_users_see_names_self_and_the_answer_not_the_plumbing() -> None:
    signature = inspect.signature(Session.place_order)
    assert list(signature.parameters)[:4] == ["self", "symbol", "side", "volume"]
    assert signature.return_annotation == "OrderOutcome"
    assert Session.place_order.__name__ == "place_order"
    assert inspect.signature(Session.symbol_info).return_annotation == "SymbolInfo"
