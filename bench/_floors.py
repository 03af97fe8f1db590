"""Issue 21's figures, each against the floor it is measured against, in one process.

``python bench/_floors.py GROUP`` measures one group in this (fresh)
interpreter and prints one JSON object ``{figure key: {"now": .., "floor": ..}}``
on its last stdout line (progress on stderr). ``run_all.py`` runs every group
``REPEATS`` times and prints the table. Groups and their floors:

- ``request``: fast-fail p99/p50 while OPEN (threads placed by the OS, as
  issue 21 measured it) vs the p99/p50 of plain Python arithmetic of the same
  p50 on the same thread, in the same rounds (a refusal makes no hop: it is
  answered on the caller's thread; a bare echo ask's p99/p50 is reported
  too, as ``bare_ask``, and that of raising and catching the refusal's typed
  error for the same p50, as ``raise``); then,
  every thread on one CPU (the software cost, not placement), guarded
  ``get_price`` vs an ask to a pykka actor whose handler makes the same
  simulated terminal call.
- ``worker``: guarded ``get_price`` through a process-isolated terminal vs a
  bare ``multiprocessing`` Pipe echo to a child, vs an rpyc call to an
  rpyc classic server (``SlaveService``, as mt5linux runs it) whose helper
  returns the simulated tick as a plain tuple (the cheapest rpyc call there is),
  vs the same ``symbol_info_tick`` on a bare ``WorkerTerminal`` (its own
  simulated worker, no session, breaker or deadline bookkeeping), and vs a
  "tick echo": a Pipe child that makes the same simulated call and sends its
  fields back as one JSON list, decoded here (no ids, deadlines or checks):
  the least any worker that calls the terminal in Python does. Left to the
  OS, as a deployment runs; then 3 more rounds with every process of both
  sides pinned alike, all on one CPU (``same-core``) and the caller on one,
  every child on the other (``cross-core``), for ``worker_by_placement``.
- ``scale`` N: N accounts with their SQLite journals on disk: ``start()`` until
  every session answered once, and RSS per session; ``scale-floor`` N: in a
  fresh process, N x (4 pykka actors + one open WAL SQLite file, each actor
  asked once): what any thread-per-actor design with a journal per account pays.
  Both also report the process CPU and voluntary context switches of that start
  (``cpu_s``, ``switches``; ``floor_cpu_s``, ``floor_switches``), steadier than
  its wall time on a shared machine.
- ``workers`` N: N process-isolated accounts, ``start()`` until every session
  answered once, vs N bare interpreters (``python -S -c pass``) started at once.
  The workers read mt5guard's bytecode, as from an install (``_worker_bytecode``).
  ``worker-cpu`` N: the median CPU of one simulated worker from its start
  (spawn, or fork by the zygote: Linux) to its first quote, N workers one
  after another; a zygote's own CPU apart.
  Also each worker's memory once every session answered (PSS, its share of the
  pages it shares with other processes: what it adds to the host, with the
  zygote's PSS shared out over the workers it forked; RSS beside it) vs an idle
  bare interpreter's (``python -S``).
- ``journal``: one order's journal writes (intent, sent, outcome) vs the same
  three state changes as bare statements, each its own autocommit
  transaction, on the journal's table (primary key and prune index) with
  the journal's PRAGMAs (exclusive WAL, NORMAL, 32 KiB page cache).
- ``chaos`` N: ``make chaos``'s command for N seeds (from seed 1000), timed;
  1,000 seeds projected from the wall time, and from the CPU time over 2 cores
  (what two idle cores would take).
- ``deterministic``: one chaos seed (3 accounts x 2 simulated days) and the
  24 h story of 10 accounts, vs a deque floor: the same number of messages
  through one ``collections.deque`` to a trivial handler. Also the process
  CPU seconds of each (steadier than wall time on a shared machine) and the
  runtime's own floor: as many messages between two trivial actors on a
  ``DeterministicRuntime`` (greenlet switches, pykka envelopes, the inbox).
"""

from __future__ import annotations

import collections
import gc
import itertools
import json
import multiprocessing
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import attrs
from _stats import median, progress, rounds, time_calls
from _trees import SYMBOL, accounts_config, process_memory_kb, wait_answered

ROUNDS = 5
CALLS = 1000
RESULTS = Path(__file__).resolve().parent / "results"


def _ratios(samples: dict[str, list[Any]], name: str, base: str, field: str = "p50_us") -> float:
    return median([getattr(s, field) / getattr(b, field)
                   for s, b in zip(samples[name], samples[base], strict=True)])


# -- request -------------------------------------------------------------------


