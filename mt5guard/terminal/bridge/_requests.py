"""What a worker accepts as a request: checked before anything runs.

Standard library only, like :mod:`mt5guard.terminal.bridge.server`. A request
is ``["call", id, deadline, budget_s, name, args, kwargs]``: JSON, at most
``MAX_DEPTH`` deep (checked without recursion), finite numbers only (``NaN``,
``Infinity`` and ``1e999`` are refused while parsing), a 64-bit id and a
finite budget. Anything else is a :class:`RequestRefused` naming what is
wrong; the worker answers it and serves on.
"""

from __future__ import annotations

import json
import json.scanner
from typing import Any

__all__ = ["MAX_DEPTH", "RequestRefused", "checked_request", "ident_of", "parse_request",
           "usual_request"]

#: Nesting a request may have: ``["call", id, deadline, budget, name, [{...}], {}]`` needs 4.
MAX_DEPTH = 16


class RequestRefused(ValueError):
    """A request this worker will not run: malformed, too deep, or not finite."""


def _finite(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise RequestRefused(f"{text} is not a finite number")
    return value


def _constant(name: str) -> Any:
    raise RequestRefused(f"{name} is not a number this wire carries")


def _depth(value: Any) -> int:
    """How deep ``value``'s lists and objects nest (past MAX_DEPTH: stops counting), level by level."""
    level, frontier = 0, [value] if type(value) in (list, dict) else []
    while frontier:
        level += 1
        if level > MAX_DEPTH:
            return level
        inner = []
        for item in frontier:
            for child in (item.values() if type(item) is dict else item):
                if type(child) is list or type(child) is dict:
                    inner.append(child)
        frontier = inner
    return level


def _flat(request: Any) -> bool:
    """A request of scalars with scalar args and no kwargs (most calls): 2 deep, no walk needed."""
    return (type(request) is list and len(request) == 7 and type(request[5]) is list
            and request[6] == {} and _SCALARS.issuperset(map(type, request[5]))
            and _SCALARS.issuperset(map(type, request[:5])))


_SCALARS = frozenset({str, int, float, bool, type(None)})
_DECODE = json.JSONDecoder(parse_float=_finite, parse_constant=_constant).decode  # built once
_INF, _NEG_INF = float("inf"), float("-inf")
_IDS = 1 << 63


def _scanner() -> Any:
    """CPython's C scanner with plain ``float`` numbers (no Python call per number), or None.

    ``JSONDecoder.decode`` wraps it in two Python calls and two whitespace
    matches, and a ``parse_float`` hook costs one Python call per number;
    :func:`_well_formed` refuses whatever that hook would have refused.
    """
    make = getattr(json.scanner, "c_make_scanner", None)
    return None if make is None else make(json.JSONDecoder(parse_constant=_constant))


_SCAN = _scanner()


def _well_formed(request: Any) -> bool:
    """Whether ``request`` is ``["call", int id, finite float deadline, finite float budget
    >= 0, name, [finite scalars], {}]``: every check of :func:`parse_request` passes."""
    if type(request) is not list or len(request) != 7:
        return False
    tag, ident, deadline, budget, name, args, kwargs = request
    return (tag == "call" and type(ident) is int and -_IDS < ident < _IDS
            and type(deadline) is float and _NEG_INF < deadline < _INF
            and type(budget) is float and 0.0 <= budget < _INF
            and type(name) is str and type(kwargs) is dict and not kwargs
            and type(args) is list and _SCALARS.issuperset(map(type, args))
            and _INF not in args and _NEG_INF not in args)


def usual_request(raw: bytes) -> list[Any] | None:
    """The usual request (see :func:`_well_formed`: scalar args, no kwargs), parsed in one
    C pass, or None for anything else (which :func:`parse_request` then checks in full).

    What it returns, :func:`parse_request` returns for the same frame: it passes every check.
    """
    if _SCAN is None:
        return None
    try:
        text = raw.decode()
        request, end = _SCAN(text, 0)
    except (ValueError, RecursionError, StopIteration):  # refused by the full check, by name
        return None
    if end == len(text) and _well_formed(request):
        return request  # type: ignore[no-any-return]
    return None


def parse_request(raw: bytes) -> list[Any]:
    """A request frame, checked: JSON, at most MAX_DEPTH deep, finite numbers, a sane header.

    Raises :class:`RequestRefused` naming what is wrong.
    """
    request = usual_request(raw)  # the usual request, in one C pass; anything else as below
    if request is not None:
        return request
    return checked_request(raw)


def checked_request(raw: bytes) -> list[Any]:
    """:func:`parse_request` without its one-pass try: the full check (for a frame that
    :func:`usual_request` did not take: no second C pass over it)."""
    try:
        request = _DECODE(raw.decode())  # json.loads(raw, hooks) builds a decoder per call
    except RecursionError:
        raise RequestRefused(f"nested deeper than {MAX_DEPTH}") from None
    except RequestRefused:
        raise
    except ValueError as exc:  # also int strings past Python's digit limit
        raise RequestRefused(f"not JSON: {str(exc)[:80]}") from None
    if not _flat(request) and _depth(request) > MAX_DEPTH:
        raise RequestRefused(f"nested deeper than {MAX_DEPTH}")
    if not (isinstance(request, list) and len(request) == 7 and request[0] == "call"):
        raise RequestRefused("not [\"call\", id, deadline, budget_s, name, args, kwargs]")
    ident, budget = request[1], request[3]
    if not isinstance(ident, int) or isinstance(ident, bool) or abs(ident) >= 1 << 63:
        raise RequestRefused("the request id must be a 64-bit integer")
    if not isinstance(budget, int | float) or isinstance(budget, bool) or budget < 0:
        raise RequestRefused("budget_s must be a finite number of seconds >= 0")
    if not isinstance(request[5], list) or not isinstance(request[6], dict):
        raise RequestRefused("args must be a list and kwargs an object")
    return request


def ident_of(raw: bytes) -> int | None:
    """The request id of a refused frame, if its first bytes say it plainly."""
    head = raw[:40].split(b",")
    if len(head) > 2 and head[0] == b'["call"' and head[1].strip().isdigit() and len(head[1]) < 19:
        return int(head[1])
    return None
