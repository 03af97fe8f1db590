"""The terminal worker: one MetaTrader 5 connection in its own process.

Standard library only (plus the ``MetaTrader5`` wheel for the real backend),
so it also runs as a plain file (with ``_processes.py`` and ``_watch.py`` beside it) under
Windows Python in Wine::

    python -m mt5guard.terminal.bridge.server --listen 127.0.0.1:18812
    python server.py --listen 127.0.0.1:18812 --key-env MT5GUARD_BRIDGE_KEY

Two modes:

``--child``
    A local worker spawned by mt5guard (never forked). It reads an
    authentication key (hex) and a backend spec (JSON) from stdin, listens
    on a private pipe/abstract socket, prints its address, serves exactly
    one authenticated connection, and exits as soon as stdin reaches EOF,
    i.e. when its parent is gone (also after ``kill -9`` of the parent).

``--listen HOST:PORT``
    The bridge: serves mt5guard clients over TCP (key from the environment
    variable named by ``--key-env``); each client session gets its own
    ``--child`` process, and a call that outlives the budget its request
    carries makes the server kill that child by its PID.

Wire: length-framed JSON over ``multiprocessing.connection`` (HMAC challenge,
never pickle). Requests are ``["call", id, deadline, budget_s, name, args,
kwargs]``; replies ``["ok", id, value, last_error|null]``, ``["error", id,
text]`` (the backend raised), ``["timeout", id, text]`` / ``["lost", id,
text]`` (bridge: the session's child was killed / died). Records travel as
dicts of their fields (``_asdict()``); datetimes as ``{"$datetime": epoch_s}``.
``watch(symbols, interval_s)`` makes the worker poll quotes itself and push
``["push", "polled", changed_ticks, failures]`` frames, which carry no request
id (see ``_watch.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from datetime import UTC, datetime
from multiprocessing import connection as mpc
from typing import Any

__all__ = ["CALLS", "PROTOCOL", "main", "plain", "serve"]

PROTOCOL = 1
DEFAULT_KEY_ENV = "MT5GUARD_BRIDGE_KEY"
#: The functions a worker serves; nothing else is ever looked up on the backend.
CALLS = frozenset({
    "initialize", "login", "shutdown", "version", "last_error", "terminal_info", "account_info",
    "symbol_select", "symbol_info", "symbol_info_tick", "order_check", "order_send",
    "positions_get", "orders_get", "history_deals_get", "history_orders_get", "ping",
    "copy_rates_from", "copy_rates_from_pos", "copy_rates_range", "copy_ticks_from",
    "copy_ticks_range", "symbols_get", "symbols_total", "watch", "positions_total",
    "orders_total", "history_orders_total", "history_deals_total", "order_calc_margin",
    "order_calc_profit", "market_book_add", "market_book_get", "market_book_release",
})


def plain(value: Any) -> Any:
    """``value`` as JSON-able plain data: records become dicts of their fields."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if hasattr(value, "dtype") and hasattr(value, "tolist"):  # numpy: bars and ticks
        rows = value.tolist()
        return {"$rows": rows} if isinstance(rows, list) else rows
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return {"$datetime": value.timestamp()}
    raise TypeError(f"cannot send a {type(value).__name__} over the wire")