def request() -> dict[str, Any]:
    from _placement import place_threads
    from _request import Echo, TerminalOwner, connected_terminal

    from mt5guard import MT5CircuitBreakerOpen, SystemClock, start
    from mt5guard.config import MEMORY, OrdersConfig

    guard = start(attrs.evolve(accounts_config(1, interval=3600.0),
                               orders=OrdersConfig(state_dir=MEMORY)))  # not ./state
    clock = SystemClock()
    echo = Echo.start()
    owner = TerminalOwner.start(connected_terminal(clock))
    try:
        session = guard.session("acc0000")
        wait_answered([session])
        session.force_open("bench: fast-fail")  # threads placed by the OS, as issue 21 measured
        while True:
            try:
                session.get_price(SYMBOL)
            except MT5CircuitBreakerOpen:
                break
            time.sleep(0.001)

        def rejected() -> None:
            try:
                session.get_price(SYMBOL)
            except MT5CircuitBreakerOpen:
                pass

        p50 = time_calls(rejected, 3 * CALLS).p50_us
        spin, raising = _calibrated_spin(p50), _calibrated_raise(p50)
        fast = rounds({"rejected": lambda: time_calls(rejected, 3 * CALLS),
                       "spin": lambda: time_calls(spin, 3 * CALLS),
                       "raise": lambda: time_calls(raising, 3 * CALLS),
                       "bare": lambda: time_calls(lambda: echo.ask(SYMBOL), 3 * CALLS)},
                      ROUNDS, "request: fast-fail")
        session.reset_breaker()
        while True:  # the reset reaches the session's view of the breaker as a message
            try:
                session.get_price(SYMBOL)
                break
            except MT5CircuitBreakerOpen:
                time.sleep(0.001)
        place_threads("same-core")
        variants = {
            "guarded": lambda: time_calls(lambda: session.get_price(SYMBOL), CALLS),
            "owner": lambda: time_calls(lambda: owner.ask(SYMBOL), CALLS),
        }
        time_calls(lambda: session.get_price(SYMBOL), 300)
        time_calls(lambda: owner.ask(SYMBOL), 300)
        got = rounds(variants, ROUNDS, "request: guarded vs terminal-calling actor")
    finally:
        echo.stop()
        owner.stop()
        guard.stop()
        clock.close()
    return {
        "guarded_vs_actor": {"now": _ratios(got, "guarded", "owner"),
                             "floor": median([s.p50_us for s in got["owner"]])},
        "fast_fail_tail": {"now": median([s.p99_us / s.p50_us for s in fast["rejected"]]),
                           "floor": median([s.p99_us / s.p50_us for s in fast["spin"]]),
                           "p50_us": median([s.p50_us for s in fast["rejected"]]),
                           "spin_p50_us": median([s.p50_us for s in fast["spin"]]),
                           "bare_ask": median([s.p99_us / s.p50_us for s in fast["bare"]]),
                           "raise": median([s.p99_us / s.p50_us for s in fast["raise"]]),
                           "raise_p50_us": median([s.p50_us for s in fast["raise"]])},
    }


def _calibrated(of: Callable[[int], Callable[[], object]], p50_us: float,
                start: int = 1) -> Callable[[], object]:
    """``of(n)`` for the ``n`` whose p50 on this thread is about ``p50_us`` (doubling, then
    halving the last step eight times)."""
    n = start
    while time_calls(of(n), 500).p50_us < p50_us and n < 1 << 20:
        n *= 2
    low, high = n // 2, n
    for _ in range(8):
        middle = (low + high) // 2
        if middle <= low:
            break
        if time_calls(of(middle), 500).p50_us < p50_us:
            low = middle
        else:
            high = middle
    return of(high)


def _calibrated_spin(p50_us: float) -> Callable[[], object]:
    """A call of plain Python arithmetic on this thread whose p50 is about ``p50_us``:
    the tail this machine gives any work of that length (no lock, no hop, no I/O)."""
    def spin_of(n: int) -> Callable[[], int]:
        def spin() -> int:
            total = 0
            for i in range(n):
                total += i
            return total
        return spin

    return _calibrated(spin_of, p50_us, start=16)


def _calibrated_raise(p50_us: float) -> Callable[[], object]:
    """A call that raises and catches the refusal's typed error (``MT5CircuitBreakerOpen``)
    until its p50 is about ``p50_us``: the tail of the least any refusal does (it must
    raise that error to the caller), with no lock, hop or bookkeeping."""
    from mt5guard import MT5CircuitBreakerOpen

    def raising_of(n: int) -> Callable[[], None]:
        def raising() -> None:
            for _ in range(n):
                try:
                    raise MT5CircuitBreakerOpen(operation="get_price", retry_at=None)
                except MT5CircuitBreakerOpen:
                    pass
        return raising

    return _calibrated(raising_of, p50_us)


# -- worker --------------------------------------------------------------------


