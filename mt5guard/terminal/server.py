"""The terminal worker: one MetaTrader 5 connection in its own process.

Standard library only (plus the ``MetaTrader5`` wheel for the real backend),
so it also runs as a plain file under Windows Python in Wine::

    python -m mt5guard.terminal.server --listen 127.0.0.1:18812
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
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import subprocess
import sys
import threading
from datetime import UTC, datetime
from multiprocessing import connection as mpc
from typing import Any

__all__ = ["CALLS", "WorkerProcess", "main", "plain", "spawn_worker"]

PROTOCOL = 1
DEFAULT_KEY_ENV = "MT5GUARD_BRIDGE_KEY"
#: The functions a worker serves; nothing else is ever looked up on the backend.
CALLS = frozenset({
    "initialize", "login", "shutdown", "version", "last_error", "terminal_info", "account_info",
    "symbol_select", "symbol_info", "symbol_info_tick", "order_check", "order_send",
    "positions_get", "orders_get", "history_deals_get", "history_orders_get", "ping",
    "copy_rates_from", "copy_rates_from_pos", "copy_rates_range", "copy_ticks_from",
    "copy_ticks_range", "symbols_get", "symbols_total",
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

    terminal = os.path.dirname(os.path.abspath(__file__))
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


def _answer(backend: Any, request: Any) -> list[Any]:
    """One request -> one reply; never raises."""
    ident = request[1] if isinstance(request, list) and len(request) > 1 else None
    try:
        tag, ident, _deadline, _budget, name, args, kwargs = request
        if tag != "call" or name not in CALLS:
            raise ValueError(f"not a call this worker serves: {tag!r} {name!r}")
        if name == "ping":
            return ["ok", ident, args, None]
        result = getattr(backend, name)(*_unplain(args), **_unplain(kwargs))
        error = None
        if (result is None or result is False) and name not in ("shutdown", "last_error"):
            code, message = backend.last_error()
            error = [int(code), str(message)]
        return ["ok", ident, plain(result), error]
    except Exception as exc:
        return ["error", ident, f"{type(exc).__name__}: {exc}"]


def serve(conn: mpc.Connection, backend: Any) -> None:
    """Answer requests one at a time until the connection closes."""
    while True:
        try:
            raw = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            request = json.loads(raw)
        except ValueError:
            request = None
        conn.send_bytes(json.dumps(_answer(backend, request)).encode())


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


# -- spawning a worker (used by mt5guard and by the bridge) ----------------------


def _command() -> list[str]:
    """This file, run as a file: a worker imports nothing of mt5guard it does not need."""
    return [sys.executable, os.path.abspath(__file__)]


#: Workers starting at once: a herd of interpreters starting together on few cores
#: makes every one of them late (and miss its start timeout); a queue does not.
_STARTING = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))


class WorkerProcess:
    """A spawned ``--child`` worker and its authenticated connection."""

    def __init__(self, proc: subprocess.Popen[bytes], conn: mpc.Connection, hello: dict[str, Any]):
        self.proc, self.conn, self.hello = proc, conn, hello
        self.pid: int = proc.pid

    def kill(self) -> None:
        """SIGKILL (TerminateProcess) this worker by its PID; never by name."""
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except OSError:
                pass

    def reap(self, timeout: float = 1.0) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


def spawn_worker(spec: dict[str, Any], *, timeout: float = 10.0,
                 command: list[str] | None = None) -> WorkerProcess:
    """Spawn a child worker for ``spec`` and connect to it within ``timeout`` s.

    Raises ``TimeoutError``, ``ConnectionError`` or ``RuntimeError`` (the
    worker's backend failed to load; its reason is the message). At most
    ``_STARTING`` workers start at once; the timeout runs from our turn.
    """
    with _STARTING:
        return _spawn(spec, timeout, command)


def _spawn(spec: dict[str, Any], timeout: float, command: list[str] | None) -> WorkerProcess:
    key = os.urandom(32)
    proc = subprocess.Popen((command or _command()) + ["--child"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, close_fds=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(key.hex().encode() + b"\n" + json.dumps(spec).encode() + b"\n")
        proc.stdin.flush()
        lines: queue.Queue[bytes] = queue.Queue()
        out = proc.stdout
        threading.Thread(target=lambda: lines.put(out.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"terminal worker pid {proc.pid} did not start within {timeout} s"
                               ) from None
        if not line:
            raise ConnectionError(f"terminal worker pid {proc.pid} exited at start "
                                  f"(status {proc.wait(timeout)})")
        where = json.loads(line)
        conn = mpc.Client(where["address"], where["family"], authkey=key)
        if not conn.poll(timeout):
            raise TimeoutError(f"terminal worker pid {proc.pid} sent no greeting in {timeout} s")
        tag, body = json.loads(conn.recv_bytes())
        if tag == "fatal":
            raise RuntimeError(str(body))
        return WorkerProcess(proc, conn, dict(body))
    except BaseException:
        proc.kill()
        proc.wait()
        raise


# -- the bridge ------------------------------------------------------------------


class _Relay:
    """One bridge session: its requests go to its own child worker."""

    def __init__(self, client: mpc.Connection, spec: dict[str, Any]) -> None:
        self.client, self.spec = client, spec
        self.worker: WorkerProcess | None = None

    def run(self) -> None:
        try:
            while True:
                self._one(self.client.recv_bytes())
        except (EOFError, OSError):
            pass  # the client went away; its worker goes with it
        finally:
            self._drop()
            self.client.close()

    def _drop(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker.reap()
            self.worker = None

    def _send(self, reply: list[Any]) -> None:
        self.client.send_bytes(json.dumps(reply).encode())

    def _one(self, raw: bytes) -> None:
        try:
            request = json.loads(raw)
            ident, budget = request[1], float(request[3])
        except (ValueError, TypeError, IndexError, KeyError):
            self._send(["error", None, "malformed request"])
            return
        if self.worker is None:
            try:
                self.worker = spawn_worker(self.spec)
            except Exception as exc:
                self._send(["lost", ident, f"the bridge could not start a worker: {exc}"])
                return
        worker = self.worker
        try:
            worker.conn.send_bytes(raw)
            reply = worker.conn.recv_bytes() if worker.conn.poll(max(0.0, budget)) else None
        except (EOFError, OSError):
            self._drop()
            self._send(["lost", ident, f"the session's worker pid {worker.pid} died"])
            return
        if reply is None:  # hung past its budget: kill this session's child only
            self._drop()
            self._send(["timeout", ident, f"no reply within {budget:g} s; the bridge killed "
                                          f"worker pid {worker.pid}"])
            return
        self.client.send_bytes(reply)


def _authenticated(conn: mpc.Connection, key: bytes, spec: dict[str, Any]) -> None:
    try:
        mpc.deliver_challenge(conn, key)
        mpc.answer_challenge(conn, key)
        conn.send_bytes(json.dumps(["hello", {"pid": os.getpid(), "backend": spec.get("backend"),
                                              "protocol": PROTOCOL}]).encode())
    except (multiprocessing.AuthenticationError, EOFError, OSError):
        conn.close()
        return
    _Relay(conn, spec).run()


def run_bridge(host: str, port: int, key: bytes, spec: dict[str, Any]) -> int:
    with mpc.Listener((host, port), "AF_INET") as listener:
        bound = listener.address
        print(f"mt5guard terminal bridge listening on {bound[0]}:{bound[1]}", flush=True)
        while True:
            conn = listener.accept()
            threading.Thread(target=_authenticated, args=(conn, key, spec), daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mt5guard.terminal.server", description=__doc__.split("\n")[0])
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
    return run_bridge(host or "127.0.0.1", int(port), key.encode(), spec)


if __name__ == "__main__":
    if not __package__ and sys.path and os.path.dirname(os.path.abspath(__file__)) == \
            os.path.abspath(sys.path[0]):
        sys.path.pop(0)  # run as a file: our sibling modules must not shadow anything
    sys.exit(main())
