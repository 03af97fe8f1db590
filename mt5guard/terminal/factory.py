"""Building the terminal an account's config asks for."""

from __future__ import annotations

from mt5guard.clock import Clock
from mt5guard.config import TerminalConfig
from mt5guard.terminal.protocol import Terminal

__all__ = ["make_terminal"]


def make_terminal(config: TerminalConfig, clock: Clock) -> Terminal:
    """A SimulatedTerminal on ``clock``, the real MetaTrader5 module, or an rpyc server.

    The real module is imported only here, only when ``kind`` is
    ``metatrader5``; it raises ``TerminalUnavailableError`` where the
    package does not exist (anything but Windows). ``rpyc`` likewise needs
    the rpyc package (``mt5guard[rpyc]``).
    """
    if config.kind == "rpyc":
        from mt5guard.terminal.rpyc_terminal import RpycTerminal

        return RpycTerminal(config.host, config.port, path=config.path,
                            call_timeout=config.call_timeout)
    if config.kind == "metatrader5":
        from mt5guard.terminal.metatrader5 import MetaTrader5Terminal

        return MetaTrader5Terminal(config.path)
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
    )
    if config.reject_auth:
        terminal.revoke_auth()
    return terminal