def _echo_child(conn: Connection) -> None:
    while True:
        try:
            frame = conn.recv_bytes()
        except EOFError:
            return
        conn.send_bytes(frame)


def _tick_echo_child(conn: Connection) -> None:
    """The least a worker that calls the terminal does: frame in, the simulated
    ``symbol_info_tick``, its fields out as one JSON list (no checks, no ids, no session)."""
    from mt5guard.clock import SystemClock
    from mt5guard.terminal.sim import SimulatedTerminal

    terminal = SimulatedTerminal(SystemClock())
    terminal.initialize(login=5001, password="", server="MetaQuotes-Demo")
    terminal.symbol_select(SYMBOL, True)
    encode = json.JSONEncoder(separators=(",", ":")).encode
    while True:
        try:
            symbol = conn.recv_bytes().decode()
        except EOFError:
            return
        conn.send_bytes(encode(list(terminal.symbol_info_tick(symbol))).encode())


_RPYC_SERVER = """
import sys
from rpyc.utils.classic import SlaveService
from rpyc.utils.server import ThreadedServer
server = ThreadedServer(SlaveService, hostname="127.0.0.1", port=0, reuse_addr=True)
print(server.port, flush=True)
server.start()
"""

_RPYC_HELPER = """
from mt5guard.clock import SystemClock
from mt5guard.terminal.sim import SimulatedTerminal
_t = SimulatedTerminal(SystemClock())
_t.initialize(login=5001, password="", server="MetaQuotes-Demo")
_t.symbol_select("EURUSD", True)
def tick(symbol):
    return tuple(_t.symbol_info_tick(symbol))
"""


