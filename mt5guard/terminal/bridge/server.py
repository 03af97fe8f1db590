"""The terminal worker: one MetaTrader 5 connection in its own process.

Standard library only (plus the ``MetaTrader5`` wheel for the real backend),
so it also runs as a plain file (with the ``_*.py`` files beside it) under
Windows Python in Wine::

    python -m mt5guard.terminal.bridge.server --listen 0.0.0.0:18812 --tls /etc/mt5guard/bridge
    python server.py --listen 127.0.0.1:18812 --key-file keys.txt --insecure-plaintext-loopback

Three modes:

``--child``
    A local worker spawned by mt5guard, or forked by its zygote (a process
    with one thread, never mt5guard itself; Linux). It reads a backend
    spec (JSON) from stdin and talks on the socket-pair end it inherited
    (``--fd``; Windows: a named pipe with a per-worker key). It exits as
    soon as stdin reaches EOF, i.e. when its parent is gone, and on Linux
    the kernel kills it (SIGKILL, stopped or not) when its parent dies.

``--zygote``
    Linux: one preloaded, single-threaded process per mt5guard process that
    forks ``--child`` workers on request (``_zygote.py``), tied to its parent
    the same ways; every worker it forks is tied to it and reads its spec
    from its own stdin pipe from mt5guard.

``--listen HOST:PORT``
    The bridge: serves mt5guard clients over TCP, mutually authenticated
    TLS (``--tls DIR``) plus a key (``--key-env`` or ``--key-file``; see
    ``_channel.py`` for the handshake and ``_gate.py`` for its bounds).
    Each client session gets its own ``--child`` process, and a call that
    outlives the budget its request carries makes the server kill that
    child by its PID. Plaintext only on loopback with
    ``--insecure-plaintext-loopback``.

Wire (protocol 4): length-framed JSON (never pickle). Requests are ``["call", id,
deadline, budget_s, name, args, kwargs]`` (checked by ``_requests.parse_request``);
replies ``["ok", id, value, last_error|null]``, ``["error", id, text]`` (the
backend raised, or the request was refused), ``["timeout", id, text]`` /
``["lost", id, text]`` (bridge: the session's child was killed / died).
Records travel as positional lists ``[shape, v1, ...]``, their field names
declared once per connection by the first frame that uses them (an extra last
element; see ``_shapes.py``); datetimes as ``{"$datetime": epoch_s}``.
``watch(symbols, interval_s)`` makes the worker poll quotes itself and push
``["push", "polled", changed_ticks, failures]`` frames, which carry no request
id (see ``_watch.py``). An ``["ok", id, record, null]`` of a declared shape whose values
are 64-bit ints and floats goes as a binary frame instead (``_shapes.BINARY_OK``).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported in main(): a spawned worker (_spawned_child) does without it
    import argparse

__all__ = ["CALLS", "PROTOCOL", "main", "serve"]

#: The frame format's version, in every hello; 4: the usual record reply binary (issue 21).
PROTOCOL = 4
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


_SCALARS = frozenset({str, int, float, bool, type(None)})


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
        return importlib.import_module("MetaTrader5")
    if kind == "simulated":  # tests and terminal.isolation: process on the simulated kind
        _bare_packages()
        from mt5guard.clock import SystemClock
        from mt5guard.terminal.sim import SimulatedTerminal

        sim = SimulatedTerminal(
            SystemClock(), login=int(spec["login"]), password=spec.get("password"),
            server=str(spec["server"]), balance=float(spec.get("balance", 10000.0)),
            seed=int(spec.get("seed", 1)), call_latency=float(spec.get("call_latency", 0.0)),
            ledger_path=None if spec.get("ledger_path") is None else str(spec["ledger_path"]),
        )
        if spec.get("reject_auth"):
            sim.revoke_auth()
        return sim
    raise ValueError(f"unknown backend {kind!r}; use metatrader5 or simulated")


def _outcome(backend: Any, ident: Any, name: str, result: Any) -> list[Any]:
    """The ``ok`` frame of ``name()``'s ``result``: MT5's last_error with a None or False."""
    error = None
    if (result is None or result is False) and name not in ("shutdown", "last_error"):
        code, message = backend.last_error()
        error = [int(code), str(message)]
    return ["ok", ident, result, error]


def _answer(backend: Any, request: Any, lock: threading.Lock | None = None,
            watcher: Any = None) -> list[Any]:
    """One request -> one reply frame (records still objects: ``send`` encodes); never raises."""
    ident = request[1] if isinstance(request, list) and len(request) > 1 else None
    try:
        tag, ident, _deadline, _budget, name, args, kwargs = request
        if tag != "call" or name not in CALLS:
            raise ValueError(f"not a call this worker serves: {tag!r} {name!r}")
        if name == "ping":
            return ["ok", ident, args, None]
        if name == "watch" and watcher is not None:
            return ["ok", ident, watcher.configure(*args), None]
        if kwargs or not _SCALARS.issuperset(map(type, args)):  # else nothing to rebuild
            args, kwargs = _unplain(args), _unplain(kwargs)
        with lock or threading.Lock():  # one terminal call at a time, the quote watch's too
            result = getattr(backend, name)(*args, **kwargs)
        return _outcome(backend, ident, name, result)
    except Exception as exc:
        return ["error", ident, f"{type(exc).__name__}: {exc}"]


def _receiver(conn: Any) -> Any:
    """``receive()``: the next request frame, at most ``REQUEST_CAP`` bytes."""
    if hasattr(conn, "pending"):  # our Framed: capped by itself
        return conn.recv_bytes
    cap = _sibling("_channel").REQUEST_CAP
    return lambda: conn.recv_bytes(cap)  # a Windows pipe


def serve(conn: Any, backend: Any) -> None:
    """Answer requests one at a time until the connection closes; pushes quotes when watching.

    A request that is refused (``_requests.parse_request``) gets an ``error`` reply
    and the worker serves on; a frame above the request cap gets one too, and
    ends the connection (its body cannot be skipped).
    """
    calls, sending = threading.Lock(), threading.Lock()
    shapes = _sibling("_shapes").Shapes()

    def send(frame: list[Any]) -> None:
        with sending:  # encoded in sending order: a shape is declared before its first use
            try:
                data = shapes.frame(frame)
            except (TypeError, ValueError) as exc:  # a value the wire cannot carry
                data = shapes.frame(["error", frame[1], f"{type(exc).__name__}: {exc}"])
            conn.send_bytes(data)

    def reply(ident: int, name: str, args: list[Any]) -> None:
        """``send(_answer(...))`` for the usual request (checked, scalar args, no kwargs)."""
        try:
            with calls:
                result = getattr(backend, name)(*args)
            frame = _outcome(backend, ident, name, result) if result is None or \
                result is False else None
        except Exception as exc:
            frame = ["error", ident, f"{type(exc).__name__}: {exc}"]
        if frame is None:  # a declared record's reply encoded without its frame list
            with sending:
                data = ok(ident, result)
                if data is not None:
                    return send_bytes(data)  # type: ignore[no-any-return]
            frame = ["ok", ident, result, None]
        send(frame)

    ok, send_bytes, direct = shapes.ok, conn.send_bytes, CALLS - {"ping", "watch"}
    watcher = _sibling("_watch").Watcher(backend, calls, send, lambda tick: tick)
    too_large = _sibling("_channel").FrameTooLarge
    checks = _sibling("_requests")
    receive, usual, full = _receiver(conn), checks.usual_request, checks.checked_request
    refused = checks.RequestRefused
    try:
        while True:
            try:
                raw = receive()
            except too_large as exc:
                send(["error", None, f"FrameTooLarge: {exc}"])
                return
            except (EOFError, OSError):
                return
            request = usual(raw)  # parse_request's two steps, each frame parsed by one
            if request is None:
                try:
                    request = full(raw)
                except refused as exc:
                    send(["error", checks.ident_of(raw), f"RequestRefused: {exc}"])
                    continue
            elif request[4] in direct:  # ping and watch are _answer's
                reply(request[1], request[4], request[5])
                continue
            send(_answer(backend, request, calls, watcher))
    finally:
        watcher.close()


def _preload() -> None:
    """What a simulated worker imports up to its first quote: the zygote imports it once.

    numpy's BLAS has one thread here (the zygote's environment says so), and
    nothing imported starts a thread: the zygote checks it has one before forking.
    """
    for name in ("_child", "_channel", "_shapes", "_watch", "_requests"):
        _sibling(name)
    _bare_packages()
    importlib.import_module("mt5guard.clock")
    importlib.import_module("mt5guard.terminal.sim")
    importlib.import_module("mt5guard.terminal.sim._history")  # the quotes: numpy
    importlib.import_module("numpy.random")


def run_child(fd: int | None = None, parent: int = 0) -> int:
    stdin = sys.stdin.buffer
    key_line = stdin.readline().decode().strip()
    line = stdin.readline()
    if not line:  # the parent closed our stdin before sending a spec: it gave up on us
        return 0
    spec = json.loads(line)
    child = _sibling("_child")
    child.die_with_parent(parent)
    child.watch_parent(stdin)
    conn = child.socket_channel(fd) if fd is not None else child.piped_channel(
        bytes.fromhex(key_line))
    if conn is None:
        return 0
    try:
        backend = _backend(spec)
    except Exception as exc:
        conn.send_bytes(json.dumps(["fatal", f"{type(exc).__name__}: {exc}"]).encode())
        return 1
    hello = {"pid": os.getpid(), "backend": spec.get("backend"), "protocol": PROTOCOL}
    conn.send_bytes(json.dumps(["hello", hello]).encode())
    serve(conn, backend)
    return 0


def _loader() -> Any:
    """``_siblings``: imported in the package, loaded by path when this runs as a file."""
    if __package__:
        return importlib.import_module(f"{__package__}._siblings")
    if "_mt5guard_siblings" in sys.modules:
        return sys.modules["_mt5guard_siblings"]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_siblings.py")
    spec = importlib.util.spec_from_file_location("_mt5guard_siblings", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _sibling(name: str) -> Any:
    """A sibling module (``_processes``, ``_gate``, ``_channel``, ``_tls``, ``_watch``), without
    mt5guard's package ``__init__`` when this runs as a file."""
    return _loader().sibling(name)


