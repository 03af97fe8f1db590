"""Config -> YAML text, and the key reference docs are generated from."""

from __future__ import annotations

from typing import Any

import attrs
import yaml

from mt5guard.config.durations import format_duration
from mt5guard.config.errors import join_key
from mt5guard.config.schema import AccountConfig, Config
from mt5guard.config.values import applies

__all__ = ["render_config", "schema_reference"]

MASK = "******"


def render_config(config: Config) -> str:
    """The resolved config as YAML, durations in human form (``90s``, ``1h30m``).

    Passwords are printed as ``******``. The text parses back (``parse_config``)
    to an equal Config except for the password: a masked password is rejected as
    a literal, so replace it with its ``${ENV_VAR}`` reference (or drop it for a
    simulated terminal) before reusing the text. Options that do not apply to a
    terminal's kind are left out.
    """
    origin = f" from {config.source}" if config.source else ""
    header = f"# mt5guard config, resolved{origin}; passwords are masked\n"
    body = yaml.safe_dump(_plain(config), sort_keys=False, allow_unicode=True)
    return header + body


def schema_reference() -> list[tuple[str, str, str]]:
    """Every YAML key as ``(key path, default, description)``, in file order.

    Accounts' keys are listed under ``accounts[]``; required keys have the
    default ``required``, sections ``(section)``. Durations are seconds.
    """
    rows: list[tuple[str, str, str]] = []
    _describe(Config, "", rows)
    return rows


def _plain(obj: attrs.AttrsInstance) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    kind_of_terminal = getattr(obj, "kind", None)
    for field in attrs.fields(type(obj)):
        kind = field.metadata["kind"]
        if kind == "internal" or not applies(field, kind_of_terminal):
            continue
        value = getattr(obj, field.name)
        if kind == "section":
            value = _plain(value)
        elif kind in ("accounts", "sections"):
            value = [_plain(item) for item in value]
        elif kind == "list":
            value = list(value)
        elif kind == "duration" and value is not None:
            value = format_duration(value)
        elif kind == "secret" and value is not None:
            value = MASK
        plain[field.name] = value
    return plain


def _describe(cls: type, prefix: str, rows: list[tuple[str, str, str]]) -> None:
    for field in attrs.fields(cls):
        kind = field.metadata["kind"]
        if kind == "internal":
            continue
        key = join_key(prefix, field.name)
        doc = str(field.metadata["doc"])
        if "applies_to" in field.metadata:
            doc = f"{doc} ({' or '.join(field.metadata['applies_to'])} only)"
        rows.append((key, _default_text(field), doc))
        if kind == "section":
            _describe(field.metadata["section"], key, rows)
        elif kind == "accounts":
            _describe(AccountConfig, f"{key}[]", rows)
        elif kind == "sections":
            _describe(field.metadata["section"], f"{key}[]", rows)


def _default_text(field: attrs.Attribute[Any]) -> str:
    default = field.default
    if "default_text" in field.metadata:
        return str(field.metadata["default_text"])
    if field.metadata["kind"] == "section" and default is not attrs.NOTHING:
        return "(section)"
    if default is attrs.NOTHING:
        return "required"
    if default is None:
        return "null"
    if isinstance(default, bool):
        return "true" if default else "false"
    if field.metadata["kind"] == "duration":
        return str(format_duration(default))
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)