def _connect_rpyc(rpyc: Any, port: int) -> Any:
    """rpyc's server listens only once ``start()`` runs: retry for a few seconds."""
    deadline = time.monotonic() + 10.0
    while True:
        try:
            return rpyc.classic.connect("127.0.0.1", port)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def worker() -> dict[str, Any]:
    import rpyc
    from _workers import SPEC, isolated

    from mt5guard import SystemClock, start
    from mt5guard.terminal.worker import WorkerTerminal, local_opener

    clock = SystemClock()
    guard = start(isolated(accounts_config(1, interval=3600.0, timeout=60.0)), clock=clock)
    bare = WorkerTerminal(local_opener(dict(SPEC)), clock, name="bare")
    bare.start()
    bare.initialize(login=int(SPEC["login"]), password="", server=str(SPEC["server"]))
    bare.symbol_select(SYMBOL, True)
    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe()
    child = ctx.Process(target=_echo_child, args=(theirs,), daemon=True)
    child.start()
    tick_mine, tick_theirs = ctx.Pipe()
    tick_child = ctx.Process(target=_tick_echo_child, args=(tick_theirs,), daemon=True)
    tick_child.start()
    server = subprocess.Popen([sys.executable, "-c", _RPYC_SERVER], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        conn = _connect_rpyc(rpyc, port)
        conn.execute(_RPYC_HELPER)
        remote_tick = conn.namespace["tick"]
        session = guard.session("acc0000")
        wait_answered([session])
        frame = b'{"id":1,"op":"symbol_info_tick","args":["EURUSD"]}'

        def echo() -> None:
            mine.send_bytes(frame)
            mine.recv_bytes()

        symbol_bytes = SYMBOL.encode()
        decode = json.JSONDecoder().decode

        def tick_echo() -> None:
            tick_mine.send_bytes(symbol_bytes)
            decode(tick_mine.recv_bytes().decode())

        calls: dict[str, Callable[[], object]] = {
            "guarded": lambda: session.get_price(SYMBOL),
            "pipe": echo,
            "tick_echo": tick_echo,
            "rpyc": lambda: remote_tick(SYMBOL),
            "call": lambda: bare.symbol_info_tick(SYMBOL),
        }
        for call in calls.values():
            time_calls(call, 200)
        got = rounds({name: (lambda c=call: time_calls(c, CALLS)) for name, call in calls.items()},
                     ROUNDS, "worker: guarded vs pipe echo vs tick echo vs rpyc vs bare worker call")
        cpu = {name: _cpu_per_call(calls[name], pid) for name, pid in (
            ("guarded", guard.terminals["acc0000"].pid), ("call", bare.pid),
            ("tick_echo", tick_child.pid))}
        children = [guard.terminals["acc0000"].pid, bare.pid, child.pid, tick_child.pid,
                    server.pid]
        placed = {placement: _worker_rounds_placed(calls, children, placement)
                  for placement in ("same-core", "cross-core")}
        conn.close()
    finally:
        server.kill()
        server.wait()
        mine.close()
        tick_mine.close()
        for process in (child, tick_child):
            process.join(timeout=5)
            process.kill()
        bare.close()
        guard.stop()
        clock.close()
    return {
        "worker_vs_call": {"now": _ratios(got, "guarded", "call"),
                           "floor": median([s.p50_us for s in got["call"]]),
                           "cpu_us_per_call": cpu},
        "worker_vs_pipe": {"now": _ratios(got, "guarded", "pipe"),
                           "floor": median([s.p50_us for s in got["pipe"]]),
                           "p50_us": median([s.p50_us for s in got["guarded"]])},
        "worker_vs_tick_echo": {"now": _ratios(got, "guarded", "tick_echo"),
                                "floor": median([s.p50_us for s in got["tick_echo"]]),
                                "vs_pipe": _ratios(got, "tick_echo", "pipe")},
        "worker_vs_rpyc": {"now": _ratios(got, "guarded", "rpyc"),
                           "floor": median([s.p50_us for s in got["rpyc"]])},
        "worker_by_placement": {"os": _placed_ratios(got), **placed},
    }


def _placed_ratios(got: dict[str, list[Any]]) -> dict[str, float]:
    """The guarded read's p50 over each other variant's, and its own p50, from ``got``."""
    return {"guarded_p50_us": median([s.p50_us for s in got["guarded"]]),
            **{base: _ratios(got, "guarded", base)
               for base in ("pipe", "tick_echo", "call", "rpyc")}}


def _worker_rounds_placed(calls: dict[str, Callable[[], object]], children: list[int],
                          placement: str) -> dict[str, float]:
    """The worker rounds again with every process of both sides pinned alike.

    ``same-core``: this thread and every child on one CPU (each round trip a
    context switch: the software cost); ``cross-core``: this thread on one CPU,
    every child on another (each round trip wakes a core: what an idle vCPU's
    wake-up costs). Left to the OS (the table's rows), the two sides of a ratio
    can land on different sides of that line. Affinities are restored after.
    """
    from _placement import pin_process

    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 and placement == "cross-core":
        return {}
    mine, theirs = {cpus[0]}, {cpus[0] if placement == "same-core" else cpus[1]}
    try:
        os.sched_setaffinity(0, mine)  # this thread: the caller of every variant
        for pid in children:
            pin_process(pid, theirs)
        got = rounds({name: (lambda c=call: time_calls(c, CALLS)) for name, call in calls.items()},
                     3, f"worker, {placement}")
    finally:
        os.sched_setaffinity(0, set(cpus))
        for pid in children:
            pin_process(pid, set(cpus))
    return _placed_ratios(got)


def _cpu_per_call(call: Callable[[], object], worker_pid: int | None, n: int = 10000
                  ) -> dict[str, float]:
    """CPU microseconds per call: this process (all its threads) and its worker process
    (all its threads' time on the CPU in ns, ``/proc/PID/task/*/schedstat``; Linux: the
    10 ms ticks of ``/proc/PID/stat`` gave 5 us steps over 2,000 calls)."""
    def worker_cpu() -> float:
        tasks = Path(f"/proc/{worker_pid}/task")
        return sum(int((task / "schedstat").read_text().split()[0])
                   for task in tasks.iterdir()) / 1e9

    for _ in range(200):
        call()
    ours, theirs = time.process_time(), worker_cpu()
    for _ in range(n):
        call()
    return {"client": round((time.process_time() - ours) / n * 1e6, 1),
            "worker": round((worker_cpu() - theirs) / n * 1e6, 1)}


# -- scale -----------------------------------------------------------------------


def scale(n: int) -> dict[str, Any]:
    from mt5guard import start
    from mt5guard.config import OrdersConfig

    folder = Path(tempfile.mkdtemp(prefix="scale-", dir=_results()))
    try:
        gc.collect()
        memory0 = process_memory_kb()["VmRSS"]
        config = attrs.evolve(accounts_config(n, interval=30.0),
                              orders=OrdersConfig(state_dir=str(folder)))
        usage0, started = _usage(), time.perf_counter()
        guard = start(config)
        wait_answered(guard.sessions.values())
        startup = time.perf_counter() - started
        cpu, switches = _since(usage0)
        time.sleep(0.5)
        gc.collect()
        rss = (process_memory_kb()["VmRSS"] - memory0) / 1024 / n
        progress(f"scale N={n}: started in {startup:.2f} s ({cpu:.2f} s of CPU, {switches} "
                 f"voluntary context switches), {rss:.3f} MB per session")
        _ = guard  # not stopped: the process ends right after its answer (see _exit_now)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"start": {"now": startup, "cpu_s": cpu, "switches": switches}, "rss": {"now": rss}}


def _usage() -> resource.struct_rusage:
    return resource.getrusage(resource.RUSAGE_SELF)


def _since(before: resource.struct_rusage) -> tuple[float, int]:
    """The process CPU seconds (user + system, every thread) and voluntary context
    switches since ``before``: a start is CPU-bound on the GIL, and each switch is a
    thread that gave the GIL away and waited to get it back."""
    after = _usage()
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return cpu, after.ru_nvcsw - before.ru_nvcsw


def scale_floor(n: int) -> dict[str, Any]:
    import pykka

    class Idle(pykka.ThreadingActor):
        def on_receive(self, message: Any) -> Any:
            return message

    folder = Path(tempfile.mkdtemp(prefix="floor-", dir=_results()))
    try:
        gc.collect()
        memory0 = process_memory_kb()["VmRSS"]
        usage0, started = _usage(), time.perf_counter()
        refs = [Idle.start() for _ in range(4 * n)]
        files = []
        for i in range(n):
            conn = sqlite3.connect(str(folder / f"{i}.sqlite3"), isolation_level=None)
            conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            conn.execute("PRAGMA synchronous = OFF")  # made without fsyncs, as a NORMAL journal is
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)")
            files.append(conn)
        for ref in refs:
            ref.ask(1)
        startup = time.perf_counter() - started
        cpu, switches = _since(usage0)
        time.sleep(0.5)
        gc.collect()
        rss = (process_memory_kb()["VmRSS"] - memory0) / 1024 / n
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    progress(f"scale-floor N={n}: {startup:.2f} s ({cpu:.2f} s of CPU, {switches} voluntary "
             f"context switches), {rss:.3f} MB per account")
    return {"start": {"floor": startup, "floor_cpu_s": cpu, "floor_switches": switches},
            "rss": {"floor": rss}}