def _unplain(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$datetime"}:
            return datetime.fromtimestamp(float(value["$datetime"]), UTC)
        return {k: _unplain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unplain(v) for v in value]
    return value


# -- the worker side ------------------------------------------------------------


def _bare_packages() -> None:
    """Run as a file, import the simulator without mt5guard's package ``__init__``s.

    They pull in pykka, yaml, prometheus and the whole tree; the simulator
    needs none of it, and every worker would pay for it in start time and RSS.
    """
    if "mt5guard" in sys.modules:
        return
    import types

    terminal = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for name, path in (("mt5guard", os.path.dirname(terminal)), ("mt5guard.terminal", terminal)):
        package = types.ModuleType(name)
        package.__path__ = [path]
        sys.modules[name] = package


def _backend(spec: dict[str, Any]) -> Any:
    kind = spec.get("backend", "metatrader5")
    if kind == "metatrader5":
        import importlib

        return importlib.import_module("MetaTrader5")
    if kind == "simulated":  # tests and terminal.isolation: process on the simulated kind
        _bare_packages()
        from mt5guard.clock import SystemClock
        from mt5guard.terminal.sim import SimulatedTerminal

        sim = SimulatedTerminal(
            SystemClock(), login=int(spec["login"]), password=spec.get("password"),
            server=str(spec["server"]), balance=float(spec.get("balance", 10000.0)),
            seed=int(spec.get("seed", 1)), call_latency=float(spec.get("call_latency", 0.0)),
        )
        if spec.get("reject_auth"):
            sim.revoke_auth()
        return sim
    raise ValueError(f"unknown backend {kind!r}; use metatrader5 or simulated")


def _answer(backend: Any, request: Any, lock: threading.Lock | None = None,
            watcher: Any = None) -> list[Any]:
    """One request -> one reply; never raises."""
    ident = request[1] if isinstance(request, list) and len(request) > 1 else None
    try:
        tag, ident, _deadline, _budget, name, args, kwargs = request
        if tag != "call" or name not in CALLS:
            raise ValueError(f"not a call this worker serves: {tag!r} {name!r}")
        if name == "ping":
            return ["ok", ident, args, None]
        if name == "watch" and watcher is not None:
            return ["ok", ident, watcher.configure(*args), None]
        with lock or threading.Lock():  # one terminal call at a time, the quote watch's too
            result = getattr(backend, name)(*_unplain(args), **_unplain(kwargs))
        error = None
        if (result is None or result is False) and name not in ("shutdown", "last_error"):
            code, message = backend.last_error()
            error = [int(code), str(message)]
        return ["ok", ident, plain(result), error]
    except Exception as exc:
        return ["error", ident, f"{type(exc).__name__}: {exc}"]


def serve(conn: mpc.Connection, backend: Any) -> None:
    """Answer requests one at a time until the connection closes; pushes quotes when watching."""
    calls, sending = threading.Lock(), threading.Lock()

    def send(frame: list[Any]) -> None:
        data = json.dumps(frame, separators=(",", ":")).encode()  # compact: fewer bytes to move
        with sending:
            conn.send_bytes(data)

    watcher = _sibling("_watch").Watcher(backend, calls, send, plain)
    try:
        while True:
            try:
                raw = conn.recv_bytes()
            except (EOFError, OSError):
                return
            try:
                request = json.loads(raw)
            except ValueError:
                request = None
            send(_answer(backend, request, calls, watcher))
    finally:
        watcher.close()


def _watch_parent(stdin: Any) -> None:
    """Exit the moment our parent's end of stdin closes (the parent ended)."""
    def watch() -> None:
        while stdin.read(4096):
            pass
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _private_address() -> tuple[str, str]:
    token = os.urandom(8).hex()
    if sys.platform == "win32":
        return rf"\\.\pipe\mt5guard-worker-{token}", "AF_PIPE"
    if sys.platform.startswith("linux"):
        return f"\0mt5guard-worker-{token}", "AF_UNIX"  # abstract: no file to clean up
    import tempfile

    return os.path.join(tempfile.gettempdir(), f"mt5guard-worker-{token}"), "AF_UNIX"


def run_child() -> int:
    stdin = sys.stdin.buffer
    key = bytes.fromhex(stdin.readline().decode().strip())
    spec = json.loads(stdin.readline())
    _watch_parent(stdin)
    address, family = _private_address()
    with mpc.Listener(address, family, authkey=key) as listener:
        try:
            sys.stdout.write(json.dumps({"address": address, "family": family}) + "\n")
            sys.stdout.flush()
        except OSError:  # the parent is already gone
            return 0
        conn = listener.accept()
    if family == "AF_UNIX" and not address.startswith("\0"):
        os.unlink(address)
    try:
        backend = _backend(spec)
    except Exception as exc:
        conn.send_bytes(json.dumps(["fatal", f"{type(exc).__name__}: {exc}"]).encode())
        return 1
    hello = {"pid": os.getpid(), "backend": spec.get("backend"), "protocol": PROTOCOL}
    conn.send_bytes(json.dumps(["hello", hello]).encode())
    serve(conn, backend)
    return 0


def _sibling(name: str) -> Any:
    """``_processes.py`` (spawning, the bridge) or ``_watch.py`` (quote polling), without
    mt5guard's package ``__init__`` when this runs as a file."""
    import importlib

    if __package__:
        return importlib.import_module(f"{__package__}.{name}")
    import importlib.util

    if f"_mt5guard{name}" in sys.modules:
        return sys.modules[f"_mt5guard{name}"]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_mt5guard{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mt5guard.terminal.bridge.server",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--child", action="store_true", help="local worker mode (spawned by mt5guard)")
    parser.add_argument("--listen", metavar="HOST:PORT", help="bridge mode, e.g. 127.0.0.1:18812")
    parser.add_argument("--key-env", default=DEFAULT_KEY_ENV,
                        help="environment variable holding the bridge key (default %(default)s)")
    parser.add_argument("--backend", default="metatrader5", choices=("metatrader5", "simulated"))
    parser.add_argument("--simulated", default="{}", metavar="JSON",
                        help='simulated account, e.g. {"login": 5001, "server": "MetaQuotes-Demo"}')
    args = parser.parse_args(argv)
    if args.child:  # os._exit: the parent-watch thread may still be reading stdin
        code = run_child()
        sys.stdout.flush()
        os._exit(code)
    if not args.listen:
        parser.error("give --listen HOST:PORT (or --child, used by mt5guard itself)")
    host, _, port = args.listen.rpartition(":")
    key = os.environ.get(args.key_env, "")
    if not key:
        parser.error(f"the bridge key is missing: export {args.key_env} (the same value as the "
                     "client's terminal.key)")
    spec = {"backend": args.backend, **(json.loads(args.simulated) if args.backend == "simulated"
                                        else {})}
    return int(_sibling("_processes").run_bridge(host or "127.0.0.1", int(port), key.encode(), spec))


if __name__ == "__main__":
    if not __package__ and sys.path and os.path.dirname(os.path.abspath(__file__)) == \
            os.path.abspath(sys.path[0]):
        sys.path.pop(0)  # run as a file: our sibling modules must not shadow anything
    sys.exit(main())
