"""The one error every config problem is reported as."""

from __future__ import annotations

import re

__all__ = ["DIRECT_SOURCE", "ConfigError", "join_key"]

DIRECT_SOURCE = "<config>"
"""The ``source`` of a config that did not come from a file."""

_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


class ConfigError(Exception):
    """A config value is missing, malformed or out of range.

    ``str()`` is one line an operator can act on::

        config/x.yaml: accounts[0].terminal.timeout: '10x' is not a duration; use seconds (30) ...

    The message never contains a password, even when the password is what is
    wrong.
    """

    source: str
    """The file the config came from, or ``"<config>"``."""
    key: str
    """Dotted path of the offending key (``accounts[0].terminal.timeout``); empty for file-level
    problems. For objects built in code it starts with the class name (``HealthConfig.timeout``)."""
    problem: str
    """What is wrong."""
    hint: str | None
    """How to fix it, when there is something useful to say."""

    def __init__(
        self,
        problem: str,
        *,
        source: str = DIRECT_SOURCE,
        key: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(problem)
        self.source = source
        self.key = key
        self.problem = problem
        self.hint = hint
        # The key relative to the object whose validator raised this; the parser
        # uses it to re-anchor the error at the full YAML path.
        self._relative: str | None = None

    def __str__(self) -> str:
        text = ": ".join(part for part in (self.source, self.key, self.problem) if part)
        if self.hint:
            text = f"{text}; {self.hint}"
        return _LINE_BREAKS.sub(" ", text)

    def __repr__(self) -> str:
        return (
            f"ConfigError(source={self.source!r}, key={self.key!r}, "
            f"problem={self.problem!r}, hint={self.hint!r})"
        )


def join_key(path: str, name: str) -> str:
    """``join_key("accounts[0]", "terminal")`` -> ``"accounts[0].terminal"``."""
    if not path:
        return name
    if name.startswith("["):
        return f"{path}{name}"
    return f"{path}.{name}"
