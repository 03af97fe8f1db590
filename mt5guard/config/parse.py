"""YAML text or plain mappings -> Config, with every problem reported as ConfigError.

The walk is driven by the attrs fields and their metadata (see
``values.meta``), so a new field needs no parser change. Range and
cross-field checks live in the classes' validators; this module only shapes
raw YAML values (durations, lists, ``${ENV}`` secrets) and re-anchors the
validators' errors at the full key path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Hashable, Mapping
from typing import Any

import attrs
import yaml

from mt5guard.config.durations import DURATION_HINT, parse_duration
from mt5guard.config.errors import DIRECT_SOURCE, ConfigError, join_key
from mt5guard.config.schema import AccountConfig, Config
from mt5guard.config.terminal import PASSWORD_HINT
from mt5guard.config.values import (
    describe,
    did_you_mean,
    show,
)
from mt5guard.secret import Secret

__all__ = ["load_config", "parse_config"]

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_EXAMPLE_HINT = "see config/default.yaml for a working example"


def load_config(
    path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None
) -> Config:
    """Read and validate a YAML config file.

    ``environ`` replaces ``os.environ`` as the source of ``${NAME}`` secrets
    (tests pass a dict). Every problem, including a missing file or a YAML
    syntax error, is raised as ConfigError.
    """
    source = os.fspath(path)
    try:
        with open(source, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        raise ConfigError("file not found", source=source, hint=_EXAMPLE_HINT) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, not a file", source=source) from None
    except PermissionError:
        raise ConfigError(
            "permission denied", source=source, hint="make it readable by this user"
        ) from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"is not UTF-8 text (byte {error.start})", source=source) from None
    except OSError as error:
        raise ConfigError(f"cannot be read: {error.strerror or error}", source=source) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except _TooLarge as error:
        raise ConfigError(f"the YAML holds {error}", source=source,
                          hint="write the values out instead of nesting aliases") from None
    except yaml.MarkedYAMLError as error:
        raise ConfigError(_yaml_problem(error), source=source) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"YAML error: {error}", source=source) from None
    if data is None:
        raise ConfigError("the file is empty", source=source, hint=_EXAMPLE_HINT)
    return parse_config(data, source=source, environ=environ)


def parse_config(
    data: Mapping[str, Any],
    *,
    source: str = DIRECT_SOURCE,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Validate already-loaded YAML data (nested dicts and lists) into a Config.

    ``source`` names the origin in error messages and is kept as
    ``Config.source`` (``None`` for the default ``"<config>"``).
    """
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"the top level must be a mapping, got {describe(data)}",
            source=source,
            hint="start with the accounts: key; " + _EXAMPLE_HINT,
        )
    walk = _Walk(source, os.environ if environ is None else environ)
    origin = None if source == DIRECT_SOURCE else source
    config = walk.build(Config, data, "", {"source": origin})
    assert isinstance(config, Config)
    return config


MAX_ALIAS_VALUES = 10_000
"""Values aliases may add to a config once expanded (a real config's aliases add a few
dozen; a file of thousands of accounts written out adds none)."""
_CYCLE = 10**12  # a node that contains itself expands without end


