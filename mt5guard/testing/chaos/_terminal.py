"""The chaos runner's simulated terminal: reports calls, garbles replies, kills its worker.

Some faults strike an account's *next* call of a kind rather than at once: a
hung call or IPC timeout (``hang_next``), a lost order reply, a worker kill.
:attr:`ChaosTerminal.struck_until` is when the last of those actually stopped
(a hang: when the hung call returned), so the recovery invariant measures the
tree's recovery from the moment the terminal behaved again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mt5guard.terminal import SimulatedTerminal
from mt5guard.testing._runtime import DeterministicRuntime

__all__ = ["SERVING_CALLS", "ChaosTerminal"]

SERVING_CALLS = ("terminal_info", "account_info", "symbol_info", "symbol_info_tick",
                 "order_check", "order_send", "positions_get", "orders_get",
                 "history_orders_get", "history_deals_get")
_CONNECTING = ("initialize", "login", "shutdown")
_NO_IPC = -10004
_BOOL_CALLS = ("initialize", "login")
_NO_ARG: Any = object()  # a call made without positional arguments
_DIRECT = ("terminal_info", "account_info", "symbol_info_tick")
"""The health probe's calls, nearly every call of a run: made straight to the simulated
terminal's methods while no fault of the chaos terminal's own applies to them."""


class ChaosTerminal(SimulatedTerminal):
    """A simulated terminal that reports each serving call and can garble replies.

    A worker kill is modelled as what the session sees of a real one (a
    terminal worker is a real process, which cannot run under the
    deterministic runtime): the next call fails with ``(-10004, 'No IPC
    connection')`` mid-call (an order_send may have executed: ``executed``),
    and so does every later call from that session, reconnects included, until
    the supervisor replaces the session, whose fresh worker works again.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._chaos = _Chaos()
        super().__init__(*args, **kwargs)
        self._rebind()

    # Its own state lives in one slotted object (_Chaos): CPython 3.11 keeps an
    # instance's attributes in its fast layout only up to 30 names per class; the
    # simulated terminal has 25 and the probe's bound calls 3. Past that (or once
    # self.__dict__ is touched) it builds a real dict, and every self.x of every call
    # is looked up the slow way (the probe's three calls ~40% slower).

    @property
    def runtime(self) -> DeterministicRuntime | None:
        """The runtime the terminal's calls run on (set by the chaos runner)."""
        return self._chaos.runtime

    @runtime.setter
    def runtime(self, runtime: DeterministicRuntime | None) -> None:
        self._chaos.runtime = runtime

    @property
    def struck_until(self) -> float:
        """When (monotonic seconds) the last fault that strikes a later call ended."""
        return self._chaos.struck_until

    @property
    def calling(self) -> bool:
        """A call is in progress (seen from test code between steps: a call hanging)."""
        return self._chaos.calling

    @property
    def garble(self) -> bool:
        """Replies of ``account_info`` and ``symbol_info_tick`` are malformed while True."""
        return self._chaos.garble

    @garble.setter
    def garble(self, garble: bool) -> None:
        self._chaos.garble = garble
        self._rebind()

    @property
    def on_call(self) -> Callable[[str], object] | None:
        """Told each serving call's name, when set (the chaos runner sets it only while
        the account's breaker is OPEN: the one state its check looks at)."""
        return self._chaos.on_call

    @on_call.setter
    def on_call(self, hook: Callable[[str], object] | None) -> None:
        self._chaos.on_call = hook
        self._rebind()

    def hang_next(self, call: str, seconds: float, times: int = 1) -> None:
        super().hang_next(call, seconds, times)
        self._rebind()

    def _rebind(self) -> None:
        """Bind each of the probe's calls (:data:`_DIRECT`) to the simulated terminal's
        own method on this instance while nothing of the wrapper's applies to it (no
        worker kill armed for it or struck, hook, garbling, hang or latency), and unbind
        it (the class's wrapper answers) as soon as something does.

        Called by every change that can make one apply (the setters above,
        :meth:`kill_worker`, :meth:`hang_next`) and after a wrapped call that met a
        killed worker or could strike (a hang taken, the worker replaced: quiet again).
        """
        chaos = self._chaos  # setattr and delattr: self.__dict__ would build a real dict
        bound = chaos.bound
        quiet = (chaos.dead_owner is None and chaos.error is None and chaos.on_call is None
                 and not chaos.garble and not self._call_latency)
        # A kill armed for another call (an order_send) leaves these calls as they are:
        # the wrapper would find nothing to do for them (_worker_gone), often for hours.
        armed = chaos.kill_armed
        hangs = self._faults.hangs
        for name in _DIRECT:
            if quiet and not hangs.get(name) and (armed is None or armed[1] not in ("", name)):
                if name not in bound:
                    setattr(self, name, getattr(SimulatedTerminal, name).__get__(self))
                    bound.add(name)
            elif name in bound:
                delattr(self, name)
                bound.discard(name)

    def kill_worker(self, *, executed: bool = False, call: str = "") -> None:
        """The worker dies during the next ``call`` (``""``: any call but a (re)connect).

        An order_send it dies in has then executed or not (``executed``).
        """
        self._chaos.kill_armed = (executed, call)
        self._rebind()

    def last_error(self) -> tuple[int, str]:
        error = self._chaos.error
        if error is not None:
            return error
        return SimulatedTerminal.last_error(self)

    def _struck(self) -> None:
        chaos = self._chaos
        assert chaos.runtime is not None
        chaos.struck_until = max(chaos.struck_until, chaos.runtime.monotonic())

    def _timed(self, base: Callable[..., Any], first: Any, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> Any:
        """``base`` called, and :meth:`_struck` if it hung (took clock time) or lost a reply."""
        chaos = self._chaos
        runtime = chaos.runtime
        assert runtime is not None
        started = runtime.monotonic()
        lost_before = len(self._faults.lost_replies)
        chaos.calling = True  # seen from test code, a call in progress is a hang
        try:
            result = base(self, *args, **kwargs) if first is _NO_ARG else \
                base(self, first, *args, **kwargs)
        finally:
            chaos.calling = False
        if runtime.monotonic() > started or len(self._faults.lost_replies) < lost_before:
            self._struck()  # a hang (calls take no time otherwise) or a lost reply struck
        return result

    def _worker_gone(self, name: str, args: Any, kwargs: Any) -> tuple[bool, Any]:
        """(True, failed result) if this call meets a killed worker; (False, None) if not."""
        chaos = self._chaos
        owner = chaos.runtime.running if chaos.runtime is not None else None
        if chaos.dead_owner is not None and owner not in (None, chaos.dead_owner):
            chaos.dead_owner = None  # a new session started a fresh worker
        armed = chaos.kill_armed
        if (armed is not None and name not in _CONNECTING and owner is not None
                and armed[1] in ("", name) and chaos.dead_owner is None):
            executed, chaos.kill_armed, chaos.dead_owner = armed[0], None, owner
            if name == "order_send" and executed:
                SimulatedTerminal.order_send(self, *args, **kwargs)  # done; the reply is lost
            chaos.error = (_NO_IPC, f"No IPC connection: terminal worker killed during "
                                    f"{name}()")
            self._struck()
            return True, (False if name in _BOOL_CALLS else None)
        if chaos.dead_owner is not None:
            chaos.error = (_NO_IPC, "No IPC connection: terminal worker killed")
            return True, (False if name in _BOOL_CALLS else None)
        chaos.error = None
        return False, None


class _Chaos:
    """A chaos terminal's own state (see the note in :class:`ChaosTerminal`)."""

    __slots__ = ("bound", "calling", "dead_owner", "error", "garble", "kill_armed", "on_call",
                 "runtime", "struck_until")

    def __init__(self) -> None:
        self.bound: set[str] = set()  # of _DIRECT, those bound on the terminal now
        self.calling = False
        self.dead_owner: str | None = None  # the session whose worker was killed
        self.error: tuple[int, str] | None = None  # what last_error() says instead
        self.garble = False
        self.kill_armed: tuple[bool, str] | None = None  # (order_send executes, call or "")
        self.on_call: Callable[[str], object] | None = None
        self.runtime: DeterministicRuntime | None = None
        self.struck_until = 0.0


def _delegate(name: str) -> Any:
    """``name`` of the simulated terminal, reported, garbled or failed as the faults say."""
    base, serving = getattr(SimulatedTerminal, name), name in SERVING_CALLS
    garbled: Callable[[Any], Any] | None = {
        "symbol_info_tick": lambda tick: tick._replace(bid=float("nan")),
        "account_info": lambda _info: ("login", 0),
    }.get(name)
    # A call can strike later (take clock time, or lose a reply) only through a hang
    # scripted for it, the latency, an initialize that times out or a lost order reply:
    # any other call is made without reading the clock around it (a call that does not
    # sleep ends at the instant it began, and nothing else runs meanwhile).
    sending, initializing = name == "order_send", name == "initialize"

    def call(self: ChaosTerminal, first: Any = _NO_ARG, *args: Any, **kwargs: Any) -> Any:
        # One frame per call (every probe makes three): the whole wrapper is here. The
        # first positional argument is named so the usual call (none, or one: a symbol,
        # a request) is passed on without packing and unpacking (*args, **kwargs).
        chaos = self._chaos
        if chaos.kill_armed is None and chaos.dead_owner is None:  # no worker kill in play
            chaos.error = None
        else:
            gone, failed = self._worker_gone(
                name, args if first is _NO_ARG else (first, *args), kwargs)
            self._rebind()
            if gone:
                if serving and chaos.on_call is not None:
                    chaos.on_call(name)
                return failed
        if serving and chaos.on_call is not None:  # set only while a check is due
            chaos.on_call(name)
        faults = self._faults
        if (sending or faults.hangs.get(name) or self._call_latency
                or (initializing and faults.init_times_out)):
            result = self._timed(base, first, args, kwargs)
            self._rebind()
        elif first is _NO_ARG:
            result = base(self, **kwargs) if kwargs else base(self)
        elif args or kwargs:
            result = base(self, first, *args, **kwargs)
        else:
            result = base(self, first)
        if garbled is not None and chaos.garble and result:
            result = garbled(result)
        return result

    call.__name__ = name
    return call


for _name in SERVING_CALLS + _CONNECTING:
    setattr(ChaosTerminal, _name, _delegate(_name))
