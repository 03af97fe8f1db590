"""Filters of the simulated terminal: MT5 ``group`` patterns and history date bounds."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TypeVar

from mt5guard.terminal.protocol import DateArg
from mt5guard.terminal.records import TradeDeal, TradeOrder


def group_matcher(group: str) -> Callable[[str], bool]:
    """A predicate for an MT5 ``group`` filter such as ``"*USD*,!EUR*"``.

    Comma-separated patterns; ``*`` matches any run of characters; a pattern
    starting with ``!`` excludes. A symbol matches when it matches some
    inclusion (or there are none) and no exclusion. Case-insensitive.
    """
    include: list[re.Pattern[str]] = []
    exclude: list[re.Pattern[str]] = []
    for raw in group.split(","):
        pattern = raw.strip()
        if not pattern:
            continue
        target = exclude if pattern.startswith("!") else include
        body = pattern.lstrip("!")
        regex = ".*".join(re.escape(part) for part in body.split("*"))
        target.append(re.compile(regex, re.IGNORECASE))

    def matches(symbol: str) -> bool:
        if include and not any(p.fullmatch(symbol) for p in include):
            return False
        return not any(p.fullmatch(symbol) for p in exclude)

    return matches


def epoch_seconds(value: DateArg) -> float:
    """Seconds since the epoch; a naive datetime is read as UTC.

    Raises TypeError for anything but a datetime, int or float.
    """
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a date: {value!r}")
    return float(value)



_Record = TypeVar("_Record", TradeDeal, TradeOrder)


def select_history(
    records: Iterable[_Record],
    call: str,
    date_from: DateArg | None,
    date_to: DateArg | None,
    group: str | None,
    ticket: int | None,
    position: int | None,
    *,
    ticket_of: Callable[[_Record], int],
    time_of: Callable[[_Record], float],
) -> list[_Record]:
    """The selector rules both history calls share: by ``ticket``, else by
    ``position``, else ``date_from <= time_of(record) <= date_to`` (seconds);
    then by ``group``.

    Raises TypeError when no selector is given or one has the wrong type.
    """
    for name, value in (("ticket", ticket), ("position", position)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"{name} must be an int")
    if group is not None and not isinstance(group, str):
        raise TypeError("group must be a str")
    if ticket is not None:
        found = [r for r in records if ticket_of(r) == ticket]
    elif position is not None:
        found = [r for r in records if r.position_id == position]
    elif date_from is None or date_to is None:
        raise TypeError(f"{call} needs date_from and date_to, ticket or position")
    else:
        low, high = epoch_seconds(date_from), epoch_seconds(date_to)
        found = [r for r in records if low <= time_of(r) <= high]
    if group is not None:
        matches = group_matcher(group)
        found = [r for r in found if matches(r.symbol)]
    return found


def select_deals(
    deals: Iterable[TradeDeal],
    date_from: DateArg | None,
    date_to: DateArg | None,
    group: str | None,
    ticket: int | None,
    position: int | None,
) -> list[TradeDeal]:
    """``history_deals_get`` semantics (see :func:`select_history`): ``ticket`` is
    the deal's order, the dates bound ``deal.time``."""
    return select_history(deals, "history_deals_get", date_from, date_to, group, ticket, position,
                          ticket_of=lambda d: d.order, time_of=lambda d: d.time)
