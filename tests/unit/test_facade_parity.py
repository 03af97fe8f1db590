"""The awaitable facade mirrors the blocking one call for call, typed alike."""

from __future__ import annotations

import inspect

from mt5guard import AsyncSession, Session


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if callable(member) and not name.startswith("_")
    }


def test_every_blocking_call_has_an_awaitable_twin_with_the_same_signature() -> None:
    blocking, awaitable = public_methods(Session), public_methods(AsyncSession)
    assert sorted(blocking) == sorted(awaitable)
    for name, signature in blocking.items():
        assert awaitable[name] == signature, name
        assert inspect.iscoroutinefunction(getattr(AsyncSession, name)), name