# -- worker start ----------------------------------------------------------------


def _worker_bytecode() -> None:
    """Give the workers mt5guard's bytecode, as any install has (pip compiles a wheel's;
    an editable install writes it on its first import).

    With ``PYTHONDONTWRITEBYTECODE`` set and no ``__pycache__`` in the source tree,
    every worker compiled ~35 modules from source (~35 ms of CPU each, a fifth of
    a worker's start), which is not what a deployed worker pays. ``compileall``
    writes the tree's ``__pycache__`` (ignored by git) whatever that variable says.
    (Not ``PYTHONPYCACHEPREFIX``: under a prefix, the standard library's and
    numpy's bytecode would not be found, and every worker compiled those.)
    """
    import mt5guard

    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.dirname(mt5guard.__file__)],
                   check=True, stdout=subprocess.DEVNULL)


def workers(n: int) -> dict[str, Any]:
    from _workers import isolated, memory_kb, parent_of

    from mt5guard import SystemClock, start

    _worker_bytecode()
    started = time.perf_counter()
    bare = [subprocess.Popen([sys.executable, "-S", "-c", "pass"]) for _ in range(n)]
    for proc in bare:
        proc.wait()
    floor = time.perf_counter() - started
    idle = subprocess.Popen([sys.executable, "-S", "-c", "import sys; sys.stdin.read()"],
                            stdin=subprocess.PIPE)
    clock = SystemClock()
    started = time.perf_counter()
    guard = start(isolated(accounts_config(n, interval=3600.0, timeout=60.0)), clock=clock,
                  start_timeout=120.0)
    try:
        wait_answered(guard.sessions.values(), timeout=300.0, poll=0.02)
        startup = time.perf_counter() - started
        pids = [terminal.pid for terminal in guard.terminals.values()]
        memory = [memory_kb(pid) for pid in pids]
        parents = {parent_of(pid) for pid in pids} - {os.getpid()}  # the zygote, if it forked
        shared_out = sum(memory_kb(pid)["Pss"] for pid in parents) / 1024 / n
        bare_memory = memory_kb(idle.pid)
    finally:
        idle.communicate()
        guard.stop()
        clock.close()
    pss = median([m["Pss"] for m in memory]) / 1024 + shared_out
    rss = median([m["Rss"] for m in memory]) / 1024
    progress(f"workers N={n}: {startup:.2f} s; {n} bare interpreters {floor:.2f} s; "
             f"{pss:.1f} MB PSS ({rss:.1f} MB RSS) per worker")
    return {"workers_start": {"now": startup, "floor": floor},
            "worker_memory": {"now": pss, "rss": rss, "floor": bare_memory["Pss"] / 1024,
                              "zygote_share": shared_out}}


