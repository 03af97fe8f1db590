"""One terminal per account and one account per terminal, across a whole config.

Two sessions acting on one trading account fight over it (each one's orders
surprise the other, a login on one logs the other out). Two accounts on one
terminal are worse: the MetaTrader5 module and a terminal install hold one
login, so each account would read, and trade, the other's data. Both are
refused when the config is built, naming the two accounts.

A terminal is its install folder (``path``) on the machine that runs it: this
one for ``metatrader5`` (each account has its own worker process, so its own
MetaTrader5 module), the bridge's for ``bridge`` (one child per session
there). An rpyc server has one module for all its clients, so it is one
terminal whatever the path.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["shared_terminal"]


def _claims(terminal: Any) -> Iterator[tuple[tuple[object, ...], str, str, str]]:
    """What a real terminal config claims for itself: (identity, field, what, fix)."""
    yield (("login", terminal.login, terminal.server), "login",
           f"login {terminal.login} on {terminal.server}",
           "two sessions on one trading account fight over it: remove one of them")
    if terminal.kind in ("metatrader5", "bridge"):
        path = terminal.path if terminal.path is not None else "(found by MetaTrader5)"
        bridge = terminal.kind == "bridge"  # each bridge session has its own worker, not terminal
        where = f" behind the bridge {terminal.host}:{terminal.port}" if bridge else ""
        machine = " on the bridge's machine" if bridge else ""
        yield (("path", where, path), "path", f"the terminal {path}{where}",
               f"give each account its own terminal install folder{machine} "
               "(path: ...\\terminal64.exe, portable: true)")
    elif terminal.kind == "rpyc":
        yield (("rpyc", terminal.host, terminal.port), "port",
               f"the rpyc server {terminal.host}:{terminal.port}",
               "an rpyc server holds one MetaTrader5 module, so one terminal: run one server "
               "per account, each on its own port")


def shared_terminal(accounts: Sequence[Any], real_kinds: frozenset[str]) -> tuple[str, str, str] | None:
    """The first clash as ``(key, problem, fix)``, or None when every real account stands alone.

    ``key`` is relative to the Config (``accounts[1].terminal.login``).
    Simulated accounts never clash: each has its own simulator.
    """
    seen: dict[tuple[object, ...], tuple[int, str]] = {}
    for index, account in enumerate(accounts):
        if account.terminal.kind not in real_kinds:
            continue
        for identity, field, what, fix in _claims(account.terminal):
            if identity in seen:
                first, name = seen[identity]
                return (f"accounts[{index}].terminal.{field}",
                        f"account {account.name!r} uses {what}, as account {name!r} "
                        f"(accounts[{first}]) does", fix)
            seen[identity] = (index, account.name)
    return None