def _bridge_keys(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[bytes, bytes]:
    if args.key_file:
        try:
            keys = _sibling("_keys").read_keys(args.key_file)
        except OSError as exc:
            parser.exit(2, f"{parser.prog}: error: --key-file: {exc}\n")
    else:
        keys = [os.environ.get(args.key_env, "")] if os.environ.get(args.key_env) else []
    if not keys:
        parser.exit(2, f"{parser.prog}: error: the bridge key is missing: export {args.key_env} "
                       "(the same value as the client's terminal.key) or give --key-file\n")
    channel = _sibling("_channel")
    for index, key in enumerate(keys):
        problem = _sibling("_keys").key_problem(key)
        if problem:
            where = args.key_env if not args.key_file else f"{args.key_file} line {index + 1}"
            parser.exit(2, f"{parser.prog}: error: the bridge key ({where}) {problem}\n")
    return {channel.key_id(key.encode()): key.encode() for key in keys}


def _spawned_child(argv: list[str], mode: str = "--child") -> tuple[int | None, int] | None:
    """``(fd, parent)`` when ``argv`` is exactly what mt5guard gives a worker
    (``--child [--parent PID] [--fd N]``, numbers as decimals), else None (argparse decides).
    ``mode="--zygote"``: the same for the zygote that forks workers (``_zygote.py``).

    Every one of N workers starting together would otherwise pay for argparse,
    whose parser brings gettext, locale and shutil (with bz2 and lzma): ~7 ms of CPU.
    """
    if not argv or argv[0] != mode or len(argv) % 2 == 0:
        return None
    values = dict(zip(argv[1::2], argv[2::2], strict=True))
    if not set(values) <= {"--fd", "--parent"} or len(values) != len(argv) // 2 or \
            not all(v.isascii() and v.isdigit() for v in values.values()):
        return None
    fd = values.get("--fd")
    return (None if fd is None else int(fd)), int(values.get("--parent", "0"))


def main(argv: list[str] | None = None) -> int:
    child = _spawned_child(sys.argv[1:] if argv is None else argv)
    if child is not None:  # as below, without argparse
        code = run_child(*child)
        sys.stdout.flush()
        os._exit(code)
    zygote = _spawned_child(sys.argv[1:] if argv is None else argv, "--zygote")
    if zygote is not None and zygote[0] is not None:  # Linux only: see _forked.py
        os._exit(_sibling("_zygote").serve_forks(zygote[0], zygote[1], _preload, run_child))
    import argparse

    parser = argparse.ArgumentParser(prog="mt5guard.terminal.bridge.server",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--child", action="store_true", help="local worker mode (spawned by mt5guard)")
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--parent", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--listen", metavar="HOST:PORT", help="bridge mode, e.g. 127.0.0.1:18812")
    parser.add_argument("--key-env", default=DEFAULT_KEY_ENV,
                        help="environment variable holding the bridge key (default %(default)s)")
    parser.add_argument("--key-file", metavar="PATH",
                        help="file of bridge keys, one a line (mode 600), instead of --key-env")
    parser.add_argument("--tls", metavar="DIR",
                        help="folder with ca.pem, server.pem, server.key and client.pem, made by "
                             "python -m mt5guard.terminal.bridge.certs")
    parser.add_argument("--insecure-plaintext-loopback", action="store_true",
                        help="serve without TLS; only on a loopback address")
    parser.add_argument("--max-sessions", type=int, default=64,
                        help="authenticated sessions served at once (default %(default)s)")
    parser.add_argument("--backend", default="metatrader5", choices=("metatrader5", "simulated"))
    parser.add_argument("--simulated", default="{}", metavar="JSON",
                        help='simulated account, e.g. {"login": 5001, "server": "MetaQuotes-Demo"}')
    args = parser.parse_args(argv)
    if args.child:  # os._exit: the parent-watch thread may still be reading stdin
        code = run_child(args.fd, args.parent)
        sys.stdout.flush()
        os._exit(code)
    if not args.listen:
        parser.error("give --listen HOST:PORT (or --child, used by mt5guard itself)")
    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    keys = _bridge_keys(parser, args)
    tls = None
    if args.tls:
        try:
            tls = _sibling("_tls").server_side(args.tls)
        except (OSError, ValueError) as exc:
            parser.exit(2, f"{parser.prog}: error: --tls {args.tls}: {exc}\n")
    elif not args.insecure_plaintext_loopback:
        parser.exit(2, f"{parser.prog}: error: give --tls DIR (see docs/operations.md), or "
                       "--insecure-plaintext-loopback on a loopback address\n")
    elif not _sibling("_keys").loopback(host):
        parser.exit(2, f"{parser.prog}: error: --insecure-plaintext-loopback refuses {host}: "
                       "plaintext only on a loopback address; use --tls DIR\n")
    spec = {"backend": args.backend, **(json.loads(args.simulated) if args.backend == "simulated"
                                        else {})}
    return int(_sibling("_gate").run_bridge(host, int(port), keys, spec, tls=tls,
                                            max_sessions=args.max_sessions))


if __name__ == "__main__":
    if not __package__ and sys.path and os.path.dirname(os.path.abspath(__file__)) == \
            os.path.abspath(sys.path[0]):
        sys.path.pop(0)  # run as a file: our sibling modules must not shadow anything
    sys.exit(main())