def worker_cpu(n: int) -> dict[str, Any]:
    """CPU of one simulated worker from its start (spawn, or fork by the zygote) to its
    first quote (its time on the CPU from ``/proc/PID/schedstat``; Linux), ``n`` workers
    one after another: the median, in ms. A forked worker's zygote is counted apart
    (``zygote_ms``): a process starts it with its first worker and kills it with its last,
    so here (one worker at a time) every start pays for one, where N workers at once share it."""
    from mt5guard import SystemClock
    from mt5guard.terminal.worker import WorkerTerminal, local_opener

    def on_cpu_ms(pid: int) -> float:  # ns on the CPU: a forked worker needs less than a tick
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e6

    _worker_bytecode()
    spec = {"backend": "simulated", "login": 5001, "server": "MetaQuotes-Demo", "password": "pw"}
    clock, spent, zygotes = SystemClock(), [], []
    try:
        for _ in range(n):
            terminal = WorkerTerminal(local_opener(spec), clock, name="cpu", call_timeout=30.0)
            terminal.start()
            try:
                assert terminal.initialize(login=5001, password="pw", server="MetaQuotes-Demo")
                assert terminal.symbol_select(SYMBOL, True)
                assert terminal.symbol_info_tick(SYMBOL) is not None
                assert terminal.pid is not None
                spent.append(on_cpu_ms(terminal.pid))
                parent = int(Path(f"/proc/{terminal.pid}/stat").read_text().rsplit(")", 1)[1]
                             .split()[1])
                if parent != os.getpid():
                    zygotes.append(on_cpu_ms(parent))
            finally:
                terminal.close()
    finally:
        clock.close()
    zygote = median(zygotes) if zygotes else None
    progress(f"worker CPU to its first quote, median of {n}: {median(spent):.1f} ms"
             + ("" if zygote is None else f"; its zygote's (forked): {zygote:.1f} ms"))
    return {"worker_cpu_ms": {"now": median(spent), "n": n, "zygote_ms": zygote}}


# -- journal ---------------------------------------------------------------------


def journal() -> dict[str, Any]:
    from mt5guard.orders.journal import EntryState, OrderIntent, OrderJournal

    folder = Path(tempfile.mkdtemp(prefix="journal-", dir=_results()))
    ids = itertools.count()
    now = datetime.now(UTC)
    try:
        ours = OrderJournal.open(str(folder / "ours.sqlite3"), synchronous="NORMAL")
        bare = sqlite3.connect(str(folder / "bare.sqlite3"), isolation_level=None)
        for pragma in ("locking_mode = EXCLUSIVE", "cache_size = -32", "journal_mode = WAL",
                       "synchronous = NORMAL"):
            bare.execute(f"PRAGMA {pragma}")
        bare.execute("CREATE TABLE intents (client_order_id TEXT PRIMARY KEY, kind TEXT, "
                     "symbol TEXT, side TEXT, volume REAL, payload TEXT, state TEXT, "
                     "created_at REAL, sent_at REAL, finished_at REAL, result TEXT)")
        bare.execute("CREATE INDEX intents_finished ON intents (state, finished_at)")

        def one_order() -> None:
            entry = ours.begin(OrderIntent(f"j{next(ids)}", "place", SYMBOL, "buy", 0.1, {}), now)
            ours.mark_sent(entry, now)
            ours.finish(entry, EntryState.FILLED, {"outcome": {}}, now)

        def bare_order() -> None:
            cid = f"b{next(ids)}"
            bare.execute("INSERT INTO intents VALUES (?, 'place', ?, 'buy', 0.1, '{}', "
                         "'pending', 0, NULL, NULL, NULL)", (cid, SYMBOL))
            bare.execute("UPDATE intents SET state = 'sent', sent_at = 1 WHERE client_order_id = ?",
                         (cid,))
            bare.execute("UPDATE intents SET state = 'filled', finished_at = 2, result = '{}' "
                         "WHERE client_order_id = ?", (cid,))

        got = rounds({"journal": lambda: time_calls(one_order, 500),
                      "bare": lambda: time_calls(bare_order, 500)}, ROUNDS, "journal")
        ours.close()
        bare.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"journal": {"now": _ratios(got, "journal", "bare"),
                        "floor": median([s.p50_us for s in got["bare"]])}}


# -- deterministic ---------------------------------------------------------------


def _deque_floor(messages: int, actors: int) -> float:
    """Seconds to pass ``messages`` messages through one deque to trivial handlers."""
    handled = [0] * actors

    def handler(index: int) -> None:
        handled[index] += 1

    queue: collections.deque[tuple[Callable[[int], None], int]] = collections.deque()
    started = time.perf_counter()
    for i in range(messages):
        queue.append((handler, i % actors))
        call, arg = queue.popleft()
        call(arg)
    return time.perf_counter() - started


