"""The terminal section of an account: which MT5 terminal it reaches, and how.

One class, :class:`TerminalConfig`, for every kind (simulated, metatrader5,
rpyc, bridge); a field that only applies to some kinds is refused for the
others (``applies_to`` in its metadata). Every duration is float seconds.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import attrs

from mt5guard.config.values import (
    HOUR,
    MAX_INT64,
    applies,
    choice,
    choice_field,
    documented,
    duration,
    field_error,
    flag_field,
    int_field,
    integer,
    meta,
    number_field,
    seconds_field,
    text,
    text_field,
    to_float,
)
from mt5guard.secret import Secret

__all__ = ["ISOLATIONS", "PASSWORD_HINT", "REAL_KINDS", "TERMINAL_KINDS", "TerminalConfig",
           "TerminalKind"]

TerminalKind = Literal["simulated", "metatrader5", "rpyc", "bridge"]
TERMINAL_KINDS: Final[tuple[TerminalKind, ...]] = ("simulated", "metatrader5", "rpyc", "bridge")
#: Kinds that reach a real terminal, so an account of one may never be configured twice.
REAL_KINDS: Final[frozenset[str]] = frozenset({"metatrader5", "rpyc", "bridge"})
Isolation = Literal["thread", "process"]
ISOLATIONS: Final[tuple[Isolation, ...]] = ("thread", "process")
PASSWORD_HINT: Final = (
    "use ${ENV_VAR}, e.g. password: ${MT5_PASSWORD} with MT5_PASSWORD exported; "
    "passwords never live in files"
)


KEY_HINT: Final = ("make one with python -c \"import secrets; print(secrets.token_hex(32))\" "
                   "and give the bridge the same value")


def key_problem(key: str) -> str | None:
    """Why a bridge key is too weak, or None (the bridge server applies the same rule)."""
    if len(key.strip()) < 32:
        return f"is {len(key.strip())} characters; at least 32 random ones are needed"
    if key != key.strip():
        return "starts or ends with whitespace"
    if len(set(key)) < 12:
        return "has too few distinct characters to be random"
    return None


def _loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def _secret(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    # Never echo the value: a wrong password field may still hold a real password.
    if value is not None and not isinstance(value, Secret):
        hint = "wrap it: Secret(os.environ[...])" if isinstance(value, str) else None
        raise field_error(instance, attribute.name, "must be a Secret or None", hint)


#: Seconds a real terminal's first initialize may take by default (it compiles on first run).
FIRST_START = 180.0


@documented
@attrs.frozen(kw_only=True)
class TerminalConfig:
    """The MT5 terminal an account connects through: simulated or a real one."""

    kind: TerminalKind = choice_field(
        "simulated", TERMINAL_KINDS,
        "simulated (runs anywhere), metatrader5 (the real terminal, Windows), rpyc "
        "(a terminal behind an rpyc classic server: mt5linux, mt5-remote, MetaTrader5-Docker) "
        "or bridge (our terminal server, python -m mt5guard.terminal.bridge.server, e.g. in Wine).")
    isolation: Isolation | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(choice(ISOLATIONS)),
        metadata=meta("thread (calls on the session's thread) or process (a worker process the "
                      "session kills by PID past a deadline); metatrader5 is always process.",
                      default_text="process for metatrader5, else thread",
                      applies_to=("simulated", "metatrader5")),
    )
    path: str | None = text_field(
        None, "terminal64.exe to start (for rpyc and bridge: on the server's machine; one "
        "install folder per account); null lets MetaTrader5 find it.",
        applies_to=("metatrader5", "rpyc", "bridge"))
    login: int = attrs.field(
        validator=integer(1, MAX_INT64),
        metadata=meta("Trading account number (MT5 login), a positive 64-bit integer."),
    )
    password: Secret | None = attrs.field(
        default=None,
        validator=_secret,
        metadata=meta(
            "Only as ${ENV_VAR}, read from the environment; required for metatrader5, rpyc "
            "and bridge.",
            kind="secret",
        ),
    )
    server: str = attrs.field(
        validator=text(), metadata=meta("Trade server name, e.g. MetaQuotes-Demo.")
    )
    timeout: float = seconds_field(
        60.0, "Seconds initialize() may block, 1ms..1h (the adapter passes milliseconds to MT5); "
        "in a worker, a call with no request deadline is killed after it (initialize: +10 s).",
        low=0.001, high=HOUR)
    first_timeout: float | None = attrs.field(
        default=None,
        converter=attrs.converters.optional(to_float),
        validator=attrs.validators.optional(duration(low=0.001, high=HOUR)),
        metadata=meta(
            "Seconds the first initialize() of a session may block: a terminal's first run "
            "compiles for about a minute and answers -10005 meanwhile; timeout..1h.",
            kind="duration", default_text="3m for metatrader5 and bridge, else timeout",
            applies_to=("simulated", "metatrader5", "bridge"),
        ),
    )
    host: str = text_field(
        "127.0.0.1", "Address of the rpyc classic server (keep it loopback: it runs any code sent "
        "to it) or of the bridge's terminal server.", applies_to=("rpyc", "bridge"))
    port: int = int_field(
        18812, "TCP port of the server: 18812 for mt5linux and our bridge, 8001 for "
        "MetaTrader5-Docker.", 1, 65535, applies_to=("rpyc", "bridge"))
    key: Secret | None = attrs.field(
        default=None,
        validator=_secret,
        metadata=meta("Bridge key, only as ${ENV_VAR}: at least 32 random characters (e.g. "
                      "secrets.token_hex(32)), one per account if you like; the server reads "
                      "the same value from its MT5GUARD_BRIDGE_KEY or --key-file.",
                      kind="secret", applies_to=("bridge",)),
    )
    tls: str | None = text_field(
        None, "Folder with ca.pem, client.pem, client.key and server.pem made by "
        "python -m mt5guard.terminal.bridge.certs: mutual TLS, the bridge's "
        "certificate pinned. Required unless insecure_plaintext_loopback.", applies_to=("bridge",))
    insecure_plaintext_loopback: bool = flag_field(
        False, "Talk to the bridge without TLS (the password then crosses in the "
        "clear); only for a bridge on a loopback host.", applies_to=("bridge",))
    call_timeout: float = seconds_field(
        75.0, "Seconds one call may go unanswered before the connection is closed and the "
        "session restarts, 1ms..2h; above timeout, so initialize fails by itself first.",
        low=0.001, high=2 * HOUR, applies_to=("rpyc",))
    connect_timeout: float = seconds_field(
        10.0, "Seconds opening the connection may take (TCP, TLS, the key handshake or rpyc's "
        "greeting), 1ms..1h; no retries within it.",
        low=0.001, high=HOUR, applies_to=("rpyc", "bridge"))
    portable: bool = flag_field(False, "Start the terminal in portable mode.")
    balance: float = number_field(
        10000.0, "Starting balance of the simulated account (0..1e12).", low=0.0, high=1e12,
        applies_to=("simulated",))
    reject_auth: bool = flag_field(
        False, "Always fail authorization (to exercise giving up).", applies_to=("simulated",))
    call_latency: float = seconds_field(
        0.0, "Seconds every simulated call takes (0..1h).", allow_zero=True, high=HOUR,
        applies_to=("simulated",))
    seed: int = int_field(1, "Seed of the simulated price feed (a 64-bit integer).",
                          -MAX_INT64 - 1, MAX_INT64, applies_to=("simulated",))
    ledger_path: str | None = text_field(
        None, "JSON file the simulated account's book persists to, so it outlives the "
        "process like a real trade server; null keeps it in memory.", applies_to=("simulated",))

    def __attrs_post_init__(self) -> None:
        if self.kind in REAL_KINDS and self.password is None:
            raise field_error(self, "password", f"is required for kind {self.kind}", PASSWORD_HINT)
        for field in attrs.fields(TerminalConfig):
            if not applies(field, self.kind) and getattr(self, field.name) != field.default:
                kinds: tuple[str, ...] = field.metadata["applies_to"]
                raise field_error(
                    self,
                    field.name,
                    f"only applies to kind {' or '.join(kinds)}",
                    f"remove it, or set kind: {kinds[0]}",
                )
        if self.kind == "rpyc" and self.call_timeout <= self.timeout:
            raise field_error(
                self, "call_timeout", f"{self.call_timeout:g} s is not above timeout "
                f"({self.timeout:g} s)", "raise it above timeout, so initialize() fails by "
                "itself before the connection is abandoned (default 75 s for a 60 s timeout)",
            )
        if self.first_timeout is not None and self.first_timeout < self.timeout:
            raise field_error(self, "first_timeout", f"{self.first_timeout:g} s is below timeout "
                              f"({self.timeout:g} s)", "raise it to at least timeout, or remove it")
        if self.kind == "bridge":
            self._check_bridge()
        if self.kind == "metatrader5" and self.isolation == "thread":
            raise field_error(self, "isolation", "cannot be thread for kind metatrader5: the "
                              "MetaTrader5 module never releases the GIL, so one slow call would "
                              "freeze every thread of this process, the whole tree included",
                              "remove it: a real terminal always runs in a worker process, so a "
                              "hung call can be ended by killing it")

    def _check_bridge(self) -> None:
        if self.key is None:
            raise field_error(self, "key", "is required for kind bridge",
                              "key: ${MT5GUARD_BRIDGE_KEY}, the value the terminal server has")
        problem = key_problem(self.key.reveal())
        if problem is not None:
            raise field_error(self, "key", problem, KEY_HINT)
        if self.tls is None and not self.insecure_plaintext_loopback:
            raise field_error(self, "tls", "is required for kind bridge",
                              "make certificates with python -m mt5guard.terminal.bridge.certs "
                              "DIR and set tls: DIR/client (or, for a loopback bridge only, "
                              "insecure_plaintext_loopback: true)")
        if self.tls is not None and self.insecure_plaintext_loopback:
            raise field_error(self, "insecure_plaintext_loopback", "contradicts tls",
                              "remove one of them")
        if self.insecure_plaintext_loopback and not _loopback(self.host):
            raise field_error(self, "insecure_plaintext_loopback", f"refuses host {self.host}: "
                              "plaintext only to a loopback address",
                              "use tls, or run the bridge on this host (127.0.0.1)")

    @property
    def first_initialize_timeout(self) -> float:
        """Seconds for a session's first ``initialize``: ``first_timeout``, else 3 minutes
        for a real terminal (metatrader5, bridge), else ``timeout``."""
        if self.first_timeout is not None:
            return self.first_timeout
        return max(self.timeout, FIRST_START) if self.kind in ("metatrader5", "bridge") \
            else self.timeout

    @property
    def out_of_process(self) -> bool:
        """Whether calls go to our worker process (metatrader5, isolation: process, bridge)."""
        return self.kind in ("metatrader5", "bridge") or (
            self.kind == "simulated" and self.isolation == "process")
