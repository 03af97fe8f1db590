"""Building the terminal an account's config asks for."""

from __future__ import annotations

import importlib.util

from mt5guard.clock import Clock
from mt5guard.config import TerminalConfig
from mt5guard.terminal.protocol import Terminal

__all__ = ["make_terminal", "worker_spec"]

#: Seconds past ``terminal.timeout`` an ``initialize`` may take before its worker is killed.
INIT_GRACE = 10.0


def make_terminal(config: TerminalConfig, clock: Clock) -> Terminal:
    """The terminal ``config`` describes, on ``clock``.

    ``simulated`` with ``isolation: thread`` is a SimulatedTerminal in this
    process; ``rpyc`` an :class:`RpycTerminal` (needs ``mt5guard[rpyc]``).
    ``metatrader5``, ``isolation: process`` and ``bridge`` are a
    :class:`~mt5guard.terminal.worker.WorkerTerminal`: a local worker process
    (``python -m mt5guard.terminal.bridge.server``) spawned when the session starts,
    or a terminal server reached over TCP. ``metatrader5`` raises
    ``TerminalUnavailableError`` where the MetaTrader5 package is not
    installed (anything but Windows).
    """
    if config.kind == "rpyc":
        from mt5guard.terminal.adapters.rpyc import RpycTerminal

        return RpycTerminal(config.host, config.port, path=config.path,
                            call_timeout=config.call_timeout,
                            connect_timeout=config.connect_timeout)
    if config.out_of_process:
        from mt5guard.terminal.worker import WorkerTerminal, bridge_opener, local_opener
        from mt5guard.terminal.worker.links import tls_client

        if config.kind == "bridge":
            key = config.key
            assert key is not None  # the config refuses a bridge without one
            tls = tls_client(config.tls) if config.tls is not None else None
            opener = bridge_opener(config.host, config.port, key.reveal, tls)
            name = f"bridge {config.host}:{config.port} login {config.login}"
        else:
            if config.kind == "metatrader5" and importlib.util.find_spec("MetaTrader5") is None:
                from mt5guard.terminal.adapters.metatrader5 import TerminalUnavailableError

                raise TerminalUnavailableError(
                    "the MetaTrader5 package is not installed; it ships Windows wheels only: "
                    "install mt5guard[mt5] on Windows, reach a terminal in Wine with "
                    "kind: bridge, or use the simulated terminal"
                )
            opener = local_opener(worker_spec(config))
            name = f"{config.kind} login {config.login}"
        start = config.connect_timeout if config.kind == "bridge" else 10.0
        return WorkerTerminal(opener, clock, name=name, call_timeout=config.timeout,
                              init_timeout=config.timeout + INIT_GRACE, start_timeout=start)
    from mt5guard.terminal.sim._terminal import SimulatedTerminal

    password = config.password.reveal() if config.password is not None else None
    terminal = SimulatedTerminal(
        clock,
        login=config.login,
        password=password,
        server=config.server,
        balance=config.balance,
        seed=config.seed,
        call_latency=config.call_latency,
        ledger_path=config.ledger_path,
    )
    if config.reject_auth:
        terminal.revoke_auth()
    return terminal


def worker_spec(config: TerminalConfig) -> dict[str, object]:
    """What a local worker's backend is built from (sent on its stdin, never argv)."""
    if config.kind == "metatrader5":
        return {"backend": "metatrader5"}
    password = config.password.reveal() if config.password is not None else None
    return {"backend": "simulated", "login": config.login, "password": password,
            "server": config.server, "balance": config.balance, "seed": config.seed,
            "call_latency": config.call_latency, "reject_auth": config.reject_auth,
            "ledger_path": config.ledger_path}