def _runtime_floor(messages: int) -> float:
    """Seconds to pass ``messages`` messages between two trivial actors on the runtime."""
    import pykka

    from mt5guard.testing import DeterministicRuntime

    class Ping(pykka.ThreadingActor):
        peer: Any = None

        def on_receive(self, message: Any) -> None:
            if isinstance(message, pykka.ActorRef):
                self.peer = message
            elif message < messages:
                self.peer.tell(message + 1)

    with DeterministicRuntime(seed=1) as runtime:
        a, b = runtime.start(Ping), runtime.start(Ping)
        a.tell(b)
        b.tell(a)
        runtime.run_until_idle()
        started = time.perf_counter()
        a.tell(1)
        runtime.run_until_idle()
        return time.perf_counter() - started


def _connected(terminal: Any, login: int, server: str) -> Any:
    assert terminal.initialize(login=login, password="x", server=server)
    assert terminal.symbol_select(SYMBOL, True)
    return terminal


def _probe_calls(runtime: Any, terminals: list[Any], days: float, buy_every: int) -> float:
    """Seconds the terminal calls of ``days`` of probes take, and nothing else.

    Every 30 simulated seconds, as the health actor probes: ``terminal_info``,
    ``account_info``, one tick, on each terminal (with a buy every
    ``buy_every`` probes when not 0, the positions a chaos seed's caller
    opens). No actor, message, timer, breaker or health policy: what any
    design that probes with the same three calls pays before it does
    anything of its own.
    """
    from mt5guard.terminal import constants as c

    buy = {"action": c.TRADE_ACTION_DEAL, "symbol": SYMBOL, "volume": 0.01,
           "type": c.ORDER_TYPE_BUY, "type_filling": c.ORDER_FILLING_IOC, "comment": "mg-floor"}
    started = time.perf_counter()
    for n in range(int(days * 86_400 / 30.0)):
        runtime.advance(30.0)
        for terminal in terminals:
            if buy_every and n % buy_every == 0:
                terminal.order_send(buy)
            terminal.terminal_info()
            terminal.account_info()
            terminal.symbol_info_tick(SYMBOL)
    return time.perf_counter() - started


def _seed_probe_floor(seed: int, days: float, accounts: int) -> float:
    """The probe calls of a chaos seed: its chaos terminals (hooked to the watch as the
    seed's run hooks them, checked for faults, one price history per seed), a buy every
    1,000 probes per account (2.7 positions on average, a seed's caller's 2.8)."""
    from _design_floor import SEED_BUY_EVERY

    from mt5guard.testing import DeterministicRuntime
    from mt5guard.testing.chaos._run import _config, _Watch
    from mt5guard.testing.chaos._terminal import ChaosTerminal

    names = [f"acct{i}" for i in range(accounts)]
    with DeterministicRuntime(seed) as runtime:
        watch = _Watch(runtime, names)
        terminals = []
        for name, account in zip(names, _config(names).accounts, strict=True):
            terminal = ChaosTerminal(runtime.clock, login=account.terminal.login,
                                     server=account.terminal.server, seed=seed)
            watch.watch_calls(name, terminal)  # as the seed's run hooks its terminals
            terminal.runtime = runtime
            terminals.append(_connected(terminal, account.terminal.login, account.terminal.server))
        return _probe_calls(runtime, terminals, days, buy_every=SEED_BUY_EVERY)


def _story_probe_floor() -> float:
    """The probe calls of the story: its ten simulated terminals (one price history
    each), 24 h, no positions and no outages (a call in an outage fails sooner)."""
    from _deterministic import story_terminals
    from _simulated_time import HOURS

    from mt5guard.testing import DeterministicRuntime

    with DeterministicRuntime(seed=1) as runtime:
        config, sims = story_terminals(runtime)
        terminals = [_connected(sims[a.name], a.terminal.login, a.terminal.server)
                     for a in config.accounts]
        return _probe_calls(runtime, terminals, HOURS / 24, buy_every=0)


def _restart_floor_us(n: int = 1000) -> float:
    """A plain actor started and stopped on the deterministic runtime, in microseconds: the
    least of what a supervisor's restart is (DESIGN's rest_for_one tree restarts the session
    and the health actor after it when a lost connection cannot be mended in place)."""
    from _design_floor import PlainActor

    from mt5guard.testing import DeterministicRuntime

    with DeterministicRuntime(seed=1) as runtime:
        started = time.perf_counter()
        for _ in range(n):
            ref = runtime.start(PlainActor)
            runtime.run_until_idle()
            ref.stop(block=False)
            runtime.run_until_idle()
        return (time.perf_counter() - started) / n * 1e6


