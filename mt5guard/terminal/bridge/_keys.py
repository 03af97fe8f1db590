"""Bridge keys: strong enough, and kept where only their owner can read them.

Standard library only, like :mod:`mt5guard.terminal.bridge.server`; the
config applies the same rule to ``terminal.key``.
"""

from __future__ import annotations

import os

__all__ = ["key_problem", "loopback", "read_keys"]


def key_problem(key: str) -> str | None:
    """Why ``key`` is too weak to guard a terminal, or None (the same rule as the config's)."""
    if len(key.strip()) < 32:
        return (f"is {len(key.strip())} characters; at least 32 random ones are needed "
                "(python -c \"import secrets; print(secrets.token_hex(32))\")")
    if key != key.strip():
        return "starts or ends with whitespace"
    if len(set(key)) < 12:
        return "has too few distinct characters to be random"
    return None


def read_keys(path: str) -> list[str]:
    """The keys in ``path`` (one a line); refused when group or others may read it."""
    if os.name == "posix":
        mode = os.stat(path).st_mode
        if mode & 0o077:
            raise PermissionError(f"{path} is readable by group or others (mode "
                                  f"{mode & 0o777:o}); chmod 600 {path}")
    with open(path, encoding="utf-8") as file:
        return [line.strip() for line in file if line.strip() and not line.startswith("#")]


def loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")