class _TooLarge(yaml.YAMLError):
    pass


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping (PyYAML keeps the last)
    and a document whose aliases add more than :data:`MAX_ALIAS_VALUES` values once
    expanded (a few hundred bytes of nested aliases would otherwise become gigabytes)."""

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None:
            sizes: dict[int, int] = {}
            added = _expanded_size(node, sizes) - len(sizes)  # len: the values written out
            if added > MAX_ALIAS_VALUES:
                raise _TooLarge(f"aliases that add more than {MAX_ALIAS_VALUES} values "
                                "once expanded")
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                identity = (key_node.tag, key_node.value)
                if identity in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                    )
                seen.add(identity)
        return super().construct_mapping(node, deep)


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Values under ``node`` counting every alias use; ``sizes`` memoizes per distinct
    node (aliases share nodes), so this is linear in the file, not in the expansion."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = _CYCLE  # seen again before it is done: it contains itself
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(item, sizes) for item in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    sizes[id(node)] = size = min(size, _CYCLE)
    return size


def _yaml_problem(error: yaml.MarkedYAMLError) -> str:
    what = "; ".join(part for part in (error.context, error.problem) if part) or "invalid YAML"
    mark = error.problem_mark or error.context_mark
    if mark is None:
        return f"YAML syntax error: {what}"
    return f"YAML syntax error at line {mark.line + 1}, column {mark.column + 1}: {what}"


class _Walk:
    """One parse: the source and environment every error and secret needs."""

    def __init__(self, source: str, environ: Mapping[str, str]) -> None:
        self.source = source
        self.environ = environ

    def error(self, key: str, problem: str, hint: str | None = None) -> ConfigError:
        return ConfigError(problem, source=self.source, key=key, hint=hint)

    def build(
        self, cls: type, raw: object, path: str, extra: Mapping[str, object] | None = None
    ) -> object:
        fields = [f for f in attrs.fields(cls) if f.metadata["kind"] != "internal"]
        names = [f.name for f in fields]
        if raw is None:  # a section written with only comments under it
            raw = {}
        if not isinstance(raw, Mapping):
            raise self.error(
                path, f"must be a mapping, got {describe(raw)}", "allowed: " + ", ".join(names)
            )
        for key in raw:
            if key not in names:
                raise self.error(
                    join_key(path, str(key)),
                    f"unknown key {str(key)!r}",
                    did_you_mean(str(key), names),
                )
        values: dict[str, object] = dict(extra or {})
        for field in fields:
            key = join_key(path, field.name)
            if field.name in raw:
                values[field.name] = self.value(field, raw[field.name], key)
            elif field.default is attrs.NOTHING:
                raise self.error(key, "required key is missing", f"add it: {field.metadata['doc']}")
        try:
            return cls(**values)
        except ConfigError as error:
            relative = error._relative
            key = error.key if relative is None else join_key(path, relative)
            raise self.error(key, error.problem, error.hint) from None

    def value(self, field: attrs.Attribute[Any], raw: object, key: str) -> object:
        kind = field.metadata["kind"]
        if kind == "secret":
            return self.password(raw, key)
        self.refuse_interpolation(raw, key)
        if kind == "section":
            return self.build(field.metadata["section"], raw, key)
        if kind == "duration" and raw is None and field.default is None:
            return None  # an optional duration left unset (null)
        if kind == "duration":
            try:
                return parse_duration(raw)
            except ValueError:
                raise self.error(key, f"{show(raw)} is not a duration", DURATION_HINT) from None
        if kind == "sections":
            if not isinstance(raw, list):
                raise self.error(key, f"must be a list, got {describe(raw)}", "write - url: ...")
            return tuple(self.build(field.metadata["section"], item, f"{key}[{index}]")
                         for index, item in enumerate(raw))
        if kind in ("list", "accounts"):
            if not isinstance(raw, list):
                example = "[EURUSD, GBPUSD]" if kind == "list" else "- name: demo ..."
                raise self.error(key, f"must be a list, got {describe(raw)}", f"write {example}")
            if kind == "accounts":
                return tuple(
                    self.build(AccountConfig, item, f"{key}[{index}]")
                    for index, item in enumerate(raw)
                )
            for index, item in enumerate(raw):
                self.refuse_interpolation(item, f"{key}[{index}]")
            return tuple(raw)
        return raw

    def refuse_interpolation(self, raw: object, key: str) -> None:
        if isinstance(raw, str) and "${" in raw:
            raise self.error(
                key,
                f"{show(raw)} uses ${{...}}, which only terminal.password may use",
                "write the value itself; only secrets are read from the environment",
            )

    def password(self, raw: object, key: str) -> Secret | None:
        # Messages here never include raw: it may be a real password.
        if raw is None:
            return None
        what, hint = ("password", PASSWORD_HINT) if key.endswith("password") else (
            "secret", "use ${ENV_VAR}, e.g. secret: ${WEBHOOK_SECRET} with WEBHOOK_SECRET "
                      "exported; secrets never live in files")
        if not isinstance(raw, str) or "${" not in raw:
            raise self.error(key, f"a literal {what} is not allowed", hint)
        match = _ENV_REFERENCE.fullmatch(raw.strip())
        if match is None:
            raise self.error(key, "must be exactly one ${NAME} reference (letters, digits, _)", hint)
        name = match.group(1)
        value = self.environ.get(name)
        if value is None:
            raise self.error(
                key,
                f"environment variable {name} is not set",
                f"export {name} with the {'account password' if what == 'password' else what} "
                "before starting",
            )
        if not value:
            problem = f"environment variable {name} is empty"
            raise self.error(key, problem, f"put the {what} in {name}")
        return Secret(value)
