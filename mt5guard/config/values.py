"""Field validators, converters and field docs shared by the config classes.

Duration text (``250ms``, ``1h30m``) is read and written in ``durations.py``.

Validators raise :class:`ConfigError` keyed by the class and field
(``HealthConfig.timeout``); the YAML parser re-anchors them at the full path.
"""

from __future__ import annotations

import difflib
import math
import re
import reprlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar, cast

import attrs

from mt5guard.config.durations import DURATION_HINT, format_duration
from mt5guard.config.errors import ConfigError

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]
_C = TypeVar("_C", bound=type)

_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxlong = 2, 4, 4, 40
_SHORT.maxstring = _SHORT.maxother = 60


def is_number(value: object) -> bool:
    """An int or float, but not a bool (YAML ``true`` is not a count)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def show(value: object) -> str:
    """A short, single-line rendering of a (non-secret) value for messages."""
    text = _SHORT.repr(value)  # bounded: a value may be a huge (aliased) structure
    return text if len(text) <= 60 else f"{text[:57]}..."


def describe(value: object) -> str:
    """What kind of YAML value this is, for 'got a list' style messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def did_you_mean(word: str, allowed: Sequence[str]) -> str:
    """A hint naming the closest allowed word (if any) and all of them."""
    close = difflib.get_close_matches(word, allowed, n=1)
    listing = "allowed: " + ", ".join(allowed)
    return f"did you mean {close[0]!r}? {listing}" if close else listing


def field_error(instance: object, field: str, problem: str, hint: str | None = None) -> ConfigError:
    """A ConfigError about ``field`` (a name or relative path) of a config object."""
    error = ConfigError(problem, key=f"{type(instance).__name__}.{field}", hint=hint)
    error._relative = field
    return error


def meta(doc: str, *, kind: str = "value", **extra: object) -> dict[str, object]:
    """Field metadata the parser, renderer and schema reference are driven by.

    ``kind`` is one of ``value``, ``duration``, ``secret``, ``list``, ``section``
    (with ``section=<class>``), ``accounts`` or ``internal`` (never read from YAML).
    """
    return {"doc": doc, "kind": kind, **extra}


def applies(field: attrs.Attribute[Any], kind: object) -> bool:
    """Whether ``field`` is read for a terminal of ``kind``: its ``applies_to`` kinds, or all."""
    kinds = field.metadata.get("applies_to")
    return kinds is None or kind in kinds


def documented(cls: _C) -> _C:
    """Append each field's metadata doc to the class docstring (one source of truth)."""
    lines = [f"    {field.name}: {field.metadata['doc']}" for field in attrs.fields(cls)]
    cls.__doc__ = f"{cls.__doc__ or ''}\n\nAttributes:\n" + "\n".join(lines)
    return cls


# -- converters: normalise the harmless cases, leave the rest to the validators ----------


def to_float(value: float) -> float:
    """``30`` -> ``30.0``; anything else is passed on for the validator to judge."""
    return float(value) if is_number(value) else value


def to_optional_float(value: float | None) -> float | None:
    return None if value is None else to_float(value)


def to_tuple(value: Sequence[Any]) -> tuple[Any, ...]:
    """Lists become tuples; other non-tuples are passed on for the validator to reject."""
    return tuple(value) if isinstance(value, list) else cast("tuple[Any, ...]", value)


# -- validators --------------------------------------------------------------------------


HOUR: Final = 3600.0
DAY: Final = 86400.0
WEEK: Final = 7 * DAY
MAX_INT64: Final = 2**63 - 1


def duration(*, allow_zero: bool = False, low: float = 0.0, high: float = DAY) -> Validator:
    """Seconds as a finite float in ``(low, high]`` (``0`` also allowed with ``allow_zero``).

    Every duration has an upper bound: a value beyond what any timer, lock
    timeout or datetime can hold would pass ``--check`` and crash later.
    """
    if low > 0:
        allowed = f"at least {format_duration(low)} and at most {format_duration(high)}"
    else:
        allowed = f"more than 0 s and at most {format_duration(high)}"
    if allow_zero:
        allowed = f"0 (off) or {allowed}"

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not is_number(value) or not math.isfinite(value):
            raise field_error(
                instance,
                attribute.name,
                f"{show(value)} is not a number of seconds",
                "in code durations are float seconds (30.0); units like 30s are for YAML",
            )
        if value < 0 or (value == 0 and not allow_zero):
            bound = "0 or more" if allow_zero else "greater than 0"
            raise field_error(
                instance, attribute.name, f"{show(value)} must be {bound} seconds", DURATION_HINT
            )
        if value > high or (0 < value < low):
            raise field_error(
                instance, attribute.name, f"{show(value)} s is out of range", f"use {allowed}"
            )

    return check