def deterministic() -> dict[str, Any]:
    """The seed and the story, each against the least probe flow (``_design_floor``) on the
    same terminals with the same faults, taken right after it in this process; the floor's
    parts (its terminal calls alone, the runtime alone) for the notes, and the story and its
    least flow again without the outages (what the tree's answer to them costs: the least
    flow has no breaker to trip and no session to restart)."""
    import logging

    from _design_floor import seed_floor, story_floor
    from _deterministic import counter, story

    from mt5guard.testing.chaos import run as chaos_run

    logging.disable(logging.CRITICAL)
    chaos_run(0, days=0.1, accounts=3)  # warm: first imports (numpy) and first quotes
    # Each timed run below makes its prices itself. A run's terminals may outlive it in
    # reference cycles until the collector runs, and with them its price histories, which a
    # new terminal of the same seed shares while one holds them: the next run would then skip
    # making its prices (0.06-0.07 s of a story) or not, as the collector's timing fell.
    fresh = gc.collect
    fresh()
    cpu = time.process_time()
    seed = chaos_run(1, days=2.0, accounts=3)
    seed_cpu = time.process_time() - cpu
    fresh()
    least_seed = seed_floor(1, 2.0, 3)
    fresh()
    cpu = time.process_time()
    told = story()
    story_cpu = time.process_time() - cpu
    fresh()
    least_story = story_floor(counter()[1])
    fresh()
    quiet = story(outages=False)
    fresh()
    least_quiet = story_floor(counter()[1], outages=False)
    fresh()
    seed_calls = _seed_probe_floor(1, 2.0, 3)
    fresh()
    story_calls = _story_probe_floor()
    seed_runtime, story_runtime = _runtime_floor(seed.steps), _runtime_floor(told["messages"])
    progress(f"deterministic: seed {seed.wall:.2f} s, {seed_cpu:.2f} s CPU ({seed.steps} "
             f"messages, ok={seed.ok}), its least probe flow {least_seed['wall_s']:.2f} s; story "
             f"{told['wall_s']:.2f} s, {story_cpu:.2f} s CPU ({told['messages']} messages), its "
             f"least probe flow {least_story['wall_s']:.2f} s; their probes' terminal calls alone "
             f"{seed_calls:.2f} and {story_calls:.2f} s, the runtime alone {seed_runtime:.2f} and "
             f"{story_runtime:.2f} s")
    return {
        "chaos_seed": {"now": seed.wall, "floor": least_seed["wall_s"], "calls": seed_calls,
                       "cpu": seed_cpu, "runtime_floor": seed_runtime,
                       "floor_messages": least_seed["messages"],
                       "deque_floor": _deque_floor(seed.steps, 13),
                       "ok": seed.ok, "messages": seed.steps},
        "story": {"now": told["wall_s"], "floor": least_story["wall_s"], "calls": story_calls,
                  "cpu": story_cpu, "runtime_floor": story_runtime,
                  "floor_messages": least_story["messages"],
                  "deque_floor": _deque_floor(told["messages"], 40),
                  "ok": told["recovered"], "messages": told["messages"],
                  "quiet": quiet["wall_s"], "quiet_floor": least_quiet["wall_s"],
                  "outages": told["outages"], "restarts": told["restarts"],
                  "restart_floor_us": _restart_floor_us(),
                  "breaker_trips": told["events"].get("breaker -> open", 0)},
    }


def chaos(seeds: int) -> dict[str, Any]:
    """``make chaos``'s command for ``seeds`` seeds (2 days, 3 accounts, 2 jobs), timed:
    1,000 seeds projected from its wall time, and from its CPU over 2 cores."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mt5guard.testing.chaos", "--seeds", str(seeds),
                    "--first", "1000", "--days", "2", "--accounts", "3", "--jobs", "2"],
                   check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    progress(f"chaos: {seeds} seeds in {wall:.1f} s, {cpu / seeds:.2f} s of CPU per seed")
    return {"chaos_1000": {"now": wall / seeds * 1000, "floor": cpu / seeds * 1000 / 2,
                           "cpu_per_seed_s": cpu / seeds}}


def _results() -> Path:
    RESULTS.mkdir(exist_ok=True)
    return RESULTS


_EXIT_NOW = frozenset({"scale", "scale-floor"})
GROUPS: dict[str, Callable[..., dict[str, Any]]] = {
    "request": request,
    "worker": worker,
    "scale": scale,
    "scale-floor": scale_floor,
    "workers": workers,
    "worker-cpu": worker_cpu,
    "journal": journal,
    "deterministic": deterministic,
    "chaos": chaos,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in GROUPS:
        print(f"usage: _floors.py {{{'|'.join(GROUPS)}}} [N]", file=sys.stderr)
        return 2
    args = [int(a) for a in argv[1:]]
    result = GROUPS[argv[0]](*args)
    print(json.dumps(result), flush=True)
    if argv[0] in _EXIT_NOW:
        os._exit(0)  # thousands of actor threads: stopping them is not what is measured
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main(sys.argv[1:]))