def integer(minimum: int | None = None, maximum: int | None = None) -> Validator:
    """An int (not a bool) within ``[minimum, maximum]``."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            quoted = isinstance(value, str) and value.strip().lstrip("-").isdigit()
            raise field_error(
                instance,
                attribute.name,
                f"{show(value)} is not an integer",
                "write it without quotes" if quoted else None,
            )
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            if maximum is None:
                allowed = f"an integer >= {minimum}"
            else:
                allowed = f"an integer from {minimum} to {maximum}"
            raise field_error(
                instance, attribute.name, f"{value} is out of range", f"use {allowed}"
            )

    return check


def number(
    *, low: float, low_open: bool = False, high: float | None = None, optional: bool = False
) -> Validator:
    """A finite float ``>= low`` (``> low`` if ``low_open``) and ``<= high``."""
    allowed = f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        allowed = f"in {'(' if low_open else '['}{low:g}, {high:g}]"

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not is_number(value) or not math.isfinite(value):
            raise field_error(instance, attribute.name, f"{show(value)} is not a number")
        too_low = value <= low if low_open else value < low
        if too_low or (high is not None and value > high):
            raise field_error(
                instance,
                attribute.name,
                f"{show(value)} is out of range",
                f"use a number {allowed}",
            )

    return check


def flag() -> Validator:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, bool):
            raise field_error(instance, attribute.name, f"{show(value)} is not true/false")

    return check


def text(
    *, pattern: str | None = None, pattern_hint: str | None = None, optional: bool = False
) -> Validator:
    """A non-empty string, fully matching ``pattern`` when one is given."""
    compiled = re.compile(pattern) if pattern else None

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str):
            raise field_error(
                instance,
                attribute.name,
                f"{show(value)} is not a string",
                "quote it" if is_number(value) else None,
            )
        if not value.strip():
            raise field_error(instance, attribute.name, "must not be empty")
        if compiled is not None and compiled.fullmatch(value) is None:
            raise field_error(instance, attribute.name, f"{show(value)} is not valid", pattern_hint)

    return check


def choice(options: Sequence[str]) -> Validator:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str) or value not in options:
            hint = did_you_mean(value, options) if isinstance(value, str) else None
            raise field_error(
                instance, attribute.name, f"{show(value)} is not one of {', '.join(options)}", hint
            )

    return check


def instance_of(cls: type) -> Validator:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, cls):
            raise field_error(
                instance, attribute.name, f"must be a {cls.__name__}, got {describe(value)}"
            )

    return check


def tuple_of(item: type, *, what: str) -> Validator:
    """A non-empty tuple of ``item``; strings must be non-empty and not repeat."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        name = attribute.name
        if not isinstance(value, tuple) or not value:
            got = "an empty list" if isinstance(value, tuple) else describe(value)
            raise field_error(instance, name, f"must be a non-empty list of {what}, got {got}")
        for index, element in enumerate(value):
            if not isinstance(element, item) or (isinstance(element, str) and not element.strip()):
                raise field_error(instance, f"{name}[{index}]", f"{show(element)} is not a {what}")
            if isinstance(element, str) and element in value[:index]:
                raise field_error(instance, f"{name}[{index}]", f"{element!r} is listed twice")

    return check


# -- fields: the common shapes, one call each --------------------------------------------
# Each returns an ``attrs.field`` (its converter, validator and metadata); the
# attrs mypy plugin reads the call's result as the field's default.


def seconds_field(default: float, doc: str, *, low: float = 0.0, high: float = DAY,
                  allow_zero: bool = False, **extra: Any) -> Any:
    """A duration in float seconds, within the bounds of :func:`duration`."""
    return attrs.field(default=default, converter=to_float,
                       validator=duration(allow_zero=allow_zero, low=low, high=high),
                       metadata=meta(doc, kind="duration", **extra))


def int_field(default: int, doc: str, low: int, high: int, **extra: Any) -> Any:
    """An int within ``[low, high]``."""
    return attrs.field(default=default, validator=integer(low, high), metadata=meta(doc, **extra))


def number_field(default: float, doc: str, *, low: float, high: float, **extra: Any) -> Any:
    """A float within ``[low, high]`` (ints are converted)."""
    return attrs.field(default=default, converter=to_float, validator=number(low=low, high=high),
                       metadata=meta(doc, **extra))


def flag_field(default: bool, doc: str, **extra: Any) -> Any:
    """A true/false switch."""
    return attrs.field(default=default, validator=flag(), metadata=meta(doc, **extra))


def text_field(default: str | None, doc: str, **extra: Any) -> Any:
    """A non-empty string; ``None`` allowed when it is the default."""
    return attrs.field(default=default, validator=text(optional=default is None),
                       metadata=meta(doc, **extra))


def choice_field(default: str, options: Sequence[str], doc: str, **extra: Any) -> Any:
    """One of ``options``."""
    return attrs.field(default=default, validator=choice(options), metadata=meta(doc, **extra))


def section_field(cls: type, doc: str) -> Any:
    """A nested section, ``cls()`` by default."""
    return attrs.field(factory=cls, validator=instance_of(cls),
                       metadata=meta(doc, kind="section", section=cls))
